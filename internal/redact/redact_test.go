package redact

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestSecretScrubsEveryForm(t *testing.T) {
	const key = "sk-Tèst/Key+42"
	s := NewSecret(key+":", key, "")
	forms := map[string]string{
		"plain":         key,
		"basic":         base64.StdEncoding.EncodeToString([]byte(key + ":")),
		"url base64":    base64.URLEncoding.EncodeToString([]byte(key)),
		"unpadded":      strings.TrimRight(base64.RawStdEncoding.EncodeToString([]byte(key)), "="),
		"json \\u":      `sk-T\u00e8st\/Key+42`,
		"percent":       "sk-T%C3%A8st%2FKey%2B42",
		"html":          "sk-T&egrave;st&#47;Key&#43;42",
		"wrapped":       wrap(base64.StdEncoding.EncodeToString([]byte(key+":")), 4),
		"json \\x":      `sk-T\xc3\xa8st/Key+42`,
		"twice escaped": `sk-T%5Cu00e8st/Key+42`,
	}
	for name, form := range forms {
		got := s.Scrub("before " + form + " after")
		if strings.Contains(Unescape(got), key) || !strings.Contains(got, Redacted) {
			t.Errorf("%s: Scrub left %q", name, got)
		}
	}
	if got := s.Scrub("nothing here"); got != "nothing here" {
		t.Errorf("Scrub changed a clean text: %q", got)
	}
	if got := NewSecret("").Scrub("any text"); got != "any text" {
		t.Errorf("an empty secret scrubbed %q", got)
	}
}

func wrap(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n] + "\r\n")
		s = s[n:]
	}
	return b.String() + s
}

func TestSecretPrintsRedacted(t *testing.T) {
	s := NewSecret("hunter22")
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		if got := fmt.Sprintf(verb, s); strings.Contains(got, "hunter22") || got != Redacted {
			t.Errorf("%s printed %q", verb, got)
		}
	}
}

func TestScrubHeaderAndError(t *testing.T) {
	s := NewSecret("hunter22")
	h := http.Header{"Echo": {"Bearer hunter22"}, "Other": {"x"}}
	got := s.ScrubHeader(h)
	if got.Get("Echo") != "Bearer "+Redacted || got.Get("Other") != "x" || h.Get("Echo") != "Bearer hunter22" {
		t.Errorf("ScrubHeader = %v, original now %v", got, h)
	}
	clean := http.Header{"A": {"b"}}
	if got := s.ScrubHeader(clean); fmt.Sprint(got) != fmt.Sprint(clean) {
		t.Errorf("ScrubHeader changed a clean header")
	}
	err := s.ScrubError(fmt.Errorf("reading hunter22: %w", io.ErrUnexpectedEOF))
	if strings.Contains(err.Error(), "hunter22") || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("ScrubError = %v (Is EOF %v)", err, errors.Is(err, io.ErrUnexpectedEOF))
	}
	if errors.Unwrap(err) != nil {
		t.Error("a scrubbed error unwraps to the text with the secret")
	}
	if s.ScrubError(nil) != nil {
		t.Error("ScrubError(nil) is not nil")
	}
}

func TestMasker(t *testing.T) {
	m := NewMasker("bvn", "Full_Name")
	tests := []struct {
		in    string
		known []string
		want  string
	}{
		{`{"bvn":"22212345678","ok":true}`, nil, `{"bvn":"[masked]","ok":true}`},
		{`{"FULL_NAME": "Ada Obi", "tier": 2}`, nil, `{"FULL_NAME":"[masked]", "tier": 2}`},
		{`bvn=22212345678&tier=1`, nil, `bvn=[masked]&tier=1`},
		{"write to ada@example.ng", nil, "write to [masked]"},
		{"call +234 803 555 0101", nil, "call [masked]"},
		{"dear ADA OBI,", []string{"Ada Obi"}, "dear [masked],"},
		{"id 12345 is short", []string{"ab"}, "id 12345 is short"},
	}
	for _, tt := range tests {
		if got := m.Text(tt.in, tt.known); got != tt.want {
			t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	body := m.Body([]byte(`{"data":{"bvn":"22212345678","note":"token hunter22"}}`), 512,
		func(s string) string { return strings.ReplaceAll(s, "hunter22", Redacted) })
	if body != `{"data":{"bvn":"[masked]","note":"token [redacted]"}}` {
		t.Errorf("Body = %s", body)
	}
	if got := m.Body([]byte("plain 22212345678 text that is long"), 12, func(s string) string { return m.Text(s, nil) }); got != "plain [maske…" {
		t.Errorf("Body of text = %q", got)
	}
}

func TestExcerpt(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"a\nb", 10, "a b"},
		{"abcdef", 2, "ab…"},
		{"\x00", 10, `'\x00'`},
		{"éé", 3, "é…"},
		{"\xff", 10, "\uFFFD"},
	}
	for _, tt := range tests {
		if got := Excerpt([]byte(tt.in), tt.n); got != tt.want {
			t.Errorf("Excerpt(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestKnownMasksManyValuesInManyTexts(t *testing.T) {
	m := NewMasker()
	var known []string
	for i := range 2000 {
		known = append(known, fmt.Sprintf("Person Number%c%c", 'a'+i%26, 'a'+i/26%26))
	}
	known = append(known, "Kelvin", "ab") // "ab" is too short to mask
	clean := m.Known(known)
	tests := []struct{ in, want string }{
		{"refused: PERSON NUMBERQB is blocked", "refused: [masked] is blocked"},
		{"form name=x&who=Person+Numberqb", "form name=x&who=[masked]"},
		{"\u212Aelvin called", "[masked] called"}, // KELVIN SIGN folds to k
		{"ab and nothing else", "ab and nothing else"},
	}
	for range 20 { // many texts, one set of values
		for _, tt := range tests {
			if got := clean(tt.in); got != tt.want {
				t.Fatalf("Known(…)(%q) = %q, want %q", tt.in, got, tt.want)
			}
		}
	}
}

func BenchmarkKnownManyValues(b *testing.B) {
	var known []string
	for i := range 1000 {
		known = append(known, fmt.Sprintf("Name%03d Surname", i))
	}
	text := strings.Repeat("the record was refused for a reason that is long enough ", 8)
	m := NewMasker("name")
	b.ReportAllocs()
	for b.Loop() {
		clean := m.Known(known)
		for range 20 {
			_ = clean(text)
		}
	}
}

// A server may echo a credential in another letter case: a UUID or hex key
// upper-cased, a title-cased secret, escaped or in base64. Every such echo
// is a leak of the credential and is redacted.
func TestSecretScrubsAnyLetterCase(t *testing.T) {
	const key = "3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
	const secret = "9f86d081884c7d659a2feaa0c55ad015"
	s := NewSecret(key, secret)
	tests := []struct{ name, text string }{
		{"upper key", "bad key " + strings.ToUpper(key) + " given"},
		{"upper secret", "secret " + strings.ToUpper(secret) + "."},
		{"mixed case", "3F1b2C4d-5E6f-4A7b-8C9d-0E1f2A3b4C5d"},
		{"upper escaped", `\u0033F1B2C4D-5E6F-4A7B-8C9D-0E1F2A3B4C5D`},
		{"upper percent", "3F1B2C4D%2D5E6F-4A7B-8C9D-0E1F2A3B4C5D"},
		{"upper base64", strings.ToUpper(base64.StdEncoding.EncodeToString([]byte(secret)))},
		{"after a wide rune", "\u212A " + strings.ToUpper(key)}, // KELVIN SIGN lower-cases to one byte
		{"twice", strings.ToUpper(key) + " and " + key},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !s.In(Unescape(tt.text)) {
				t.Errorf("In(%q) = false", tt.text)
			}
			got := s.Scrub(tt.text)
			low := strings.ToLower(Unescape(got))
			if strings.Contains(low, key) || strings.Contains(low, secret) ||
				strings.Contains(low, strings.ToLower(base64.StdEncoding.EncodeToString([]byte(secret)))) {
				t.Errorf("Scrub(%q) = %q", tt.text, got)
			}
			if !strings.Contains(got, Redacted) {
				t.Errorf("Scrub(%q) = %q, nothing redacted", tt.text, got)
			}
		})
	}
	if got := s.Scrub("before \u212A after"); got != "before \u212A after" {
		t.Errorf("Scrub changed a clean text: %q", got)
	}
	if got := s.Scrub("\u212A" + strings.ToUpper(key) + "\u212A"); got != "\u212A"+Redacted+"\u212A" {
		t.Errorf("Scrub kept the text around the echo wrongly: %q", got)
	}
}

func TestValuesAndWords(t *testing.T) {
	got := ValuesAndWords([]string{"22212345678", ""}, "Zebediah Quixote-Farnsworth", "", "Ada Obi", "12 MG Road, Bengaluru")
	want := []string{"Zebediah Quixote-Farnsworth", "12 MG Road, Bengaluru", "Quixote-Farnsworth", "22212345678",
		"Farnsworth", "Bengaluru", "Zebediah", "Quixote", "Ada Obi", "Road"} // longest first, each once
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ValuesAndWords = %q\nwant %q", got, want)
	}
	m := NewMasker()
	if got := m.Text("Farnsworth, your MG ROAD file", ValuesAndWords(nil, "Zebediah Quixote-Farnsworth", "12 MG Road")); got != "[masked], your MG [masked] file" {
		t.Errorf("Text with words = %q", got)
	}
}

func TestSecretScrubKeepsInvalidBytes(t *testing.T) {
	s := NewSecret("3f1b2c4d-5e6f")
	if got := s.Scrub("\xff3F1B2C4D-5E6F\xfe ok"); got != "\xff"+Redacted+"\xfe ok" {
		t.Errorf("Scrub = %q", got)
	}
}

// A known value inside an e-mail address does not break the address up:
// the whole address is masked.
func TestKnownInsideEmail(t *testing.T) {
	got := NewMasker().Text("write to siti.testdata@example.com or Siti today", []string{"Siti", "Testdata"})
	if want := "write to [masked] or [masked] today"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
