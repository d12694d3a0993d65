package flipkyctest

import (
	"net"
	"net/http"
	"net/http/httptest"
)

// WithListener makes the fake serve on l, which it then owns and closes in
// Close, instead of on a new loopback port: for a fake that runs on its own,
// at an address chosen in advance (the flipkyc command's "fake"). The
// server's URL is then "http://" and l's address.
func WithListener(l net.Listener) Option { return func(s *Server) { s.listener = l } }

// WithMiddleware wraps the fake's handler in mw, which sees every request
// before the fake does: to serve paths of its own beside Flip's (the flipkyc
// command's /_fake/ state endpoints), or to observe the traffic. Requests
// that mw answers itself are not recorded by the fake.
func WithMiddleware(mw func(http.Handler) http.Handler) Option {
	return func(s *Server) { s.middleware = mw }
}

// start starts the HTTP server of the fake, as its options say, and sets
// the Server's URLs before it serves, so that a handler reading them (an
// image URL) is ordered after the write even when the request comes from
// another process.
func (s *Server) start() *httptest.Server {
	h := s.routes()
	if s.middleware != nil {
		h = s.middleware(h)
	}
	srv := httptest.NewUnstartedServer(h)
	if s.listener != nil {
		_ = srv.Listener.Close()
		srv.Listener = s.listener
	}
	s.URL = "http://" + srv.Listener.Addr().String()
	s.AgentsURL = s.URL + AgentsPrefix
	s.KYCURL = s.URL + KYCPrefix
	srv.Start()
	return srv
}
