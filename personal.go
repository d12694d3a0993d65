package flipkyc

import (
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
	if strings.ContainsAny(s, "0123456789") {
		s = digitsPattern.ReplaceAllString(s, masked)
	}
	return s
}
