package dollarpe

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxCanonicalDepth bounds the nesting of a body Canonicalize accepts.
const maxCanonicalDepth = 512

// Canonicalize returns the canonical form of the JSON document body, the
// bytes DollarPe signs: what Python's
// json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
// writes. Object keys are sorted by code point at every level (a repeated
// key keeps its last value, as in Python), there is no whitespace, every
// character outside printable ASCII is written as a lowercase \uXXXX
// escape (a surrogate pair above U+FFFF), '&', '<', '>' and '/' are written
// as they are, and \n \r \t \b \f keep their short escapes.
//
// Integers (numbers without a fraction or exponent) are kept as written,
// whatever their size, except that -0 becomes 0. Other numbers are read as
// IEEE-754 doubles and written as Python's repr writes them, so 1.50
// becomes 1.5, 1E5 becomes 100000.0 and 1e-7 becomes 1e-07; a number too
// large for a double is refused. DollarPe's amounts are strings, which are
// never touched. A leading UTF-8 byte order mark is ignored. Input that is
// not JSON, not UTF-8, or nested deeper than 512 levels is refused.
func Canonicalize(body []byte) ([]byte, error) {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	p := parser{in: body}
	p.skipSpace()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.in) {
		return nil, p.errorf("data after the JSON value")
	}
	out := make([]byte, 0, len(body))
	return v.appendTo(out), nil
}

// Sign returns the X-SIGNATURE DollarPe expects for a request or webhook:
// Base64(HMAC-SHA256(secret, apiKey + "|" + timestamp + "|" + canonicalBody)),
// where timestamp is the X-TIMESTAMP value (Unix seconds) and
// canonicalBody comes from Canonicalize ("{}" for a GET).
func Sign(apiKey, secret string, timestamp int64, canonicalBody []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(apiKey))
	mac.Write([]byte{'|'})
	mac.Write(strconv.AppendInt(nil, timestamp, 10))
	mac.Write([]byte{'|'})
	mac.Write(canonicalBody)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// jsonValue is a parsed JSON value, ready to be written canonically.
type jsonValue struct {
	kind    byte   // 'o' object, 'a' array, 's' string, 'n' number, 'l' literal
	text    string // a string's value (WTF-8: lone surrogates kept), a number's or literal's canonical text
	members []jsonMember
	items   []jsonValue
}

type jsonMember struct {
	key   string
	value jsonValue
}

func (v *jsonValue) appendTo(out []byte) []byte {
	switch v.kind {
	case 'o':
		out = append(out, '{')
		for i := range v.members {
			if i > 0 {
				out = append(out, ',')
			}
			out = appendString(out, v.members[i].key)
			out = append(out, ':')
			out = v.members[i].value.appendTo(out)
		}
		return append(out, '}')
	case 'a':
		out = append(out, '[')
		for i := range v.items {
			if i > 0 {
				out = append(out, ',')
			}
			out = v.items[i].appendTo(out)
		}
		return append(out, ']')
	case 's':
		return appendString(out, v.text)
	}
	return append(out, v.text...)
}

const hexDigits = "0123456789abcdef"

// appendString writes s as Python's json.dumps does with ensure_ascii.
func appendString(out []byte, s string) []byte {
	out = append(out, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch c {
			case '"':
				out = append(out, '\\', '"')
			case '\\':
				out = append(out, '\\', '\\')
			case '\n':
				out = append(out, '\\', 'n')
			case '\r':
				out = append(out, '\\', 'r')
			case '\t':
				out = append(out, '\\', 't')
			case '\b':
				out = append(out, '\\', 'b')
			case '\f':
				out = append(out, '\\', 'f')
			default:
				if c < 0x20 || c == 0x7f {
					out = appendU(out, rune(c))
				} else {
					out = append(out, c)
				}
			}
			continue
		}
		r, size := decodeWTF8(s[i:])
		i += size
		if r >= 0x10000 {
			hi, lo := utf16.EncodeRune(r)
			out = appendU(appendU(out, hi), lo)
		} else {
			out = appendU(out, r)
		}
	}
	return append(out, '"')
}

func appendU(out []byte, r rune) []byte {
	return append(out, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// decodeWTF8 decodes one code point from s, accepting the three-byte forms
// of surrogates that the parser stores for lone \uD800-\uDFFF escapes.
func decodeWTF8(s string) (rune, int) {
	if len(s) >= 3 && s[0] == 0xed && s[1] >= 0xa0 && s[1] <= 0xbf && s[2] >= 0x80 && s[2] <= 0xbf {
		return rune(s[0]&0x0f)<<12 | rune(s[1]&0x3f)<<6 | rune(s[2]&0x3f), 3
	}
	return utf8.DecodeRuneInString(s)
}

// appendWTF8 writes r, a surrogate included, in UTF-8's three-byte form.
func appendWTF8(b []byte, r rune) []byte {
	if utf16.IsSurrogate(r) {
		return append(b, 0xed, byte(0x80|(r>>6)&0x3f), byte(0x80|r&0x3f))
	}
	return utf8.AppendRune(b, r)
}

// parser reads JSON as Python's json.loads does (strict: no control
// characters in strings, no NaN or Infinity).
type parser struct {
	in  []byte
	pos int
}

// SyntaxError reports a body that Canonicalize could not read; it never
// quotes the body.
type SyntaxError struct {
	// Offset is the byte offset of the problem in the body.
	Offset int
	msg    string
}

// Error describes the problem and where it is, without quoting the body.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("dollarpe: invalid JSON at byte %d: %s", e.Offset, e.msg)
}

func (p *parser) errorf(format string, args ...any) error {
	return &SyntaxError{Offset: p.pos, msg: fmt.Sprintf(format, args...)}
}

func (p *parser) skipSpace() {
	for p.pos < len(p.in) {
		switch p.in[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (jsonValue, error) {
	if depth > maxCanonicalDepth {
		return jsonValue{}, p.errorf("nested more than %d levels", maxCanonicalDepth)
	}
	if p.pos >= len(p.in) {
		return jsonValue{}, p.errorf("unexpected end of input")
	}
	switch c := p.in[p.pos]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		s, err := p.str()
		return jsonValue{kind: 's', text: s}, err
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		for _, lit := range []string{"true", "false", "null"} {
			if bytes.HasPrefix(p.in[p.pos:], []byte(lit)) {
				p.pos += len(lit)
				return jsonValue{kind: 'l', text: lit}, nil
			}
		}
		return jsonValue{}, p.errorf("unexpected character")
	}
}

func (p *parser) object(depth int) (jsonValue, error) {
	p.pos++ // {
	v := jsonValue{kind: 'o'}
	p.skipSpace()
	if p.pos < len(p.in) && p.in[p.pos] == '}' {
		p.pos++
		return v, nil
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.in) || p.in[p.pos] != '"' {
			return v, p.errorf("expected an object key")
		}
		key, err := p.str()
		if err != nil {
			return v, err
		}
		p.skipSpace()
		if p.pos >= len(p.in) || p.in[p.pos] != ':' {
			return v, p.errorf("expected ':'")
		}
		p.pos++
		p.skipSpace()
		val, err := p.value(depth + 1)
		if err != nil {
			return v, err
		}
		v.members = append(v.members, jsonMember{key: key, value: val})
		p.skipSpace()
		if p.pos >= len(p.in) {
			return v, p.errorf("unexpected end of input in an object")
		}
		if p.in[p.pos] == '}' {
			p.pos++
			break
		}
		if p.in[p.pos] != ',' {
			return v, p.errorf("expected ',' or '}'")
		}
		p.pos++
	}
	// Sort by key, keeping the last of repeated keys, as a Python dict does.
	slices.SortStableFunc(v.members, func(a, b jsonMember) int { return strings.Compare(a.key, b.key) })
	out := v.members[:0]
	for i, m := range v.members {
		if i+1 < len(v.members) && v.members[i+1].key == m.key {
			continue
		}
		out = append(out, m)
	}
	v.members = out
	return v, nil
}

func (p *parser) array(depth int) (jsonValue, error) {
	p.pos++ // [
	v := jsonValue{kind: 'a'}
	p.skipSpace()
	if p.pos < len(p.in) && p.in[p.pos] == ']' {
		p.pos++
		return v, nil
	}
	for {
		p.skipSpace()
		item, err := p.value(depth + 1)
		if err != nil {
			return v, err
		}
		v.items = append(v.items, item)
		p.skipSpace()
		if p.pos >= len(p.in) {
			return v, p.errorf("unexpected end of input in an array")
		}
		if p.in[p.pos] == ']' {
			p.pos++
			return v, nil
		}
		if p.in[p.pos] != ',' {
			return v, p.errorf("expected ',' or ']'")
		}
		p.pos++
	}
}

// str reads a string, returning its value; lone surrogate escapes are kept
// in WTF-8 so that they are written back as they came.
func (p *parser) str() (string, error) {
	p.pos++ // "
	var b []byte
	start := p.pos
	for {
		if p.pos >= len(p.in) {
			return "", p.errorf("unterminated string")
		}
		c := p.in[p.pos]
		switch {
		case c == '"':
			b = append(b, p.in[start:p.pos]...)
			p.pos++
			return string(b), nil
		case c < 0x20:
			return "", p.errorf("control character in a string")
		case c == '\\':
			b = append(b, p.in[start:p.pos]...)
			var err error
			if b, err = p.escape(b); err != nil {
				return "", err
			}
			start = p.pos
		case c < utf8.RuneSelf:
			p.pos++
		default:
			r, size := utf8.DecodeRune(p.in[p.pos:])
			if r == utf8.RuneError && size <= 1 {
				return "", p.errorf("invalid UTF-8")
			}
			p.pos += size
		}
	}
}

func (p *parser) escape(b []byte) ([]byte, error) {
	if p.pos+1 >= len(p.in) {
		return b, p.errorf("unterminated escape")
	}
	c := p.in[p.pos+1]
	p.pos += 2
	switch c {
	case '"', '\\', '/':
		return append(b, c), nil
	case 'b':
		return append(b, '\b'), nil
	case 'f':
		return append(b, '\f'), nil
	case 'n':
		return append(b, '\n'), nil
	case 'r':
		return append(b, '\r'), nil
	case 't':
		return append(b, '\t'), nil
	case 'u':
		r, ok := p.hex4()
		if !ok {
			return b, p.errorf("invalid \\u escape")
		}
		if utf16.IsSurrogate(r) && r < 0xdc00 && p.pos+1 < len(p.in) && p.in[p.pos] == '\\' && p.in[p.pos+1] == 'u' {
			save := p.pos
			p.pos += 2
			if r2, ok := p.hex4(); ok && r2 >= 0xdc00 && r2 <= 0xdfff {
				return utf8.AppendRune(b, utf16.DecodeRune(r, r2)), nil
			}
			p.pos = save
		}
		return appendWTF8(b, r), nil
	}
	p.pos--
	return b, p.errorf("invalid escape")
}

func (p *parser) hex4() (rune, bool) {
	if p.pos+4 > len(p.in) {
		return 0, false
	}
	var r rune
	for _, c := range p.in[p.pos : p.pos+4] {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	p.pos += 4
	return r, true
}

// number reads a JSON number and returns it in Python's canonical form.
func (p *parser) number() (jsonValue, error) {
	start := p.pos
	isFloat := false
	if p.in[p.pos] == '-' {
		p.pos++
	}
	digits := func() int {
		n := 0
		for p.pos < len(p.in) && p.in[p.pos] >= '0' && p.in[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	intStart := p.pos
	switch n := digits(); {
	case n == 0:
		return jsonValue{}, p.errorf("invalid number")
	case n > 1 && p.in[intStart] == '0':
		return jsonValue{}, p.errorf("number with a leading zero")
	}
	if p.pos < len(p.in) && p.in[p.pos] == '.' {
		isFloat = true
		p.pos++
		if digits() == 0 {
			return jsonValue{}, p.errorf("invalid number")
		}
	}
	if p.pos < len(p.in) && (p.in[p.pos] == 'e' || p.in[p.pos] == 'E') {
		isFloat = true
		p.pos++
		if p.pos < len(p.in) && (p.in[p.pos] == '+' || p.in[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return jsonValue{}, p.errorf("invalid number")
		}
	}
	text := string(p.in[start:p.pos])
	if !isFloat {
		if text == "-0" {
			text = "0"
		}
		return jsonValue{kind: 'n', text: text}, nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		p.pos = start
		return jsonValue{}, p.errorf("number out of range for a double")
	}
	return jsonValue{kind: 'n', text: pythonFloat(f)}, nil
}

// pythonFloat writes f as Python's repr(float) does: the shortest digits
// that read back as f, in fixed notation when the decimal exponent is
// between -4 and 15 (with ".0" for a whole number), else as d.ddde±XX.
func pythonFloat(f float64) string {
	e := strconv.FormatFloat(f, 'e', -1, 64) // -d.ddde±XX
	neg := strings.HasPrefix(e, "-")
	e = strings.TrimPrefix(e, "-")
	mant, expText, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expText)
	digits := strings.Replace(mant, ".", "", 1)
	decpt := exp + 1 // value = 0.digits × 10^decpt
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	switch {
	case decpt <= -4 || decpt > 16:
		b.WriteString(mant)
		b.WriteByte('e')
		if exp < 0 {
			b.WriteByte('-')
			exp = -exp
		} else {
			b.WriteByte('+')
		}
		if exp < 10 {
			b.WriteByte('0')
		}
		b.WriteString(strconv.Itoa(exp))
	case decpt <= 0:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -decpt))
		b.WriteString(digits)
	case decpt < len(digits):
		b.WriteString(digits[:decpt])
		b.WriteByte('.')
		b.WriteString(digits[decpt:])
	default:
		b.WriteString(digits)
		b.WriteString(strings.Repeat("0", decpt-len(digits)))
		b.WriteString(".0")
	}
	return b.String()
}
