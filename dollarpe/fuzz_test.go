package dollarpe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/flipkyc/flipkyc/internal/redact"
)

// FuzzReplyDecoder feeds any reply to the decoder: it must never panic,
// must classify every reply, and must never let the credentials through
// into an error.
func FuzzReplyDecoder(f *testing.F) {
	for _, seed := range []string{okCustomer, okKYC, err500, err429, err401, errLim,
		`{"status":false,"message":"Bad Request","data":null,"errors":{"signature":["Invalid Signature"]}}`,
		`{"status":"true","data":{"id":1}}`, `{"success":0,"errors":[1,{"a":null}]}`, "\ufeff{}", `<html>`, ``, `null`,
		`{"status":true,"data":{"id":"` + testKey + `"},"message":"` + testSecret + `"}`} {
		for _, status := range []int{200, 400, 401, 429, 500} {
			f.Add(status, []byte(seed))
		}
	}
	c, err := New(testKey, testSecret, WithClock(newFakeClock()))
	if err != nil {
		f.Fatal(err)
	}
	sec := redact.NewSecret(testKey, testSecret)
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 999 {
			status = 200
		}
		resp := &http.Response{StatusCode: status, Header: http.Header{"Retry-After": {"3"}}, Body: io.NopCloser(bytes.NewReader(body))}
		for _, method := range []string{http.MethodGet, http.MethodPatch} {
			r := &call{op: "Fuzz", method: method, path: "/x", sent: []string{"Zebediah"}}
			var out Customer
			res := c.judge(r, sec, resp, body, nil, false, &out)
			if status >= 200 && status < 300 {
				if res.err == nil && out.ID == "" {
					t.Fatalf("success without a customer id: %q", body)
				}
			} else if res.err == nil {
				t.Fatalf("HTTP %d accepted", status)
			}
			if res.err != nil {
				text := res.err.Error() + fmt.Sprintf("%#v", res.err)
				if strings.Contains(text, testKey) || strings.Contains(text, testSecret) {
					t.Fatalf("credential in error: %s", text)
				}
				if res.ambiguous && method == http.MethodGet {
					t.Fatal("a read is never ambiguous")
				}
			}
		}
	})
}

// FuzzCanonicalize checks that the canonical form is stable and valid
// JSON, and that Go's decoder and Canonicalize agree on what is JSON
// (except for the numbers Python reads as infinite, which are refused, and
// invalid UTF-8, which Go's decoder replaces and Python refuses; the
// crasher in testdata/fuzz/FuzzCanonicalize is such a body).
func FuzzCanonicalize(f *testing.F) {
	for _, seed := range []string{`{}`, `{"note":"Café"}`, `{"b":[1,2.50,{"a":null}],"a":"\ud83d\ude00"}`,
		`{"x":"\ud800"}`, `[1e400]`, `"\u0000"`, `{"a":1,"a":2}`, "\ufeff[]", `-0`, `1E+2`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := Canonicalize(in)
		trimmed := bytes.TrimPrefix(in, []byte("\xef\xbb\xbf"))
		if err != nil {
			// Go's decoder takes invalid UTF-8 (replacing it); Python, and
			// so DollarPe, does not.
			if json.Valid(trimmed) && utf8.Valid(trimmed) && !strings.Contains(err.Error(), "out of range") && !strings.Contains(err.Error(), "nested") {
				t.Fatalf("Go reads %q but Canonicalize refused it: %v", in, err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("canonical form %q of %q is not JSON", out, in)
		}
		for _, b := range out {
			if b >= 0x80 || (b < 0x20) {
				t.Fatalf("canonical form %q is not printable ASCII", out)
			}
		}
		again, err := Canonicalize(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not stable: %q → %q → %q (%v)", in, out, again, err)
		}
	})
}

// FuzzWebhook checks that an authentic delivery of any body is accepted
// and decoded without panic, and that a forged one never is.
func FuzzWebhook(f *testing.F) {
	for _, seed := range []string{hookBody, `{}`, `[]`, `"x"`, "\ufeff" + hookBody, `{"id":1,"type":2,"event":null,"metadata":[]}`,
		`{"timestamp":"2025-01-01T00:00:00+05:30","metadata":{"failure_reason":7}}`, `not json`, ``} {
		f.Add([]byte(seed), int64(0), "")
	}
	v, err := NewWebhookVerifier(testKey, testSecret, WithWebhookClock(func() time.Time { return hookNow }))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, skew int64, forged string) {
		ts := vectorTime + skew%600
		signed := bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
		if canon, err := Canonicalize(body); err == nil {
			signed = canon
		}
		h := http.Header{}
		h.Set("X-TIMESTAMP", strconv.FormatInt(ts, 10))
		h.Set("X-SIGNATURE", Sign(testKey, testSecret, ts, signed))
		ev, err := v.Verify(h, body)
		inWindow := skew%600 >= -300 && skew%600 <= 300
		if inWindow && err != nil {
			t.Fatalf("authentic delivery refused: %v", err)
		}
		if !inWindow && err == nil {
			t.Fatalf("delivery %ds away accepted", skew%600)
		}
		_ = ev.Key()
		_ = fmt.Sprint(ev)
		real, _ := decodeSignature(h.Get("X-SIGNATURE"))
		if got, ok := decodeSignature(forged); forged != "" && (!ok || !bytes.Equal(got, real)) {
			h.Set("X-SIGNATURE", forged)
			if _, err := v.Verify(h, body); err == nil {
				t.Fatalf("forged signature %q accepted", forged)
			}
		}
	})
}
