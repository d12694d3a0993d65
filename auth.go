package flipkyc

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"strings"

	"github.com/google/uuid"

	"github.com/flipkyc/flipkyc/internal/redact"
	"github.com/flipkyc/flipkyc/internal/sent"
)

// Version is the SDK's version, sent in the User-Agent header.
const Version = "0.1.0"

// redacted stands in for secrets wherever a value is printed.
const redacted = redact.Redacted

// secretKey holds Flip's API secret key and the Authorization header made from
// it. It prints as [redacted] under every fmt verb, so a stray %v or %#v of a
// struct holding it leaks nothing.
type secretKey struct {
	value  string
	header []string // {"Basic base64(value:)"}, shared by every request
	// forms removes the key, its Basic-auth form and their base64 forms
	// from texts taken from replies.
	forms *redact.Secret
}

func newSecretKey(value string) *secretKey {
	k := &secretKey{value: value, forms: redact.NewSecret(value+":", value)}
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

// clean returns a text taken from a reply, unescaped, with the key
// redacted and personal data masked, known being the call's own personal
// input.
func (k *secretKey) clean(s string, known []string) string {
	return flipPersonal.Text(k.forms.Scrub(redact.Unescape(s)), known)
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
// hands it to the caller's *http.Client's Transport as it is at call time (or,
// when that is nil, the SDK's own transport, or http.DefaultTransport once a
// program or httpmock has replaced it). Reading the Transport at each call,
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
// whole request. It is also the call's context: the caller's, with itself
// as the value of callStateKey (as context.WithValue would add it, without
// an allocation of its own).
type callState struct {
	context.Context          // the caller's
	op              string   // the method called, such as "GetAgent"
	requestID       []string // {"bigflip-<uuid>"}, backed by id
	id              [1]string
	attempt         int           // the attempt under way, from 1
	sent            sent.Evidence // what the attempt under way has written
	trace           httptrace.ClientTrace
}

type callStateKey struct{}

// Value returns st for callStateKey and the caller's context's value for
// any other key.
func (st *callState) Value(key any) any {
	if _, ok := key.(callStateKey); ok {
		return st
	}
	return st.Context.Value(key)
}

// mayHaveSent reports whether an attempt that failed with err may have
// written its whole request: never when err is ErrNotSent, else as the
// attempt's trace tells.
func (st *callState) mayHaveSent(err error) bool {
	return !errors.Is(err, ErrNotSent) && st.sent.MayHaveSent(err)
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
		next = defaultTransport()
	}
	return next.RoundTrip(out)
}
