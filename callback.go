package flipkyc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Event is one Agent KYC callback from Flip: the result of the identity
// uploads (StatusUploadIdentitySelfieSuccess or StatusUploadIdentitySelfieFailed)
// or of the review (StatusApproved or StatusRejected). Its JSON form uses
// Flip's own field names.
//
// Timestamps carry no zone on the wire; they are read as Western Indonesian
// Time (UTC+7), Flip's local time. Flip does not document the zone.
//
// Printed with any fmt verb, or logged with log/slog, an Event shows its
// agent id, status, reason and times; AgentName, which is personal data,
// prints as [masked]. Read it as a field.
type Event struct {
	AgentID int64 `json:"agent_id"`
	// AgentName is kept as sent; Flip's examples show trailing spaces.
	AgentName          string        `json:"agent_name"`
	KYCStatus          KYCStatus     `json:"kyc_status"`
	RejectedReasonCode RejectionCode `json:"rejected_reason_code"`
	RejectedReason     string        `json:"rejected_reason"`
	CreatedAt          Timestamp     `json:"created_at"`
	UpdatedAt          Timestamp     `json:"updated_at"`
	SubmittedAt        Timestamp     `json:"submitted_at"`
	VerifiedAt         Timestamp     `json:"verified_at"`
}

// Key identifies the event for deduplication: agent id, status and update
// time. Flip may deliver the same event more than once; a store that ignores
// a key it has seen is idempotent.
func (e Event) Key() string {
	updated := e.UpdatedAt.Raw
	if updated == "" && !e.UpdatedAt.IsZero() {
		updated = e.UpdatedAt.In(jakarta).Format(flipLocalLayout)
	}
	return strconv.FormatInt(e.AgentID, 10) + "/" + string(e.KYCStatus) + "/" + updated
}

// Format prints the event without its personal data: AgentName prints as
// [masked], and the agent's name is masked wherever else it appears. Every
// verb prints the same form.
func (e Event) Format(f fmt.State, verb rune) {
	names := nameForms(e.AgentName)
	text := func(s string) string { return strconv.Quote(maskKnown(s, names)) }
	fmt.Fprintf(f, "flipkyc.Event{AgentID: %d, AgentName: %s, KYCStatus: %s, RejectedReasonCode: %d, RejectedReason: %s, "+
		"CreatedAt: %s, UpdatedAt: %s, SubmittedAt: %s, VerifiedAt: %s}",
		e.AgentID, maskedOrEmpty(e.AgentName), text(maskText(string(e.KYCStatus), names)), int(e.RejectedReasonCode),
		text(maskText(e.RejectedReason, names)),
		text(timestampText(e.CreatedAt)), text(timestampText(e.UpdatedAt)),
		text(timestampText(e.SubmittedAt)), text(timestampText(e.VerifiedAt)))
}

// LogValue logs the event without its personal data: agent id, status,
// reason code and update time; never the name.
func (e Event) LogValue() slog.Value {
	names := nameForms(e.AgentName)
	attrs := []slog.Attr{
		slog.Int64("agent_id", e.AgentID),
		slog.String("kyc_status", maskText(string(e.KYCStatus), names)),
		slog.Int("rejected_reason_code", int(e.RejectedReasonCode)),
		slog.String("updated_at", maskKnown(timestampText(e.UpdatedAt), names)),
	}
	return slog.GroupValue(attrs...)
}

// maskedOrEmpty prints personal text: [masked], or "" when there is none.
func maskedOrEmpty(s string) string {
	if s == "" {
		return `""`
	}
	return masked
}

// nameForms returns the forms of an agent's name to mask in free text: as
// sent, trimmed, and each word of four letters or more.
func nameForms(name string) []string {
	trimmed := strings.TrimSpace(name)
	if trimmed == "" {
		return nil
	}
	forms := []string{name, trimmed}
	for _, w := range strings.Fields(trimmed) {
		if len(w) >= 4 && w != trimmed {
			forms = append(forms, w)
		}
	}
	return forms
}

// maskKnown replaces the known values in s, but not digits or e-mail
// addresses (unlike maskText): for timestamps and fixed texts.
func maskKnown(s string, known []string) string {
	for _, k := range known {
		if len(k) >= minKnownLen && strings.Contains(s, k) {
			s = strings.ReplaceAll(s, k, masked)
		}
	}
	return s
}

// timestampText is t as Flip sent it, or in Flip's layout, or "" when unset.
func timestampText(t Timestamp) string {
	switch {
	case t.Raw != "":
		return t.Raw
	case t.IsZero():
		return ""
	}
	return t.In(jakarta).Format(flipLocalLayout)
}

// eventReply decodes a callback's data object in one pass, accepting an
// agent id sent as a number or a numeric string and a rejected reason of null.
type eventReply struct {
	eventFields
	AgentID        flexInt `json:"agent_id"`
	RejectedReason *string `json:"rejected_reason"`
	// The times are read as plain strings (null leaves them empty) and
	// parsed afterwards, which spares encoding/json four custom decoders.
	CreatedAt   *string `json:"created_at"`
	UpdatedAt   *string `json:"updated_at"`
	SubmittedAt *string `json:"submitted_at"`
	VerifiedAt  *string `json:"verified_at"`
}

// eventFields is Event without its methods, so eventReply can embed it.
type eventFields Event

func (r *eventReply) event() Event {
	e := Event(r.eventFields)
	e.AgentID = int64(r.AgentID)
	if r.RejectedReason != nil {
		e.RejectedReason = *r.RejectedReason
	}
	for _, t := range []struct {
		dst *Timestamp
		src *string
	}{{&e.CreatedAt, r.CreatedAt}, {&e.UpdatedAt, r.UpdatedAt}, {&e.SubmittedAt, r.SubmittedAt}, {&e.VerifiedAt, r.VerifiedAt}} {
		if t.src != nil && *t.src != "" {
			*t.dst, _ = ParseTimestamp(*t.src) // an unknown layout stays visible in Raw
		}
	}
	return e
}

// UnmarshalJSON decodes a callback's data object.
func (e *Event) UnmarshalJSON(b []byte) error {
	var r eventReply
	if err := json.Unmarshal(b, &r); err != nil {
		return err
	}
	*e = r.event()
	return nil
}

// ErrMalformedCallback: a callback whose token was right but whose form or
// data could not be read.
var ErrMalformedCallback = errors.New("flipkyc: malformed callback")

// CallbackError is a callback that was refused. Status is the HTTP status a
// receiver should answer with; errors.Is matches ErrInvalidToken or
// ErrMalformedCallback.
type CallbackError struct {
	Status int
	Reason string
	Err    error
}

// Error gives the sentinel and the reason.
func (e *CallbackError) Error() string { return e.Err.Error() + ": " + e.Reason }

// Unwrap returns ErrInvalidToken or ErrMalformedCallback.
func (e *CallbackError) Unwrap() error { return e.Err }

// DefaultCallbackMaxBytes is the largest callback body accepted by default;
// Flip's callbacks are well under 1 KiB.
const DefaultCallbackMaxBytes = 64 << 10

// CallbackParser checks and decodes Flip's KYC callbacks. It holds only a
// hash of the expected token.
type CallbackParser struct {
	tokenHash [sha256.Size]byte
	maxBytes  int64
}

// NewCallbackParser returns a parser that accepts callbacks carrying token,
// the validation token from Flip's dashboard. An empty token is an error:
// the parser never accepts callbacks unchecked.
func NewCallbackParser(token string) (*CallbackParser, error) {
	if token == "" {
		return nil, errors.New("flipkyc: callback token is empty; set it to the validation token from Flip's dashboard")
	}
	return &CallbackParser{tokenHash: sha256.Sum256([]byte(token)), maxBytes: DefaultCallbackMaxBytes}, nil
}

// Format prints the parser without its token hash.
func (p *CallbackParser) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "flipkyc.CallbackParser{token: %s, maxBytes: %d}", redacted, p.maxBytes)
}

// Parse reads a callback request: a POST with a form-encoded body of at most
// DefaultCallbackMaxBytes. It checks the token before it decodes anything.
// Every failure is a *CallbackError.
func (p *CallbackParser) Parse(r *http.Request) (Event, error) {
	if r.Method != http.MethodPost {
		return Event{}, &CallbackError{Status: http.StatusMethodNotAllowed, Reason: "method must be POST", Err: ErrMalformedCallback}
	}
	if !isFormContentType(r.Header.Get("Content-Type")) {
		return Event{}, &CallbackError{Status: http.StatusUnsupportedMediaType,
			Reason: "content type must be application/x-www-form-urlencoded", Err: ErrMalformedCallback}
	}
	if r.Body == nil {
		return Event{}, &CallbackError{Status: http.StatusBadRequest, Reason: "no body", Err: ErrMalformedCallback}
	}
	if r.ContentLength > p.maxBytes {
		return Event{}, p.tooLarge()
	}
	// Read one byte past the limit to tell "at the limit" from "over it",
	// without overflowing when the limit is math.MaxInt64.
	limit := p.maxBytes
	if limit < math.MaxInt64 {
		limit++
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit))
	if err != nil {
		return Event{}, &CallbackError{Status: http.StatusBadRequest, Reason: "reading body failed", Err: ErrMalformedCallback}
	}
	if int64(len(body)) > p.maxBytes {
		return Event{}, p.tooLarge()
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return Event{}, &CallbackError{Status: http.StatusBadRequest, Reason: "body is not a valid form", Err: ErrMalformedCallback}
	}
	return p.ParseValues(form)
}

func (p *CallbackParser) tooLarge() *CallbackError {
	return &CallbackError{Status: http.StatusRequestEntityTooLarge,
		Reason: fmt.Sprintf("body larger than %d bytes", p.maxBytes), Err: ErrMalformedCallback}
}

// ParseValues checks and decodes a callback's form values (the fields data
// and token). Every failure is a *CallbackError.
func (p *CallbackParser) ParseValues(form url.Values) (Event, error) {
	tokens := form["token"]
	if len(tokens) == 0 || tokens[0] == "" {
		return Event{}, &CallbackError{Status: http.StatusUnauthorized, Reason: "no token", Err: ErrInvalidToken}
	}
	// Comparing fixed-size hashes takes the same time whatever the length
	// or content of the token sent.
	got := sha256.Sum256([]byte(tokens[0]))
	if len(tokens) != 1 || subtle.ConstantTimeCompare(got[:], p.tokenHash[:]) != 1 {
		return Event{}, &CallbackError{Status: http.StatusForbidden, Reason: "wrong token", Err: ErrInvalidToken}
	}
	data := form["data"]
	if len(data) != 1 || strings.TrimSpace(data[0]) == "" {
		return Event{}, &CallbackError{Status: http.StatusBadRequest, Reason: "no data field", Err: ErrMalformedCallback}
	}
	ev, err := decodeEvent([]byte(data[0]))
	if err != nil {
		return Event{}, &CallbackError{Status: http.StatusBadRequest, Reason: err.Error(), Err: ErrMalformedCallback}
	}
	return ev, nil
}

// isFormContentType reports whether ct is application/x-www-form-urlencoded,
// with or without parameters.
func isFormContentType(ct string) bool {
	const form = "application/x-www-form-urlencoded"
	if len(ct) >= len(form) && strings.EqualFold(ct[:len(form)], form) && (len(ct) == len(form) || ct[len(form)] == ';') {
		return true // the common case, without parsing
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == form
}

// decodeEvent decodes a callback's data object and checks what every event
// must carry.
func decodeEvent(data []byte) (Event, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return Event{}, errors.New("data is not a JSON object")
	}
	var r eventReply
	if err := json.Unmarshal(data, &r); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return Event{}, fmt.Errorf("data: field %s has the wrong type", typeErr.Field)
		}
		return Event{}, fmt.Errorf("data cannot be decoded: %s", excerpt([]byte(err.Error()), 120))
	}
	ev := r.event()
	switch {
	case ev.AgentID <= 0:
		return Event{}, errors.New("data: agent_id missing or not positive")
	case ev.KYCStatus == "":
		return Event{}, errors.New("data: kyc_status missing")
	}
	return ev, nil
}

// CallbackOption configures NewCallbackHandler.
type CallbackOption func(*callbackHandler) error

// WithCallbackLogger makes the handler log refused callbacks and failures of
// the user's function (with the agent id and status, never the token or the
// agent's name).
func WithCallbackLogger(l *slog.Logger) CallbackOption {
	return func(h *callbackHandler) error {
		if l == nil {
			return errors.New("WithCallbackLogger: nil logger")
		}
		h.logger = l
		return nil
	}
}

// WithCallbackMaxBytes sets the largest body accepted (default
// DefaultCallbackMaxBytes), from 1 up to math.MaxInt64; a larger body is
// answered 413.
func WithCallbackMaxBytes(n int64) CallbackOption {
	return func(h *callbackHandler) error {
		if n < 1 {
			return fmt.Errorf("WithCallbackMaxBytes: %d, want at least 1", n)
		}
		h.parser.maxBytes = n
		return nil
	}
}

type callbackHandler struct {
	parser *CallbackParser
	handle func(context.Context, Event) error
	logger *slog.Logger
}

// NewCallbackHandler returns an http.Handler for Flip's KYC callbacks. It
// answers 405 to anything but POST, 415 to a body that is not form-encoded,
// 413 to a body over the limit, 401 to a missing token, 403 to a wrong one
// and 400 to unreadable data. A good callback is passed to handle, and Flip
// gets its 200 only after handle returns nil: store the event there. Flip
// sends each callback only once, so a callback answered 200 and then lost is
// lost for good; an error from handle answers 500.
func NewCallbackHandler(token string, handle func(context.Context, Event) error, opts ...CallbackOption) (http.Handler, error) {
	parser, err := NewCallbackParser(token)
	if err != nil {
		return nil, err
	}
	if handle == nil {
		return nil, errors.New("flipkyc: NewCallbackHandler: nil handle function")
	}
	h := &callbackHandler{parser: parser, handle: handle, logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		if err := opt(h); err != nil {
			return nil, fmt.Errorf("flipkyc: NewCallbackHandler: %w", err)
		}
	}
	return h, nil
}

// ServeHTTP checks one callback, hands it to the user's function and answers.
func (h *callbackHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ev, err := h.parser.Parse(r)
	if err != nil {
		var ce *CallbackError
		status := http.StatusBadRequest
		if errors.As(err, &ce) {
			status = ce.Status
		}
		if status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", http.MethodPost)
		}
		h.logger.LogAttrs(r.Context(), slog.LevelWarn, "flipkyc: callback refused",
			slog.Int("status", status), slog.String("reason", err.Error()))
		http.Error(w, err.Error(), status)
		return
	}
	if err := h.handle(r.Context(), ev); err != nil {
		h.logger.LogAttrs(r.Context(), slog.LevelError, "flipkyc: callback handler failed",
			slog.Int64("agent_id", ev.AgentID), slog.String("kyc_status", maskText(string(ev.KYCStatus), nameForms(ev.AgentName))),
			slog.String("error", maskText(err.Error(), nameForms(ev.AgentName))))
		http.Error(w, "callback not stored", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "OK")
}

// NewCallbackRequest builds the request Flip would send to target for ev,
// signed with token: a POST with the form fields data (ev as JSON, with
// Flip's field names) and token. Use it in tests of a callback receiver,
// with handler.ServeHTTP or an *http.Client.
func NewCallbackRequest(ctx context.Context, target string, ev Event, token string) (*http.Request, error) {
	data, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	body := url.Values{"data": {string(data)}, "token": {token}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}
