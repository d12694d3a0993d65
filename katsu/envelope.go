package katsu

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
)

// envelope is Katsu's reply envelope {succeeded, message, errors, data},
// read leniently; an ASP.NET problem-details reply {title, detail, status,
// errors: {field: [texts]}} is read into the same fields.
type envelope struct {
	succeeded *bool
	message   string
	errors    []string
	data      json.RawMessage
	// fields holds every member of the reply by its lower-cased name, for
	// pagination given beside data.
	fields map[string]json.RawMessage
}

// errNotEnvelope is parseEnvelope's error for a JSON object with none of
// the envelope's members.
var errNotEnvelope = errors.New("not Katsu's reply envelope")

// parseEnvelope reads raw as the envelope. It fails when raw is not a JSON
// object or has none of succeeded, message, errors, data, title.
func parseEnvelope(raw []byte) (envelope, error) {
	var env envelope
	raw = bytes.TrimSpace(bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf")))
	if len(raw) == 0 {
		return env, errors.New("empty body")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return env, err
	}
	if obj == nil {
		return env, errNotEnvelope
	}
	env.fields = make(map[string]json.RawMessage, len(obj))
	for k, v := range obj {
		env.fields[strings.ToLower(k)] = v
	}
	f := env.fields
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
	if d := textOf(f["detail"]); d != "" {
		env.errors = append(env.errors, d)
	}
	env.errors = append(env.errors, errorTexts(f["errors"])...)
	if v, ok := f["data"]; ok && !isNull(v) {
		env.data = v
	}
	return env, nil
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

// errorTexts reads the envelope's errors: a list of strings (or of objects
// with a message), a single string, or ASP.NET's {field: [texts]}.
func errorTexts(v json.RawMessage) []string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return nil
	}
	switch v[0] {
	case '[':
		var list []json.RawMessage
		if json.Unmarshal(v, &list) != nil {
			return nil
		}
		var out []string
		for _, item := range list {
			if t := textOf(item); t != "" {
				out = append(out, t)
			} else if t := objectMessage(item); t != "" {
				out = append(out, t)
			}
		}
		return out
	case '{':
		var m map[string]json.RawMessage
		if json.Unmarshal(v, &m) != nil {
			return nil
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var out []string
		for _, k := range keys {
			for _, t := range errorTexts(m[k]) {
				if k == "" {
					out = append(out, t)
				} else {
					out = append(out, k+": "+t)
				}
			}
		}
		return out
	default:
		if t := textOf(v); t != "" {
			return []string{t}
		}
	}
	return nil
}

// objectMessage returns the text of an error object such as
// {"code": "X", "message": "…"} or {"description": "…"}.
func objectMessage(v json.RawMessage) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(v, &m) != nil {
		return ""
	}
	for k, val := range m {
		switch strings.ToLower(k) {
		case "message", "description", "errormessage", "detail":
			if t := textOf(val); t != "" {
				return t
			}
		}
	}
	return ""
}
