package readmetest

import (
	"os"
	"path/filepath"
	"testing"
)

// recorder collects the failures CheckGoBlocks reports.
type recorder struct {
	testing.TB
	errors int
}

func (r *recorder) Helper()                           {}
func (r *recorder) Errorf(format string, args ...any) { r.errors++ }
func (r *recorder) Fatal(args ...any)                 { r.TB.Fatal(args...) }

func TestCheckGoBlocks(t *testing.T) {
	const test = `package x

func TestSomething(t *testing.T) {
	client, err := New("key")
	if err != nil {
		t.Fatal(err)
	}
	agent, err := client.GetAgent(ctx, 1)

	fmt.Println(agent.Name) // prints the name
}
`
	rows := []struct {
		name   string
		readme string
		errors int
	}{
		{"every line in order", "```go\nclient, err := New(\"key\")\nif err != nil {\n```\n", 0},
		{"indentation and blank lines do not count", "```go\n    client, err := New(\"key\")\n\n  if err != nil {\n```\n", 0},
		{"a line edited in the README", "```go\nclient, err := New(\"other-key\")\n```\n", 1},
		{"lines out of order", "```go\nif err != nil {\nclient, err := New(\"key\")\n```\n", 1},
		{"an ellipsis inside a line", "```go\nif err != nil { … }\n```\n", 1},
		{"an ellipsis standing for a line's middle", "```go\nagent, err := client.GetAgent(ctx, …)\n```\n", 0},
		{"a line of ellipsis stands for left-out lines", "```go\nclient, err := New(\"key\")\n…\nagent, err := client.GetAgent(ctx, 1)\n```\n", 0},
		{"a comment ending in an ellipsis too", "```go\nclient, err := New(\"key\")\n// then check the error …\nfmt.Println(agent.Name) // prints the name\n```\n", 0},
		{"a test's name is free", "```go\nfunc TestMine(t *testing.T) {\nclient, err := New(\"key\")\n```\n", 0},
		{"but not its parameters", "```go\nfunc TestMine(b *testing.B) {\n```\n", 1},
		{"two blocks, one stale", "```go\nclient, err := New(\"key\")\n```\ntext\n```go\nclient.Delete()\n```\n", 1},
		{"other languages are not checked", "```sh\nflipkyc help\n```\n", 0},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "x_test.go"), []byte(test), 0o600); err != nil {
				t.Fatal(err)
			}
			readme := filepath.Join(dir, "README.md")
			if err := os.WriteFile(readme, []byte(row.readme), 0o600); err != nil {
				t.Fatal(err)
			}
			r := &recorder{TB: t}
			CheckGoBlocks(r, readme, dir)
			if r.errors != row.errors {
				t.Errorf("%d failures, want %d", r.errors, row.errors)
			}
		})
	}
}
