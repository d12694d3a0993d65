package flipkyc

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
)

// masked stands in for personal data (names, identity and phone numbers,
// e-mail addresses, birth dates, addresses) wherever a value is printed or
// kept on an error.
const masked = "[masked]"

// Patterns of personal data that can be recognised in free text: e-mail
// addresses, and runs of six or more digits, which may be separated by single
// spaces, dashes, dots or slashes (identity numbers, phone numbers, dates).
var (
	emailPattern  = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)
	digitsPattern = regexp.MustCompile(`\+?[0-9](?:[ \-./]?[0-9]){5,}`)
)

// minKnownLen is the shortest value of a call's own input that maskText
// replaces wherever it appears; shorter ones would mask ordinary words.
const minKnownLen = 3

// maskText returns s with personal data replaced by [masked]: every value
// of known (the personal data the call itself sent) wherever it appears,
// e-mail addresses, and long digit runs. Text that holds none is returned
// unchanged.
func maskText(s string, known []string) string {
	for _, k := range known {
		if len(k) >= minKnownLen && strings.Contains(s, k) {
			s = strings.ReplaceAll(s, k, masked)
		}
	}
	if strings.IndexByte(s, '@') >= 0 {
		s = emailPattern.ReplaceAllString(s, masked)
	}
	if strings.IndexAny(s, "0123456789") >= 0 {
		s = digitsPattern.ReplaceAllString(s, masked)
	}
	return s
}

// personalKeys are the JSON keys whose values are personal data in Flip's
// requests, replies and callbacks, lower-cased.
var personalKeys = map[string]bool{
	"name": true, "agent_name": true, "identity_number": true, "nik": true, "passport_number": true,
	"phone_number": true, "phone": true, "email": true, "birth_date": true, "birth_place": true,
	"address": true, "residence_address": true,
}

// maskJSON returns the text of v, a decoded JSON value, with the values of
// personal keys replaced by [masked] and every other string masked as free
// text.
func maskJSON(v any, known []string, scrub func(string) string) any {
	switch v := v.(type) {
	case map[string]any:
		for k, val := range v {
			if personalKeys[strings.ToLower(k)] && val != nil {
				v[k] = masked
				continue
			}
			v[k] = maskJSON(val, known, scrub)
		}
		return v
	case []any:
		for i, val := range v {
			v[i] = maskJSON(val, known, scrub)
		}
		return v
	case string:
		return maskText(scrub(v), known)
	case json.Number:
		if digitsPattern.MatchString(string(v)) {
			return masked
		}
		return v
	}
	return v
}

// maskBody returns at most limit bytes of a reply body as printable text,
// with secrets removed by scrub and personal data masked: in a JSON body by
// key and by pattern, in any other body by pattern and by the call's own
// input values (known). It is what errors keep of a reply.
func maskBody(body []byte, limit int, known []string, scrub func(string) string) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err == nil && !dec.More() {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if enc.Encode(maskJSON(v, known, scrub)) == nil {
			return excerpt(bytes.TrimSpace(b.Bytes()), limit)
		}
	}
	// Not JSON: mask the whole text before cutting it, so that a value cut
	// in two by the limit is still found.
	return excerpt([]byte(maskText(scrub(string(body)), known)), limit)
}
