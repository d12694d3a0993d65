package dollarpe

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const hookBody = `{"type":"CUSTOMER","id":"` + testID + `","event":"FAILED","timestamp":"2025-01-01T00:00:00Z","metadata":{"failure_reason":"TAX_VERIFICATION_FAILED","attempt":2},"new_top":"x"}`

var hookNow = time.Unix(vectorTime, 0)

// signedRequest builds a delivery signed over canonical(body) at ts.
func signedRequest(t *testing.T, body string, ts int64) *http.Request {
	t.Helper()
	canon, err := Canonicalize([]byte(body))
	require.NoError(t, err)
	r := httptest.NewRequest(http.MethodPost, "/hooks/dollarpe", strings.NewReader(body))
	r.Header.Set("X-TIMESTAMP", strconv.FormatInt(ts, 10))
	r.Header.Set("X-SIGNATURE", Sign(testKey, testSecret, ts, canon))
	return r
}

func newVerifier(t *testing.T, opts ...WebhookOption) *WebhookVerifier {
	t.Helper()
	v, err := NewWebhookVerifier(testKey, testSecret, append([]WebhookOption{WithWebhookClock(func() time.Time { return hookNow })}, opts...)...)
	require.NoError(t, err)
	return v
}

func TestParseWebhook(t *testing.T) {
	ev, err := ParseWebhook(signedRequest(t, hookBody, vectorTime), testKey, testSecret,
		WithWebhookClock(func() time.Time { return hookNow }))
	require.NoError(t, err)
	assert.Equal(t, EventCustomer, ev.Type)
	assert.Equal(t, testID, ev.ID)
	assert.Equal(t, "FAILED", ev.Event)
	assert.Equal(t, StatusFailed, ev.Status())
	assert.Equal(t, FailureTax, ev.Metadata.FailureReason)
	assert.Equal(t, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), ev.Timestamp.UTC())
	assert.Equal(t, `2`, string(ev.Metadata.Extra["attempt"]))
	assert.Equal(t, `"x"`, string(ev.Extra["new_top"]))
	canon, err := Canonicalize([]byte(hookBody))
	require.NoError(t, err)
	sum := sha256.Sum256(canon)
	assert.Equal(t, testID+":FAILED:"+hex.EncodeToString(sum[:]), ev.Key())
	assert.Equal(t, hookBody, string(ev.Raw))
}

func TestWebhookRefusals(t *testing.T) {
	v := newVerifier(t)
	cases := []struct {
		name   string
		req    func() *http.Request
		status int
		err    error
	}{
		{"no signature", func() *http.Request {
			r := signedRequest(t, hookBody, vectorTime)
			r.Header.Del("X-SIGNATURE")
			return r
		}, 401, ErrWebhookSignature},
		{"no timestamp", func() *http.Request {
			r := signedRequest(t, hookBody, vectorTime)
			r.Header.Del("X-TIMESTAMP")
			return r
		}, 401, ErrWebhookSignature},
		{"wrong signature", func() *http.Request {
			r := signedRequest(t, hookBody, vectorTime)
			r.Header.Set("X-SIGNATURE", Sign(testKey, "other", vectorTime, []byte(hookBody)))
			return r
		}, 401, ErrWebhookSignature},
		{"garbage signature", func() *http.Request {
			r := signedRequest(t, hookBody, vectorTime)
			r.Header.Set("X-SIGNATURE", "!!")
			return r
		}, 401, ErrWebhookSignature},
		{"body changed", func() *http.Request {
			r := signedRequest(t, hookBody, vectorTime)
			r.Body = http.NoBody
			r.Body = httptest.NewRequest("POST", "/", strings.NewReader(strings.Replace(hookBody, "FAILED", "VERIFIED", 1))).Body
			return r
		}, 401, ErrWebhookSignature},
		{"timestamp changed", func() *http.Request {
			r := signedRequest(t, hookBody, vectorTime)
			r.Header.Set("X-TIMESTAMP", strconv.Itoa(vectorTime+1))
			return r
		}, 401, ErrWebhookSignature},
		{"stale", func() *http.Request { return signedRequest(t, hookBody, vectorTime-301) }, 401, ErrWebhookTimestamp},
		{"far future", func() *http.Request { return signedRequest(t, hookBody, vectorTime+301) }, 401, ErrWebhookTimestamp},
		{"timestamp not a number", func() *http.Request {
			r := signedRequest(t, hookBody, vectorTime)
			r.Header.Set("X-TIMESTAMP", "yesterday")
			return r
		}, 401, ErrWebhookTimestamp},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Parse(tc.req())
			var we *WebhookError
			require.ErrorAs(t, err, &we)
			assert.Equal(t, tc.status, we.StatusCode)
			assert.ErrorIs(t, err, tc.err)
		})
	}
	// Within the window, both ways.
	for _, ts := range []int64{vectorTime - 300, vectorTime + 300} {
		_, err := v.Parse(signedRequest(t, hookBody, ts))
		assert.NoError(t, err)
	}
	// A window of one's own.
	_, err := newVerifier(t, WithTolerance(time.Hour)).Parse(signedRequest(t, hookBody, vectorTime-3000))
	assert.NoError(t, err)
}

// TestWebhookTolerance: an authentic delivery is accepted whatever its form.
func TestWebhookTolerance(t *testing.T) {
	v := newVerifier(t)
	for _, tc := range []struct{ name, body string }{
		{"spaces and order", `{ "metadata" : { "failure_reason" : "KYC_FAILED" } , "event" : "failed", "id" : "` + testID + `", "type" : "customer" }`},
		{"BOM", "\ufeff" + hookBody},
		{"id as number", `{"type":"CUSTOMER","id":12345,"event":"VERIFIED","timestamp":1735689600}`},
		{"metadata as string", `{"type":"CUSTOMER","id":"a","event":"VERIFIED","metadata":"none","timestamp":"2025-01-01 00:00:00"}`},
		{"non-ascii and html", `{"type":"CUSTOMER","id":"a","event":"VERIFIED","note":"Café <b>&</b> 😀"}`},
		{"floats", `{"type":"PAYIN","id":"p","event":"DONE","amount":"100.50","rate":1.50,"e":1E5}`},
		{"not an object", `["odd"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := signedRequest(t, tc.body, vectorTime)
			r.Header.Set("Content-Type", "text/plain; charset=latin1")
			ev, err := v.Parse(r)
			require.NoError(t, err)
			assert.NotEmpty(t, ev.Raw)
		})
	}
	ev, err := v.Parse(signedRequest(t, `{"type":"customer","id":12345,"event":"verified","timestamp":1735689600}`, vectorTime))
	require.NoError(t, err)
	assert.Equal(t, "12345", ev.ID)
	assert.Equal(t, StatusVerified, ev.Status())
	assert.Equal(t, hookNow.UTC(), ev.Timestamp)

	// A signature over the raw bytes and a URL-safe signature are
	// accepted too.
	raw := `{"b":1, "a":2}`
	r := httptest.NewRequest("POST", "/", strings.NewReader(raw))
	r.Header.Set("X-TIMESTAMP", strconv.Itoa(vectorTime))
	r.Header.Set("X-SIGNATURE", Sign(testKey, testSecret, vectorTime, []byte(raw)))
	_, err = v.Parse(r)
	assert.NoError(t, err)
	r = signedRequest(t, raw, vectorTime)
	r.Header.Set("X-SIGNATURE", strings.NewReplacer("+", "-", "/", "_", "=", "").Replace(r.Header.Get("X-SIGNATURE")))
	_, err = v.Parse(r)
	assert.NoError(t, err)
}

func TestWebhookHandler(t *testing.T) {
	var got []Event
	fail := false
	h, err := NewWebhookHandler(testKey, testSecret, func(_ context.Context, ev Event) error {
		got = append(got, ev)
		if fail {
			return errors.New("database down")
		}
		return nil
	}, WithWebhookClock(func() time.Time { return hookNow }), WithWebhookMaxBytes(1024))
	require.NoError(t, err)

	serve := func(r *http.Request) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	assert.Equal(t, 200, serve(signedRequest(t, hookBody, vectorTime)).Code)
	require.Len(t, got, 1)
	fail = true
	assert.Equal(t, 500, serve(signedRequest(t, hookBody, vectorTime)).Code)
	bad := signedRequest(t, hookBody, vectorTime)
	bad.Header.Set("X-SIGNATURE", "AAAA")
	assert.Equal(t, 401, serve(bad).Code)
	assert.Equal(t, 401, serve(signedRequest(t, hookBody, vectorTime-1000)).Code)
	big := `{"type":"CUSTOMER","pad":"` + strings.Repeat("x", 2000) + `"}`
	assert.Equal(t, 413, serve(signedRequest(t, big, vectorTime)).Code)
	assert.Len(t, got, 2, "refused deliveries never reach the handler")
}

func TestWebhookConstructorsFailClosed(t *testing.T) {
	_, err := NewWebhookVerifier("", "s")
	assert.Error(t, err)
	_, err = NewWebhookVerifier("k", "")
	assert.Error(t, err)
	_, err = NewWebhookHandler("k", "s", nil)
	assert.Error(t, err)
	_, err = NewWebhookHandler("", "", func(context.Context, Event) error { return nil })
	assert.Error(t, err)
	_, err = NewWebhookVerifier("k", "s", WithTolerance(0))
	assert.Error(t, err)
	_, err = ParseWebhook(signedRequest(t, hookBody, vectorTime), "", testSecret)
	assert.Error(t, err)
}

func TestZeroWebhookVerifierRefuses(t *testing.T) {
	// A signature forged with an empty key and secret.
	forged := func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/hooks/dollarpe", strings.NewReader(hookBody))
		ts := time.Now().Unix()
		canon, err := Canonicalize([]byte(hookBody))
		require.NoError(t, err)
		r.Header.Set("X-TIMESTAMP", strconv.FormatInt(ts, 10))
		r.Header.Set("X-SIGNATURE", Sign("", "", ts, canon))
		return r
	}
	for _, v := range []*WebhookVerifier{{}, nil} {
		_, err := v.Parse(forged())
		require.ErrorIs(t, err, ErrWebhookNotConfigured)
		var we *WebhookError
		require.ErrorAs(t, err, &we)
		assert.Equal(t, http.StatusInternalServerError, we.StatusCode)
		r := forged()
		_, err = v.Verify(r.Header, []byte(hookBody))
		require.ErrorIs(t, err, ErrWebhookNotConfigured)
	}
}

func TestMetadataPrintsMasked(t *testing.T) {
	md := Metadata{FailureReason: FailureTax, Extra: map[string]json.RawMessage{"email": []byte(`"asha@example.com"`),
		"note": []byte(`"Asha Verma, 12 MG Road"`)}}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		out := fmt.Sprintf(verb, md)
		assert.NotContains(t, out, "asha@example.com", verb)
		assert.NotContains(t, out, "Asha", verb)
		assert.Contains(t, out, "TAX_VERIFICATION_FAILED", verb)
		assert.Contains(t, out, `"email"`, verb)
	}
	var b strings.Builder
	slog.New(slog.NewJSONHandler(&b, nil)).Info("x", "md", md)
	assert.NotContains(t, b.String(), "asha@example.com")
	assert.NotContains(t, b.String(), "Asha")
	assert.Contains(t, b.String(), "TAX_VERIFICATION_FAILED")
}

// Python's json.dumps writes NaN and Infinity; a delivery holding them has
// no canonical form, and is accepted when its signature over the raw body
// verifies.
func TestWebhookWithNonFiniteNumbers(t *testing.T) {
	body := `{"event": "FAILED", "id": "` + testID + `", "metadata": {"failure_reason": "TAX_VERIFICATION_FAILED", "score": NaN, "range": [-Infinity, Infinity]}, "timestamp": "2025-01-01T00:00:00Z", "type": "CUSTOMER"}`
	_, err := Canonicalize([]byte(body))
	require.Error(t, err, "no canonical form")
	v := newVerifier(t)
	h := http.Header{}
	h.Set("X-TIMESTAMP", strconv.FormatInt(vectorTime, 10))
	h.Set("X-SIGNATURE", Sign(testKey, testSecret, vectorTime, []byte(body)))
	ev, err := v.Verify(h, []byte(body))
	require.NoError(t, err)
	assert.Equal(t, EventCustomer, ev.Type)
	assert.Equal(t, testID, ev.ID)
	assert.Equal(t, StatusFailed, ev.Status())
	assert.Equal(t, FailureTax, ev.Metadata.FailureReason)
	assert.Equal(t, `"NaN"`, string(ev.Metadata.Extra["score"]))
	assert.Equal(t, `["-Infinity", "Infinity"]`, string(ev.Metadata.Extra["range"]))
	assert.Equal(t, body, string(ev.Raw))
	assert.True(t, json.Valid(ev.Metadata.Extra["score"]), "the kept values are JSON")
	assert.NotEmpty(t, ev.Key())

	// A wrong signature is still refused.
	h.Set("X-SIGNATURE", Sign(testKey, "other-secret", vectorTime, []byte(body)))
	_, err = v.Verify(h, []byte(body))
	assert.ErrorIs(t, err, ErrWebhookSignature)
}

// signedAt builds a delivery of body whose X-TIMESTAMP is tsText as it is,
// signed over apiKey|tsText|canonical(body) as DollarPe signs: only the
// timestamp's form can make it refused.
func signedAt(t *testing.T, body, tsText string) *http.Request {
	t.Helper()
	canon, err := Canonicalize([]byte(body))
	require.NoError(t, err)
	mac := hmac.New(sha256.New, []byte(testSecret))
	mac.Write([]byte(testKey + "|" + tsText + "|"))
	mac.Write(canon)
	r := httptest.NewRequest(http.MethodPost, "/hooks/dollarpe", strings.NewReader(body))
	r.Header.Set("X-TIMESTAMP", tsText)
	r.Header.Set("X-SIGNATURE", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	return r
}

// TestWebhookTimestampIntegerSecondsOnly: X-TIMESTAMP is integer Unix
// seconds in plain decimal digits; any other form (a fraction, an
// exponent, a sign, milliseconds, other digits) is refused with
// ErrWebhookTimestamp even when the delivery is signed over it.
func TestWebhookTimestampIntegerSecondsOnly(t *testing.T) {
	v := newVerifier(t)
	now := strconv.Itoa(vectorTime)
	for _, ts := range []string{
		now + ".5", now + ".0", "1.7356896e9", "1735689600e0", "+" + now, "-" + now, now + "000", now + "000000",
		"0x" + strconv.FormatInt(vectorTime, 16), "1_735_689_600", "١٧٣٥٦٨٩٦٠٠", now + "s", "NaN", "Inf", "",
	} {
		t.Run(ts, func(t *testing.T) {
			_, err := v.Parse(signedAt(t, hookBody, ts))
			var we *WebhookError
			require.ErrorAs(t, err, &we)
			assert.Equal(t, http.StatusUnauthorized, we.StatusCode)
			if ts != "" {
				assert.ErrorIs(t, err, ErrWebhookTimestamp)
			}
		})
	}
	for _, ts := range []string{now, "0" + now} {
		_, err := v.Parse(signedAt(t, hookBody, ts))
		assert.NoError(t, err, ts)
	}
}

func TestParseUnixSeconds(t *testing.T) {
	for in, want := range map[string]int64{"1735689600": 1735689600, "0": 0, "01735689600": 1735689600, "99999999999": 99999999999} {
		got, err := ParseUnixSeconds(in)
		assert.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "1.5", "1e9", "+1", "-1", "999999999999", " 1", "1 ", "١"} {
		_, err := ParseUnixSeconds(in)
		assert.Error(t, err, in)
	}
}
