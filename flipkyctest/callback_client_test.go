package flipkyctest_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/flipkyctest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// triggerCallbacks takes n new agents through both uploads, which makes the
// fake send one callback each.
func triggerCallbacks(t *testing.T, srv *flipkyctest.Server, n int) {
	t.Helper()
	c, err := srv.NewClient()
	require.NoError(t, err)
	ctx := context.Background()
	for i := range n {
		a, err := c.CreateAgent(ctx, agentParams("32010000000003"+strconv.Itoa(10+i), "0812000003"+strconv.Itoa(10+i)))
		require.NoError(t, err)
		_, err = c.UploadIdentityImage(ctx, a.ID, flipkyc.IdentityKTP, img(t))
		require.NoError(t, err)
		_, err = c.UploadSelfieWithIdentity(ctx, a.ID, flipkyc.IdentityKTP, img(t))
		require.NoError(t, err)
	}
}

// TestCallbackRedirectsAreNotFollowed points the callbacks at a receiver
// that redirects to another loopback server: the other server must receive
// nothing (the token is posted only to the configured URL), and the callback
// is recorded as answered with the redirect.
func TestCallbackRedirectsAreNotFollowed(t *testing.T) {
	for _, code := range []int{301, 302, 303, 307, 308} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			var reached atomic.Int32
			elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				reached.Add(1)
			}))
			defer elsewhere.Close()
			redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, elsewhere.URL+"/cb", code)
			}))
			defer redirecting.Close()

			srv := flipkyctest.NewServer(t, flipkyctest.WithCallbacks(redirecting.URL+"/cb", "cb-token"))
			triggerCallbacks(t, srv, 1)
			srv.Close() // waits for the delivery
			sent := srv.Callbacks()
			require.Len(t, sent, 1)
			assert.NoError(t, sent[0].Err)
			assert.Equal(t, code, sent[0].Status)
			assert.Zero(t, reached.Load(), "the redirect was followed")
		})
	}
}

// TestCloseClosesCallbackConnections checks that the callback connections
// the fake keeps for reuse are closed by Close.
func TestCloseClosesCallbackConnections(t *testing.T) {
	var opened, closed atomic.Int32
	allClosed := make(chan struct{}, 16)
	rcv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	rcv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			opened.Add(1)
		case http.StateClosed, http.StateHijacked:
			if closed.Add(1) == opened.Load() {
				allClosed <- struct{}{}
			}
		}
	}
	rcv.Start()
	defer rcv.Close()

	srv := flipkyctest.NewServer(t, flipkyctest.WithCallbacks(rcv.URL, "cb-token"))
	triggerCallbacks(t, srv, 3)
	srv.Close()
	for _, cb := range srv.Callbacks() {
		require.Equal(t, http.StatusOK, cb.Status)
	}
	require.Positive(t, opened.Load())
	select {
	case <-allClosed:
	case <-time.After(10 * time.Second): // an upper bound only; the close is prompt
		t.Fatalf("%d of %d callback connections still open after Close", opened.Load()-closed.Load(), opened.Load())
	}
}
