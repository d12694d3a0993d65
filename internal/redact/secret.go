// Package redact keeps secrets and personal data out of the texts the
// module's API clients print, log or keep on errors: it removes a secret in
// every form a reply may echo it, and masks personal data in free text and
// JSON.
package redact

import (
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Redacted stands in for a secret wherever one is printed.
const Redacted = "[redacted]"

// Secret is a credential (an API key, a token) that must never be printed.
// It prints as [redacted] under every fmt verb, and removes itself from
// texts in every form a server may echo it, in any letter case.
type Secret struct {
	// leaks are the texts that give a value away, lower-cased, longest
	// first: each value, and its base64, standard and URL-safe, padded and
	// not. A value echoed in another case (an upper-cased hex or UUID key)
	// still gives the credential away, so texts are compared lower-cased.
	leaks []string
}

// NewSecret returns a Secret for values: the credential and the other
// plain forms it travels in (such as "key:" for Basic auth). Empty values
// are ignored.
func NewSecret(values ...string) *Secret {
	s := &Secret{}
	seen := map[string]bool{"": true}
	add := func(form string) {
		if !seen[form] {
			seen[form] = true
			s.leaks = append(s.leaks, form)
		}
	}
	for _, plain := range values {
		if plain == "" {
			continue
		}
		add(lower(plain))
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			padded := enc.EncodeToString([]byte(plain))
			add(lower(padded))
			add(lower(strings.TrimRight(padded, "=")))
		}
	}
	slices.SortStableFunc(s.leaks, func(a, b string) int { return len(b) - len(a) })
	return s
}

// String returns [redacted].
func (*Secret) String() string { return Redacted }

// GoString returns [redacted].
func (*Secret) GoString() string { return Redacted }

// Format prints [redacted] under every verb.
func (*Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(Redacted)) }

// In reports whether text holds the secret in one of its plain or base64
// forms, in any letter case, without undoing escapes.
func (s *Secret) In(text string) bool {
	folded := lower(text)
	for _, leak := range s.leaks {
		if strings.Contains(folded, leak) {
			return true
		}
	}
	return false
}

// lower returns s with every rune lower-cased by unicode.ToLower, one rune
// for one rune (strings.ToLower may turn a rune into several), so that
// each rune of the result stands for one rune of s.
func lower(s string) string {
	return strings.Map(unicode.ToLower, s)
}

// replaceFold returns text with every occurrence of leak, a lower-cased
// text, replaced by [redacted], matching text in any letter case. Since
// lower-casing changes the length of some runes (KELVIN SIGN becomes k),
// matches are found in the lower-cased text and mapped back rune by rune.
func replaceFold(text, leak string) string {
	folded := lower(text)
	if !strings.Contains(folded, leak) {
		return text
	}
	// origin[i] is the offset in text of the rune that gave folded[i];
	// origin[len(folded)] is len(text).
	origin := make([]int, 0, len(folded)+1)
	for i, r := range text {
		// An invalid byte comes as U+FFFD, which lower writes too.
		for range utf8.RuneLen(unicode.ToLower(r)) {
			origin = append(origin, i)
		}
	}
	origin = append(origin, len(text))
	var b strings.Builder
	done := 0 // bytes of text written or replaced
	for at := 0; ; {
		j := strings.Index(folded[at:], leak)
		if j < 0 {
			break
		}
		start, end := at+j, at+j+len(leak)
		b.WriteString(text[done:origin[start]])
		b.WriteString(Redacted)
		done, at = origin[end], end
	}
	b.WriteString(text[done:])
	return b.String()
}

// Scrub returns text with every form of the secret replaced by [redacted],
// in any letter case, also where text writes it escaped (JSON \u0041 or \x41, \/, percent
// encoding, HTML character references) or wrapped over lines. Such text is
// returned unescaped; text without the secret is returned unchanged.
func (s *Secret) Scrub(text string) string {
	if !s.In(text) {
		u := Unescape(text)
		if !s.In(u) {
			// Base64 wrapped over lines, as MIME writes it.
			if u = strings.Join(strings.Fields(u), ""); !s.In(u) {
				return text
			}
		}
		text = u
	}
	for _, leak := range s.leaks {
		text = replaceFold(text, leak)
	}
	return text
}

// ScrubHeader returns h, or a copy of it with the secret redacted from the
// values that give it away (a server echoing the Authorization header).
func (s *Secret) ScrubHeader(h http.Header) http.Header {
	var out http.Header
	for name, values := range h {
		for i, v := range values {
			if clean := s.Scrub(v); clean != v {
				if out == nil {
					out = h.Clone()
				}
				out[name][i] = clean
			}
		}
	}
	if out == nil {
		return h
	}
	return out
}

// ScrubError returns err, or, when err's text gives the secret away (a
// transport quoting a hostile reply or header), an error with the secret
// redacted that still matches what err matched with errors.Is.
func (s *Secret) ScrubError(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if clean := s.Scrub(msg); clean != msg {
		return &scrubbedError{msg: clean, err: err}
	}
	return err
}

// scrubbedError is an error whose text had a secret removed. It does not
// unwrap, since the error under it would give the secret back, but it
// answers errors.Is for it.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }

func (e *scrubbedError) Is(target error) bool { return errors.Is(e.err, target) }

// Unescape undoes, a few rounds deep, the escapes a reply may wrap around
// an echoed value: JSON string escapes, percent-encoding and HTML character
// references.
func Unescape(s string) string {
	for range 3 {
		u := html.UnescapeString(percentDecode(jsonUnescape(s)))
		if u == s {
			break
		}
		s = u
	}
	return s
}

// jsonUnescape decodes the backslash escapes of JSON strings wherever they
// appear in s, leaving anything else as it is.
func jsonUnescape(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch c := s[i+1]; c {
		case '"', '\\', '/':
			b.WriteByte(c)
			i++
		case 'b', 'f', 'n', 'r', 't':
			b.WriteByte(' ')
			i++
		case 'x':
			if i+3 < len(s) {
				if n, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
					b.WriteByte(byte(n))
					i += 3
					continue
				}
			}
			b.WriteByte(s[i])
		case 'u':
			r, n := decodeUEscape(s[i:])
			if n == 0 {
				b.WriteByte(s[i])
				continue
			}
			b.WriteRune(r)
			i += n - 1
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// decodeUEscape reads \uXXXX (and a following low surrogate) at the start of
// s, returning the rune and the bytes used, or 0 bytes when s does not start
// with one.
func decodeUEscape(s string) (rune, int) {
	hex4 := func(t string) (rune, bool) {
		if len(t) < 6 || t[0] != '\\' || t[1] != 'u' {
			return 0, false
		}
		n, err := strconv.ParseUint(t[2:6], 16, 16)
		return rune(n), err == nil
	}
	r, ok := hex4(s)
	if !ok {
		return 0, 0
	}
	if utf16.IsSurrogate(r) {
		if r2, ok := hex4(s[6:]); ok {
			if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
				return d, 12
			}
		}
	}
	return r, 6
}

// percentDecode decodes every valid %XX in s and leaves the rest, including
// a lone %, as it is.
func percentDecode(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(n))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
