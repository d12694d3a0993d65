package flipkyc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc/internal/backoff"
)

func TestRetryPolicyByMethodAndFailure(t *testing.T) {
	ok := func(name string) reply { return reply{status: 200, body: string(fixture(t, name))} }
	img := jpegImage(t, 300, 300)
	upload := func(ctx context.Context, c *Client) error {
		_, err := c.UploadIdentityImage(ctx, 1, IdentityKTP, Image{"k.jpg", bytes.NewReader(img)})
		return err
	}
	tests := []struct {
		name         string
		call         func(ctx context.Context, c *Client) error
		replies      []reply
		wantRequests int
		wantErr      error // nil = success
	}{
		{"GET retried on 503 until success", getAgent, []reply{{status: 503}, {status: 503}, ok("agent_get_response.json")}, 3, nil},
		{"GET retried on 502 and 504", getAgent, []reply{{status: 502}, {status: 504}, ok("agent_get_response.json")}, 3, nil},
		{"GET retried on 429", getAgent, []reply{{status: 429}, ok("agent_get_response.json")}, 2, nil},
		{"GET gives up after 3 attempts", getAgent, []reply{{status: 503}}, 3, ErrServer},
		{"GET not retried on 500", getAgent, []reply{{status: 500}}, 1, ErrServer},
		{"GET not retried on 404", getAgent, []reply{{status: 404, body: string(fixture(t, "error_agents_404.json"))}}, 1, ErrNotFound},
		{"GET not retried on 401", getAgent, []reply{{status: 401}}, 1, ErrUnauthorized},
		{"submit (PUT) retried on 429", submit, []reply{{status: 429}, ok("submit_response.json")}, 2, nil},
		{"update (PUT) retried on 502", update, []reply{{status: 502}, ok("agent_create_response.json")}, 2, nil},
		{"create (POST) not retried on 503", create, []reply{{status: 503}, ok("agent_create_response.json")}, 1, ErrOutcomeUnknown},
		{"create (POST) not retried on 502", create, []reply{{status: 502}, ok("agent_create_response.json")}, 1, ErrOutcomeUnknown},
		{"create (POST) retried on 429", create, []reply{{status: 429}, ok("agent_create_response.json")}, 2, nil},
		{"upload not retried on 503", upload, []reply{{status: 503}, ok("upload_response.json")}, 1, ErrOutcomeUnknown},
		{"upload retried on 429 with a seekable image", upload, []reply{{status: 429}, ok("upload_response.json")}, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{replies: tt.replies}
			srv := httptest.NewServer(rec)
			defer srv.Close()
			c, clk := newTestClient(t, srv.URL, srv.URL)
			err := tt.call(context.Background(), c)
			recordErr(err)
			reqs := rec.got()
			assert.Len(t, reqs, tt.wantRequests)
			assert.Len(t, clk.waits(), tt.wantRequests-1, "one wait between attempts")
			ids := map[string]bool{}
			for _, r := range reqs {
				ids[r.Header.Get("Request-ID")] = true
			}
			assert.Len(t, ids, 1, "one Request-ID across the retries of a call")
			if len(reqs) > 1 {
				assert.Equal(t, reqs[0].Body, reqs[len(reqs)-1].Body, "the retried body is the same")
			}
			if tt.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
			var re *RetryError
			if tt.wantRequests > 1 {
				require.ErrorAs(t, err, &re)
				assert.Equal(t, tt.wantRequests, re.Attempts)
				assert.Contains(t, err.Error(), "gave up after "+strconv.Itoa(tt.wantRequests)+" attempts")
			} else {
				assert.False(t, errors.As(err, &re))
			}
		})
	}
}

func getAgent(ctx context.Context, c *Client) error { _, err := c.GetAgent(ctx, 1); return err }
func submit(ctx context.Context, c *Client) error   { _, err := c.SubmitKYC(ctx, 1); return err }
func create(ctx context.Context, c *Client) error {
	_, err := c.CreateAgent(ctx, validAgent())
	return err
}
func update(ctx context.Context, c *Client) error {
	_, err := c.UpdateAgent(ctx, 1, validAgent())
	return err
}

func TestUploadFromAStreamIsSentOnce(t *testing.T) {
	rec := &recorder{replies: []reply{{status: 429}, {status: 200, body: `{"image_url":"x"}`}}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL, srv.URL)
	_, err := c.UploadIdentityImage(context.Background(), 1, IdentityKTP,
		Image{"k.jpg", nonSeeker{bytes.NewReader(jpegImage(t, 300, 300))}})
	recordErr(err)
	assert.ErrorIs(t, err, ErrRateLimited)
	assert.Len(t, rec.got(), 1, "a reader that cannot be re-read is never re-sent")
}

func TestRetryAfterIsHonouredAndCapped(t *testing.T) {
	clk := newFakeClock()
	tests := []struct {
		name   string
		header string
		want   time.Duration
	}{
		{"seconds", "7", 7 * time.Second},
		{"HTTP date", clk.Now().Add(12 * time.Second).Format(http.TimeFormat), 12 * time.Second},
		{"capped", "3600", 30 * time.Second},
		{"date in the past falls back to backoff", clk.Now().Add(-time.Hour).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{replies: []reply{
				{status: 429, header: map[string]string{"Retry-After": tt.header}},
				{status: 200, body: string(fixture(t, "agent_get_response.json"))},
			}}
			srv := httptest.NewServer(rec)
			defer srv.Close()
			c, clk := newTestClient(t, srv.URL, srv.URL)
			require.NoError(t, getAgent(context.Background(), c))
			waits := clk.waits()
			require.Len(t, waits, 1)
			if tt.want == 0 {
				assert.LessOrEqual(t, waits[0], 200*time.Millisecond, "backoff, not the header")
				return
			}
			assert.Equal(t, tt.want, waits[0])
		})
	}
}

func TestBackoffGrowsWithJitterAndCap(t *testing.T) {
	p := RetryPolicy{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}.limits()
	for attempt, full := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 5: time.Second, 40: time.Second} {
		seen := map[time.Duration]bool{}
		for range 200 {
			d := p.Delay(attempt, 0)
			assert.GreaterOrEqual(t, d, full/2, "attempt %d", attempt)
			assert.LessOrEqual(t, d, full, "attempt %d", attempt)
			seen[d] = true
		}
		assert.Greater(t, len(seen), 1, "jitter varies the wait")
	}
}

func TestRetriesCanBeDisabled(t *testing.T) {
	rec := &recorder{replies: []reply{{status: 503}}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c, clk := newTestClient(t, srv.URL, srv.URL, WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
	err := getAgent(context.Background(), c)
	recordErr(err)
	assert.ErrorIs(t, err, ErrServer)
	assert.Len(t, rec.got(), 1)
	assert.Empty(t, clk.waits())
}

// cancellingClock cancels the call's context when asked to wait, as a caller
// giving up mid-wait would, then waits for the context to end.
type cancellingClock struct {
	*fakeClock
	cancel context.CancelFunc
}

func (b *cancellingClock) Sleep(ctx context.Context, d time.Duration) error {
	b.cancel()
	<-ctx.Done()
	return ctx.Err()
}

func TestContextCancelledDuringRetryWait(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec := &recorder{replies: []reply{{status: 503}}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c, err := New(testKey, WithBaseURLs(srv.URL, srv.URL), WithLogger(testLogger()),
		withClock(&cancellingClock{fakeClock: newFakeClock(), cancel: cancel}))
	require.NoError(t, err)
	err = getAgent(ctx, c)
	recordErr(err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, err, ErrServer, "the last failure is kept")
	assert.Contains(t, err.Error(), "while waiting to retry after attempt 1")
	assert.Len(t, rec.got(), 1)
}

func TestRealClockSleepEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, backoff.RealClock{}.Sleep(ctx, time.Hour), context.Canceled)
	assert.NoError(t, backoff.RealClock{}.Sleep(context.Background(), time.Nanosecond))
}

// refusedAddr returns a loopback address nothing listens on.
func refusedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return "http://" + addr
}

func TestCreateIsRetriedWhenTheConnectionIsRefused(t *testing.T) {
	base := refusedAddr(t)
	c, clk := newTestClient(t, base, base)
	err := create(context.Background(), c)
	recordErr(err)
	var re *RetryError
	require.ErrorAs(t, err, &re, "a dial error proves nothing was sent, so even a create is retried")
	assert.Equal(t, 3, re.Attempts)
	assert.Len(t, clk.waits(), 2)
	assert.NotContains(t, err.Error(), "?", "the URL's query is not repeated in the error")
}

// resetServer reads each request whole, then drops the connection without
// replying, and counts the requests.
func resetServer(t *testing.T) (string, func() int) {
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		_, _ = io.Copy(io.Discard, r.Body) // the whole request arrived
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() int { mu.Lock(); defer mu.Unlock(); return n }
}

func TestResetAfterTheRequestWasSent(t *testing.T) {
	tests := []struct {
		name string
		call func(context.Context, *Client) error
		want int
	}{
		{"create is not repeated", create, 1},
		{"upload is not repeated", func(ctx context.Context, c *Client) error {
			_, err := c.UploadIdentityImage(ctx, 1, IdentityKTP, Image{"k.jpg", bytes.NewReader(jpegImage(t, 300, 300))})
			return err
		}, 1},
		{"get is repeated", getAgent, 3},
		// The submission is sent once, then the agent is read (three
		// attempts, all reset): whether it took effect stays unknown.
		{"submit is not repeated; the agent is read instead", submit, 1 + 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, count := resetServer(t)
			c, _ := newTestClient(t, base, base)
			err := tt.call(context.Background(), c)
			recordErr(err)
			require.Error(t, err)
			assert.Equal(t, tt.want, count())
			if tt.want != 3 {
				assert.ErrorIs(t, err, ErrOutcomeUnknown)
			}
		})
	}
}

func TestRetryDelayNeverOverflows(t *testing.T) {
	policies := []RetryPolicy{
		{BaseDelay: 1 << 62, MaxDelay: math.MaxInt64},
		{BaseDelay: math.MaxInt64, MaxDelay: math.MaxInt64},
		{BaseDelay: time.Nanosecond, MaxDelay: math.MaxInt64},
		{BaseDelay: 200 * time.Millisecond, MaxDelay: 5 * time.Second},
		{BaseDelay: 1, MaxDelay: 1},
	}
	for _, p := range policies {
		for attempt := 1; attempt < 80; attempt++ {
			var d time.Duration
			require.NotPanics(t, func() { d = p.limits().Delay(attempt, 0) }, "%+v attempt %d", p, attempt)
			assert.GreaterOrEqual(t, d, time.Duration(0))
			assert.LessOrEqual(t, d, p.MaxDelay)
		}
	}
	// A huge poll interval is capped, not overflowed.
	srv := httptest.NewServer(&recorder{replies: []reply{{status: 200, body: string(fixture(t, "agent_get_response.json"))}}})
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	require.NotPanics(t, func() {
		_, _ = c.WaitForAgent(ctx, 1, UntilStatus(StatusPending), PollInterval(10*365*24*time.Hour))
	})
}
