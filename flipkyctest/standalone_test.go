package flipkyctest_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/flipkyc/flipkyc/flipkyctest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A fake given a listener serves on it, and a middleware sees every request
// first: what it answers itself never reaches the fake's log.
func TestListenerAndMiddleware(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := flipkyctest.NewServer(t, flipkyctest.WithListener(l),
		flipkyctest.WithMiddleware(func(next http.Handler) http.Handler {
			mux := http.NewServeMux()
			mux.HandleFunc("GET /_extra", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "extra") })
			mux.Handle("/", next)
			return mux
		}))
	assert.Equal(t, "http://"+l.Addr().String(), srv.URL)

	resp, err := http.Get(srv.URL + "/_extra")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.Equal(t, "extra", string(body))

	c, err := srv.NewClient()
	require.NoError(t, err)
	countries, err := c.ListCountries(context.Background())
	require.NoError(t, err)
	assert.NotEmpty(t, countries)

	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, flipkyctest.RouteCountries, reqs[0].Route)

	srv.Close()
	_, err = net.Dial("tcp", l.Addr().String())
	assert.Error(t, err, "Close closes the listener it was given")
}
