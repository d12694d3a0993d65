package main

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
)

func TestPrintsEachEventAsOneJSONLine(t *testing.T) {
	const token = "YOUR_VALIDATION_TOKEN_KEY"
	var out, logs bytes.Buffer
	h, err := newHandler(token, &out, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, name := range []string{"callback_rejected.form", "callback_upload_failed.form"} {
		body, err := os.ReadFile("../../testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, string(body))
	}
	// A malformed but authentic callback is printed too, with its problems.
	bodies = append(bodies, url.Values{"data": {`{"agent_id":"3.0","agent_name":"John Doe","kyc_status":"APPROVED","updated_at":[]}`}, "token": {token}}.Encode())
	tests := []struct {
		body        string
		contentType string
		want        string
	}{
		{bodies[0], "application/x-www-form-urlencoded",
			`{"agent_id":1,"agent_name":"[masked]","kyc_status":"REJECTED","rejected_reason_code":17,`},
		{bodies[1], "", // no content type: still accepted
			`{"agent_id":2,"agent_name":"[masked]","kyc_status":"UPLOAD_IDENTITY_SELFIE_FAILED","rejected_reason_code":10,`},
		{bodies[2], "text/plain",
			`{"agent_id":3,"agent_name":"[masked]","kyc_status":"APPROVED",`},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodPost, "/flip/kyc", strings.NewReader(tt.body))
		if tt.contentType != "" {
			r.Header.Set("Content-Type", tt.contentType)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != len(tests) {
		t.Fatalf("want %d lines, got %q", len(tests), out.String())
	}
	for i, tt := range tests {
		if !strings.HasPrefix(lines[i], tt.want) {
			t.Errorf("line %d = %s\nwant prefix %s", i, lines[i], tt.want)
		}
	}
	if !strings.HasSuffix(lines[2], `"problems":["updated_at: want a timestamp, got an array"]}`) {
		t.Errorf("the problems are not printed: %s", lines[2])
	}
	for _, text := range []string{out.String(), logs.String()} {
		for _, personal := range []string{"John", token} {
			if strings.Contains(text, personal) {
				t.Errorf("%q printed in %s", personal, text)
			}
		}
	}
}

func TestServerSetsEveryTimeout(t *testing.T) {
	srv := newServer("127.0.0.1:0", http.NotFoundHandler())
	for name, d := range map[string]int64{
		"ReadHeaderTimeout": int64(srv.ReadHeaderTimeout),
		"ReadTimeout":       int64(srv.ReadTimeout),
		"WriteTimeout":      int64(srv.WriteTimeout),
		"IdleTimeout":       int64(srv.IdleTimeout),
	} {
		if d <= 0 {
			t.Errorf("%s is not set", name)
		}
	}
}

func TestRefusesToRunWithoutToken(t *testing.T) {
	if _, err := newHandler("", &bytes.Buffer{}, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("a receiver without token must not start")
	}
}
