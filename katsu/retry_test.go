package katsu_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc/katsu"
)

// sequence answers the n-th request with steps[n] (the last one repeated),
// counting requests.
func sequence(n *atomic.Int32, steps ...http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		steps[min(i, len(steps)-1)](w, r)
	}
}

// hangUp closes the connection without answering, after reading the whole
// request.
func hangUp(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

var update = katsu.UpdateParams{KYCID: kycID, Tier: katsu.Tier1, BVN: testBVN}

func TestGetRetriesServerErrors(t *testing.T) {
	var n atomic.Int32
	c, clk := newClient(t, sequence(&n, reply(500, `{"succeeded":false}`), reply(503, ``), reply(200, okRecord)))
	var meta katsu.Response
	rec, err := c.Get(context.Background(), kycID, katsu.ResponseInto(&meta))
	require.NoError(t, err)
	assert.Equal(t, kycID, rec.ID)
	assert.EqualValues(t, 3, n.Load())
	assert.Equal(t, 3, meta.Attempts)
	waits := clk.Waits()
	require.Len(t, waits, 2)
	assert.True(t, waits[0] >= 100*time.Millisecond && waits[0] <= 200*time.Millisecond, "first wait %s", waits[0])
	assert.True(t, waits[1] >= 200*time.Millisecond && waits[1] <= 400*time.Millisecond, "second wait %s", waits[1])
}

func TestGetRetriesConnectionFailures(t *testing.T) {
	var n atomic.Int32
	c, _ := newClient(t, sequence(&n, hangUp, reply(200, okRecord)))
	_, err := c.Get(context.Background(), kycID)
	require.NoError(t, err)
	assert.EqualValues(t, 2, n.Load())
}

func TestGetGivesUpAfterMaxAttempts(t *testing.T) {
	var n atomic.Int32
	c, clk := newClient(t, sequence(&n, reply(502, ``)),
		katsu.WithRetryPolicy(katsu.RetryPolicy{MaxAttempts: 5, BaseDelay: time.Second, MaxDelay: 2 * time.Second}))
	_, err := c.Get(context.Background(), kycID)
	var re *katsu.RetryError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 5, re.Attempts)
	assert.ErrorIs(t, err, katsu.ErrServer)
	assert.EqualValues(t, 5, n.Load())
	for _, w := range clk.Waits() {
		assert.LessOrEqual(t, w, 2*time.Second, "capped")
	}
}

func TestRetryCallOptionOverrides(t *testing.T) {
	var n atomic.Int32
	c, _ := newClient(t, sequence(&n, reply(503, ``)))
	_, err := c.Get(context.Background(), kycID, katsu.Retry(katsu.RetryPolicy{MaxAttempts: 1}))
	assert.ErrorIs(t, err, katsu.ErrServer)
	assert.EqualValues(t, 1, n.Load())
}

func TestPostNeverRepeatedAfterServerError(t *testing.T) {
	for _, status := range []int{500, 502, 503, 504} {
		var n atomic.Int32
		c, _ := newClient(t, sequence(&n, reply(status, `{"succeeded":false,"message":"upstream"}`), reply(200, okRecord)))
		_, err := c.Update(context.Background(), update)
		assert.ErrorIs(t, err, katsu.ErrOutcomeUnknown, "status %d", status)
		assert.ErrorIs(t, err, katsu.ErrServer)
		var oe *katsu.OutcomeUnknownError
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, kycID, oe.KYCID)
		assert.Contains(t, err.Error(), "read the KYC record with Get")
		assert.EqualValues(t, 1, n.Load(), "status %d: a POST is never repeated after a 5xx", status)
	}
}

func TestPostNeverRepeatedAfterWritten(t *testing.T) {
	var n atomic.Int32
	c, _ := newClient(t, sequence(&n, hangUp, reply(200, okRecord)))
	_, err := c.Approve(context.Background(), kycID, approver)
	assert.ErrorIs(t, err, katsu.ErrOutcomeUnknown)
	var ne *katsu.NetworkError
	assert.ErrorAs(t, err, &ne)
	assert.EqualValues(t, 1, n.Load())
}

func TestPostUnreadableSuccessIsUnknown(t *testing.T) {
	var n atomic.Int32
	c, _ := newClient(t, sequence(&n, reply(200, `<html>gateway</html>`)))
	_, err := c.Update(context.Background(), update)
	assert.ErrorIs(t, err, katsu.ErrOutcomeUnknown)
	var de *katsu.DecodeError
	assert.ErrorAs(t, err, &de)
	assert.EqualValues(t, 1, n.Load())
}

func TestPostSucceededButDataUnreadableIsNotUnknown(t *testing.T) {
	c, _ := newClient(t, reply(200, `{"succeeded":true,"data":"done"}`))
	_, err := c.Update(context.Background(), update)
	var de *katsu.DecodeError
	require.ErrorAs(t, err, &de)
	assert.NotErrorIs(t, err, katsu.ErrOutcomeUnknown, "Katsu said it succeeded")
}

func TestPostRetriedOn429WithRetryAfter(t *testing.T) {
	var n atomic.Int32
	limited := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3")
		reply(429, `{"succeeded":false,"message":"Too many requests"}`)(w, r)
	}
	c, clk := newClient(t, sequence(&n, limited, reply(200, okRecord)))
	_, err := c.Update(context.Background(), update)
	require.NoError(t, err)
	assert.EqualValues(t, 2, n.Load())
	assert.Equal(t, []time.Duration{3 * time.Second}, clk.Waits())
}

func TestRetryAfterIsCapped(t *testing.T) {
	var n atomic.Int32
	limited := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600")
		reply(429, ``)(w, r)
	}
	c, clk := newClient(t, sequence(&n, limited, reply(200, okRecord)),
		katsu.WithRetryPolicy(katsu.RetryPolicy{MaxRetryAfter: 10 * time.Second}))
	_, err := c.Get(context.Background(), kycID)
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{10 * time.Second}, clk.Waits())
}

// A POST whose connection could not even be made was never written: it is
// sent again.
func TestPostRetriedWhenNothingWasWritten(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens: connection refused
	clk := katsu.NewFakeClock()
	c, err := katsu.New(testToken, katsu.WithBaseURL("http://"+addr), katsu.WithClock(clk))
	require.NoError(t, err)
	_, err = c.Update(context.Background(), update)
	var re *katsu.RetryError
	require.ErrorAs(t, err, &re, "%v", err)
	assert.Equal(t, 3, re.Attempts)
	assert.NotErrorIs(t, err, katsu.ErrOutcomeUnknown)
	var ne *katsu.NetworkError
	assert.ErrorAs(t, err, &ne)
}

func TestWaitEndsWithContext(t *testing.T) {
	var n atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	c, clk := newClient(t, sequence(&n, reply(503, ``)))
	clk.OnSleep = cancel
	_, err := c.Get(ctx, kycID)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, err, katsu.ErrServer)
	var re *katsu.RetryError
	require.ErrorAs(t, err, &re, "%v", err)
	assert.Equal(t, 1, re.Attempts)
	assert.ErrorIs(t, re.Stopped, context.Canceled)
	assert.EqualValues(t, 1, n.Load())
}

func TestCanceledContextNotRetried(t *testing.T) {
	var n atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c, _ := newClient(t, sequence(&n, reply(200, okRecord)))
	_, err := c.Get(ctx, kycID)
	assert.ErrorIs(t, err, context.Canceled)
	var ne *katsu.NetworkError
	assert.ErrorAs(t, err, &ne)
	assert.Zero(t, n.Load())
}

func TestLogLines(t *testing.T) {
	var n atomic.Int32
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, _ := newClient(t, sequence(&n, reply(503, `{"succeeded":false,"message":"`+testName+`"}`), reply(200, okRecord)),
		katsu.WithLogger(logger))
	_, err := c.List(context.Background(), katsu.ListParams{OwnerID: ownerID})
	require.Error(t, err) // okRecord is not a list
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 3)
	assert.Contains(t, lines[0], `msg="katsu: request" op=List method=GET path=/api/v1/Kyc/get-all attempt=1 status=503 failure=api`)
	assert.Contains(t, lines[1], `msg="katsu: retrying" op=List method=GET path=/api/v1/Kyc/get-all attempt=1 status=503 failure=api wait=`)
	assert.Contains(t, lines[2], `attempt=2 status=200 failure=decode`)
	assert.NotContains(t, buf.String(), ownerID, "no query in log lines")
	assert.NotContains(t, buf.String(), testName)
	assert.NotContains(t, buf.String(), testToken)
	assert.False(t, errors.Is(err, katsu.ErrOutcomeUnknown))
}

// rebuildingTransport sends a copy of each request built afresh, as some
// signing or proxying transports do: the copy has no httptrace hooks.
type rebuildingTransport struct{}

func (rebuildingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	fresh, err := http.NewRequest(r.Method, r.URL.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	fresh.Header = r.Header.Clone()
	return http.DefaultTransport.RoundTrip(fresh)
}

// A transport that reports no httptrace events gives no evidence that a
// POST was not sent: a failure after it is an unknown outcome, and the
// POST is not repeated.
func TestPostNotRepeatedWithoutTraceEvents(t *testing.T) {
	var applied atomic.Int32
	c, _ := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		applied.Add(1)
		hangUp(w, r)
	}), katsu.WithHTTPClient(&http.Client{Transport: rebuildingTransport{}}))
	_, err := c.Update(context.Background(), update)
	assert.ErrorIs(t, err, katsu.ErrOutcomeUnknown)
	assert.EqualValues(t, 1, applied.Load())

	// Nothing listens: the dial error is evidence enough, through the same
	// transport.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	c, err = katsu.New(testToken, katsu.WithBaseURL("http://"+addr), katsu.WithClock(katsu.NewFakeClock()),
		katsu.WithHTTPClient(&http.Client{Transport: rebuildingTransport{}}))
	require.NoError(t, err)
	_, err = c.Approve(context.Background(), kycID, approver)
	var re *katsu.RetryError
	require.ErrorAs(t, err, &re, "%v", err)
	assert.Equal(t, 3, re.Attempts)
	assert.NotErrorIs(t, err, katsu.ErrOutcomeUnknown)
}

// A POST whose context ended before it was sent is not an unknown outcome.
func TestPostWithEndedContextIsNotUnknown(t *testing.T) {
	var n atomic.Int32
	c, _ := newClient(t, sequence(&n, reply(200, okRecord)))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Update(ctx, update)
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, katsu.ErrOutcomeUnknown)
	assert.Zero(t, n.Load())
}
