package flipkyc

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// fieldErrors collects the rules that input breaks, field by field, so one
// *ValidationError can report all of them at once.
type fieldErrors []FieldError

func (v *fieldErrors) add(field, rule string) { *v = append(*v, FieldError{Field: field, Rule: rule}) }

// err returns the collected failures as a *ValidationError, or nil.
func (v fieldErrors) err(op string) error {
	if len(v) == 0 {
		return nil
	}
	return &ValidationError{Op: op, Fields: v}
}

// text checks a free-text field: valid UTF-8 without control characters or
// surrounding spaces, and at most max characters. An empty value is reported
// only when required.
func (v *fieldErrors) text(field, s string, required bool, max int) {
	switch {
	case s == "":
		if required {
			v.add(field, "is required")
		}
	case !utf8.ValidString(s):
		v.add(field, "must be valid UTF-8")
	case strings.IndexFunc(s, unsafeRune) >= 0:
		v.add(field, "must not contain control or text-direction characters")
	case strings.TrimSpace(s) != s:
		v.add(field, "must not start or end with spaces")
	case utf8.RuneCountInString(s) > max:
		v.add(field, fmt.Sprintf("must be at most %d characters", max))
	}
}

// unsafeRune reports whether r is a control character or one of the Unicode
// marks, embeddings, overrides and isolates that change text direction,
// which can make a name display as something else.
func unsafeRune(r rune) bool {
	switch {
	case unicode.IsControl(r):
		return true
	case r == '\u061c', r == '\u200e', r == '\u200f', r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}

// addressChar reports whether c is in the character set Flip documents for
// addresses, ^[a-zA-Z0-9\s.\-/()]+$.
func addressChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte(" \t\n\r\f\v.-/()", c) >= 0
}

// address checks an address: 10 to 300 characters of letters, digits,
// white space, '.', '-', '/', '(' and ')'.
func (v *fieldErrors) address(field, s string, required bool) {
	if s == "" {
		if required {
			v.add(field, "is required")
		}
		return
	}
	for i := 0; i < len(s); i++ {
		if !addressChar(s[i]) {
			v.add(field, "may contain only letters A-Z, digits, spaces and . - / ( )")
			return
		}
	}
	if n := len(s); n < 10 || n > 300 {
		v.add(field, "must be 10 to 300 characters, is "+groupDigits(int64(n)))
	}
}

// phone checks a phone number by Flip's documented rules: a leading 0 and 8
// to 24 characters, or a leading + and 10 to 26 characters. Which characters
// may follow is Flip's to check; the SDK refuses only control characters and
// surrounding spaces, as for every text field.
func (v *fieldErrors) phone(field, s string, required bool) {
	n := utf8.RuneCountInString(s)
	switch {
	case s == "":
		if required {
			v.add(field, "is required")
		}
	case strings.IndexFunc(s, unsafeRune) >= 0:
		v.add(field, "must not contain control or text-direction characters")
	case strings.TrimSpace(s) != s:
		v.add(field, "must not start or end with spaces")
	case s[0] == '0':
		if n < 8 || n > 24 {
			v.add(field, "starting with 0 must be 8 to 24 characters, is "+groupDigits(int64(n)))
		}
	case s[0] == '+':
		if n < 10 || n > 26 {
			v.add(field, "starting with + must be 10 to 26 characters, is "+groupDigits(int64(n)))
		}
	default:
		v.add(field, "must start with 0 or + (a country code follows +, as in +62…)")
	}
}

// email checks an optional address of the form name@domain.tld: letters,
// digits and . _ % + - before the @, dot-separated labels of letters, digits
// and - after it.
func (v *fieldErrors) email(field, s string) {
	if s == "" {
		return
	}
	local, domain, ok := strings.Cut(s, "@")
	labels := strings.Split(domain, ".")
	valid := ok && local != "" && len(labels) >= 2 &&
		strings.Trim(local, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-") == ""
	for _, l := range labels {
		valid = valid && l != "" && strings.Trim(l, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == ""
	}
	if !valid {
		v.add(field, "must be an email address: a name, then @, then a domain with a dot")
	}
}

// id checks a location id from Flip's look-ups; zero means unset.
func (v *fieldErrors) id(field string, id int64, required bool) {
	switch {
	case id < 0:
		v.add(field, "must be a positive id")
	case id == 0 && required:
		v.add(field, "is required")
	}
}

// date checks a date; a zero date means unset.
func (v *fieldErrors) date(field string, d Date, required bool) {
	switch {
	case d.IsZero():
		if required {
			v.add(field, "is required")
		}
	case !d.Valid():
		v.add(field, "must be a real calendar day")
	}
}

// identityType checks an identity type; an empty one is reported only when
// required. The number's length limit depends on it (16 characters for a
// KTP, 20 for a passport: maxima, not exact lengths).
func (v *fieldErrors) identityType(t IdentityType, required bool) {
	switch {
	case t == "":
		if required {
			v.add("identity_type", "is required")
		}
	case !t.Known():
		v.add("identity_type", `must be "ktp" or "passport"`)
	}
}

// gender checks a gender; an empty one is reported only when required.
func (v *fieldErrors) gender(g Gender, required bool) {
	switch {
	case g == "" && required:
		v.add("gender", "is required")
	case g != "" && !g.Known():
		v.add("gender", `must be "male" or "female"`)
	}
}

// occupation checks an occupation; an empty one is reported only when
// required.
func (v *fieldErrors) occupation(o Occupation, required bool) {
	switch {
	case o == "" && required:
		v.add("occupation", "is required")
	case o != "" && !o.Known():
		v.add("occupation", "must be one of Flip's 8 occupations")
	}
}

// agentID checks the id of an agent named in a path.
func (v *fieldErrors) agentID(id int64) {
	if id <= 0 {
		v.add("agent_id", "must be a positive agent id")
	}
}
