package flipkyc

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ErrMalformedCallback is matched by the *CallbackError of a callback whose
// body did not arrive whole: larger than the limit, cut off, or not received
// within the read timeout. A callback that arrived whole with the right
// token is never refused for its content type or its data.
var ErrMalformedCallback = errors.New("flipkyc: malformed callback")

// CallbackError reports a callback that was refused by CallbackParser.Parse
// or ParseValues; NewCallbackHandler answers with its Status. errors.Is
// matches it with ErrInvalidToken or ErrMalformedCallback.
type CallbackError struct {
	// Status is the HTTP status a receiver should answer with: 401 (no
	// token), 403 (wrong token), 413 (body too large), 408 (body not
	// received in time) or 400 (body unreadable).
	Status int
	// Reason says why, such as "wrong token"; it never quotes the token.
	Reason string
	// Err is ErrInvalidToken or ErrMalformedCallback.
	Err error
}

// Error returns the sentinel's text and the reason.
func (e *CallbackError) Error() string { return e.Err.Error() + ": " + e.Reason }

// Unwrap returns ErrInvalidToken or ErrMalformedCallback.
func (e *CallbackError) Unwrap() error { return e.Err }

// DefaultCallbackMaxBytes is the largest callback body accepted by default,
// 64 KiB; Flip's callbacks are well under 1 KiB. See WithCallbackMaxBytes.
const DefaultCallbackMaxBytes = 64 << 10

// DefaultCallbackReadTimeout bounds the time the callback handler waits for
// a body by default; Flip sends well under 1 KiB at once. See
// WithCallbackReadTimeout.
const DefaultCallbackReadTimeout = 10 * time.Second

// CallbackParser checks and decodes Flip's KYC callbacks, for a receiver
// that runs its own http.Handler; NewCallbackHandler builds a complete one.
// It holds only a hash of the expected token, and is safe for concurrent
// use.
type CallbackParser struct {
	tokenHash [sha256.Size]byte
	maxBytes  int64
}

// NewCallbackParser returns a parser that accepts callbacks carrying token,
// the validation token from Flip's dashboard. Surrounding white space is
// trimmed from it, as from the token a callback carries (a secret read from
// a file often ends in a newline). An empty token is an error: the parser
// never accepts callbacks unchecked. Of opts, it takes WithCallbackMaxBytes.
func NewCallbackParser(token string, opts ...CallbackOption) (*CallbackParser, error) {
	token = strings.Trim(token, tokenSpace)
	if token == "" {
		return nil, errors.New("flipkyc: callback token is empty; set it to the validation token from Flip's dashboard")
	}
	cfg, err := newCallbackConfig(opts)
	if err != nil {
		return nil, fmt.Errorf("flipkyc: callback options: %w", err)
	}
	return &CallbackParser{tokenHash: sha256.Sum256([]byte(token)), maxBytes: cfg.maxBytes}, nil
}

// Format prints the parser's size limit without its token hash, the same
// under every verb.
func (p CallbackParser) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "flipkyc.CallbackParser{token: %s, maxBytes: %d}", redacted, p.maxBytes)
}

// Parse reads a callback request's body, of at most the parser's limit
// (DefaultCallbackMaxBytes unless WithCallbackMaxBytes said otherwise), and
// takes the fields token and data from it, whatever the method and the
// Content-Type. The query string is never read. A leading UTF-8 byte order
// mark is dropped, and the body is read, by the first of these that finds a
// token field, as:
//
//   - multipart: recognised by its content, a first line "--" and a
//     boundary (after any blank lines) followed by part headers, and read
//     with that boundary whatever the Content-Type says; the Content-Type's
//     boundary is tried too (for a body with a preamble). A body that is
//     both multipart and a valid form is read as multipart.
//   - JSON: an object, possibly in white space, with token and data keys in
//     any case; only the first JSON value is read, what follows it is
//     ignored. data may be a string (its content is kept) or any value (its
//     text is kept).
//   - form-encoded, read leniently: pairs split on '&', a bad escape kept
//     as sent.
//
// It checks the token before it decodes anything: each token sent is
// compared with surrounding white space (spaces, tabs, CR, LF) trimmed, and
// empty copies are ignored; every non-empty copy must be right.
//
// Parse fails, with a *CallbackError, only when the token is missing (401) or
// wrong (403), or when the body is larger than the limit (413) or could not
// be read (400; 408 when a read deadline passed). With the right token it
// returns the event and a nil error even when the data is missing or
// malformed: the event's Problems say what could not be decoded and Raw
// keeps the data as received. Parse does not bound the time the read takes;
// NewCallbackHandler does, and a server's ReadTimeout does.
func (p *CallbackParser) Parse(r *http.Request) (Event, error) {
	body, err := p.readBody(r)
	if err != nil {
		return Event{}, err
	}
	return p.parseBody(r.Header.Get("Content-Type"), body)
}

// ParseValues checks and decodes a callback's form values (the fields data
// and token), as Parse does, for a receiver that has parsed the form itself:
// it fails, with a *CallbackError, only for a missing or wrong token. Every
// token given must be right; of several data values the first is used.
func (p *CallbackParser) ParseValues(form url.Values) (Event, error) {
	if err := p.checkToken(form["token"]); err != nil {
		return Event{}, err
	}
	return eventFromData(form["data"]), nil
}

// tokenSpace is the white space trimmed from both ends of a token, sent or
// configured: a form body ending in "\r\n" appends it to its last value, and
// Flip's tokens contain none.
const tokenSpace = " \t\r\n"

// checkToken accepts tokens when at least one is non-empty and every
// non-empty one is right, each compared with surrounding white space
// trimmed. Empty copies are ignored (a stray "&token=" does not refuse a
// callback that carries the right token); a wrong non-empty copy refuses it.
// Comparing fixed-size hashes takes the same time whatever the length or
// content of the token sent.
func (p *CallbackParser) checkToken(tokens []string) error {
	present, ok := false, 1
	for _, t := range tokens {
		t = strings.Trim(t, tokenSpace)
		if t == "" {
			continue
		}
		present = true
		got := sha256.Sum256([]byte(t))
		ok &= subtle.ConstantTimeCompare(got[:], p.tokenHash[:])
	}
	if !present {
		return &CallbackError{Status: http.StatusUnauthorized, Reason: "no token", Err: ErrInvalidToken}
	}
	if ok != 1 {
		return &CallbackError{Status: http.StatusForbidden, Reason: "wrong token", Err: ErrInvalidToken}
	}
	return nil
}
