package flipkyc

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptrace"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Version is the SDK's version, sent in the User-Agent header.
const Version = "0.1.0"

// redacted stands in for secrets wherever a value is printed.
const redacted = "[redacted]"

// secretKey holds Flip's API secret key and the Authorization header made from
// it. It prints as [redacted] under every fmt verb, so a stray %v or %#v of a
// struct holding it leaks nothing.
type secretKey struct {
	value  string
	header []string // {"Basic base64(value:)"}, shared by every request
	// leaks are the texts that give the key away, longest first: the key,
	// and the base64 of the key and of its Basic-auth form, standard and
	// URL-safe, padded and not.
	leaks []string
}

func newSecretKey(value string) *secretKey {
	k := &secretKey{value: value}
	k.header = []string{k.basicAuth()}
	seen := map[string]bool{}
	for _, plain := range []string{value + ":", value} {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			padded := enc.EncodeToString([]byte(plain))
			for _, form := range []string{padded, strings.TrimRight(padded, "=")} {
				if !seen[form] {
					seen[form] = true
					k.leaks = append(k.leaks, form)
				}
			}
		}
	}
	k.leaks = append(k.leaks, value)
	slices.SortStableFunc(k.leaks, func(a, b string) int { return len(b) - len(a) })
	return k
}

func (secretKey) String() string                { return redacted }
func (secretKey) GoString() string              { return redacted }
func (secretKey) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(redacted)) }

// basicAuth returns the Authorization header value for the key: Basic auth
// with the key as user name and an empty password.
func (k secretKey) basicAuth() string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(k.value+":"))
}

// scrub returns s with every occurrence of the key, of its Basic-auth
// encoding and of their other base64 forms replaced by [redacted], also where
// s writes them escaped (JSON \u0041 or \x41, \/ as PHP's json_encode writes,
// percent-encoding, HTML character references) or wrapped over lines. Such
// text is returned unescaped.
func (k *secretKey) scrub(s string) string {
	if !k.in(s) {
		u := unescapeAll(s)
		if !k.in(u) {
			// Base64 wrapped over lines, as MIME writes it.
			if u = strings.Join(strings.Fields(u), ""); !k.in(u) {
				return s
			}
		}
		s = u
	}
	for _, secret := range k.leaks {
		s = strings.ReplaceAll(s, secret, redacted)
	}
	return s
}

// clean returns a text taken from a reply, unescaped, with the key
// redacted and personal data masked, known being the call's own personal
// input.
func (k *secretKey) clean(s string, known []string) string {
	return maskText(k.scrub(unescapeAll(s)), known)
}

func (k *secretKey) in(s string) bool {
	for _, secret := range k.leaks {
		if strings.Contains(s, secret) {
			return true
		}
	}
	return false
}

// unescapeAll undoes, a few rounds deep, the escapes a reply may wrap around
// an echoed value: JSON string escapes, percent-encoding and HTML character
// references.
func unescapeAll(s string) string {
	for range 3 {
		u := html.UnescapeString(percentDecode(jsonUnescape(s)))
		if u == s {
			break
		}
		s = u
	}
	return s
}

// jsonUnescape decodes the backslash escapes of JSON strings wherever they
// appear in s, leaving anything else as it is.
func jsonUnescape(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch c := s[i+1]; c {
		case '"', '\\', '/':
			b.WriteByte(c)
			i++
		case 'b', 'f', 'n', 'r', 't':
			b.WriteByte(' ')
			i++
		case 'x':
			if i+3 < len(s) {
				if n, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
					b.WriteByte(byte(n))
					i += 3
					continue
				}
			}
			b.WriteByte(s[i])
		case 'u':
			r, n := decodeUEscape(s[i:])
			if n == 0 {
				b.WriteByte(s[i])
				continue
			}
			b.WriteRune(r)
			i += n - 1
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// decodeUEscape reads \uXXXX (and a following low surrogate) at the start of
// s, returning the rune and the bytes used, or 0 bytes when s does not start
// with one.
func decodeUEscape(s string) (rune, int) {
	hex4 := func(t string) (rune, bool) {
		if len(t) < 6 || t[0] != '\\' || t[1] != 'u' {
			return 0, false
		}
		n, err := strconv.ParseUint(t[2:6], 16, 16)
		return rune(n), err == nil
	}
	r, ok := hex4(s)
	if !ok {
		return 0, 0
	}
	if utf16.IsSurrogate(r) {
		if r2, ok := hex4(s[6:]); ok {
			if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
				return d, 12
			}
		}
	}
	return r, 6
}

// percentDecode decodes every valid %XX in s and leaves the rest, including
// a lone %, as it is.
func percentDecode(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(n))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// newRequestID returns a Request-ID in the form Flip documents.
func newRequestID() string {
	u := uuid.New()
	var b [8 + 36]byte
	copy(b[:], "bigflip-")
	hex.Encode(b[8:16], u[0:4])
	b[16] = '-'
	hex.Encode(b[17:21], u[4:6])
	b[21] = '-'
	hex.Encode(b[22:26], u[6:8])
	b[26] = '-'
	hex.Encode(b[27:31], u[8:10])
	b[31] = '-'
	hex.Encode(b[32:], u[10:])
	return string(b[:])
}

// checkRequestID reports whether id has the form "bigflip-<uuid>".
func checkRequestID(id string) error {
	rest, ok := strings.CutPrefix(id, "bigflip-")
	if !ok {
		return fmt.Errorf("must start with %q", "bigflip-")
	}
	if _, err := uuid.Parse(rest); err != nil || len(rest) != 36 {
		return fmt.Errorf("must be %q followed by a UUID", "bigflip-")
	}
	return nil
}

// authTransport is the middleware every request goes through: it adds Basic
// auth, the call's Request-ID and the User-Agent to a copy of the request and
// hands it to the caller's *http.Client's Transport as it is at call time (or
// http.DefaultTransport when that is nil). Reading the Transport at each call,
// rather than wrapping it once, keeps httpmock (activated before or after New),
// tracing transports and proxies working.
type authTransport struct {
	key       *secretKey // a pointer, so reflection-based printing shows an address
	userAgent []string   // {"flipkyc-go/<version> <suffix>"}
	base      *http.Client
}

// Format prints the transport without its key, under every verb.
func (t *authTransport) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "flipkyc.authTransport{key: %s, userAgent: %q}", redacted, t.userAgent[0])
}

// callState is what the attempts of one call share: its operation and
// Request-ID, the attempt under way, and whether that attempt has written its
// whole request. do puts it in the
// request's context.
type callState struct {
	op        string   // the method called, such as "GetAgent"
	requestID []string // {"bigflip-<uuid>"}, backed by id
	id        [1]string
	attempt   int // the attempt under way, from 1
	wrote     atomic.Bool
	trace     httptrace.ClientTrace
}

type callStateKey struct{}

// requestWritten records that the whole request reached the connection.
func (st *callState) requestWritten(info httptrace.WroteRequestInfo) {
	if info.Err == nil {
		st.wrote.Store(true)
	}
}

// RoundTrip adds the headers and sends the request through the base client's
// Transport. A request built by the SDK's own request path (it carries the
// call's state in its context, with the Request-ID) belongs to the SDK and
// gets the headers in place; any other request is copied first, as the
// http.RoundTripper contract asks. The Authorization and User-Agent values
// are built once per client.
func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req
	st, ours := req.Context().Value(callStateKey{}).(*callState)
	if !ours {
		out = new(http.Request)
		*out = *req
		out.Header = make(http.Header, len(req.Header)+2)
		for k, v := range req.Header {
			out.Header[k] = v
		}
	}
	out.Header["Authorization"] = t.key.header
	out.Header["User-Agent"] = t.userAgent
	if ours {
		out.Header["Request-Id"] = st.requestID
	}
	next := t.base.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(out)
}

// scrubHeader returns h, or a copy of it with the key redacted from the
// values that give it away (a server echoing the Authorization header).
func (k *secretKey) scrubHeader(h http.Header) http.Header {
	var out http.Header
	for name, values := range h {
		for i, v := range values {
			if clean := k.scrub(v); clean != v {
				if out == nil {
					out = h.Clone()
				}
				out[name][i] = clean
			}
		}
	}
	if out == nil {
		return h
	}
	return out
}

// scrubErr returns err, or, when err's text gives the key away (a
// transport quoting a hostile reply or header), an error with the key
// redacted that still matches what err matched with errors.Is.
func (k *secretKey) scrubErr(err error) error {
	msg := err.Error()
	if clean := k.scrub(msg); clean != msg {
		return &scrubbedError{msg: clean, err: err}
	}
	return err
}

// scrubbedError is an error whose text had the key removed. It does not
// unwrap, since the error under it would give the key back, but it answers
// errors.Is for it.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }

func (e *scrubbedError) Is(target error) bool { return errors.Is(e.err, target) }
