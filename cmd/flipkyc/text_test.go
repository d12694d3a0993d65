package main

import (
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"plain text, ünïcödé":     "plain text, ünïcödé",
		"two\nlines\r\n":          `two\nlines\r\n`,
		"\x1b]0;title\x07":        `\x1b]0;title\a`,
		"tab\there":               `tab\there`,
		"del\x7f c1\u009b":        `del\x7f c1\u009b`,
		"bidi \u202eevil\u2066":   `bidi \u202eevil\u2066`,
		"sep\u2028para\u2029":     `sep\u2028para\u2029`,
		"bad \xff\xfe utf-8":      `bad \xff\xfe utf-8`,
		"replacement \uFFFD kept": "replacement \uFFFD kept",
	} {
		assert.Equal(t, want, printable(in), "%q", in)
	}
}

func TestTerminalSafeJSON(t *testing.T) {
	in := "a\x1b[2J\x7f\u0085\u009b\u202e\u2028b\n"
	encoded, err := json.Marshal(in)
	require.NoError(t, err)
	safe := terminalSafeJSON(append(encoded, '\n'))
	for _, r := range string(safe[:len(safe)-1]) {
		assert.False(t, actsOnTerminal(r), "%U left in %s", r, safe)
	}
	var back string
	require.NoError(t, json.Unmarshal(safe, &back))
	assert.Equal(t, in, back, "the same JSON value")
}

func TestMaskTextKeepsRequestIDs(t *testing.T) {
	const rid = "bigflip-12345678-1234-4234-9234-123456789012"
	got := maskText("open /data/3201987654321001_ktp.png: denied (Request-ID "+rid+"), mail a.b@example.org", "A1234")
	assert.Equal(t, "open /data/[masked]_ktp.png: denied (Request-ID "+rid+"), mail [masked]", got)
	assert.Equal(t, "passport [masked] refused", maskText("passport A1234 refused", "A1234"), "a known value, however short its digits")
	// Flip's codes in a parked agent's reason stay readable.
	parked := "identity or phone number already registered at Flip (code 2002 or 4012, Request-ID " + rid + "); not sent again"
	assert.Equal(t, parked, maskText(parked))
}

func TestNeutraliseFormula(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "+62812": "'+62812", "-1": "'-1", "@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx", "\rx": "'\rx",
		"＝1": "'＝1", "＠x": "'＠x", "": "", "APPROVED": "APPROVED", "12": "12", " =1": " =1", "a=b": "a=b",
	} {
		assert.Equal(t, want, neutraliseFormula(in), "%q", in)
	}
}

// OWASP's CSV-injection guidance: a separator inside a cell (a comma, or
// the semicolon or tab that spreadsheets in many locales split at) must not
// let the rest of the cell start a cell of its own, where a formula would
// run: such a cell is quoted whole.
func TestSpreadsheetCSVKeepsACellWhole(t *testing.T) {
	for _, tc := range []struct{ cell, want string }{
		{"x;=1+1", `"x;=1+1"`},
		{"x\t=cmd|' /C calc'!A0", "\"x\t=cmd|' /C calc'!A0\""},
		{"a,@SUM(1)", `"a,@SUM(1)"`},
		{`say "hi"`, `"say ""hi"""`},
		{"two\nlines", "\"two\nlines\""},
		{"=1+1", "'=1+1"},
		{"=1;=2", `"'=1;=2"`},
		{"APPROVED", "APPROVED"},
		{"12", "12"},
		{"", ""},
	} {
		var b strings.Builder
		w := newSpreadsheetCSV(&b)
		require.NoError(t, w.Write([]string{"1", tc.cell, "z"}))
		w.Flush()
		require.NoError(t, w.Error())
		assert.Equal(t, "1,"+tc.want+",z\n", b.String(), "%q", tc.cell)
		got, err := csv.NewReader(strings.NewReader(b.String())).Read()
		require.NoError(t, err)
		assert.Equal(t, []string{"1", neutraliseFormula(tc.cell), "z"}, got, "encoding/csv reads it back")
	}
}
