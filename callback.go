package flipkyc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/flipkyc/flipkyc/internal/redact"
)

// Event is one Agent KYC callback from Flip: the result of the identity
// uploads (StatusUploadIdentitySelfieSuccess or StatusUploadIdentitySelfieFailed)
// or of the review (StatusApproved or StatusRejected). Its JSON form uses
// Flip's own field names and holds neither Raw nor Problems.
//
// A callback that carried the right token always becomes an Event, whatever
// its data looked like: what could be read is in the typed fields, the data
// itself is in Raw, and what could not be read is listed in Problems.
//
// Timestamps carry no zone on the wire; they are read as Western Indonesian
// Time (UTC+7), Flip's local time. Flip does not document the zone.
//
// Printed with any fmt verb, an Event shows its agent id, status, reason,
// times and problems, and AgentName and Raw, which hold personal data, print
// as [masked]; logged with log/slog it shows its agent id, status, reason
// code, update time and problems only. Read the personal data as fields.
type Event struct {
	// AgentID is Flip's id of the agent the callback is about.
	AgentID int64 `json:"agent_id"`
	// AgentName is kept as sent; Flip's examples show trailing spaces.
	AgentName string `json:"agent_name"`
	// KYCStatus is one of the documented statuses, or, when Flip sends one
	// the SDK does not know, the text as received (see KYCStatus.Known).
	KYCStatus KYCStatus `json:"kyc_status"`
	// RejectedReasonCode says why the review rejected the agent or the
	// upload check failed; zero otherwise. RejectionCode.Fixes says what to
	// do about it.
	RejectedReasonCode RejectionCode `json:"rejected_reason_code"`
	// RejectedReason is Flip's text for RejectedReasonCode, as sent.
	RejectedReason string `json:"rejected_reason"`
	// CreatedAt is when Flip created the agent's record.
	CreatedAt Timestamp `json:"created_at"`
	// UpdatedAt is when Flip last updated the agent's record, here with
	// this event; it is part of Key.
	UpdatedAt Timestamp `json:"updated_at"`
	// SubmittedAt is Flip's submission time of the agent; Flip does not
	// document it, and sends null (a zero Timestamp) before a submission.
	SubmittedAt Timestamp `json:"submitted_at"`
	// VerifiedAt is Flip's verification time of the agent; Flip does not
	// document it, and sends null (a zero Timestamp) before a verification.
	VerifiedAt Timestamp `json:"verified_at"`

	// Raw is the callback's data field exactly as received: normally a JSON
	// object, but kept whatever it is, even when it is not JSON at all, so a
	// receiver can store it and decode it again later. It holds personal
	// data. It is empty when the callback had no data field, and it is not
	// part of the JSON form.
	Raw string `json:"-"`
	// Problems lists what could not be decoded from Raw, one entry per
	// field ("agent_id: want a whole number"), without the values. It is
	// empty when everything decoded. Unknown fields and unknown statuses are
	// not problems.
	Problems []string `json:"-"`
}

// Key returns a text that identifies the event for deduplication,
// "<agent id>/<status>/<update time>", with the update time as Flip sent it
// (or in Flip's layout, for an Event built in code). In rare cases Flip
// delivers the same event more than once; a store that ignores a key it has
// seen is idempotent. When the data lacked one of the three (a malformed
// callback), the key also carries a short hash of Raw, so that different
// malformed callbacks do not share a key while a repeat of the same one
// still does.
func (e Event) Key() string {
	updated := e.UpdatedAt.Raw
	if updated == "" && !e.UpdatedAt.IsZero() {
		updated = e.UpdatedAt.In(jakarta).Format(flipLocalLayout)
	}
	key := strconv.FormatInt(e.AgentID, 10) + "/" + string(e.KYCStatus) + "/" + updated
	if e.Raw != "" && (e.AgentID <= 0 || e.KYCStatus == "" || updated == "") {
		sum := sha256.Sum256([]byte(e.Raw))
		key += "/" + hex.EncodeToString(sum[:8])
	}
	return key
}

// Format prints the event without its personal data: AgentName and Raw
// print as [masked] (or "" when empty), and the agent's name is masked
// wherever else it appears. Every verb prints the same form.
func (e Event) Format(f fmt.State, verb rune) {
	names := nameForms(e.AgentName)
	text := func(s string) string { return strconv.Quote(maskKnown(s, names)) }
	problems := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		problems[i] = text(p)
	}
	fmt.Fprintf(f, "flipkyc.Event{AgentID: %d, AgentName: %s, KYCStatus: %s, RejectedReasonCode: %d, RejectedReason: %s, "+
		"CreatedAt: %s, UpdatedAt: %s, SubmittedAt: %s, VerifiedAt: %s, Raw: %s, Problems: [%s]}",
		e.AgentID, maskedOrEmpty(e.AgentName), text(flipPersonal.Text(string(e.KYCStatus), names)), int(e.RejectedReasonCode),
		text(flipPersonal.Text(e.RejectedReason, names)),
		text(timestampText(e.CreatedAt, names)), text(timestampText(e.UpdatedAt, names)),
		text(timestampText(e.SubmittedAt, names)), text(timestampText(e.VerifiedAt, names)),
		maskedOrEmpty(e.Raw), strings.Join(problems, ", "))
}

// LogValue logs the event without its personal data: agent id, status,
// reason code, update time and problems; never the name or Raw.
func (e Event) LogValue() slog.Value {
	names := nameForms(e.AgentName)
	attrs := []slog.Attr{
		slog.Int64("agent_id", e.AgentID),
		slog.String("kyc_status", flipPersonal.Text(string(e.KYCStatus), names)),
		slog.Int("rejected_reason_code", int(e.RejectedReasonCode)),
		slog.String("updated_at", maskKnown(timestampText(e.UpdatedAt, names), names)),
	}
	if len(e.Problems) > 0 {
		problems := make([]string, len(e.Problems))
		for i, p := range e.Problems {
			problems[i] = maskKnown(p, names)
		}
		attrs = append(attrs, slog.String("problems", strings.Join(problems, "; ")))
	}
	return slog.GroupValue(attrs...)
}

// Masked returns a copy of the event to print or encode as JSON for people:
// AgentName and Raw are [masked] (or empty), and the free text Flip sent
// (status, reason, times that are not timestamps, problems) is masked as
// Format masks it: the agent's name, e-mail addresses and long digit runs.
func (e Event) Masked() Event {
	names := nameForms(e.AgentName)
	stamp := func(t Timestamp) Timestamp {
		if t.Raw != "" && t.IsZero() {
			t.Raw = timestampText(t, names)
		}
		return t
	}
	out := e
	if out.AgentName != "" {
		out.AgentName = masked
	}
	if out.Raw != "" {
		out.Raw = masked
	}
	out.KYCStatus = KYCStatus(flipPersonal.Text(string(e.KYCStatus), names))
	out.RejectedReason = flipPersonal.Text(e.RejectedReason, names)
	out.CreatedAt, out.UpdatedAt = stamp(e.CreatedAt), stamp(e.UpdatedAt)
	out.SubmittedAt, out.VerifiedAt = stamp(e.SubmittedAt), stamp(e.VerifiedAt)
	if e.Problems != nil {
		out.Problems = make([]string, len(e.Problems))
		for i, p := range e.Problems {
			out.Problems[i] = maskKnown(p, names)
		}
	}
	return out
}

// maskedOrEmpty prints personal text: [masked], or "" when there is none.
func maskedOrEmpty(s string) string {
	if s == "" {
		return `""`
	}
	return masked
}

// nameForms returns the forms of an agent's name to mask in free text:
// trimmed (which also covers the name as sent) and each word of four letters
// or more.
func nameForms(name string) []string {
	trimmed := strings.TrimSpace(name)
	if trimmed == "" {
		return nil
	}
	forms := []string{trimmed}
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
		if len(k) >= redact.MinKnownLen && strings.Contains(s, k) {
			s = strings.ReplaceAll(s, k, masked)
		}
	}
	return s
}

// timestampText is t as Flip sent it, or in Flip's layout, or "" when unset.
// Text that is no timestamp at all is masked like free text (names, e-mail
// addresses, long digit runs): it could be anything.
func timestampText(t Timestamp, names []string) string {
	switch {
	case t.Raw != "" && t.IsZero():
		return flipPersonal.Text(t.Raw, names)
	case t.Raw != "":
		return t.Raw
	case t.IsZero():
		return ""
	}
	return t.In(jakarta).Format(flipLocalLayout)
}

// UnmarshalJSON decodes a callback's data object as tolerantly as the
// callback parser does: it replaces e with what b holds, sets Raw to b,
// lists what could not be decoded in Problems and never fails. A JSON null
// leaves e unchanged.
func (e *Event) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		return nil
	}
	*e = decodeEvent(string(b))
	return nil
}

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

// readBody reads at most maxBytes of r's body; a larger one is refused
// without reading it all.
func (p *CallbackParser) readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > p.maxBytes {
		return nil, p.tooLarge()
	}
	if r.Body == nil {
		return nil, nil
	}
	// Read one byte past the limit to tell "at the limit" from "over it",
	// without overflowing when the limit is math.MaxInt64.
	limit := p.maxBytes
	if limit < math.MaxInt64 {
		limit++
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit))
	switch {
	case int64(len(body)) > p.maxBytes:
		return nil, p.tooLarge()
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, readTimedOut()
	case err != nil:
		return nil, &CallbackError{Status: http.StatusBadRequest, Reason: "reading body failed", Err: ErrMalformedCallback}
	}
	return body, nil
}

func (p *CallbackParser) tooLarge() *CallbackError {
	return &CallbackError{Status: http.StatusRequestEntityTooLarge,
		Reason: fmt.Sprintf("body larger than %d bytes", p.maxBytes), Err: ErrMalformedCallback}
}

func readTimedOut() *CallbackError {
	return &CallbackError{Status: http.StatusRequestTimeout, Reason: "body not received within the read timeout", Err: ErrMalformedCallback}
}

// utf8BOM is the byte order mark some senders put before a body.
var utf8BOM = []byte("\xEF\xBB\xBF")

// parseBody takes the fields token and data from a body, checks the token
// and decodes the data. A leading byte order mark is dropped. The readings
// are tried in turn, from the most to the least specific, and the first that
// finds a token field is used: multipart, JSON, form. A multipart body is
// read as multipart even when it would also read as a form: a form-encoded
// body has no line breaks, so it looks like multipart only when it has been
// crafted to, and read as a form a multipart body gives a token with the
// next part glued to it.
func (p *CallbackParser) parseBody(contentType string, body []byte) (Event, error) {
	body = bytes.TrimPrefix(body, utf8BOM)
	tokens, data, found := multipartFields(contentType, body)
	if !found {
		tokens, data, found = jsonFields(body)
	}
	if !found {
		tokens, data = formFields(body)
	}
	if err := p.checkToken(tokens); err != nil {
		return Event{}, err
	}
	return eventFromData(data), nil
}

// multipartFields reads the fields of a multipart body, whatever the content
// type says: by the boundary of the body's first line ("--boundary", after
// any blank lines), and else by the content type's boundary parameter (for a
// body with a preamble). found is false when neither reading finds a token
// field.
func multipartFields(contentType string, body []byte) (tokens, data []string, found bool) {
	body = bytes.TrimLeft(body, " \t\r\n")
	inBody := bodyBoundary(body)
	if inBody != "" {
		if tokens, data, found = readMultipart(body, inBody); found {
			return tokens, data, true
		}
	}
	if declared := declaredBoundary(contentType); declared != "" && declared != inBody {
		return readMultipart(body, declared)
	}
	return nil, nil, false
}

// bodyBoundary returns the boundary of a body whose first line is a
// multipart delimiter, "--" and the boundary, or "". Transport padding (white
// space after the boundary) is not part of it.
func bodyBoundary(body []byte) string {
	if !bytes.HasPrefix(body, []byte("--")) {
		return ""
	}
	line, _, ok := bytes.Cut(body, []byte("\n"))
	if !ok {
		return ""
	}
	return string(bytes.TrimRight(line[2:], " \t\r"))
}

// declaredBoundary returns the boundary parameter of a multipart content
// type, or "".
func declaredBoundary(contentType string) string {
	if len(contentType) < len("multipart/") || !strings.EqualFold(contentType[:len("multipart/")], "multipart/") {
		return ""
	}
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	return params["boundary"]
}

// readMultipart reads the fields token and data of a multipart body with the
// given boundary. A part cut off by the end of the body (no closing
// delimiter) keeps what it holds; a part that cannot be read ends the
// reading, and what was read so far is kept. found is false when no part
// named token was read: then the body is not multipart with this boundary,
// or not a callback.
func readMultipart(body []byte, boundary string) (tokens, data []string, found bool) {
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		part, err := mr.NextPart()
		if err != nil {
			break // what was read so far is kept
		}
		name := part.FormName()
		if name == "" {
			// Lenient: a name under any disposition.
			_, dp, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
			name = dp["name"]
		}
		if name != "token" && name != "data" {
			continue
		}
		value, err := io.ReadAll(part)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if name == "token" {
			tokens = append(tokens, string(value))
		} else {
			data = append(data, string(value))
		}
		if err != nil {
			break // the body ended inside this part
		}
	}
	return tokens, data, len(tokens) > 0
}

// jsonFields reads a body whose first JSON value is an object holding a
// token field; what follows that value (a newline, a second object, any
// bytes) is ignored. Keys match in any case, as encoding/json matches them,
// and every copy of a repeated key is kept, as in a form. A token is a
// string's content, or a number's or other value's text (null is empty);
// data is a string's content or any other value's text. An object broken
// after its token field keeps what was read before the break. found is false
// when the body is not such an object.
func jsonFields(body []byte) (tokens, data []string, found bool) {
	body = bytes.TrimLeft(body, " \t\r\n")
	if len(body) == 0 || body[0] != '{' {
		return nil, nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if _, err := dec.Token(); err != nil { // the opening brace
		return nil, nil, false
	}
	for dec.More() {
		t, err := dec.Token()
		key, ok := t.(string)
		if err != nil || !ok {
			break
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			break
		}
		switch {
		case strings.EqualFold(key, "token"):
			tokens = append(tokens, jsonText(value))
		case strings.EqualFold(key, "data"):
			if s, kind := scalarText(value); kind == kindString {
				data = append(data, s)
			} else {
				data = append(data, string(value))
			}
		}
	}
	return tokens, data, len(tokens) > 0
}

// jsonText is a string's content, a scalar's text, an object's or array's
// JSON text, or "" for null.
func jsonText(value json.RawMessage) string {
	s, kind := scalarText(value)
	if kind == kindObject || kind == kindArray {
		return string(bytes.TrimSpace(value))
	}
	return s
}

// formFields reads the fields token and data of a form-encoded body
// leniently: pairs are split on '&' only, and a '%' that starts no valid
// escape is kept as sent, where url.ParseQuery would drop the whole pair.
func formFields(body []byte) (tokens, data []string) {
	for len(body) > 0 {
		var pair []byte
		if i := bytes.IndexByte(body, '&'); i >= 0 {
			pair, body = body[:i], body[i+1:]
		} else {
			pair, body = body, nil
		}
		key, value, _ := bytes.Cut(pair, []byte("="))
		switch formUnescape(key) {
		case "token":
			tokens = append(tokens, formUnescape(value))
		case "data":
			data = append(data, formUnescape(value))
		}
	}
	return tokens, data
}

// formUnescape decodes '+' and %XX escapes; an invalid escape is kept.
func formUnescape(b []byte) string {
	if bytes.IndexByte(b, '%') < 0 && bytes.IndexByte(b, '+') < 0 {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '+':
			out = append(out, ' ')
		case c == '%' && i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]):
			out = append(out, unhex(b[i+1])<<4|unhex(b[i+2]))
			i += 2
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// eventFromData decodes the values of a callback's data field: the first
// one, noting a missing or repeated field.
func eventFromData(data []string) Event {
	if len(data) == 0 {
		return Event{Problems: []string{"data: missing"}}
	}
	ev := decodeEvent(data[0])
	if len(data) > 1 {
		ev.Problems = append(ev.Problems, fmt.Sprintf("data: sent %d times, the first is used", len(data)))
	}
	return ev
}

// decodeEvent decodes a callback's data field field by field: a field of an
// unexpected type is noted in Problems and does not lose the others.
func decodeEvent(data string) Event {
	ev := Event{Raw: data}
	trimmed := strings.TrimSpace(data)
	switch {
	case trimmed == "":
		ev.Problems = []string{"data: empty"}
		return ev
	case trimmed[0] != '{':
		if json.Valid([]byte(trimmed)) {
			ev.Problems = []string{"data: not a JSON object"}
		} else {
			ev.Problems = []string{"data: not valid JSON"}
		}
		return ev
	}
	var w wireEvent
	if err := json.Unmarshal([]byte(trimmed), &w); err != nil {
		// Every field type accepts any value: the JSON itself is broken.
		ev.Problems = []string{"data: not valid JSON"}
		return ev
	}
	w.fill(&ev)
	return ev
}

// wireEvent decodes the data object in one pass. Every field type accepts
// any JSON value and keeps a problem instead of failing, so that a field of
// the wrong type does not stop the others from decoding.
type wireEvent struct {
	AgentID            wireInt    `json:"agent_id"`
	AgentName          wireString `json:"agent_name"`
	KYCStatus          wireStatus `json:"kyc_status"`
	RejectedReasonCode wireInt    `json:"rejected_reason_code"`
	RejectedReason     wireString `json:"rejected_reason"`
	CreatedAt          wireTime   `json:"created_at"`
	UpdatedAt          wireTime   `json:"updated_at"`
	SubmittedAt        wireTime   `json:"submitted_at"`
	VerifiedAt         wireTime   `json:"verified_at"`
}

func (w *wireEvent) fill(ev *Event) {
	note := func(field, problem string) {
		if problem != "" {
			ev.Problems = append(ev.Problems, field+": "+problem)
		}
	}
	ev.AgentID = w.AgentID.v
	note("agent_id", w.AgentID.problem)
	if w.AgentID.problem == "" && ev.AgentID <= 0 {
		if w.AgentID.set {
			note("agent_id", "not positive")
		} else {
			note("agent_id", "missing")
		}
	}
	ev.AgentName = w.AgentName.v
	note("agent_name", w.AgentName.problem)
	ev.KYCStatus = w.KYCStatus.v
	note("kyc_status", w.KYCStatus.problem)
	if w.KYCStatus.problem == "" && strings.TrimSpace(string(ev.KYCStatus)) == "" {
		note("kyc_status", "missing")
	}
	if c := w.RejectedReasonCode.v; c >= math.MinInt && c <= math.MaxInt {
		ev.RejectedReasonCode = RejectionCode(c)
	} else {
		note("rejected_reason_code", "out of range")
	}
	note("rejected_reason_code", w.RejectedReasonCode.problem)
	ev.RejectedReason = w.RejectedReason.v
	note("rejected_reason", w.RejectedReason.problem)
	for _, t := range []struct {
		field string
		dst   *Timestamp
		src   *wireTime
	}{
		{"created_at", &ev.CreatedAt, &w.CreatedAt}, {"updated_at", &ev.UpdatedAt, &w.UpdatedAt},
		{"submitted_at", &ev.SubmittedAt, &w.SubmittedAt}, {"verified_at", &ev.VerifiedAt, &w.VerifiedAt},
	} {
		*t.dst = t.src.v
		note(t.field, t.src.problem)
	}
}

// JSON kinds, as scalarText reports them.
const (
	kindNull = iota
	kindString
	kindNumber
	kindBool
	kindObject
	kindArray
)

// kindNames names the kinds in problems.
var kindNames = [...]string{"null", "a string", "a number", "a boolean", "an object", "an array"}

// scalarText returns the text of a JSON scalar (a string's content, a
// number's or boolean's literal, "" for null) and its kind; objects and
// arrays give "".
func scalarText(b []byte) (string, int) {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		return "", kindNull
	case b[0] == '"':
		if len(b) >= 2 && b[len(b)-1] == '"' && bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b) {
			return string(b[1 : len(b)-1]), kindString // no escapes: no second pass
		}
		// encoding/json replaces each byte of invalid UTF-8 with U+FFFD,
		// with escapes or without: one form of the text either way.
		var s string
		_ = json.Unmarshal(b, &s)
		return s, kindString
	case b[0] == '{':
		return "", kindObject
	case b[0] == '[':
		return "", kindArray
	case b[0] == 't' || b[0] == 'f':
		return string(b), kindBool
	}
	return string(b), kindNumber
}

// wireString is a string field: a string, or a number's or boolean's
// literal; null is empty.
type wireString struct {
	v       string
	problem string
}

func (s *wireString) UnmarshalJSON(b []byte) error {
	text, kind := scalarText(b)
	s.v, s.problem = text, ""
	switch {
	case kind == kindObject || kind == kindArray:
		s.problem = "want a string, got " + kindNames[kind]
	case !utf8.Valid(b):
		s.problem = invalidUTF8Problem
	}
	return nil
}

// invalidUTF8Problem notes a text field whose bytes are not valid UTF-8: the
// decoded value has U+FFFD in place of each invalid byte (as encoding/json
// decodes it, whether or not the string has escapes), so it stays the same
// through a JSON round trip; Raw keeps the bytes as received.
const invalidUTF8Problem = "not valid UTF-8; each invalid byte replaced with U+FFFD"

// wireInt is a whole number sent as a number or a string, in any form that
// denotes one: 17, "17", 17.0, "17.0", 1.7e1. Null and "" are zero.
type wireInt struct {
	v       int64
	set     bool
	problem string
}

func (n *wireInt) UnmarshalJSON(b []byte) error {
	text, kind := scalarText(b)
	text = strings.TrimSpace(text)
	*n = wireInt{set: kind != kindNull && text != ""}
	switch {
	case kind == kindObject || kind == kindArray || kind == kindBool:
		n.problem = "want a whole number, got " + kindNames[kind]
	case text == "":
	default:
		v, ok := parseWhole(text)
		if !ok {
			n.problem = "want a whole number"
		}
		n.v = v
	}
	return nil
}

// wireStatus is a KYC status: a documented name in any case, a numeric
// code, or else the text as received. A boolean, object or array is no
// status: it leaves the status empty and is noted.
type wireStatus struct {
	v       KYCStatus
	problem string
}

func (s *wireStatus) UnmarshalJSON(b []byte) error {
	text, kind := scalarText(b)
	*s = wireStatus{}
	switch {
	case kind == kindObject || kind == kindArray || kind == kindBool:
		s.problem = "want a string, got " + kindNames[kind]
		return nil
	case kind == kindNull:
		return nil
	case !utf8.Valid(b):
		s.problem = invalidUTF8Problem
	}
	trimmed := strings.TrimSpace(text)
	if n, ok := parseWhole(trimmed); ok && n >= math.MinInt32 && n <= math.MaxInt32 {
		s.v = KYCStatusFromCode(int(n))
	} else if up := KYCStatus(strings.ToUpper(trimmed)); up.Known() {
		s.v = up
	} else {
		s.v = KYCStatus(text)
	}
	return nil
}

// wireTime is a timestamp in any of Flip's layouts; text in no layout is
// kept in Raw and noted.
type wireTime struct {
	v       Timestamp
	problem string
}

func (t *wireTime) UnmarshalJSON(b []byte) error {
	text, kind := scalarText(b)
	*t = wireTime{}
	switch {
	case kind == kindObject || kind == kindArray:
		t.problem = "want a timestamp, got " + kindNames[kind]
	case strings.TrimSpace(text) == "":
	default:
		var err error
		if t.v, err = ParseTimestamp(text); err != nil {
			t.problem = "unknown timestamp layout"
		}
	}
	return nil
}

// CallbackOption configures NewCallbackHandler and NewCallbackParser. The
// parser takes only WithCallbackMaxBytes; the others concern the handler. An
// invalid option makes either constructor fail; a nil one is ignored.
type CallbackOption func(*callbackConfig) error

// callbackConfig is what the callback options set.
type callbackConfig struct {
	maxBytes    int64
	logger      *slog.Logger
	readTimeout time.Duration
}

func newCallbackConfig(opts []CallbackOption) (callbackConfig, error) {
	cfg := callbackConfig{maxBytes: DefaultCallbackMaxBytes, logger: slog.New(slog.DiscardHandler),
		readTimeout: DefaultCallbackReadTimeout}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// WithCallbackLogger makes the handler log refused callbacks and callbacks
// accepted with problems at warn level, failures of the user's function at
// error level and accepted callbacks at debug level, with the agent id and
// status, never the token, the agent's name or the raw data. Without it the
// handler is silent. A nil l is an error.
func WithCallbackLogger(l *slog.Logger) CallbackOption {
	return func(c *callbackConfig) error {
		if l == nil {
			return errors.New("WithCallbackLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithCallbackMaxBytes sets the largest body accepted (default
// DefaultCallbackMaxBytes), from 1 up to math.MaxInt64; a larger body is
// answered 413.
func WithCallbackMaxBytes(n int64) CallbackOption {
	return func(c *callbackConfig) error {
		if n < 1 {
			return fmt.Errorf("WithCallbackMaxBytes: %d, want at least 1", n)
		}
		c.maxBytes = n
		return nil
	}
}

// WithCallbackReadTimeout sets how long the handler waits for a callback's
// body, from the moment it starts reading (default
// DefaultCallbackReadTimeout); a body not received whole by then is answered
// 408 and the connection is closed. d must be positive.
func WithCallbackReadTimeout(d time.Duration) CallbackOption {
	return func(c *callbackConfig) error {
		if d <= 0 {
			return fmt.Errorf("WithCallbackReadTimeout: %v, want more than 0", d)
		}
		c.readTimeout = d
		return nil
	}
}

type callbackHandler struct {
	parser      *CallbackParser
	handle      func(context.Context, Event) error
	logger      *slog.Logger
	readTimeout time.Duration
}

// NewCallbackHandler returns an http.Handler for Flip's KYC callbacks.
//
// It reads the body (any method, any content type, as CallbackParser.Parse
// does) within its read timeout (WithCallbackReadTimeout) and checks the
// token first: a missing token is answered 401, a wrong one 403, a body over
// the limit 413, a body not received within the read timeout 408 and one
// that could not be read 400. A callback with the right token is always
// passed to handle, even when its data is missing or malformed (see
// Event.Problems and Event.Raw), and Flip gets its 200 only after handle
// returns nil: store the event there. Flip sends each callback only once, so
// a callback answered 200 and then lost is lost for good; an error from
// handle answers 500.
//
// The read timeout covers the body only: set ReadHeaderTimeout on the
// http.Server for the headers. When the server's ReadTimeout is shorter, the
// handler keeps the server's deadline. Once the body is read, the handler
// clears the read deadline, so a slow handle is not cancelled by it.
func NewCallbackHandler(token string, handle func(context.Context, Event) error, opts ...CallbackOption) (http.Handler, error) {
	parser, err := NewCallbackParser(token, opts...)
	if err != nil {
		return nil, err
	}
	if handle == nil {
		return nil, errors.New("flipkyc: NewCallbackHandler: nil handle function")
	}
	cfg, _ := newCallbackConfig(opts) // checked by NewCallbackParser
	return &callbackHandler{parser: parser, handle: handle, logger: cfg.logger, readTimeout: cfg.readTimeout}, nil
}

// ServeHTTP checks one callback, hands it to the user's function and answers.
func (h *callbackHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := h.readBody(w, r)
	var ev Event
	if err == nil {
		ev, err = h.parser.parseBody(r.Header.Get("Content-Type"), body)
	}
	if err != nil {
		h.refuse(w, r, err)
		return
	}
	if len(ev.Problems) > 0 {
		h.logger.LogAttrs(r.Context(), slog.LevelWarn, "flipkyc: callback accepted with problems",
			slog.Any("event", ev))
	}
	if err := h.handle(r.Context(), ev); err != nil {
		h.logger.LogAttrs(r.Context(), slog.LevelError, "flipkyc: callback handler failed",
			slog.Int64("agent_id", ev.AgentID), slog.String("kyc_status", flipPersonal.Text(string(ev.KYCStatus), nameForms(ev.AgentName))),
			slog.String("error", flipPersonal.Text(err.Error(), nameForms(ev.AgentName))))
		http.Error(w, "callback not stored", http.StatusInternalServerError)
		return
	}
	h.logger.LogAttrs(r.Context(), slog.LevelDebug, "flipkyc: callback accepted", slog.Any("event", ev))
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "OK")
}

// refuse answers a refused callback and logs why.
func (h *callbackHandler) refuse(w http.ResponseWriter, r *http.Request, err error) {
	var ce *CallbackError
	status := http.StatusBadRequest
	if errors.As(err, &ce) {
		status = ce.Status
	}
	if errors.Is(err, ErrMalformedCallback) {
		// The body was not read whole: the connection cannot be reused.
		w.Header().Set("Connection", "close")
	}
	h.logger.LogAttrs(r.Context(), slog.LevelWarn, "flipkyc: callback refused",
		slog.Int("status", status), slog.String("reason", err.Error()))
	http.Error(w, err.Error(), status)
}

// readBody reads the body within the handler's read timeout: by a read
// deadline on the connection where the ResponseWriter supports one, or else
// by waiting for the read no longer than the timeout.
func (h *callbackHandler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	rc := http.NewResponseController(w)
	d := h.readTimeout
	if srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server); ok && srv.ReadTimeout > 0 && srv.ReadTimeout <= d {
		d = 0 // the server's own deadline, already running, comes first
	}
	var err error
	if d > 0 {
		err = rc.SetReadDeadline(time.Now().Add(d))
	}
	if errors.Is(err, http.ErrNotSupported) {
		return h.readBodyWaiting(r)
	}
	body, err := h.parser.readBody(r)
	if err == nil {
		// The body is read: no deadline may now cut the connection (and
		// cancel the request's context) while the user's function runs.
		// net/http's HTTP/1 server clears it itself once the body ends;
		// this is for any other server behind the ResponseWriter.
		_ = rc.SetReadDeadline(time.Time{})
	}
	return body, err
}

// readBodyWaiting reads the body in another goroutine and waits for it no
// longer than the read timeout. A read still blocked then ends when the
// server closes the connection.
func (h *callbackHandler) readBodyWaiting(r *http.Request) ([]byte, error) {
	type result struct {
		body []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		body, err := h.parser.readBody(r)
		done <- result{body, err}
	}()
	timer := time.NewTimer(h.readTimeout)
	defer timer.Stop()
	select {
	case res := <-done:
		return res.body, res.err
	case <-timer.C:
		return nil, readTimedOut()
	case <-r.Context().Done():
		return nil, &CallbackError{Status: http.StatusBadRequest, Reason: "request ended before the body was read", Err: ErrMalformedCallback}
	}
}
