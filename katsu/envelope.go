package katsu

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
)

// envelope is Katsu's reply envelope {succeeded, message, errors, data},
// read leniently; an ASP.NET problem-details reply {title, detail, status,
// errors: {field: [texts]}} is read into the same fields. Members are found
// in any case; when a reply gives a member twice, in the same or another
// case, the last one in the reply wins, as encoding/json does.
type envelope struct {
	succeeded *bool
	message   string
	// errors are the first maxErrorEntries error texts, as the reply gives
	// them (not yet cleaned); moreErrors counts the others.
	errors     []errorEntry
	moreErrors int
	data       json.RawMessage
	// fields holds every member of the reply by its lower-cased name, for
	// pagination given beside data.
	fields map[string]json.RawMessage
}

// errorEntry is one error text of a reply, with the keys of the objects
// that hold it (ASP.NET's field names), outermost first.
type errorEntry struct {
	keys []string
	text string
}

// String returns the entry as "key: text", uncleaned.
func (e errorEntry) String() string { return strings.Join(append(slices.Clone(e.keys), e.text), ": ") }

// Limits on what a reply's errors member can make the client keep: the
// first maxErrorEntries texts, found at most maxErrorDepth levels down; the
// rest are only counted.
const (
	maxErrorEntries = 20
	maxErrorDepth   = 8
)

// errNotEnvelope is parseEnvelope's error for a JSON object with none of
// the envelope's members.
var errNotEnvelope = errors.New("not Katsu's reply envelope")

// parseEnvelope reads raw as the envelope. It fails when raw is not a JSON
// object or has none of succeeded, message, errors, data, title. Every part
// of raw is parsed a bounded number of times, so the work is linear in its
// length however it nests.
func parseEnvelope(raw []byte) (envelope, error) {
	var env envelope
	raw = bytes.TrimSpace(bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf")))
	if len(raw) == 0 {
		return env, errors.New("empty body")
	}
	f, err := objectFields(raw)
	if err != nil {
		return env, err
	}
	env.fields = f
	_, hasSucceeded := f["succeeded"]
	_, hasMessage := f["message"]
	_, hasErrors := f["errors"]
	_, hasData := f["data"]
	_, hasTitle := f["title"]
	if !hasSucceeded && !hasMessage && !hasErrors && !hasData && !hasTitle {
		return env, errNotEnvelope
	}
	if v, ok := f["succeeded"]; ok {
		var b lenientBool
		if b.UnmarshalJSON(v) == nil && !isNull(v) {
			s := bool(b)
			env.succeeded = &s
		}
	}
	env.message = textOf(f["message"])
	if env.message == "" {
		env.message = textOf(f["title"])
	}
	var w errorWalk
	if d := textOf(f["detail"]); d != "" {
		w.add(nil, d, 0)
	}
	if v := bytes.TrimSpace(f["errors"]); len(v) > 0 {
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.UseNumber()
		var tree any
		if dec.Decode(&tree) == nil {
			w.walk(tree, nil, 0)
		}
	}
	env.errors, env.moreErrors = w.entries, w.more
	if v, ok := f["data"]; ok && !isNull(v) {
		env.data = v
	}
	return env, nil
}

// objectFields reads raw, a JSON object, into its members by lower-cased
// name; of members whose names differ only in case the last wins. It fails
// when raw is not an object (null included).
func objectFields(raw []byte) (map[string]json.RawMessage, error) {
	if !json.Valid(raw) {
		var v any
		return nil, json.Unmarshal(raw, &v) // the decoder's explanation
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errNotEnvelope
	}
	fields := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		fields[strings.ToLower(key)] = v
	}
	return fields, nil
}

// isNull reports whether v is JSON null.
func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

// textOf returns a JSON string, number or boolean as text; "" otherwise.
func textOf(v json.RawMessage) string {
	var s lenientString
	if len(v) == 0 || s.UnmarshalJSON(v) != nil {
		return ""
	}
	return string(s)
}

// errorWalk collects the texts of the envelope's errors in one pass over
// the decoded member: a list of strings (or of objects with a message), a
// single string, or ASP.NET's {field: [texts]}, nested or not.
type errorWalk struct {
	entries []errorEntry
	more    int
}

// add keeps text, found under keys at depth, or counts it.
func (w *errorWalk) add(keys []string, text string, depth int) {
	switch {
	case text == "":
	case len(w.entries) < maxErrorEntries && depth <= maxErrorDepth:
		w.entries = append(w.entries, errorEntry{keys: slices.Clone(keys), text: text})
	default:
		w.more++
	}
}

// walk visits v, found under keys at depth, once.
func (w *errorWalk) walk(v any, keys []string, depth int) {
	switch v := v.(type) {
	case []any:
		for _, item := range v {
			if obj, ok := item.(map[string]any); ok {
				w.add(keys, objectMessage(obj), depth+1)
			} else {
				w.add(keys, scalarText(item), depth+1)
			}
		}
	case map[string]any:
		names := make([]string, 0, len(v))
		for k := range v {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, k := range names {
			inner := keys
			if k != "" && len(keys) < maxErrorDepth {
				inner = append(keys[:len(keys):len(keys)], k)
			}
			w.walk(v[k], inner, depth+1)
		}
	default:
		w.add(keys, scalarText(v), depth)
	}
}

// scalarText returns a decoded JSON string, number or boolean as text; ""
// otherwise.
func scalarText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return string(v)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

// messageKeys are the members an error object such as {"code": "X",
// "message": "…"} gives its text in, by preference.
var messageKeys = []string{"message", "description", "errormessage", "detail"}

// objectMessage returns the text of an error object; of members whose
// names differ only in case, the first in sorted order is read.
func objectMessage(obj map[string]any) string {
	names := make([]string, 0, len(obj))
	for k := range obj {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, want := range messageKeys {
		for _, k := range names {
			if strings.EqualFold(k, want) {
				if t := scalarText(obj[k]); t != "" {
					return t
				}
			}
		}
	}
	return ""
}
