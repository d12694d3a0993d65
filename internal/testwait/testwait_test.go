package testwait

import (
	"flag"
	"os"
	"testing"
)

// What the command line gave, read before Parallel ran.
var given struct {
	set   bool
	value string
}

func TestMain(m *testing.M) {
	flag.Parse()
	flag.Visit(func(f *flag.Flag) {
		if f.Name == "test.parallel" {
			given.set, given.value = true, f.Value.String()
		}
	})
	Parallel(7)
	os.Exit(m.Run())
}

// Without -parallel on the command line, Parallel sets it; with it, the
// command line's value stays.
func TestParallel(t *testing.T) {
	want := "7"
	if given.set {
		want = given.value
	}
	if got := flag.Lookup("test.parallel").Value.String(); got != want {
		t.Fatalf("-test.parallel is %s, want %s (given on the command line: %v)", got, want, given.set)
	}
}
