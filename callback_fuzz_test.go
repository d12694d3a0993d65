package flipkyc

import (
	"bytes"
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
// token (form-encoded under the fuzzed content type, and multipart), must
// always be accepted, with the data kept exactly in Raw.
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

		// The input as the data of an authentic callback.
		data := body
		form := url.Values{"data": {data}, "token": {"tok"}}.Encode()
		var mp bytes.Buffer
		mw := multipart.NewWriter(&mp)
		_ = mw.WriteField("token", "tok")
		_ = mw.WriteField("data", data)
		_ = mw.Close()
		for _, req := range []struct{ body, contentType string }{
			{form, contentType},
			{mp.String(), mw.FormDataContentType()},
		} {
			ev, err := parse(right, req.body, req.contentType)
			if err != nil {
				t.Fatalf("an authentic callback was refused (content type %q): %v", req.contentType, err)
			}
			if ev.Raw != data {
				t.Fatalf("Raw %q, want %q", ev.Raw, data)
			}
			if ev.Key() == "" {
				t.Fatal("empty key")
			}
			if len(ev.Problems) == 0 && (ev.AgentID <= 0 || ev.KYCStatus == "") {
				t.Fatalf("an event without agent id or status and no problem: %+v", ev)
			}
			viaValues, err := right.ParseValues(url.Values{"data": {data}, "token": {"tok"}})
			if err != nil || viaValues.Key() != ev.Key() || len(viaValues.Problems) != len(ev.Problems) {
				t.Fatalf("ParseValues disagrees: %v %+v %+v", err, viaValues, ev)
			}
		}
	})
}
