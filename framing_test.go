package flipkyc

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// agentBody is a get-agent reply body for the agent id.
func agentBody(id int) string {
	return fmt.Sprintf(`{"id":%d,"company_id":1,"name":"John Doe","identity_type":"ktp","identity_number":"1234567890123456",`+
		`"phone_number":"+628123456789","kyc_status":"APPROVED","status":"ACTIVE","created_at":"2022-01-01 13:00:00"}`, id)
}

// smuggledID is the agent id of the reply a misframed answer hides.
const smuggledID = 666

// withLength is a reply for agent 1 framed by Content-Length.
func withLength(body string) string {
	return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

// chunked is a reply framed in two chunks, with a trailer.
func chunked(body string) string {
	half := len(body) / 2
	return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
		strconv.FormatInt(int64(half), 16) + ";ext=1\r\n" + body[:half] + "\r\n" +
		strconv.FormatInt(int64(len(body)-half), 16) + "\r\n" + body[half:] + "\r\n0\r\nX-Trailer: t\r\n\r\n"
}

// rawServer answers every request of each connection with answer(), written
// in one piece, on a plain or TLS loopback listener, and counts connections.
func rawServer(t *testing.T, tlsConfig *tls.Config, answer string) (addr string, conns *atomic.Int64) {
	t.Helper()
	var ln net.Listener
	var err error
	if tlsConfig != nil {
		ln, err = tls.Listen("tcp", "127.0.0.1:0", tlsConfig)
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	require.NoError(t, err)
	conns = new(atomic.Int64)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer conn.Close()
				br := bufio.NewReader(conn)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					if _, err := conn.Write([]byte(answer)); err != nil {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() { _ = ln.Close() })
	return ln.Addr().String(), conns
}

// framingCases are replies whose framing hides a second reply, and replies
// framed right.
var framingCases = []struct {
	name     string
	answer   string
	smuggles bool // the answer carries bytes past its framing
}{
	{"Content-Length shorter than the bytes sent", withLength(agentBody(1)) + withLength(agentBody(smuggledID)), true},
	{"chunked, with a reply after the last chunk", chunked(agentBody(1)) + withLength(agentBody(smuggledID)), true},
	{"an informational 100 first, then a short Content-Length",
		"HTTP/1.1 100 Continue\r\n\r\n" + withLength(agentBody(1)) + withLength(agentBody(smuggledID)), true},
	{"Content-Length shorter, with stray bytes", withLength(agentBody(1)) + "garbage\r\n", true},
	{"Content-Length, framed right", withLength(agentBody(1)), false},
	{"chunked, framed right", chunked(agentBody(1)), false},
	{"an informational 100 first, framed right", "HTTP/1.1 100 Continue\r\n\r\n" + withLength(agentBody(1)), false},
}

// TestMisframedReplyIsNotReadAsTheNextOne calls GetAgent twice, 200 times,
// through the SDK's default transport against a loopback server whose
// replies carry bytes past their framing (a Content-Length shorter than what
// it sends, a reply after the last chunk): no call ever returns the hidden
// agent, and every call returns the agent asked for. Replies framed right
// keep their connection for the next call.
func TestMisframedReplyIsNotReadAsTheNextOne(t *testing.T) {
	const rounds = 200
	for _, tt := range framingCases {
		t.Run(tt.name, func(t *testing.T) {
			addr, conns := rawServer(t, nil, tt.answer)
			url := "http://" + addr
			c, _ := newTestClient(t, url, url)
			for range rounds {
				for call := range 2 {
					a, err := c.GetAgent(context.Background(), 1)
					require.NoError(t, err, "call %d", call+1)
					require.Equal(t, int64(1), a.ID, "call %d returned the agent hidden in the last reply", call+1)
				}
			}
			if !tt.smuggles {
				assert.Equal(t, int64(1), conns.Load(), "a reply framed right lost its connection")
			}
		})
	}
}

// TestMisframedReplyOverTLS runs the same through the SDK's transport over
// TLS (HTTP/1.1, as a server without HTTP/2 negotiates).
func TestMisframedReplyOverTLS(t *testing.T) {
	cert := httptest.NewTLSServer(http.NotFoundHandler())
	defer cert.Close()
	roots := x509.NewCertPool()
	roots.AddCert(cert.Certificate())
	for _, tt := range framingCases {
		t.Run(tt.name, func(t *testing.T) {
			addr, conns := rawServer(t, &tls.Config{Certificates: cert.TLS.Certificates, NextProtos: []string{"http/1.1"}}, tt.answer)
			url := "https://" + addr
			hc := &http.Client{Transport: newFramingTransport(&tls.Config{RootCAs: roots})}
			c, _ := newTestClient(t, url, url, WithHTTPClient(hc))
			for range 50 {
				for call := range 2 {
					a, err := c.GetAgent(context.Background(), 1)
					require.NoError(t, err, "call %d", call+1)
					require.Equal(t, int64(1), a.ID, "call %d returned the agent hidden in the last reply", call+1)
				}
			}
			if !tt.smuggles {
				assert.Equal(t, int64(1), conns.Load(), "a reply framed right lost its connection")
			}
		})
	}
}

// TestDefaultTransportIsTheFramingOne: a client built without an
// *http.Client, or with one whose Transport is nil, sends through the SDK's
// framing-checked transport while http.DefaultTransport is net/http's own.
func TestDefaultTransportIsTheFramingOne(t *testing.T) {
	assert.Same(t, sdkTransport, defaultTransport())
}

// TestFramedConnFollowsRepliesInPieces feeds each reply to one request in
// pieces of every size: a reply framed right is taken whole, and the bytes
// past a misframed one are refused from the first of them, whatever the
// piece they arrive in.
func TestFramedConnFollowsRepliesInPieces(t *testing.T) {
	cases := append([]struct {
		name     string
		answer   string
		smuggles bool
	}{
		{"204 with stray bytes", "HTTP/1.1 204 No Content\r\n\r\n" + "HTTP/1.1 200 OK\r\n", true},
		{"304, framed right", "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", false},
		{"bare LF line ends, framed right", "HTTP/1.1 200 OK\nContent-Length: 2\n\n{}", false},
		{"bare LF line ends, stray bytes", "HTTP/1.1 200 OK\nContent-Length: 2\n\n{}x", true},
	}, framingCases...)
	for _, tt := range cases {
		for _, piece := range []int{1, 2, 7, 100, 1 << 16} {
			t.Run(fmt.Sprintf("%s/%d", tt.name, piece), func(t *testing.T) {
				c := &framedConn{requests: 1, heads: []bool{false}}
				b := []byte(tt.answer)
				kept := 0
				for i := 0; i < len(b); i += piece {
					chunk := b[i:min(i+piece, len(b))]
					k := c.follow(chunk)
					kept += k
					if k < len(chunk) {
						break
					}
				}
				assert.False(t, c.off, "the checking ended")
				assert.Equal(t, 1, c.replies, "the reply did not end where its framing says")
				if tt.smuggles {
					assert.Less(t, kept, len(b), "bytes past the reply were taken")
					assert.NotContains(t, tt.answer[:kept], strconv.Itoa(smuggledID))
				} else {
					assert.Equal(t, len(b), kept)
				}
			})
		}
	}
	t.Run("a reply to HEAD has no body", func(t *testing.T) {
		c := &framedConn{requests: 1, heads: []bool{true}}
		head := "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n"
		assert.Equal(t, len(head), c.follow([]byte(head+"x")))
	})
}

// TestFramingTransportKeepsHTTP2: where the server offers HTTP/2 (which
// frames every reply itself), the SDK's transport speaks it, unchecked.
func TestFramingTransportKeepsHTTP2(t *testing.T) {
	var proto atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proto.Store(int64(r.ProtoMajor))
		_, _ = io.WriteString(w, agentBody(1))
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	c, _ := newTestClient(t, srv.URL, srv.URL, WithHTTPClient(&http.Client{Transport: newFramingTransport(&tls.Config{RootCAs: roots})}))
	a, err := c.GetAgent(context.Background(), 1)
	require.NoError(t, err)
	assert.Equal(t, int64(1), a.ID)
	assert.Equal(t, int64(2), proto.Load())
}

// TestBytesWaitingBeforeTheNextRequestBreakTheConnection reads a reply
// exactly to its end, lets stray bytes reach the socket unread (net/http's
// read loop has not looked yet), and starts the next request: the write is
// refused and the connection closed, so the stray bytes cannot become its
// reply.
func TestBytesWaitingBeforeTheNextRequestBreakTheConnection(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("no way to see unread bytes on this system")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	reply := withLength(agentBody(1))
	stray := make(chan struct{})
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = http.ReadRequest(bufio.NewReader(conn))
		_, _ = io.WriteString(conn, reply)
		<-stray
		_, _ = io.WriteString(conn, withLength(agentBody(smuggledID)))
		_, _ = io.Copy(io.Discard, conn)
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	c := &framedConn{Conn: raw}
	_, err = io.WriteString(c, "GET /agents/1 HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	got := make([]byte, len(reply))
	_, err = io.ReadFull(c, got)
	require.NoError(t, err)
	require.Equal(t, reply, string(got))

	close(stray)
	for !pending(raw) {
		runtime.Gosched() // until the stray bytes are in the socket
	}
	_, err = io.WriteString(c, "GET /agents/1 HTTP/1.1\r\nHost: x\r\n\r\n")
	require.ErrorIs(t, err, errUnsolicited)
	_, err = c.Read(make([]byte, 10))
	require.ErrorIs(t, err, errUnsolicited)
}

// TestDefaultTransportConfiguredInPlaceIsFollowed configures net/http's
// DefaultTransport in place, as programs do (a proxy, a dialer, a TLS root
// of their own, set after the SDK's package was initialised): a client
// given no Transport sends as that configuration says, through the SDK's
// framing-checked transport.
func TestDefaultTransportConfiguredInPlaceIsFollowed(t *testing.T) {
	base := http.DefaultTransport.(*http.Transport)
	answer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, agentBody(1))
	})
	rows := []struct {
		name      string
		tls       bool
		configure func(t *testing.T, target *httptest.Server, used *atomic.Int64) (undo func())
	}{
		{"Proxy", false, func(t *testing.T, _ *httptest.Server, used *atomic.Int64) func() {
			forward := &http.Transport{}
			proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				used.Add(1)
				out, err := http.NewRequest(r.Method, r.URL.String(), r.Body)
				require.NoError(t, err)
				out.Header = r.Header.Clone()
				resp, err := forward.RoundTrip(out)
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadGateway)
					return
				}
				defer resp.Body.Close()
				w.WriteHeader(resp.StatusCode)
				_, _ = io.Copy(w, resp.Body)
			}))
			t.Cleanup(proxy.Close)
			proxyURL, err := url.Parse(proxy.URL)
			require.NoError(t, err)
			old := base.Proxy
			base.Proxy = http.ProxyURL(proxyURL)
			return func() { base.Proxy = old }
		}},
		{"DialContext", false, func(t *testing.T, _ *httptest.Server, used *atomic.Int64) func() {
			old := base.DialContext
			base.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				used.Add(1)
				return (&net.Dialer{}).DialContext(ctx, network, addr)
			}
			return func() { base.DialContext = old }
		}},
		{"TLSClientConfig", true, func(t *testing.T, target *httptest.Server, used *atomic.Int64) func() {
			roots := x509.NewCertPool()
			roots.AddCert(target.Certificate())
			old := base.TLSClientConfig
			base.TLSClientConfig = &tls.Config{RootCAs: roots, VerifyConnection: func(tls.ConnectionState) error {
				used.Add(1)
				return nil
			}}
			return func() { base.TLSClientConfig = old }
		}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			target := httptest.NewUnstartedServer(answer)
			if row.tls {
				target.StartTLS()
			} else {
				target.Start()
			}
			defer target.Close()
			var used atomic.Int64
			undo := row.configure(t, target, &used)
			defer undo()
			c, _ := newTestClient(t, target.URL, target.URL)
			_, err := c.GetAgent(context.Background(), 1)
			require.NoError(t, err)
			assert.Positive(t, used.Load(), "the configuration of http.DefaultTransport was not used")
			assert.Same(t, sdkTransport, defaultTransport(), "still the framing-checked transport")
		})
	}
}
