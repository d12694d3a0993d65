package dollarpe

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Credentials of the forms DollarPe issues: a UUID key and a hex secret,
// which a server may echo upper-cased.
const (
	uuidKey   = "3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
	hexSecret = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
)

// errorTexts returns every text an error gives: its message under the
// usual verbs and, for an *APIError or *DecodeError, the kept body.
func errorTexts(err error) []string {
	texts := []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		texts = append(texts, apiErr.Body, fmt.Sprint(apiErr.Errors), apiErr.Code)
	}
	var decErr *DecodeError
	if errors.As(err, &decErr) {
		texts = append(texts, decErr.Body)
	}
	return texts
}

// TestCredentialEchoInAnyCase: a reply that echoes the key or secret in
// another letter case (upper-cased, or with the first letters changed) in
// its message, err_code, field errors or a body that is not an envelope
// never brings the credential back in an error's text or body.
func TestCredentialEchoInAnyCase(t *testing.T) {
	echoes := map[string]string{
		"upper key":    strings.ToUpper(uuidKey),
		"upper secret": strings.ToUpper(hexSecret),
		"mixed key":    "3F1B2C4D-5e6f-4a7b-8C9D-0e1f2a3b4c5d",
		"escaped":      `\u0033F1B2C4D-5E6F-4A7B-8C9D-0E1F2A3B4C5D`,
	}
	shapes := map[string]struct {
		status int
		body   func(echo string) string
	}{
		"400": {400, func(e string) string {
			return `{"status":false,"message":"Bad Request ` + e + `","data":null,"errors":{"` + e + `":["key ` + e + ` unknown"]}}`
		}},
		"401": {401, func(e string) string {
			return `{"status":false,"err_code":"AUTH_` + e + `","message":"Invalid API key ` + e + `"}`
		}},
		"500": {500, func(e string) string { return `{"success":false,"message":"oops","errors":"key ` + e + `"}` }},
		"200 status false": {200, func(e string) string {
			return `{"status":false,"message":"refused for ` + e + `","errors":{"x":["` + e + `"]}}`
		}},
		"not an envelope": {502, func(e string) string { return `{"detail":{"message":"key ` + e + `","` + e + `":1}}` }},
		"text":            {502, func(e string) string { return `<html>bad key ` + e + `</html>` }},
	}
	for shapeName, shape := range shapes {
		for echoName, echo := range echoes {
			t.Run(shapeName+"/"+echoName, func(t *testing.T) {
				rec := newRecorder(t, answer(shape.status, shape.body(echo)))
				c, err := New(uuidKey, hexSecret, WithBaseURL(rec.srv.URL), WithClock(newFakeClock()),
					WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
				require.NoError(t, err)
				_, err = c.ResetKYC(context.Background(), testID)
				require.Error(t, err)
				for _, text := range errorTexts(err) {
					assertNoPart(t, text, uuidKey, hexSecret)
				}
			})
		}
	}
}

// assertNoPart fails when text holds, in any case, 8 characters in a row
// of one of secrets.
func assertNoPart(t *testing.T, text string, secrets ...string) {
	t.Helper()
	low := strings.ToLower(text)
	for _, s := range secrets {
		for i := 0; i+8 <= len(s); i++ {
			if strings.Contains(low, s[i:i+8]) {
				t.Errorf("%q of a credential in %q", s[i:i+8], text)
				return
			}
		}
	}
}
