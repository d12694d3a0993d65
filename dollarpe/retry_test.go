package dollarpe

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	err500  = `{"success":false,"message":"Internal Server Error","errors":"Internal Server Error"}`
	err429  = `{"status":false,"message":"Too Many Requests","data":null}`
	err401  = `{"status":false,"message":"Unauthorized","err_code":"AUTH_INVALID_API_KEY","data":null}`
	errLim  = `{"status":false,"message":"Kyc update limit exceeded","data":null}`
	taxBody = `{"customer_id":"` + testID + `","tax_number":"ABCDE1234F"}`
)

func updateTax(c *Client, opts ...CallOption) error {
	_, err := c.UpdateTaxInfo(context.Background(), UpdateTaxInfoParams{CustomerID: testID, TaxNumber: "ABCDE1234F"}, opts...)
	return err
}

func TestReadRetriedOn5xxWithFreshSignature(t *testing.T) {
	rec := newRecorder(t, answer(500, err500), answer(503, "<html>busy</html>"), answer(200, okCustomer))
	c, clock := newTestClient(t, rec)
	var meta Response
	_, err := c.GetCustomer(context.Background(), testID, ResponseInto(&meta))
	require.NoError(t, err)
	reqs := rec.requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, 3, meta.Attempts)
	waits := clock.waits()
	require.Len(t, waits, 2)
	assert.True(t, waits[0] >= 500*time.Millisecond && waits[0] <= time.Second, "first wait %s", waits[0])
	assert.True(t, waits[1] >= time.Second && waits[1] <= 2*time.Second, "second wait %s", waits[1])
	// Every attempt is signed anew with the clock's time at that attempt.
	at := time.Unix(vectorTime, 0)
	for i, r := range reqs {
		verifySignature(t, r)
		assert.Equal(t, strconv.FormatInt(at.Unix(), 10), r.Header.Get("X-TIMESTAMP"), "attempt %d signed at its own time", i+1)
		if i < len(waits) {
			at = at.Add(waits[i])
		}
	}
}

func TestReadGivesUpAfterFiveAttempts(t *testing.T) {
	rec := newRecorder(t, answer(502, err500))
	c, clock := newTestClient(t, rec)
	_, err := c.GetCustomer(context.Background(), testID)
	var re *RetryError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 5, re.Attempts)
	assert.ErrorIs(t, err, ErrServer)
	assert.NotErrorIs(t, err, ErrOutcomeUnknown)
	assert.Len(t, rec.requests(), 5)
	for _, w := range clock.waits() {
		assert.LessOrEqual(t, w, 30*time.Second)
	}
}

func TestBackoffCappedAt30s(t *testing.T) {
	rec := newRecorder(t, answer(500, err500))
	c, clock := newTestClient(t, rec, WithRetryPolicy(RetryPolicy{MaxAttempts: 9}))
	_, err := c.GetCustomer(context.Background(), testID)
	require.Error(t, err)
	waits := clock.waits()
	require.Len(t, waits, 8)
	for _, w := range waits {
		assert.LessOrEqual(t, w, 30*time.Second)
	}
	assert.GreaterOrEqual(t, waits[7], 15*time.Second)
}

func TestWriteNeverRepeatedAfter5xx(t *testing.T) {
	for _, status := range []int{500, 502, 503, 504} {
		rec := newRecorder(t, answer(status, err500), answer(200, okKYC))
		c, clock := newTestClient(t, rec)
		err := updateTax(c)
		require.Error(t, err)
		assert.ErrorIs(t, err, ErrOutcomeUnknown)
		assert.ErrorIs(t, err, ErrServer)
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, status, apiErr.StatusCode)
		assert.Len(t, rec.requests(), 1, "never repeated")
		assert.Empty(t, clock.waits())
		assert.Contains(t, err.Error(), "outcome unknown")
	}
}

func TestRateLimitRetriedOnAnyMethodHonouringRetryAfter(t *testing.T) {
	rec := newRecorder(t, answer(429, err429, "Retry-After", "7"), answer(200, okKYC))
	c, clock := newTestClient(t, rec)
	require.NoError(t, updateTax(c))
	reqs := rec.requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, []time.Duration{7 * time.Second}, clock.waits())
	assert.Equal(t, taxBody, string(reqs[1].Body))
	verifySignature(t, reqs[1])
	assert.NotEqual(t, reqs[0].Header.Get("X-TIMESTAMP"), reqs[1].Header.Get("X-TIMESTAMP"))
}

func TestUnauthorizedNeverRetried(t *testing.T) {
	rec := newRecorder(t, answer(401, err401))
	c, clock := newTestClient(t, rec)
	_, err := c.GetCustomer(context.Background(), testID)
	assert.ErrorIs(t, err, ErrUnauthorized)
	assert.Len(t, rec.requests(), 1)
	assert.Empty(t, clock.waits())
}

func TestUpdateLimitIsTyped(t *testing.T) {
	rec := newRecorder(t, answer(400, errLim))
	c, _ := newTestClient(t, rec)
	err := updateTax(c)
	assert.ErrorIs(t, err, ErrUpdateLimit)
	assert.ErrorIs(t, err, ErrInvalidRequest)
	assert.NotErrorIs(t, err, ErrOutcomeUnknown)
	assert.Len(t, rec.requests(), 1)
}

// dropServer is a listener whose connections read the whole request and
// then close, so the request is fully written and no reply comes.
func dropServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			req, err := http.ReadRequest(bufio.NewReader(conn))
			if err == nil {
				_ = req.Body.Close()
			}
			_ = conn.Close()
		}
	}()
	return "http://" + ln.Addr().String()
}

func TestWriteNotRepeatedAfterFullyWritten(t *testing.T) {
	url := dropServer(t)
	clock := newFakeClock()
	c, err := New(testKey, testSecret, WithBaseURL(url), WithClock(clock),
		WithHTTPClient(&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}))
	require.NoError(t, err)
	err = updateTax(c)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrOutcomeUnknown)
	var netErr *NetworkError
	assert.ErrorAs(t, err, &netErr)
	assert.Empty(t, clock.waits())

	// A read on the same failure is retried, up to the limit.
	_, err = c.GetCustomer(context.Background(), testID)
	var re *RetryError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 5, re.Attempts)
	assert.NotErrorIs(t, err, ErrOutcomeUnknown)
}

func TestWriteRepeatedWhenNothingWasWritten(t *testing.T) {
	// Connection refused: the request never left, so a write may be sent
	// again.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	url := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close())
	clock := newFakeClock()
	c, err := New(testKey, testSecret, WithBaseURL(url), WithClock(clock), WithRetryPolicy(RetryPolicy{MaxAttempts: 3}))
	require.NoError(t, err)
	err = updateTax(c)
	var re *RetryError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 3, re.Attempts)
	assert.NotErrorIs(t, err, ErrOutcomeUnknown)
	var netErr *NetworkError
	assert.ErrorAs(t, err, &netErr)
}

// blockingClock's Sleep waits for the context, as a real wait would, and
// says when it starts waiting.
type blockingClock struct {
	fakeClock
	sleeping chan struct{}
}

func (c *blockingClock) Sleep(ctx context.Context, _ time.Duration) error {
	c.sleeping <- struct{}{}
	<-ctx.Done()
	return ctx.Err()
}

func TestWaitEndsWithContext(t *testing.T) {
	rec := newRecorder(t, answer(503, err500))
	clock := &blockingClock{fakeClock: *newFakeClock(), sleeping: make(chan struct{}, 1)}
	c, err := New(testKey, testSecret, WithBaseURL(rec.srv.URL), WithClock(clock))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := c.GetCustomer(ctx, testID); done <- err }()
	<-clock.sleeping // the first attempt failed and the client waits to retry
	cancel()
	err = <-done
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, err, ErrServer, "the last attempt's failure is kept")
	assert.Len(t, rec.requests(), 1)
}

func TestRetryCallOption(t *testing.T) {
	rec := newRecorder(t, answer(500, err500))
	c, _ := newTestClient(t, rec)
	_, err := c.GetCustomer(context.Background(), testID, Retry(RetryPolicy{MaxAttempts: 1}))
	assert.ErrorIs(t, err, ErrServer)
	assert.Len(t, rec.requests(), 1)
	_, err = c.GetCustomer(context.Background(), testID, Retry(RetryPolicy{MaxAttempts: -1}))
	var verr *ValidationError
	assert.ErrorAs(t, err, &verr)
}

func TestUnreadable2xx(t *testing.T) {
	rec := newRecorder(t, answer(200, `<html>proxy</html>`))
	c, _ := newTestClient(t, rec)
	err := updateTax(c)
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assert.ErrorIs(t, err, ErrOutcomeUnknown, "a write with no readable envelope may have taken effect")

	rec = newRecorder(t, answer(200, `{"status":true,"message":"Success","data":[1]}`))
	c, _ = newTestClient(t, rec)
	err = updateTax(c)
	require.ErrorAs(t, err, &de)
	assert.NotErrorIs(t, err, ErrOutcomeUnknown, "the envelope says it succeeded")

	rec = newRecorder(t, answer(200, `{"status":true,"message":"Success","data":null}`))
	c, _ = newTestClient(t, rec)
	assert.NoError(t, updateTax(c))
	_, err = c.GetCustomer(context.Background(), testID)
	assert.ErrorAs(t, err, &de, "a customer without id")

	rec = newRecorder(t, answer(200, `{"status":false,"message":"KYC already exists","data":null}`))
	c, _ = newTestClient(t, rec)
	_, err = c.AddKYCData(context.Background(), kycParams())
	assert.ErrorIs(t, err, ErrKYCExists)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 200, apiErr.StatusCode)

	rec = newRecorder(t, answer(200, okCustomer+`   `+string(make([]byte, 100))))
	c, _ = newTestClient(t, rec, WithMaxResponseBytes(50))
	_, err = c.GetCustomer(context.Background(), testID)
	assert.ErrorAs(t, err, &de)
}

func TestMockRefusedOnProduction(t *testing.T) {
	rec := newRecorder(t, answer(200, okKYC))
	c, _ := newTestClient(t, rec, WithEnvironment(Production))
	_, err := c.MockKYCStatus(context.Background(), testID, MockVerified)
	assert.ErrorIs(t, err, ErrSandboxOnly)
	var verr *ValidationError
	require.ErrorAs(t, err, &verr)
	assert.True(t, verr.Has("environment"))
	assert.Empty(t, rec.requests(), "nothing sent")
	assert.False(t, errors.Is(err, ErrServer))
}
