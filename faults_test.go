package flipkyc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// faultRow is one fault the network or the server can throw at a call.
type faultRow struct {
	name    string
	handler func(n int64, w http.ResponseWriter, r *http.Request) // n counts requests from 1
	refused bool                                                  // no server at all
	call    func(context.Context, *Client) error
	timeout time.Duration // a context deadline for the call, if any
	// What the retry policy promises.
	wantRequests int64
	wantErr      error // nil: success
	wantType     any   // a pointer to the error type expected, for errors.As
	wantWaits    []time.Duration
}

// reply writes a status and body.
func writeReply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// resetMidResponse sends the headers and part of the body, then drops the
// connection.
func resetMidResponse(w http.ResponseWriter) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{\"id\": 1, \"na")
	_ = buf.Flush()
	_ = conn.Close()
}

func TestFaultMatrix(t *testing.T) {
	agentBody := string(fixture(t, "agent_get_response.json"))
	createBody := string(fixture(t, "agent_create_response.json"))
	huge := `{"id": 1, "name": "` + strings.Repeat("x", 8<<20) + `"}`
	rows := []faultRow{
		{name: "connection refused, get", refused: true, call: getAgent, wantRequests: 0, wantType: new(*RetryError)},
		{name: "connection refused, create (nothing was sent: retried)", refused: true, call: create, wantRequests: 0, wantType: new(*RetryError)},
		{name: "reset mid-response, get", call: getAgent, wantRequests: 3, wantType: new(*DecodeError),
			handler: func(n int64, w http.ResponseWriter, r *http.Request) { resetMidResponse(w) }},
		{name: "reset mid-response, create (no double create)", call: create, wantRequests: 1, wantErr: ErrOutcomeUnknown, wantType: new(*DecodeError),
			handler: func(n int64, w http.ResponseWriter, r *http.Request) { resetMidResponse(w) }},
		{name: "truncated JSON", call: getAgent, wantRequests: 1, wantType: new(*DecodeError),
			handler: func(n int64, w http.ResponseWriter, r *http.Request) { writeReply(w, 200, `{"id": 1, "na`) }},
		{name: "HTML 502 page, get", call: getAgent, wantRequests: 3, wantErr: ErrServer,
			handler: func(n int64, w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(502)
				_, _ = w.Write([]byte("<html><body><h1>502 Bad Gateway</h1></body></html>"))
			}},
		{name: "HTML 502 page, create", call: create, wantRequests: 1, wantErr: ErrOutcomeUnknown,
			handler: func(n int64, w http.ResponseWriter, r *http.Request) { writeReply(w, 502, "<html>bad gateway</html>") }},
		{name: "empty 200", call: getAgent, wantRequests: 1, wantType: new(*DecodeError),
			handler: func(n int64, w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) }},
		{name: "200 with a JSON error body", call: getAgent, wantRequests: 1, wantErr: ErrNotFound,
			handler: func(n int64, w http.ResponseWriter, r *http.Request) {
				writeReply(w, 200, `{"errors":[{"code":1011,"message":"Agent ID is not found"}]}`)
			}},
		{name: "429 with Retry-After, then success", call: getAgent, wantRequests: 2, wantWaits: []time.Duration{3 * time.Second},
			handler: func(n int64, w http.ResponseWriter, r *http.Request) {
				if n == 1 {
					w.Header().Set("Retry-After", "3")
					writeReply(w, 429, `{"errors":[{"code":429,"message":"Too many requests"}]}`)
					return
				}
				writeReply(w, 200, agentBody)
			}},
		{name: "429 without Retry-After on create, then success (created once)", call: create, wantRequests: 2,
			handler: func(n int64, w http.ResponseWriter, r *http.Request) {
				if n == 1 {
					writeReply(w, 429, "")
					return
				}
				writeReply(w, 200, createBody)
			}},
		{name: "429 every time", call: getAgent, wantRequests: 3, wantErr: ErrRateLimited,
			handler: func(n int64, w http.ResponseWriter, r *http.Request) { writeReply(w, 429, "") }},
		{name: "submit answered 503, agent under review: confirmed by reading, not repeated", call: submit, wantRequests: 2,
			handler: func(n int64, w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPut {
					writeReply(w, 503, "")
					return
				}
				writeReply(w, 200, strings.Replace(agentBody, `"APPROVED"`, `"PENDING"`, 1))
			}},
		{name: "submit answered 503 every time, agent not moved: read and sent again up to 3 times, then outcome unknown", call: submit,
			wantRequests: 6, wantErr: ErrOutcomeUnknown,
			handler: func(n int64, w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPut {
					writeReply(w, 503, "")
					return
				}
				writeReply(w, 200, strings.Replace(agentBody, `"APPROVED"`, `"UPLOAD_IDENTITY_SELFIE_SUCCESS"`, 1))
			}},
		{name: "submit answered 503 once before Flip applied it: read, sent again, success", call: submit, wantRequests: 3,
			handler: func(n int64, w http.ResponseWriter, r *http.Request) {
				switch {
				case r.Method == http.MethodPut && n == 1:
					writeReply(w, 503, "<html>Service Unavailable</html>")
				case r.Method == http.MethodPut:
					writeReply(w, 200, `{"message":"KYC submission success"}`)
				default:
					writeReply(w, 200, strings.Replace(agentBody, `"APPROVED"`, `"UPLOAD_IDENTITY_SELFIE_SUCCESS"`, 1))
				}
			}},
		{name: "reply slower than the deadline", call: getAgent, timeout: 50 * time.Millisecond, wantRequests: 1, wantErr: context.DeadlineExceeded,
			handler: func(n int64, w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
			}},
		{name: "reply far larger than any real one", call: getAgent, wantRequests: 1, wantType: new(*DecodeError),
			handler: func(n int64, w http.ResponseWriter, r *http.Request) { writeReply(w, 200, huge) }},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			var requests atomic.Int64
			base := refusedAddr(t)
			var srv *httptest.Server
			if !row.refused {
				srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					row.handler(requests.Add(1), w, r)
				}))
				base = srv.URL
			}
			transport := &http.Transport{}
			c, clk := newTestClient(t, base, base, WithHTTPClient(&http.Client{Transport: transport}))
			ctx := context.Background()
			if row.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, row.timeout)
				defer cancel()
			}

			var err error
			require.NotPanics(t, func() { err = row.call(ctx, c) })
			recordErr(err)
			if row.wantErr != nil {
				assert.ErrorIs(t, err, row.wantErr)
			}
			if row.wantType != nil {
				require.Error(t, err)
				assert.True(t, errors.As(err, row.wantType), "want %T, got %T: %v", row.wantType, err, err)
			}
			if row.wantErr == nil && row.wantType == nil {
				assert.NoError(t, err)
			}
			if row.wantWaits != nil {
				assert.Equal(t, row.wantWaits, clk.waits())
			}
			if srv != nil {
				srv.Close()
			}
			assert.Equal(t, row.wantRequests, requests.Load(), "requests the server saw")
			transport.CloseIdleConnections()
			assert.NoError(t, goroutinesBackTo(before), "goroutines left behind")
		})
	}
}

// goroutinesBackTo waits, a bounded while, for the goroutine count to fall
// back to n; it reports the count when it does not.
func goroutinesBackTo(n int) error {
	for range 200 {
		if runtime.NumGoroutine() <= n {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	buf := make([]byte, 1<<16)
	return fmt.Errorf("%d goroutines, want at most %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
}
