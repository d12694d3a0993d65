package flipkyc

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseCallback feeds arbitrary bodies to the callback parser. Seeds are
// the documented callbacks in testdata. The parser must never panic, and
// anything it accepts must carry the right token and a usable event.
func FuzzParseCallback(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "callback_*.form"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(strings.ReplaceAll(strings.ReplaceAll(string(b), "yourvalidationtoken", docToken), "token="+docToken, "token=tok"))
	}
	f.Add("data=null&token=tok")
	f.Add(`data={"agent_id":"9","kyc_status":40,"rejected_reason_code":""}&token=tok`)
	p, err := NewCallbackParser("tok")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		ev, err := p.Parse(r)
		if err != nil {
			if _, ok := err.(*CallbackError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		form, _ := url.ParseQuery(body)
		if form.Get("token") != "tok" {
			t.Fatalf("accepted a callback with token %q", form.Get("token"))
		}
		if ev.AgentID <= 0 || ev.KYCStatus == "" || ev.Key() == "" {
			t.Fatalf("accepted an unusable event %+v", ev)
		}
	})
}
