package redact

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Masked stands in for personal data (names, identity and phone numbers,
// e-mail addresses, birth dates, addresses) wherever a value is printed or
// kept on an error.
const Masked = "[masked]"

// Patterns of personal data that can be recognised in free text: e-mail
// addresses, and runs of six or more digits, which may be separated by single
// spaces, dashes, dots or slashes (identity numbers, phone numbers, dates).
var (
	emailPattern  = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)
	digitsPattern = regexp.MustCompile(`\+?[0-9](?:[ \-./]?[0-9]){5,}`)
)

// MinKnownLen is the shortest known value that Masker.Text replaces
// wherever it appears; shorter ones would mask ordinary words.
const MinKnownLen = 3

// MinWordLen is the shortest word of a free-text value (a name, an
// address) that ValuesAndWords lists; shorter ones are too common.
const MinWordLen = 4

// ValuesAndWords returns the personal values a call sent, for Masker.Text
// and Known: each of whole, and each of free (free text such as a name or
// an address) with its words of MinWordLen letters or more, since a reply
// may echo a part alone ("Farnsworth is not allowed" for "Zebediah
// Quixote-Farnsworth"). Words are split at spaces and, again, at any other
// character that is not a letter or digit. The list is longest first, so
// that a whole value is masked as one, and holds each value once.
func ValuesAndWords(whole []string, free ...string) []string {
	var out []string
	seen := map[string]bool{"": true}
	add := func(v string) {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	for _, v := range whole {
		add(v)
	}
	notWordRune := func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r) }
	addWord := func(w string) {
		if utf8.RuneCountInString(w) >= MinWordLen {
			add(w)
		}
	}
	for _, v := range free {
		add(v)
		for _, token := range strings.Fields(v) {
			addWord(strings.TrimFunc(token, notWordRune))
			for _, part := range strings.FieldsFunc(token, notWordRune) {
				addWord(part)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// Masker masks personal data in texts taken from an API's replies, knowing
// which JSON and form keys of that API carry personal data.
type Masker struct {
	keys           map[string]bool // lower-cased
	pair, formPair *regexp.Regexp
}

// NewMasker returns a Masker for an API whose personal data travels under
// keys (matched in any case).
func NewMasker(keys ...string) *Masker {
	m := &Masker{keys: make(map[string]bool, len(keys))}
	quoted := make([]string, 0, len(keys))
	for _, k := range keys {
		k = strings.ToLower(k)
		if !m.keys[k] {
			m.keys[k] = true
			quoted = append(quoted, regexp.QuoteMeta(k))
		}
	}
	if len(quoted) == 0 {
		return m
	}
	slices.Sort(quoted)
	alt := strings.Join(quoted, "|")
	// A personal key and its value in JSON text that may be cut short, and
	// one in form text, so that the value can be masked without decoding.
	m.pair = regexp.MustCompile(`(?i)"(` + alt + `)"\s*:\s*(?:"(?:[^"\\]|\\.)*"?|[^,}\]\s]+)`)
	m.formPair = regexp.MustCompile(`(?i)\b(` + alt + `)=[^&\s]*`)
	return m
}

// Personal reports whether key (in any case) carries personal data.
func (m *Masker) Personal(key string) bool { return m.keys[strings.ToLower(key)] }

// Text returns s with personal data replaced by [masked]: every value of
// known (the personal data the call itself sent) wherever it appears in any
// case, the values of personal keys in JSON or form text, e-mail addresses,
// and long digit runs. Text that holds none is returned unchanged. To mask
// many texts with the same known values, use Known.
func (m *Masker) Text(s string, known []string) string { return m.Known(known)(s) }

// Known returns Text with known fixed: a function that masks any number of
// texts in time linear in their length for each known value, without
// compiling a pattern for a value the text does not hold.
func (m *Masker) Known(known []string) func(string) string {
	values := KnownValues(known)
	return func(s string) string { return m.patterns(values(s)) }
}

// KnownValues returns a function that masks the known values in a text, in
// any letter case (and e-mail addresses, which a known value inside one
// would break up), but nothing recognised by pattern: for a text that also
// holds digits that are no personal data, such as a Request-ID.
func KnownValues(known []string) func(string) string {
	type value struct {
		lower, plus string // lower-cased, and with spaces written as "+"
		pattern     string
		re          *regexp.Regexp // compiled when first needed
	}
	var values []*value
	seen := map[string]bool{}
	for _, k := range known {
		if len(k) < MinKnownLen || seen[strings.ToLower(k)] {
			continue
		}
		seen[strings.ToLower(k)] = true
		v := &value{lower: strings.ToLower(k), pattern: `(?i)` + regexp.QuoteMeta(k)}
		if strings.Contains(k, " ") {
			// With spaces written as "+", as a form body writes them.
			v.plus = strings.ReplaceAll(v.lower, " ", "+")
			v.pattern = `(?i)` + strings.ReplaceAll(regexp.QuoteMeta(k), " ", `[ +]`)
		}
		values = append(values, v)
	}
	var mu sync.Mutex
	return func(s string) string {
		if len(values) > 0 {
			// E-mail addresses first: a known value inside one (a name
			// in its local part) would otherwise break it up and leave
			// the rest of the address unmasked.
			if strings.IndexByte(s, '@') >= 0 {
				s = emailPattern.ReplaceAllString(s, Masked)
			}
			lower := strings.ToLower(s)
			for _, v := range values {
				if !strings.Contains(lower, v.lower) && (v.plus == "" || !strings.Contains(lower, v.plus)) {
					// strings.ToLower can change a text's length; then
					// fall back to the pattern.
					if len(lower) == len(s) {
						continue
					}
				}
				mu.Lock()
				if v.re == nil {
					v.re = regexp.MustCompile(v.pattern)
				}
				re := v.re
				mu.Unlock()
				s = re.ReplaceAllLiteralString(s, Masked)
				lower = strings.ToLower(s)
			}
		}
		return s
	}
}

// patterns masks what is recognised without knowing the values: personal
// keys' values, e-mail addresses and long digit runs.
func (m *Masker) patterns(s string) string {
	if m.pair != nil && strings.IndexByte(s, '"') >= 0 {
		s = m.pair.ReplaceAllString(s, `"$1":"`+Masked+`"`)
	}
	if m.formPair != nil && strings.IndexByte(s, '=') >= 0 {
		s = m.formPair.ReplaceAllString(s, `$1=`+Masked)
	}
	if strings.IndexByte(s, '@') >= 0 {
		s = emailPattern.ReplaceAllString(s, Masked)
	}
	if strings.ContainsAny(s, "0123456789") {
		s = digitsPattern.ReplaceAllString(s, Masked)
	}
	return s
}

// JSON returns v, a decoded JSON value (numbers as json.Number), with the
// values of personal keys replaced by [masked], numbers that look like
// personal data masked, and every other string, keys included, passed
// through clean.
func (m *Masker) JSON(v any, clean func(string) string) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, val := range v {
			switch {
			case m.Personal(k) && val != nil:
				out[k] = Masked
			default:
				// Keys are text from the reply too: a server may put an
				// echoed value, or a secret, in one.
				out[clean(k)] = m.JSON(val, clean)
			}
		}
		return out
	case []any:
		for i, val := range v {
			v[i] = m.JSON(val, clean)
		}
		return v
	case string:
		return clean(v)
	case json.Number:
		if digitsPattern.MatchString(string(v)) {
			return Masked
		}
		return v
	}
	return v
}

// Body returns at most limit bytes of a reply body as printable text for
// an error to keep: in a JSON body the values of personal keys are masked
// and every other string goes through clean; any other body goes through
// clean whole. clean removes secrets and masks personal data.
func (m *Masker) Body(body []byte, limit int, clean func(string) string) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err == nil && !dec.More() {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if enc.Encode(m.JSON(v, clean)) == nil {
			return Excerpt(bytes.TrimSpace(b.Bytes()), limit)
		}
	}
	// Not JSON, or JSON cut short: clean the whole text before cutting it,
	// so that a value cut in two by the limit is still found.
	return Excerpt([]byte(clean(string(body))), limit)
}

// Excerpt returns at most n bytes of b as printable, valid UTF-8 text on
// one line, ending in … when it was cut.
func Excerpt(b []byte, n int) string {
	cut := len(b) > n
	if cut {
		b = b[:n]
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		switch {
		case r == utf8.RuneError && size <= 1:
			if len(b) == 0 && cut {
				break // a rune split by the cut
			}
			sb.WriteRune('\uFFFD')
		case r == '\n' || r == '\r' || r == '\t':
			sb.WriteByte(' ')
		case r < 0x20 || r == 0x7f:
			sb.WriteString(strconv.QuoteRune(r))
		default:
			sb.WriteRune(r)
		}
	}
	if cut {
		sb.WriteString("…")
	}
	return sb.String()
}
