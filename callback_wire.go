package flipkyc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

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
