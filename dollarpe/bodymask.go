package dollarpe

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/flipkyc/flipkyc/internal/redact"
)

// panPattern is an Indian PAN (five letters, four digits, a letter), in
// any case, recognised in free text.
var panPattern = regexp.MustCompile(`(?i)\b[A-Z]{5}[0-9]{4}[A-Z]\b`)

// maskPAN replaces every PAN in s with [masked].
func maskPAN(s string) string {
	if !strings.ContainsAny(s, "0123456789") {
		return s
	}
	return panPattern.ReplaceAllLiteralString(s, masked)
}

// structuralKeys are the keys, normalised (see normKey), whose string
// values a kept reply body shows: statuses, codes, messages, ids and
// times, which name no person. The value of every other key is masked.
//
// A list of personal keys (name, pan, address…) misses a key DollarPe or a
// proxy names otherwise (customer_name, PAN_number, fullAddress,
// document_no, selfie); a list of the keys known to be harmless cannot
// leak that way, and keeps what makes an error useful: the body's shape
// and its statuses and messages.
var structuralKeys = map[string]bool{
	"status": true, "success": true, "message": true, "msg": true, "error": true, "errors": true,
	"errcode": true, "errorcode": true, "code": true, "type": true, "event": true, "failurereason": true,
	"documenttype": true, "id": true, "customerid": true, "timestamp": true, "createdat": true,
	"updatedat": true, "countrycode": true, "kycstatus": true, "requestid": true,
}

// normKey lower-cases k and drops "_", "-" and spaces: "PAN_number" and
// "panNumber" are both "pannumber".
func normKey(k string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '_', '-', ' ':
			return -1
		}
		return r
	}, strings.ToLower(k))
}

// bodyText returns at most excerptLimit bytes of a reply body for an error
// to keep. In JSON, every key is kept (cleaned), as are booleans, nulls and
// numbers that do not look like personal data; a string is kept (cleaned)
// only under a key of structuralKeys or as a field error's message under
// "errors", and masked otherwise. A body that is not JSON, or JSON cut
// short, is cleaned whole and every quoted value of a "key": "value" pair
// whose key is not structural is masked.
func bodyText(raw []byte, clean func(string) string) string {
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err == nil && !dec.More() {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if enc.Encode(maskJSON(v, false, false, clean)) == nil {
			return redact.Excerpt(bytes.TrimSpace(b.Bytes()), excerptLimit)
		}
	}
	s := looseJSONPair.ReplaceAllStringFunc(clean(string(raw)), func(pair string) string {
		m := looseJSONPair.FindStringSubmatch(pair)
		if structuralKeys[normKey(m[1])] || m[3] == "" {
			return pair
		}
		return `"` + m[1] + `"` + m[2] + `"` + masked + `"`
	})
	return redact.Excerpt([]byte(s), excerptLimit)
}

// looseJSONPair is a "key": "value" pair in text that may not be JSON, its
// value perhaps cut short.
var looseJSONPair = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"(\s*:\s*)"((?:[^"\\]|\\.)*)"?`)

// maskJSON masks a decoded JSON value: keep says its key is structural,
// messages that it is a field's messages under "errors".
func maskJSON(v any, keep, messages bool, clean func(string) string) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, val := range v {
			nk := normKey(k)
			_, isMap := val.(map[string]any)
			childKeep := structuralKeys[nk] && !isMap
			if messages && !isMap {
				childKeep = true // a field error's messages
			}
			out[clean(k)] = maskJSON(val, childKeep, (nk == "errors" || nk == "error") && isMap, clean)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, val := range v {
			out[i] = maskJSON(val, keep, false, clean)
		}
		return out
	case string:
		if keep || v == "" {
			return clean(v)
		}
		return masked
	case json.Number:
		if clean(v.String()) != v.String() {
			return masked
		}
		return v
	}
	return v
}
