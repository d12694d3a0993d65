package flipkyc

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc/internal/redact"
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
			if err == nil {
				// A 2xx, whatever its body, is a state change's success.
				require.True(t, strings.HasPrefix(name, "200"), "%s %s", name, ec.name)
				continue
			}
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

// TestEscapedEchoesOfTheKeyAreRedacted: a hostile or careless server echoes
// the key, or its Basic-auth form, escaped in every way a reply can write
// it; none of them reaches an error (any verb, JSON), a log line or a kept
// body.
func TestEscapedEchoesOfTheKeyAreRedacted(t *testing.T) {
	const key = "sk/Live+KEY/7f3a==Z9-slashed" // slashes and pluses, which escapes change
	basic := base64.StdEncoding.EncodeToString([]byte(key + ":"))
	escapes := map[string]func(string) string{
		"plain":           func(s string) string { return s },
		"every char \\u":  uEscape,
		"first char \\u":  func(s string) string { return uEscape(s[:1]) + s[1:] },
		"PHP slashes \\/": func(s string) string { return strings.ReplaceAll(s, "/", `\/`) },
		"percent-encoded": url.QueryEscape,
		"every byte \\x": func(s string) string {
			var b strings.Builder
			for _, c := range []byte(s) {
				fmt.Fprintf(&b, `\x%02x`, c)
			}
			return b.String()
		},
		"wrapped over lines": func(s string) string {
			if len(s) < 8 {
				return s
			}
			return s[:len(s)/2] + "\r\n" + s[len(s)/2:]
		},
		"every byte percent": func(s string) string { return strings.ToUpper(fmt.Sprintf("%%%x", []byte(s))) },
		"HTML references": func(s string) string {
			var b strings.Builder
			for _, r := range s {
				fmt.Fprintf(&b, "&#x%x;", r)
			}
			return b.String()
		},
	}
	places := map[string]func(echo string) (int, string){
		"4xx message":         func(e string) (int, string) { return 400, `{"errors":[{"code":4001,"message":"bad key ` + e + `"}]}` },
		"v2 message":          func(e string) (int, string) { return 401, `{"name":"Unauthorized","message":"` + e + `","status":401}` },
		"2xx error shape":     func(e string) (int, string) { return 200, `{"errors":[{"code":4003,"message":"` + e + `"}]}` },
		"2xx undecodable":     func(e string) (int, string) { return 200, `{"id":"` + e + `"` },
		"5xx HTML page":       func(e string) (int, string) { return 502, "<html>" + e + "</html>" },
		"429 message, logged": func(e string) (int, string) { return 429, `{"errors":[{"code":429,"message":"` + e + `"}]}` },
		"5xx JSON key":        func(e string) (int, string) { return 500, `{"debug":{"` + e + `":"auth"}}` },
	}
	for ename, escape := range escapes {
		for pname, place := range places {
			bare := base64.StdEncoding.EncodeToString([]byte(key))
			for _, secret := range []string{key, basic, "Basic " + basic, strings.TrimRight(basic, "="), bare, base64.URLEncoding.EncodeToString([]byte(key + ":"))} {
				status, body := place(escape(secret))
				srv := httptest.NewServer(&recorder{replies: []reply{{status: status, body: body}}})
				var logs bytes.Buffer
				c, err := New(key, WithBaseURLs(srv.URL, srv.URL), WithLogger(slogTo(&logs)), withClock(newFakeClock()))
				require.NoError(t, err)
				_, err = c.GetAgent(context.Background(), 1)
				srv.Close()
				require.Error(t, err)
				js, _ := json.Marshal(err)
				text := fmt.Sprintf("%v|%+v|%#v|%s|%q|%s|%s", err, err, err, err, err, js, logs.String())
				for _, form := range []string{key, basic, escape(key), escape(basic), strings.TrimRight(basic, "="), bare} {
					assert.NotContains(t, text, form, "%s in %s", ename, pname)
					assert.NotContains(t, redact.Unescape(text), form, "%s in %s", ename, pname)
				}
			}
		}
	}
}

// TestTransportErrorsAndEchoedHeadersNeverCarryTheKey: a transport that
// quotes the request's Authorization header in its error, and a server that
// echoes it in a response header.
func TestTransportErrorsAndEchoedHeadersNeverCarryTheKey(t *testing.T) {
	auth := base64.StdEncoding.EncodeToString([]byte(testKey + ":"))
	var logs bytes.Buffer
	transport := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return nil, fmt.Errorf("proxy refused Authorization: %s key %s: %w", r.Header.Get("Authorization"), testKey, context.DeadlineExceeded)
	})
	c, _ := newTestClient(t, "https://x.test/v2", "https://x.test/kyc", WithHTTPClient(&http.Client{Transport: transport}),
		WithLogger(slogTo(&logs)), WithRetryPolicy(RetryPolicy{MaxAttempts: 2}))
	_, err := c.GetAgent(context.Background(), 1)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the cause still matches")
	text := fmt.Sprintf("%v|%+v|%#v|%s", err, err, err, logs.String())
	assert.NotContains(t, text, testKey)
	assert.NotContains(t, text, auth)
	assert.Contains(t, text, "[redacted]")

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Echo", r.Header.Get("Authorization"))
		w.Header().Set("X-Trace", "t1")
		writeReply(w, 200, string(fixture(t, "agent_get_response.json")))
	}))
	defer srv.Close()
	c, _ = newTestClient(t, srv.URL, srv.URL)
	var resp Response
	_, err = c.GetAgent(context.Background(), 1, ResponseInto(&resp))
	require.NoError(t, err)
	printed := fmt.Sprintf("%v %+v %#v", resp, resp, resp.Header)
	assert.NotContains(t, printed, auth)
	assert.Equal(t, "Basic [redacted]", resp.Header.Get("X-Echo"))
	assert.Equal(t, "t1", resp.Header.Get("X-Trace"), "other headers are kept")
}
