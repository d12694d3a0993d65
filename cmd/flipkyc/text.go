package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/flipkyc/flipkyc/internal/redact"
)

// Text that comes from outside the command line (a callback, a reply
// stored in a run, a file name read from a CSV) is printed masked and
// escaped: it may carry personal data, and characters a terminal acts on.

// freeText masks, by pattern, the personal data that text the command did
// not write may carry: e-mail addresses and runs of six or more digits
// (identity and phone numbers, dates). It holds no API's keys: the texts it
// masks are the command's own, quoting errors and file paths.
var freeText = redact.NewMasker()

// requestIDPattern matches a Request-ID (a UUID, Flip's with its
// "bigflip-" prefix), which maskText keeps whole: its digits are no
// personal data, and the operator needs it to ask Flip.
var requestIDPattern = regexp.MustCompile(`(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`)

// maskText returns s, a stored reason or error that may quote a file path
// or a reply, with personal data masked: the known values (such as the
// agent's identity number) wherever they appear, e-mail addresses and long
// digit runs; Request-IDs are kept.
func maskText(s string, known ...string) string {
	mask := freeText.Known(known)
	var b strings.Builder
	last := 0
	for _, m := range requestIDPattern.FindAllStringIndex(s, -1) {
		b.WriteString(mask(s[last:m[0]]))
		b.WriteString(s[m[0]:m[1]])
		last = m[1]
	}
	b.WriteString(mask(s[last:]))
	return b.String()
}

// actsOnTerminal reports whether a terminal would act on r rather than show
// it: control characters (newlines, escape sequences, C1 controls), line
// and paragraph separators, and bidirectional overrides, which reorder what
// is shown.
func actsOnTerminal(r rune) bool {
	return unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp, unicode.Bidi_Control)
}

// printable returns s as one line that a terminal shows as it is: every
// rune actsOnTerminal reports written as its Go escape (\n, \x1b, \u202e),
// and bytes that are not UTF-8 as \xNN.
func printable(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || actsOnTerminal(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case actsOnTerminal(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// terminalSafeJSON returns encoded JSON with the runes that encoding/json
// leaves as they are but a terminal acts on (DEL, C1 controls, bidirectional
// overrides) written as \uXXXX escapes: the same JSON value, safe to print.
// Such runes can only stand inside JSON strings, where the escape is valid.
func terminalSafeJSON(b []byte) []byte {
	s := string(b)
	if !strings.ContainsFunc(s, actsOnTerminal) {
		return b
	}
	var out strings.Builder
	for _, r := range s {
		if r != '\n' && actsOnTerminal(r) {
			fmt.Fprintf(&out, `\u%04x`, r)
			continue
		}
		out.WriteRune(r)
	}
	return []byte(out.String())
}
