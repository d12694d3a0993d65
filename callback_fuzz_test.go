package flipkyc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseCallback feeds arbitrary bodies and content types to the callback
// parser, seeded from the documented callbacks in testdata. The parser must
// never panic and may refuse only with a *CallbackError; no body is accepted
// by two parsers with different tokens (acceptance depends on the token).
// The same input, sent as the data field of a callback carrying the right
// token, must always be accepted, with the data kept exactly in Raw, in every
// shape a sender may give it: form-encoded (also ending in CRLF, also with
// an empty duplicate token), multipart and JSON (after a byte order mark,
// followed by the fuzzed input as trailing bytes), all under the fuzzed
// content type, and multipart under its own. The same shapes carrying
// another token must be refused as a wrong token (403).
func FuzzParseCallback(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "callback_*.form"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		body := strings.ReplaceAll(strings.ReplaceAll(string(b), "yourvalidationtoken", docToken), "token="+docToken, "token=tok")
		f.Add(body, "application/x-www-form-urlencoded")
		form, _ := url.ParseQuery(body)
		f.Add(form.Get("data"), "")
	}
	f.Add("data=null&token=tok", "text/plain")
	f.Add(`data={"agent_id":"9","kyc_status":40,"rejected_reason_code":""}&token=tok`, "application/json")
	f.Add(`{"token":"tok","data":{"agent_id":1.0,"kyc_status":"APPROVED"}}`, "application/json")
	f.Add(`{"agent_id":1e400,"agent_name":[],"rejected_reason_code":"1.7e1"}`, "multipart/form-data; boundary=x")
	f.Add("--x\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\ntok\r\n--x--\r\n", "multipart/form-data; boundary=x")
	f.Add("--x\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\ntok\r\n--x--\r\n", "")
	f.Add("--x\nContent-Disposition: form-data; name=\"token\"\n\ntok", "application/x-www-form-urlencoded")
	f.Add("\xEF\xBB\xBF{\"token\":\"tok\",\"data\":{}}{}", "application/json")
	f.Add("data={}&token=tok\r\n&token=", "")
	f.Add("{\"token\":\"tok\",\"token\":\"\"}&token=tol", "")
	right, err := NewCallbackParser("tok")
	if err != nil {
		f.Fatal(err)
	}
	other, err := NewCallbackParser("tol")
	if err != nil {
		f.Fatal(err)
	}
	parse := func(p *CallbackParser, body, contentType string) (Event, error) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		return p.Parse(r)
	}
	f.Fuzz(func(t *testing.T, body, contentType string) {
		// Arbitrary bodies.
		ev, err1 := parse(right, body, contentType)
		_, err2 := parse(other, body, contentType)
		for _, err := range []error{err1, err2} {
			var ce *CallbackError
			if err != nil && !errors.As(err, &ce) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			if err != nil && !errors.Is(err, ErrInvalidToken) && !errors.Is(err, ErrMalformedCallback) {
				t.Fatalf("error matches no sentinel: %v", err)
			}
		}
		if err1 == nil && err2 == nil {
			t.Fatalf("a body accepted with two different tokens: %q", body)
		}
		if err1 == nil {
			_ = fmt.Sprintf("%v %+v %#v", ev, ev, ev)
			_ = ev.Key()
		}

		// The input as the data of a callback, in every shape; with the right
		// token accepted, with another refused as wrong.
		data := body
		for _, token := range []string{"tok", "tol"} {
			form := url.Values{"data": {data}, "token": {token}}.Encode() // token last
			var mp bytes.Buffer
			mw := multipart.NewWriter(&mp)
			_ = mw.WriteField("token", token)
			_ = mw.WriteField("data", data)
			_ = mw.Close()
			envelope, err := json.Marshal(map[string]string{"token": token, "data": data})
			if err != nil {
				t.Fatal(err)
			}
			var want string // the data as JSON carries it (invalid UTF-8 replaced)
			if err := json.Unmarshal(envelope, &struct {
				Data *string `json:"data"`
			}{&want}); err != nil {
				t.Fatal(err)
			}
			for _, req := range []struct{ shape, body, contentType, raw string }{
				{"form", form, contentType, data},
				{"form ending in CRLF", form + "\r\n", contentType, data},
				{"form with an empty duplicate token", form + "&token=", contentType, data},
				{"multipart", mp.String(), mw.FormDataContentType(), data},
				{"multipart under the fuzzed content type", mp.String(), contentType, data},
				{"JSON with a byte order mark and trailing bytes", "\xEF\xBB\xBF" + string(envelope) + body, contentType, want},
			} {
				ev, err := parse(right, req.body, req.contentType)
				if token != "tok" {
					var ce *CallbackError
					if !errors.As(err, &ce) || ce.Status != http.StatusForbidden {
						t.Fatalf("%s with another token (content type %q): %v, want a 403", req.shape, req.contentType, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("an authentic callback was refused (%s, content type %q): %v", req.shape, req.contentType, err)
				}
				if ev.Raw != req.raw {
					t.Fatalf("%s: Raw %q, want %q", req.shape, ev.Raw, req.raw)
				}
				if ev.Key() == "" {
					t.Fatal("empty key")
				}
				if len(ev.Problems) == 0 && (ev.AgentID <= 0 || ev.KYCStatus == "") {
					t.Fatalf("an event without agent id or status and no problem: %+v", ev)
				}
				viaValues, err := right.ParseValues(url.Values{"data": {req.raw}, "token": {"tok"}})
				if err != nil || viaValues.Key() != ev.Key() || len(viaValues.Problems) != len(ev.Problems) {
					t.Fatalf("ParseValues disagrees: %v %+v %+v", err, viaValues, ev)
				}
			}
		}
	})
}
