package dollarpe

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rebuildingTransport sends each request as a new one, as a transport of
// another HTTP stack would: the client's httptrace hooks never fire.
type rebuildingTransport struct{}

func (rebuildingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			return nil, err
		}
	}
	out, err := http.NewRequest(r.Method, r.URL.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	out.Header = r.Header.Clone()
	return (&http.Transport{DisableKeepAlives: true}).RoundTrip(out)
}

func TestWriteNotRepeatedBehindHTTPMockError(t *testing.T) {
	mock := httpmock.NewMockTransport()
	mock.RegisterNoResponder(httpmock.NewErrorResponder(io.ErrUnexpectedEOF))
	clock := newFakeClock()
	c, err := New(testKey, testSecret, WithBaseURL("https://dollarpe.test"), WithClock(clock),
		WithHTTPClient(&http.Client{Transport: mock}))
	require.NoError(t, err)
	err = updateTax(c)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.Equal(t, 1, mock.GetTotalCallCount(), "one attempt")
	assert.Empty(t, clock.waits())
}

func TestWriteNotRepeatedBehindRebuildingTransport(t *testing.T) {
	var applied atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		applied.Add(1)
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			_ = conn.Close()
		}
	}))
	defer ts.Close()
	clock := newFakeClock()
	c, err := New(testKey, testSecret, WithBaseURL(ts.URL), WithClock(clock),
		WithHTTPClient(&http.Client{Transport: rebuildingTransport{}}))
	require.NoError(t, err)
	err = updateTax(c)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.Equal(t, int32(1), applied.Load(), "applied once")
	assert.Empty(t, clock.waits())
}

func TestWriteRetriedWhenRebuildingTransportCannotConnect(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	url := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close())
	clock := newFakeClock()
	c, err := New(testKey, testSecret, WithBaseURL(url), WithClock(clock), WithRetryPolicy(RetryPolicy{MaxAttempts: 3}),
		WithHTTPClient(&http.Client{Transport: rebuildingTransport{}}))
	require.NoError(t, err)
	err = updateTax(c)
	var re *RetryError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 3, re.Attempts, "a refused connection sent nothing and is retried")
	assert.NotErrorIs(t, err, ErrOutcomeUnknown)
	assert.Len(t, clock.waits(), 2)
}
