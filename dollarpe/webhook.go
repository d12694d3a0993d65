package dollarpe

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// EventType is the kind of a webhook event. Values DollarPe adds later are
// kept as they came.
type EventType string

// The documented event types; KYC results are EventCustomer.
const (
	EventPayin    EventType = "PAYIN"    // a pay-in
	EventPayout   EventType = "PAYOUT"   // a payout
	EventCustomer EventType = "CUSTOMER" // a customer's KYC result (event VERIFIED or FAILED)
	EventBank     EventType = "BANK"     // a bank account
	EventEDD      EventType = "EDD"      // enhanced due diligence
)

// Event is a webhook delivery from DollarPe. For a KYC result Type is
// CUSTOMER, ID the customer's id and Event VERIFIED or FAILED (with
// Metadata.FailureReason). It prints without the values of unknown fields,
// which may hold personal data.
type Event struct {
	// Type is the kind of event, such as CUSTOMER.
	Type EventType
	// ID is the id of the object the event is about (the customer's for
	// CUSTOMER events), as text even if it came as a number.
	ID string
	// Event is what happened, such as VERIFIED or FAILED.
	Event string
	// Timestamp is the event's time (ISO-8601, or Unix seconds, in the
	// body); zero when absent or unreadable, with the text in TimestampText.
	Timestamp time.Time
	// TimestampText is the timestamp as it came.
	TimestampText string
	// Metadata holds the event's details.
	Metadata Metadata
	// Extra holds the top-level fields this package does not know, as they
	// came.
	Extra map[string]json.RawMessage
	// Raw is the body as received (after a byte order mark).
	Raw json.RawMessage
}

// Metadata is an event's metadata object. It prints without the values of
// unknown fields, which may hold personal data.
type Metadata struct {
	// FailureReason is why KYC failed, for a FAILED customer event.
	FailureReason FailureReason
	// Extra holds the other metadata fields, as they came.
	Extra map[string]json.RawMessage
}

// Format prints the failure reason and the names (not values) of the
// other fields, which may hold personal data, under every verb.
func (m Metadata) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "dollarpe.Metadata{FailureReason: %s", m.FailureReason)
	if names := fieldNames(m.Extra); names != "" {
		fmt.Fprintf(f, ", other fields: %s", names)
	}
	_, _ = io.WriteString(f, "}")
}

// LogValue logs the metadata as Format prints it.
func (m Metadata) LogValue() slog.Value { return slog.StringValue(fmt.Sprint(m)) }

// Key returns a key to deduplicate deliveries: "id:event:digest", where
// digest is the hexadecimal SHA-256 of the body in its canonical form (see
// Canonicalize; of the body's bytes when it has none).
//
// DollarPe may deliver one event more than once, with the same body: every
// delivery of it gets the same key, whatever its spacing or key order. Two
// events differ in their body (timestamp, failure reason, metadata) and get
// different keys, even for one customer and one event name: FAILED for
// the document and then for the tax number, or VERIFIED, a reset and
// VERIFIED again. The id and event alone do not tell those apart, and a
// key of chosen fields would miss a field DollarPe adds later. Two events
// whose bodies are identical (same timestamp to the second) cannot be told
// from a redelivery by anyone and share a key.
func (e Event) Key() string {
	body := bytes.TrimPrefix(e.Raw, []byte("\xef\xbb\xbf"))
	if canon, err := Canonicalize(body); err == nil {
		body = canon
	}
	sum := sha256.Sum256(body)
	return e.ID + ":" + e.Event + ":" + hex.EncodeToString(sum[:])
}

// Status returns the customer status a CUSTOMER event reports, or "" for
// other types.
func (e Event) Status() Status {
	if e.Type != EventCustomer {
		return ""
	}
	return Status(e.Event)
}

// Format prints the event's type, id, event, time and failure reason and
// the names (not values) of its other fields, under every verb.
func (e Event) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "dollarpe.Event{Type: %s, ID: %s, Event: %s, Timestamp: %s, FailureReason: %s",
		e.Type, e.ID, e.Event, e.TimestampText, e.Metadata.FailureReason)
	if names := fieldNames(e.Extra, e.Metadata.Extra); names != "" {
		fmt.Fprintf(f, ", other fields: %s", names)
	}
	_, _ = io.WriteString(f, "}")
}

// LogValue logs the event as Format prints it.
func (e Event) LogValue() slog.Value { return slog.StringValue(fmt.Sprint(e)) }

func fieldNames(maps ...map[string]json.RawMessage) string {
	var names []string
	for _, m := range maps {
		for k := range m {
			names = append(names, strconv.QuoteToASCII(clip(maskPAN(dollarpePersonal.Text(k, nil)))))
		}
	}
	slices.Sort(names)
	return strings.Join(names, " ")
}

// Sentinels of webhook failures, matched by *WebhookError with errors.Is.
var (
	// ErrWebhookSignature: the X-SIGNATURE or X-TIMESTAMP header is missing
	// or the signature does not match.
	ErrWebhookSignature = errors.New("dollarpe: webhook signature missing or invalid")
	// ErrWebhookTimestamp: X-TIMESTAMP is not integer Unix seconds in
	// plain decimal digits (see ParseUnixSeconds), or is outside the
	// tolerance window.
	ErrWebhookTimestamp = errors.New("dollarpe: webhook timestamp outside the tolerance")
	// ErrWebhookTooLarge: the body is larger than the limit.
	ErrWebhookTooLarge = errors.New("dollarpe: webhook body too large")
	// ErrWebhookNotConfigured: the verifier was not made by
	// NewWebhookVerifier (a zero or nil WebhookVerifier has no secret to
	// check a signature with, and accepts nothing).
	ErrWebhookNotConfigured = errors.New("dollarpe: webhook verifier not configured (use NewWebhookVerifier)")
)

// WebhookError is a delivery refused by the verifier, with the HTTP status
// the handler answers it with.
type WebhookError struct {
	// StatusCode is 401 (signature, timestamp), 413 (too large), 400
	// (body unreadable) or 500 (verifier not configured).
	StatusCode int
	// Err is the sentinel the error matches.
	Err error
	// Reason adds detail, never quoting the body or headers.
	Reason string
}

// Error returns the sentinel's text and the reason.
func (e *WebhookError) Error() string {
	if e.Reason == "" {
		return e.Err.Error()
	}
	return e.Err.Error() + ": " + e.Reason
}

// Unwrap returns Err.
func (e *WebhookError) Unwrap() error { return e.Err }

// DefaultWebhookTolerance is how far X-TIMESTAMP may be from now, either
// way, by default.
const DefaultWebhookTolerance = 300 * time.Second

// DefaultWebhookMaxBytes is the largest body accepted by default, 1 MiB.
const DefaultWebhookMaxBytes = 1 << 20

// WebhookOption configures a WebhookVerifier or webhook handler.
type WebhookOption func(*WebhookVerifier) error

// WithTolerance sets how far X-TIMESTAMP may be from now, in the past or
// the future (default 300 s); d must be positive.
func WithTolerance(d time.Duration) WebhookOption {
	return func(v *WebhookVerifier) error {
		if d <= 0 {
			return fmt.Errorf("WithTolerance: %s, want more than zero", d)
		}
		v.tolerance = d
		return nil
	}
}

// WithWebhookMaxBytes sets the largest body accepted (default 1 MiB); n
// must be at least 1.
func WithWebhookMaxBytes(n int64) WebhookOption {
	return func(v *WebhookVerifier) error {
		if n < 1 {
			return fmt.Errorf("WithWebhookMaxBytes: %d, want at least 1", n)
		}
		v.maxBytes = n
		return nil
	}
}

// WithWebhookClock sets the time source of the timestamp check (for
// tests); a nil clock is refused.
func WithWebhookClock(now func() time.Time) WebhookOption {
	return func(v *WebhookVerifier) error {
		if now == nil {
			return errors.New("WithWebhookClock: nil clock")
		}
		v.now = now
		return nil
	}
}

// WithWebhookLogger makes the handler log each delivery (status and, for
// accepted ones, type and event) at debug level, refusals at warn level;
// never headers or bodies.
func WithWebhookLogger(l *slog.Logger) WebhookOption {
	return func(v *WebhookVerifier) error {
		if l == nil {
			return errors.New("WithWebhookLogger: nil logger")
		}
		v.logger = l
		return nil
	}
}

// WebhookVerifier checks and decodes DollarPe's webhook deliveries. It is
// safe for concurrent use and prints without its credentials.
type WebhookVerifier struct {
	apiKey, secret string
	tolerance      time.Duration
	maxBytes       int64
	now            func() time.Time
	logger         *slog.Logger
}

// NewWebhookVerifier returns a verifier for deliveries signed with apiKey
// and secret. It fails when either is empty or an option is invalid.
func NewWebhookVerifier(apiKey, secret string, opts ...WebhookOption) (*WebhookVerifier, error) {
	v := &WebhookVerifier{apiKey: apiKey, secret: secret, tolerance: DefaultWebhookTolerance,
		maxBytes: DefaultWebhookMaxBytes, now: time.Now, logger: slog.New(slog.DiscardHandler)}
	var problems []error
	if apiKey == "" {
		problems = append(problems, errors.New("API key is empty"))
	}
	if secret == "" {
		problems = append(problems, errors.New("API secret is empty"))
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(v); err != nil {
			problems = append(problems, err)
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("dollarpe.NewWebhookVerifier: %w", errors.Join(problems...))
	}
	return v, nil
}

// Format prints the verifier's settings, never its credentials.
func (v WebhookVerifier) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "dollarpe.WebhookVerifier{key: [redacted], secret: [redacted], tolerance: %s}", v.tolerance)
}

// ParseWebhook verifies and decodes one delivery, reading r's body: the
// one function for a handler of one's own. It is NewWebhookVerifier
// followed by Parse.
func ParseWebhook(r *http.Request, apiKey, secret string, opts ...WebhookOption) (Event, error) {
	v, err := NewWebhookVerifier(apiKey, secret, opts...)
	if err != nil {
		return Event{}, err
	}
	return v.Parse(r)
}

// Parse reads r's body (at most the limit) and verifies and decodes it as
// Verify does.
func (v *WebhookVerifier) Parse(r *http.Request) (Event, error) {
	if err := v.configured(); err != nil {
		return Event{}, err
	}
	if r.Body == nil {
		return v.Verify(r.Header, nil)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, v.maxBytes+1))
	if err != nil {
		return Event{}, &WebhookError{StatusCode: http.StatusBadRequest, Err: errors.New("dollarpe: webhook body unreadable"),
			Reason: "reading the body failed"}
	}
	if int64(len(body)) > v.maxBytes {
		return Event{}, &WebhookError{StatusCode: http.StatusRequestEntityTooLarge, Err: ErrWebhookTooLarge,
			Reason: fmt.Sprintf("over %d bytes", v.maxBytes)}
	}
	return v.Verify(r.Header, body)
}

// Verify checks a delivery's X-SIGNATURE against apiKey|X-TIMESTAMP|
// canonical(body) in constant time (a signature over the body's bytes as
// sent is accepted too), refuses an X-TIMESTAMP that is not integer Unix
// seconds (ParseUnixSeconds) or is further from now than the tolerance,
// and decodes the body. An authentic delivery is never refused
// for its form: a byte order mark, unknown fields, numbers written as
// strings or the reverse are accepted, NaN and Infinity (which Python
// writes, and which have no canonical form: the signature must then be
// over the bytes sent) are read as the strings "NaN" and "Infinity", and
// a body that is not a JSON object yields an Event with only Raw set. A verifier not made by
// NewWebhookVerifier refuses every delivery with ErrWebhookNotConfigured.
func (v *WebhookVerifier) Verify(header http.Header, body []byte) (Event, error) {
	if err := v.configured(); err != nil {
		return Event{}, err
	}
	sigText := strings.TrimSpace(header.Get("X-SIGNATURE"))
	tsText := strings.TrimSpace(header.Get("X-TIMESTAMP"))
	if sigText == "" || tsText == "" {
		return Event{}, &WebhookError{StatusCode: http.StatusUnauthorized, Err: ErrWebhookSignature,
			Reason: "X-SIGNATURE or X-TIMESTAMP header missing"}
	}
	ts, err := ParseUnixSeconds(tsText)
	if err != nil {
		return Event{}, &WebhookError{StatusCode: http.StatusUnauthorized, Err: ErrWebhookTimestamp,
			Reason: "X-TIMESTAMP " + err.Error()}
	}
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	if !v.signed(sigText, tsText, body) {
		return Event{}, &WebhookError{StatusCode: http.StatusUnauthorized, Err: ErrWebhookSignature,
			Reason: "signature does not match"}
	}
	age := v.now().Sub(time.Unix(ts, 0))
	if age > v.tolerance || age < -v.tolerance {
		return Event{}, &WebhookError{StatusCode: http.StatusUnauthorized, Err: ErrWebhookTimestamp,
			Reason: fmt.Sprintf("X-TIMESTAMP is %s away from now, tolerance %s", age.Round(time.Second), v.tolerance)}
	}
	return decodeEvent(body), nil
}

// MaxUnixSecondsDigits is the most digits ParseUnixSeconds accepts: 11,
// enough for any second until the year 5138; a longer value is taken for
// milliseconds or worse, not seconds.
const MaxUnixSecondsDigits = 11

// ParseUnixSeconds reads an X-TIMESTAMP as DollarPe's contract states it:
// integer Unix seconds written in 1 to MaxUnixSecondsDigits plain decimal
// digits (0-9). A sign, a fraction, an exponent, milliseconds, spaces or
// other digits are refused.
func ParseUnixSeconds(s string) (int64, error) {
	switch {
	case s == "":
		return 0, errors.New("is empty")
	case strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) >= 0:
		return 0, errors.New("is not integer Unix seconds in plain decimal digits")
	case len(s) > MaxUnixSecondsDigits:
		return 0, fmt.Errorf("has more than %d digits: Unix seconds, not milliseconds, are expected", MaxUnixSecondsDigits)
	}
	return strconv.ParseInt(s, 10, 64)
}

// configured refuses a verifier not made by NewWebhookVerifier: without
// a secret any signature made with an empty key and secret would pass.
func (v *WebhookVerifier) configured() error {
	if v == nil || v.apiKey == "" || v.secret == "" || v.now == nil || v.maxBytes < 1 || v.tolerance <= 0 || v.logger == nil {
		return &WebhookError{StatusCode: http.StatusInternalServerError, Err: ErrWebhookNotConfigured}
	}
	return nil
}

// signed reports whether sigText is the signature of the delivery, over
// the canonical body or the body's bytes. A body with no canonical form
// (NaN or Infinity, which Python's json.dumps writes) is checked over its
// bytes only.
func (v *WebhookVerifier) signed(sigText, tsText string, body []byte) bool {
	got, ok := decodeSignature(sigText)
	if !ok {
		return false
	}
	mac := func(b []byte) []byte {
		h := hmac.New(sha256.New, []byte(v.secret))
		h.Write([]byte(v.apiKey + "|" + tsText + "|"))
		h.Write(b)
		return h.Sum(nil)
	}
	match := false
	if canon, err := Canonicalize(body); err == nil {
		match = hmac.Equal(got, mac(canon))
	}
	// Both are always computed, so the time taken does not tell which.
	return hmac.Equal(got, mac(body)) || match
}

// decodeSignature reads Base64 in its standard or URL-safe alphabet, padded
// or not, after an optional "sha256=" prefix.
func decodeSignature(s string) ([]byte, bool) {
	s = strings.TrimPrefix(s, "sha256=")
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == sha256.Size {
			return b, true
		}
	}
	return nil, false
}

// decodeEvent decodes a verified body, tolerating any form.
func decodeEvent(body []byte) Event {
	ev := Event{Raw: append(json.RawMessage(nil), body...)}
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		quoted, ok := quoteNonFinite(body)
		if !ok || json.Unmarshal(quoted, &fields) != nil {
			return ev
		}
	}
	for k, raw := range fields {
		switch strings.ToLower(k) {
		case "type":
			ev.Type = EventType(strings.ToUpper(strings.TrimSpace(scalarText(raw))))
		case "id":
			ev.ID = scalarText(raw)
		case "event":
			ev.Event = strings.ToUpper(strings.TrimSpace(scalarText(raw)))
		case "timestamp":
			ev.TimestampText = scalarText(raw)
			ev.Timestamp = eventTime(ev.TimestampText)
		case "metadata":
			ev.Metadata = decodeMetadata(raw)
		default:
			if ev.Extra == nil {
				ev.Extra = map[string]json.RawMessage{}
			}
			ev.Extra[k] = raw
		}
	}
	return ev
}

// quoteNonFinite returns body with the NaN, Infinity and -Infinity that
// Python's json.dumps writes, outside strings, written as the strings
// "NaN", "Infinity" and "-Infinity", so that encoding/json reads it; false
// when body holds none.
func quoteNonFinite(body []byte) ([]byte, bool) {
	var out []byte
	inString, escaped, found := false, false, false
	for i := 0; i < len(body); i++ {
		c := body[i]
		if inString {
			out = append(out, c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		if c == '"' {
			inString = true
			out = append(out, c)
			continue
		}
		matched := false
		for _, lit := range []string{"NaN", "Infinity", "-Infinity"} {
			if bytes.HasPrefix(body[i:], []byte(lit)) {
				out = append(append(append(out, '"'), lit...), '"')
				i += len(lit) - 1
				matched, found = true, true
				break
			}
		}
		if !matched {
			out = append(out, c)
		}
	}
	return out, found
}

func decodeMetadata(raw json.RawMessage) Metadata {
	var md Metadata
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return md
	}
	for k, v := range fields {
		if strings.EqualFold(k, "failure_reason") {
			md.FailureReason = FailureReason(strings.TrimSpace(scalarText(v)))
			continue
		}
		if md.Extra == nil {
			md.Extra = map[string]json.RawMessage{}
		}
		md.Extra[k] = v
	}
	return md
}

// eventTime reads ISO-8601 (with or without zone or fraction) or Unix
// seconds or milliseconds; zero when it is neither.
func eventTime(s string) time.Time {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00",
		"2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 && n < 1e14 {
		if n > 1e11 {
			return time.UnixMilli(n).UTC()
		}
		return time.Unix(n, 0).UTC()
	}
	return time.Time{}
}

// webhookHandler is the http.Handler of NewWebhookHandler.
type webhookHandler struct {
	v      *WebhookVerifier
	handle func(context.Context, Event) error
}

// NewWebhookHandler returns an http.Handler that verifies each delivery
// (see WebhookVerifier.Verify) and passes it to handle. It answers 401 for
// a missing or invalid signature or a timestamp outside the tolerance, 413
// for a body over the limit, 500 when handle returns an error (DollarPe
// then delivers again: dedupe with Event.Key), and 200 otherwise. It fails
// when apiKey or secret is empty, handle is nil or an option is invalid.
func NewWebhookHandler(apiKey, secret string, handle func(context.Context, Event) error, opts ...WebhookOption) (http.Handler, error) {
	v, err := NewWebhookVerifier(apiKey, secret, opts...)
	if handle == nil {
		err = errors.Join(err, errors.New("dollarpe.NewWebhookHandler: nil handle function"))
	}
	if err != nil {
		return nil, err
	}
	return &webhookHandler{v: v, handle: handle}, nil
}

func (h *webhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ev, err := h.v.Parse(r)
	if err != nil {
		status := http.StatusBadRequest
		var we *WebhookError
		if errors.As(err, &we) {
			status = we.StatusCode
		}
		h.v.logger.LogAttrs(r.Context(), slog.LevelWarn, "dollarpe: webhook refused",
			slog.Int("status", status), slog.String("error", err.Error()))
		reply(w, status, false, http.StatusText(status))
		return
	}
	if err := h.handle(r.Context(), ev); err != nil {
		h.v.logger.LogAttrs(r.Context(), slog.LevelWarn, "dollarpe: webhook handler failed",
			slog.Int("status", http.StatusInternalServerError), slog.String("type", string(ev.Type)),
			slog.String("event", ev.Event))
		reply(w, http.StatusInternalServerError, false, "handler failed")
		return
	}
	h.v.logger.LogAttrs(r.Context(), slog.LevelDebug, "dollarpe: webhook",
		slog.Int("status", http.StatusOK), slog.String("type", string(ev.Type)), slog.String("event", ev.Event))
	reply(w, http.StatusOK, true, "OK")
}

func reply(w http.ResponseWriter, status int, ok bool, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"status":%t,"message":%q}`, ok, msg)
}
