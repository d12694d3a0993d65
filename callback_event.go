package flipkyc

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

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
