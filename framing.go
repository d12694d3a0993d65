package flipkyc

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// A reply whose framing (Content-Length, or the last chunk) ends before the
// bytes the server sent leaves the rest on the connection, and net/http reads
// that rest as the reply to the next request it sends there: it drops such a
// connection only when the stray bytes are noticed while it is idle, which
// races with the next request. The SDK's own transport therefore follows the
// framing of every HTTP/1.1 reply on its connections, and breaks a connection
// the moment a byte arrives that answers no request sent: that byte is never
// handed to net/http, and the connection fails every later read and write,
// so no request is answered from it again. Before it writes a request on a
// reused connection it also looks for bytes waiting unread in the socket
// (where the system lets it: not on Windows), which net/http's read loop may
// not have seen yet. Bytes that a server sends only after the next request
// went out cannot be told from the reply to it, by this or any client.

// errUnsolicited fails the reads and writes of a connection that received
// bytes answering no request.
var errUnsolicited = errors.New("flipkyc: the server sent bytes past the end of its reply; connection dropped")

// netHTTPDefault is net/http's own DefaultTransport, as the program started
// with it.
var netHTTPDefault = http.DefaultTransport

// sdkTransport is the transport of clients given no Transport, while
// http.DefaultTransport is net/http's own: a copy of it (same proxy, limits
// and timeouts) whose HTTP/1.1 connections are checked for replies that
// overrun their framing.
var sdkTransport = newFramingTransport(nil)

// defaultTransport returns the transport for a client given no Transport:
// the SDK's own, or http.DefaultTransport when a program (or httpmock) has
// replaced it.
func defaultTransport() http.RoundTripper {
	if http.DefaultTransport != netHTTPDefault {
		return http.DefaultTransport
	}
	return sdkTransport
}

// newFramingTransport returns a copy of net/http's DefaultTransport whose
// HTTP/1.1 connections, plain or TLS (verified with tlsConfig, or when nil
// with DefaultTransport's TLSClientConfig as it is at each dial), break
// when a reply overruns its framing. Its proxy and dialer are
// DefaultTransport's as they are at each request. HTTP/2, which
// frames every reply itself, is used as is where the server offers it. TLS
// through a proxy is set up by net/http over a checked connection to the
// proxy, which then stops checking.
func newFramingTransport(tlsConfig *tls.Config) *http.Transport {
	base, ok := netHTTPDefault.(*http.Transport)
	if !ok {
		base = &http.Transport{}
	}
	t := base.Clone()
	// The proxy, the dialer and the TLS configuration are read from base at
	// each use, so a program that configures net/http's DefaultTransport in
	// place (after this package was initialised) is followed.
	t.Proxy = func(r *http.Request) (*url.URL, error) {
		if base.Proxy == nil {
			return nil, nil
		}
		return base.Proxy(r)
	}
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if base.DialContext != nil {
			return base.DialContext(ctx, network, addr)
		}
		return dialer.DialContext(ctx, network, addr)
	}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &framedConn{Conn: conn}, nil
	}
	handshake := t.TLSHandshakeTimeout
	t.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		raw, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		cfg := &tls.Config{}
		switch {
		case tlsConfig != nil:
			cfg = tlsConfig.Clone()
		case base.TLSClientConfig != nil:
			cfg = base.TLSClientConfig.Clone()
		}
		if cfg.ServerName == "" {
			if cfg.ServerName, _, err = net.SplitHostPort(addr); err != nil {
				raw.Close()
				return nil, err
			}
		}
		cfg.NextProtos = []string{"h2", "http/1.1"}
		tc := tls.Client(raw, cfg)
		hctx, cancel := ctx, context.CancelFunc(func() {})
		if handshake > 0 {
			hctx, cancel = context.WithTimeout(ctx, handshake)
		}
		defer cancel()
		if err := tc.HandshakeContext(hctx); err != nil {
			raw.Close()
			return nil, err
		}
		if tc.ConnectionState().NegotiatedProtocol == "h2" {
			return tc, nil
		}
		return &framedConn{Conn: tc}, nil
	}
	return t
}

// framedConn is an HTTP/1.1 client connection that follows the framing of
// the replies it reads: the status line and headers, then a body sized by
// Content-Length or by chunks (with trailers), none for 1xx, 204, 304 and
// replies to HEAD. A request starts with the first write after the previous
// reply ended. A byte read while every request sent has its whole reply, or
// waiting in the socket when a request starts on a reused connection, breaks
// the connection (see errUnsolicited). A reply it cannot follow (no
// length, a malformed head: net/http reads the first to the end of the
// connection and fails on the second, so neither connection is reused), a
// CONNECT or a protocol switch ends the checking.
type framedConn struct {
	net.Conn

	mu        sync.Mutex
	broken    bool
	off       bool   // checking ended
	requests  int    // requests started
	replies   int    // final replies ended
	heads     []bool // for each request without its reply: whether it is a HEAD
	state     frameState
	head      []byte // the reply's status line and headers so far
	remaining int64  // bytes left of the body or the chunk
	line      []byte // a chunk-size or trailer line so far
}

type frameState int

const (
	frameIdle      frameState = iota // between replies
	frameHead                        // reading the status line and headers
	frameBody                        // reading remaining bytes of a Content-Length body
	frameChunkSize                   // reading a chunk-size line
	frameChunkData                   // reading remaining bytes of a chunk
	frameChunkEnd                    // reading the CRLF after a chunk
	frameTrailer                     // reading trailer lines up to an empty one
)

// maxFrameHead bounds the reply head the conn keeps; a longer one ends the
// checking (net/http's own limit, 1 MB by default, then decides).
const maxFrameHead = 64 << 10

func (c *framedConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.broken {
		c.mu.Unlock()
		return 0, errUnsolicited
	}
	if !c.off && c.requests == c.replies && c.state == frameIdle {
		if c.requests > 0 && pending(c.raw()) {
			c.broken = true
			c.mu.Unlock()
			_ = c.Conn.Close()
			return 0, errUnsolicited
		}
		c.requests++
		c.heads = append(c.heads, bytes.HasPrefix(p, []byte("HEAD ")))
		if bytes.HasPrefix(p, []byte("CONNECT ")) {
			c.off = true
		}
	}
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *framedConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	broken := c.broken
	c.mu.Unlock()
	if broken {
		return 0, errUnsolicited
	}
	n, err := c.Conn.Read(p)
	if n == 0 {
		return n, err
	}
	c.mu.Lock()
	keep := c.follow(p[:n])
	if keep < n {
		c.broken = true
	}
	c.mu.Unlock()
	if keep < n {
		_ = c.Conn.Close()
		if keep == 0 {
			return 0, errUnsolicited
		}
		return keep, nil
	}
	return n, err
}

// follow advances the framing over b and returns how many of its bytes
// belong to replies of requests sent; fewer than len(b) when the rest
// answers none.
func (c *framedConn) follow(b []byte) int {
	i := 0
	for i < len(b) && !c.off {
		switch c.state {
		case frameIdle:
			if c.replies >= c.requests {
				return i
			}
			c.state, c.head = frameHead, c.head[:0]
		case frameHead:
			j := bytes.IndexByte(b[i:], '\n')
			if j < 0 {
				c.head = append(c.head, b[i:]...)
				i = len(b)
			} else {
				c.head = append(c.head, b[i:i+j+1]...)
				i += j + 1
				if bytes.HasSuffix(c.head, []byte("\n\n")) || bytes.HasSuffix(c.head, []byte("\n\r\n")) {
					c.startBody()
				}
			}
			if len(c.head) > maxFrameHead {
				c.off = true
			}
		case frameBody, frameChunkData:
			take := min(int64(len(b)-i), c.remaining)
			i += int(take)
			c.remaining -= take
			if c.remaining == 0 {
				if c.state == frameBody {
					c.replyEnded()
				} else {
					c.state, c.line = frameChunkEnd, c.line[:0]
				}
			}
		case frameChunkSize, frameChunkEnd, frameTrailer:
			j := bytes.IndexByte(b[i:], '\n')
			if j < 0 {
				c.line = append(c.line, b[i:]...)
				i = len(b)
			} else {
				c.line = append(c.line, b[i:i+j+1]...)
				i += j + 1
				c.endLine()
			}
			if len(c.line) > maxFrameHead {
				c.off = true
			}
		}
	}
	return len(b)
}

// startBody reads the reply head just completed and sets how its body is
// framed. It reads the head where it lies, without copies.
func (c *framedConn) startBody() {
	status, lines, _ := bytes.Cut(bytes.TrimRight(c.head, "\r\n"), []byte("\n"))
	proto, rest := nextField(status)
	codeText, _ := nextField(rest)
	if len(codeText) == 0 || !bytes.HasPrefix(proto, []byte("HTTP/1.")) {
		c.off = true
		return
	}
	code, err := strconv.Atoi(string(codeText))
	if err != nil || code < 100 || code > 999 {
		c.off = true
		return
	}
	if code == http.StatusSwitchingProtocols {
		c.off = true
		return
	}
	if code < 200 {
		c.state = frameIdle // an informational reply: the final one follows
		return
	}
	length, lengths, isChunked := int64(-1), 0, false
	for len(lines) > 0 {
		var l []byte
		l, lines, _ = bytes.Cut(lines, []byte("\n"))
		name, value, ok := bytes.Cut(l, []byte(":"))
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch name = bytes.TrimSpace(name); {
		case lowerIs(name, "content-length"):
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || n < 0 || (lengths > 0 && n != length) {
				c.off = true
				return
			}
			length, lengths = n, lengths+1
		case lowerIs(name, "transfer-encoding"):
			isChunked = isChunked || lowerContains(value, "chunked")
		}
	}
	head := len(c.heads) > 0 && c.heads[0]
	switch {
	case head || code == http.StatusNoContent || code == http.StatusNotModified:
		c.replyEnded()
	case isChunked:
		c.state, c.line = frameChunkSize, c.line[:0]
	case length == 0:
		c.replyEnded()
	case length > 0:
		c.state, c.remaining = frameBody, length
	default:
		c.off = true // read to the end of the connection, which is then not reused
	}
}

// endLine handles a whole line of a chunked body.
func (c *framedConn) endLine() {
	text := bytes.TrimRight(c.line, "\r\n") // read before the next line overwrites it
	c.line = c.line[:0]
	switch c.state {
	case frameChunkEnd:
		if len(text) != 0 {
			c.off = true
			return
		}
		c.state = frameChunkSize
	case frameChunkSize:
		size, _, _ := bytes.Cut(text, []byte(";"))
		n, err := strconv.ParseInt(string(bytes.TrimSpace(size)), 16, 64)
		switch {
		case err != nil || n < 0:
			c.off = true
		case n == 0:
			c.state = frameTrailer
		default:
			c.state, c.remaining = frameChunkData, n
		}
	case frameTrailer:
		if len(text) == 0 {
			c.replyEnded()
		}
	}
}

// nextField returns the first field of b, as strings.Fields splits, and
// what follows it.
func nextField(b []byte) (field, rest []byte) {
	b = bytes.TrimLeftFunc(b, unicode.IsSpace)
	end := bytes.IndexFunc(b, unicode.IsSpace)
	if end < 0 {
		return b, nil
	}
	return b[:end], b[end:]
}

// lowerIs reports whether strings.ToLower(string(b)) is want, an ASCII
// lower-case text, without the copy when b is ASCII.
func lowerIs(b []byte, want string) bool {
	if !isASCII(b) {
		return strings.ToLower(string(b)) == want
	}
	return len(b) == len(want) && bytes.EqualFold(b, []byte(want))
}

// lowerContains reports whether strings.ToLower(string(b)) contains want,
// an ASCII lower-case text, without the copy when b is ASCII.
func lowerContains(b []byte, want string) bool {
	if !isASCII(b) {
		return strings.Contains(strings.ToLower(string(b)), want)
	}
	for i := 0; i+len(want) <= len(b); i++ {
		if bytes.EqualFold(b[i:i+len(want)], []byte(want)) {
			return true
		}
	}
	return false
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// raw returns the network connection under c: the TCP one under TLS.
func (c *framedConn) raw() net.Conn {
	if tc, ok := c.Conn.(*tls.Conn); ok {
		return tc.NetConn()
	}
	return c.Conn
}

// replyEnded records that a final reply ended.
func (c *framedConn) replyEnded() {
	c.state = frameIdle
	c.replies++
	if len(c.heads) > 0 {
		c.heads = c.heads[1:]
	}
}
