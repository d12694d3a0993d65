package main

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

func TestPrintsEachEventAsOneJSONLine(t *testing.T) {
	var out bytes.Buffer
	h, err := newHandler("YOUR_VALIDATION_TOKEN_KEY", &out, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"callback_rejected.form", "callback_upload_failed.form"} {
		body, err := os.ReadFile("../../testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest(http.MethodPost, "/flip/kyc", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			t.Fatalf("%s: status %d: %s", name, w.Code, w.Body)
		}
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got %q", out.String())
	}
	for i, want := range []string{
		`{"agent_id":1,"agent_name":"John Doe","kyc_status":"REJECTED","rejected_reason_code":17,`,
		`{"agent_id":2,"agent_name":"John ","kyc_status":"UPLOAD_IDENTITY_SELFIE_FAILED","rejected_reason_code":10,`,
	} {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("line %d = %s\nwant prefix %s", i, lines[i], want)
		}
	}
}

func TestRefusesToRunWithoutToken(t *testing.T) {
	if _, err := newHandler("", &bytes.Buffer{}, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("a receiver without token must not start")
	}
}
