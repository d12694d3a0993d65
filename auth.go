package flipkyc

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync/atomic"

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
}

func newSecretKey(value string) *secretKey {
	k := &secretKey{value: value}
	k.header = []string{k.basicAuth()}
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

// redact replaces the key, and its Basic-auth encoding, wherever a reply
// echoes them, before the reply's text goes into an error.
func (k *secretKey) redact(b []byte) []byte {
	for _, secret := range []string{k.value, strings.TrimPrefix(k.header[0], "Basic ")} {
		if bytes.Contains(b, []byte(secret)) {
			b = bytes.ReplaceAll(b, []byte(secret), []byte(redacted))
		}
	}
	return b
}

type requestIDKey struct{}

// WithRequestID returns a context that makes the call made with it send id as
// its Request-ID header, for every attempt of that call, instead of a new
// "bigflip-<uuid>". id must have that form.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// newRequestID returns a Request-ID in the form Flip documents.
func newRequestID() string { return "bigflip-" + uuid.NewString() }

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

// callState is what the attempts of one call share: its Request-ID, and
// whether the current attempt has written its headers. do puts it in the
// request's context.
type callState struct {
	requestID []string // {"bigflip-<uuid>"}
	wrote     atomic.Bool
	trace     httptrace.ClientTrace
}

type callStateKey struct{}

func (st *callState) headersWritten() { st.wrote.Store(true) }

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

// redactErr returns err, or a plain error with the key redacted when err's
// text quotes it (a decoder quoting a field of a hostile reply).
func (k *secretKey) redactErr(err error) error {
	msg := err.Error()
	if clean := string(k.redact([]byte(msg))); clean != msg {
		return errors.New(clean)
	}
	return err
}
