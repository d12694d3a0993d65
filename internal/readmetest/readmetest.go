// Package readmetest checks, from a package's tests, that every Go example
// of its README is code that a test compiles and runs: an example edited in
// the README but not in its test, or the other way round, fails the build's
// tests instead of going stale.
package readmetest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// ellipsis in a README line stands for code the example leaves out.
const ellipsis = "…"

// CheckGoBlocks fails t for each ```go block of the README at readme whose
// lines are not found, one after another, in one of the test files
// (*_test.go) of the directory dir. Lines are compared with the white space
// at their ends trimmed, and blank lines are skipped. A line that holds
// "…" matches a test line with the same text before and after it; a line
// that is only "…" or a comment ending in "…" matches any number of test
// lines; a line declaring a Test or Example function matches one with any
// name and the same parameters, since a test's name is not the reader's
// concern.
func CheckGoBlocks(t testing.TB, readme, dir string) {
	t.Helper()
	text, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	blocks := GoBlocks(string(text))
	if len(blocks) == 0 {
		return
	}
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	var sources [][]string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, significant(string(b)))
	}
	for _, blk := range blocks {
		want := significant(blk.Code)
		found := false
		for _, src := range sources {
			if contains(src, want) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("%s:%d: the Go example is not the code of any test in %s (*_test.go); copy it into a test, word for word:\n%s",
				readme, blk.Line, dir, blk.Code)
		}
	}
}

// Block is one fenced code block of a README.
type Block struct {
	Line int    // the line of the opening fence, from 1
	Code string // the lines between the fences
}

// GoBlocks returns the ```go blocks of a Markdown text.
func GoBlocks(markdown string) []Block {
	var out []Block
	lines := strings.Split(markdown, "\n")
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```go" {
			continue
		}
		start := i
		var code []string
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			code = append(code, lines[i])
		}
		out = append(out, Block{Line: start + 1, Code: strings.Join(code, "\n")})
	}
	return out
}

// significant returns the lines of code trimmed, without blank ones.
func significant(code string) []string {
	var out []string
	for _, l := range strings.Split(code, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// contains reports whether want matches a run of src's lines.
func contains(src, want []string) bool {
	for i := range src {
		if matchFrom(src[i:], want) {
			return true
		}
	}
	return false
}

// matchFrom reports whether want matches src from its first line on.
func matchFrom(src, want []string) bool {
	if len(want) == 0 {
		return true
	}
	if isGap(want[0]) {
		for skip := 0; skip <= len(src); skip++ {
			if matchFrom(src[skip:], want[1:]) {
				return true
			}
		}
		return false
	}
	return len(src) > 0 && lineMatches(src[0], want[0]) && matchFrom(src[1:], want[1:])
}

// isGap reports whether a README line stands for left-out lines.
func isGap(l string) bool {
	return l == ellipsis || (strings.HasPrefix(l, "//") && strings.HasSuffix(l, ellipsis))
}

var testFunc = regexp.MustCompile(`^func (Test|Example|Benchmark)\w*`)

// lineMatches reports whether the test line src matches the README line want.
func lineMatches(src, want string) bool {
	if testFunc.MatchString(want) && testFunc.MatchString(src) {
		return testFunc.ReplaceAllString(src, "") == testFunc.ReplaceAllString(want, "")
	}
	before, after, ok := strings.Cut(want, ellipsis)
	if !ok {
		return src == want
	}
	return len(src) >= len(before)+len(after) && strings.HasPrefix(src, before) && strings.HasSuffix(src, after)
}
