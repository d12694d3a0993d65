package dollarpe

import (
	"bytes"
	"encoding/json"
	"strings"
)

// envelope is the union of DollarPe's reply shapes:
//
//	{"status":true,"message":"Success","data":{…}}
//	{"status":false,"message":"Bad Request","data":null,"errors":{"field":["…"]}}
//	{"success":false,"message":"Internal Server Error","errors":"…"}
//	{"status":false,"err_code":"AUTH_…","message":"…"}
type envelope struct {
	// ok is the status (or success) flag; nil when the reply has neither.
	ok      *bool
	message string
	code    string
	data    json.RawMessage
	errors  map[string][]string
}

// parseEnvelope reads a reply body as an envelope; false when it is not a
// JSON object with at least one of the envelope's fields. A null flag is
// absent; when both status and success are present, status decides. Odd types are
// tolerated: a flag written as a string or number, a code written as a
// number, errors as an object, a string or a list.
func parseEnvelope(body []byte) (envelope, bool) {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return envelope{}, false
	}
	var env envelope
	known := false
	var status, success *bool
	for k, v := range raw {
		switch strings.ToLower(k) {
		case "status", "success":
			if b, ok := flexBool(v); ok {
				if strings.EqualFold(k, "status") {
					status = &b
				} else {
					success = &b
				}
				known = true
			}
		case "message", "msg":
			env.message, known = scalarText(v), true
		case "err_code", "error_code", "code":
			env.code, known = scalarText(v), true
		case "data":
			if !bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
				env.data = v
			}
			known = true
		case "errors", "error":
			env.errors, known = flexErrors(v), true
		}
	}
	// status is DollarPe's flag; success (its 500 shape's) counts only
	// without it. A reply with both is read the same way every time.
	env.ok = status
	if env.ok == nil {
		env.ok = success
	}
	return env, known
}

// flexBool reads true/false, "true"/"false" or 1/0; null (or anything
// else) is no flag.
func flexBool(v json.RawMessage) (bool, bool) {
	if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
		return false, false
	}
	var b bool
	if json.Unmarshal(v, &b) == nil {
		return b, true
	}
	s := strings.ToLower(strings.Trim(strings.TrimSpace(string(v)), `"`))
	switch s {
	case "true", "1", "ok", "success":
		return true, true
	case "false", "0", "error", "failed":
		return false, true
	}
	return false, false
}

// scalarText returns a JSON string's value or a number's text; "" for
// anything else.
func scalarText(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(v, &n) == nil {
		return n.String()
	}
	return ""
}

// flexErrors reads errors as {field: [msgs] | msg}, a string (under "") or
// a list of strings (under "").
func flexErrors(v json.RawMessage) map[string][]string {
	var obj map[string]json.RawMessage
	if json.Unmarshal(v, &obj) == nil {
		out := make(map[string][]string, len(obj))
		for k, m := range obj {
			if msgs := messages(m); len(msgs) > 0 {
				out[k] = msgs
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	if msgs := messages(v); len(msgs) > 0 {
		return map[string][]string{"": msgs}
	}
	return nil
}

// messages reads a string, a number, or a list of them.
func messages(v json.RawMessage) []string {
	if s := scalarText(v); s != "" {
		return []string{s}
	}
	var list []json.RawMessage
	if json.Unmarshal(v, &list) != nil {
		return nil
	}
	var out []string
	for _, item := range list {
		if s := scalarText(item); s != "" {
			out = append(out, s)
		} else if t := strings.TrimSpace(string(item)); t != "" && t != "null" {
			out = append(out, t)
		}
	}
	return out
}

// fillAPIError copies env into e, every text through clean.
func (e *APIError) fill(env envelope, clean func(string) string) {
	e.Message = clip(clean(env.message))
	e.Code = clip(clean(env.code))
	if len(env.errors) > 0 {
		e.Errors = make(map[string][]string, len(env.errors))
		for k, msgs := range env.errors {
			cleaned := make([]string, len(msgs))
			for i, m := range msgs {
				cleaned[i] = clip(clean(m))
			}
			e.Errors[clip(clean(k))] = cleaned
		}
	}
}

// clip cuts a text from a reply to 512 bytes.
func clip(s string) string {
	if len(s) <= excerptLimit {
		return s
	}
	cut := excerptLimit
	for cut > 0 && s[cut]&0xc0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}

// excerptLimit is the most bytes of reply text an error keeps.
const excerptLimit = 512
