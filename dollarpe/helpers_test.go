package dollarpe

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	testKey    = "tk_live_Zq8XwY3vN2pLm7Rs"
	testSecret = "ts_Hd93kLmQ0pWz7VbX1cYe"
	testID     = "4e6f1b20-a73c-11ec-b909-0242ac120002"
)

// fakeClock is a Clock that never sleeps: Sleep records the wait and moves
// the time on.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(vectorTime, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

func (c *fakeClock) waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// seen is one request a test server received.
type seen struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
}

// recorder is an httptest server that records requests and answers each
// with the next of replies (the last one repeats).
type recorder struct {
	mu      sync.Mutex
	reqs    []seen
	srv     *httptest.Server
	replies []func(w http.ResponseWriter)
}

func newRecorder(t *testing.T, replies ...func(w http.ResponseWriter)) *recorder {
	t.Helper()
	rec := &recorder{replies: replies}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		n := len(rec.reqs)
		rec.reqs = append(rec.reqs, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body})
		reply := rec.replies[min(n, len(rec.replies)-1)]
		rec.mu.Unlock()
		reply(w)
	})
	rec.srv = httptest.NewServer(mux)
	t.Cleanup(rec.srv.Close)
	return rec
}

func (r *recorder) requests() []seen {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]seen(nil), r.reqs...)
}

// answer returns a reply with status, body and optional header pairs.
func answer(status int, body string, header ...string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

const okCustomer = `{"status":true,"message":"Success","data":{"id":"` + testID + `","status":"UNVERIFIED"}}`

const okKYC = `{"status":true,"message":"Success","data":{"id":"` + testID + `","status":"PROCESSING"}}`

// newTestClient returns a client of rec with a fake clock.
func newTestClient(t *testing.T, rec *recorder, opts ...Option) (*Client, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	c, err := New(testKey, testSecret, append([]Option{WithBaseURL(rec.srv.URL), WithHTTPClient(rec.srv.Client()),
		WithClock(clock)}, opts...)...)
	require.NoError(t, err)
	return c, clock
}

// verifySignature checks a recorded request's signature as DollarPe would:
// over the exact body received ("{}" for a GET).
func verifySignature(t *testing.T, s seen) {
	t.Helper()
	require.Equal(t, testKey, s.Header.Get("X-API-KEY"))
	ts, err := strconv.ParseInt(s.Header.Get("X-TIMESTAMP"), 10, 64)
	require.NoError(t, err)
	signed := s.Body
	if s.Method == http.MethodGet {
		require.Empty(t, s.Body)
		signed = []byte("{}")
	}
	canon, err := Canonicalize(signed)
	require.NoError(t, err)
	require.Equal(t, string(canon), string(signed), "the body sent is its canonical form")
	want := Sign(testKey, testSecret, ts, signed)
	require.Equal(t, want, s.Header.Get("X-SIGNATURE"))
	_, err = base64.StdEncoding.DecodeString(s.Header.Get("X-SIGNATURE"))
	require.NoError(t, err)
}
