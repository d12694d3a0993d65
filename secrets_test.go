package flipkyc

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSecretNeverLeaks runs every method through every failure path with the
// client logging at debug level, and checks that neither the key nor its
// Basic-auth form appears in any error text, log line or printed value.
func TestSecretNeverLeaks(t *testing.T) {
	auth := base64.StdEncoding.EncodeToString([]byte(testKey + ":"))
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))

	failures := map[string]http.HandlerFunc{
		"401 json": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(401)
			_, _ = w.Write(fixture(t, "error_kyc_401.json"))
		},
		"502 html": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(502)
			_, _ = w.Write([]byte("<html>bad gateway</html>"))
		},
		"200 empty": func(w http.ResponseWriter, r *http.Request) {},
		"200 junk":  func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("{not json")) },
		"429":       func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(429) },
		"reset": func(w http.ResponseWriter, r *http.Request) {
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				_ = conn.Close()
			}
		},
		// A hostile server that echoes the request headers back.
		"echo headers": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(400)
			_, _ = fmt.Fprintf(w, "%v", r.Header)
		},
	}
	var collected []string
	for name, h := range failures {
		srv := httptest.NewServer(h)
		c, err := New(testKey, WithBaseURLs(srv.URL, srv.URL), WithLogger(logger), withClock(newFakeClock()))
		require.NoError(t, err)
		for _, ec := range endpointCases(t) {
			var err error
			panicked := catchPanic(func() { _, err = ec.call(context.Background(), c) })
			require.Nil(t, panicked, "%s %s panicked", name, ec.name)
			require.Error(t, err, "%s %s", name, ec.name)
			collected = append(collected, fmt.Sprintf("%v|%+v|%#v|%s", err, err, err, err))
		}
		collected = append(collected, fmt.Sprintf("%v %+v %#v %s", c, c, c, c))
		srv.Close()
	}
	refused := refusedAddr(t)
	c, err := New(testKey, WithBaseURLs(refused, refused), WithLogger(logger), withClock(newFakeClock()))
	require.NoError(t, err)
	for _, ec := range endpointCases(t) {
		_, err := ec.call(context.Background(), c)
		require.Error(t, err)
		collected = append(collected, fmt.Sprintf("%v|%+v|%#v", err, err, err))
	}
	_, err = New(testKey+" with space", WithBaseURLs("::bad", "x"))
	collected = append(collected, fmt.Sprintf("%v", err))

	mu.Lock()
	collected = append(collected, logs.String())
	mu.Unlock()
	require.NotEmpty(t, logs.String(), "debug logging was on")
	for _, text := range collected {
		assert.NotContains(t, text, testKey)
		assert.NotContains(t, text, auth)
		_, _ = sinkWriter{}.Write([]byte(text + "\n"))
	}
	// The echoing server did receive the header, and it was redacted: the
	// check above is not vacuous.
	assert.True(t, strings.Contains(strings.Join(collected, "\n"), "Authorization:[Basic [redacted]]"))
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// catchPanic runs fn and returns what it panicked with, or nil.
func catchPanic(fn func()) (v any) {
	defer func() { v = recover() }()
	fn()
	return nil
}

// TestCallbackTokenNeverLeaks runs the callback handler through every
// refusal and failure with debug logging, and checks that the token appears
// in no log record, error, reply body or printed value.
func TestCallbackTokenNeverLeaks(t *testing.T) {
	const token = "cbtok-ZQX9-DISTINCTIVE-TOKEN-41e"
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fail := false
	h, err := NewCallbackHandler(token, func(ctx context.Context, ev Event) error {
		if fail {
			return fmt.Errorf("store failed for agent %d", ev.AgentID)
		}
		return nil
	}, WithCallbackLogger(logger))
	require.NoError(t, err)
	p, err := NewCallbackParser(token)
	require.NoError(t, err)

	good := strings.Replace(string(fixture(t, "callback_approved.form")), docToken, token, 1)
	bodies := []string{
		good,
		strings.Replace(good, token, token+"x", 1),                // wrong: one character more
		strings.Replace(good, token, token[:10], 1),               // wrong: a prefix
		strings.Replace(good, "token="+token, "", 1),              // missing
		"data=%7Bbroken&token=" + token,                           // broken data
		"data=" + strings.Repeat("x", 70<<10) + "&token=" + token, // oversize
	}
	var collected []string
	for _, storeFails := range []bool{false, true} {
		fail = storeFails
		for _, body := range bodies {
			for _, method := range []string{http.MethodPost, http.MethodGet} {
				r := httptest.NewRequest(method, "/cb", strings.NewReader(body))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				w := httptest.NewRecorder()
				require.Nil(t, catchPanic(func() { h.ServeHTTP(w, r) }))
				collected = append(collected, w.Body.String())
				r2 := httptest.NewRequest(method, "/cb", strings.NewReader(body))
				r2.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				_, err := p.Parse(r2)
				collected = append(collected, fmt.Sprintf("%v|%+v|%#v", err, err, err))
			}
		}
	}
	collected = append(collected, fmt.Sprintf("%v %+v %#v", p, p, p), fmt.Sprintf("%v %+v", h, h))
	for _, opt := range []Option{WithBaseURLs("https://a.test", "https://b.test"), WithUserAgent("x")} {
		collected = append(collected, fmt.Sprintf("%v %+v %#v", opt, opt, opt))
	}
	mu.Lock()
	collected = append(collected, logs.String())
	mu.Unlock()
	require.Contains(t, logs.String(), "callback refused", "debug logging saw the refusals")
	for _, text := range collected {
		assert.NotContains(t, text, token)
		assert.NotContains(t, text, token[:10])
		_, _ = sinkWriter{}.Write([]byte(text + "\n"))
	}
}
