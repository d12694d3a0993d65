package dollarpe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
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

// TestEchoedWordOfPersonalValue: a reply that echoes one word of a
// free-text value the call sent (a surname from full_name, a street from
// full_address, a word of additional info) in any case, in an error's
// message, field errors or body, shows it masked.
func TestEchoedWordOfPersonalValue(t *testing.T) {
	ctx := context.Background()
	calls := []struct {
		name  string
		words []string
		run   func(c *Client) error
	}{
		{"CreateCustomer", []string{"Farnsworth", "QUIXOTE", "zebediah"}, func(c *Client) error {
			_, err := c.CreateCustomer(ctx, CreateCustomerParams{FullName: leakName, Email: "z@example.com", Phone: "+91 98765 01234", CountryCode: "IND"})
			return err
		}},
		{"AddKYCData", []string{"Farnsworth", "Lotus", "KOCHI", "Lighthouse", "keeper"}, func(c *Client) error {
			p := kycParams()
			p.FullName, p.FullAddress = leakName, leakAddress
			p.AdditionalInfo = map[string]any{"occupation": leakJob}
			_, err := c.AddKYCData(ctx, p)
			return err
		}},
		{"UpdateDocumentInfo", []string{"Lotus", "Kochi"}, func(c *Client) error {
			_, err := c.UpdateDocumentInfo(ctx, UpdateDocumentInfoParams{CustomerID: testID, FullAddress: leakAddress,
				DocumentType: DocumentPassport, DocumentFrontImageURL: "https://x.example/p.pdf", DocumentDetails: DocumentDetails{DocumentNumber: "K1"}})
			return err
		}},
	}
	for _, call := range calls {
		for _, word := range call.words {
			bodies := map[string]string{
				"400":  `{"status":false,"message":"` + word + ` is not allowed","errors":{"full_name":["` + word + ` is blocked"]}}`,
				"500":  `{"success":false,"message":"Internal Server Error","errors":"no match for ` + word + `"}`,
				"body": `{"detail":{"message":"` + word + ` refused"}}`,
			}
			for shape, body := range bodies {
				t.Run(call.name+"/"+word+"/"+shape, func(t *testing.T) {
					status := 400
					if shape != "400" {
						status = 500
					}
					rec := newRecorder(t, answer(status, body))
					c, _ := newTestClient(t, rec, WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
					err := call.run(c)
					require.Error(t, err)
					for _, text := range errorTexts(err) {
						assert.NotContains(t, strings.ToLower(text), strings.ToLower(word))
					}
					assert.Contains(t, strings.Join(errorTexts(err), " "), masked)
				})
			}
		}
	}
}

// The words of a name do not mask what was not sent: an error about other
// words stays readable.
func TestEchoedWordsKeepOtherText(t *testing.T) {
	rec := newRecorder(t, answer(400, `{"status":false,"message":"Verma is not allowed for this customer","data":null}`))
	c, _ := newTestClient(t, rec)
	_, err := c.CreateCustomer(context.Background(), CreateCustomerParams{FullName: "Asha Verma", Email: "a@example.com",
		Phone: "+919812345678", CountryCode: "IND"})
	require.Error(t, err)
	assert.Equal(t, "dollarpe: CreateCustomer: POST /customer/create: HTTP 400: [masked] is not allowed for this customer", err.Error())
	raw, _ := json.Marshal(err.Error())
	assert.NotContains(t, string(raw), "Verma")
}
