package flipkyc

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingServer answers get-agent replies and counts the TCP connections
// opened to it, and the most open at once.
func countingServer(t *testing.T) (*httptest.Server, *atomic.Int64, *atomic.Int64) {
	body := fixture(t, "agent_get_response.json")
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(body)
	}))
	var opened, open, peak atomic.Int64
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		switch state {
		case http.StateNew:
			opened.Add(1)
			n := open.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &opened, &peak
}

func TestSequentialCallsReuseOneConnection(t *testing.T) {
	srv, opened, _ := countingServer(t)
	c, _ := newTestClient(t, srv.URL, srv.URL, WithHTTPClient(&http.Client{Transport: &http.Transport{}}))
	for range 1000 {
		_, err := c.GetAgent(context.Background(), 1)
		require.NoError(t, err)
	}
	assert.Equal(t, int64(1), opened.Load(), "1,000 sequential calls, one TCP connection")
}

func TestErrorRepliesStillReuseTheConnection(t *testing.T) {
	srv := httptest.NewUnstartedServer(&recorder{replies: []reply{{status: 404, body: string(fixture(t, "error_agents_404.json"))}}})
	var opened atomic.Int64
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL, srv.URL, WithHTTPClient(&http.Client{Transport: &http.Transport{}}))
	for range 100 {
		_, err := c.GetAgent(context.Background(), 1)
		require.ErrorIs(t, err, ErrNotFound)
	}
	assert.Equal(t, int64(1), opened.Load())
}

func TestConcurrentCallsStayWithinTheTransportLimit(t *testing.T) {
	const limit = 4
	srv, opened, peak := countingServer(t)
	c, _ := newTestClient(t, srv.URL, srv.URL,
		WithHTTPClient(&http.Client{Transport: &http.Transport{MaxConnsPerHost: limit, MaxIdleConnsPerHost: limit}}))
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.GetAgent(context.Background(), 1)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.LessOrEqual(t, peak.Load(), int64(limit), "never more open than MaxConnsPerHost")
	assert.LessOrEqual(t, opened.Load(), int64(limit), "and none opened beyond it")
	assert.GreaterOrEqual(t, opened.Load(), int64(1))
}
