package fleet

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A sealed value opens only for the agent it was sealed for, under the key
// it was sealed with; the same number under two keys gets two names.
func TestSealedValueBoundToAgentAndKey(t *testing.T) {
	k1, _ := NewDataKey(bytes.Repeat([]byte{1}, DataKeySize))
	k2, _ := NewDataKey(bytes.Repeat([]byte{2}, DataKeySize))
	a, b := k1.agentKey("3201000000000001"), k1.agentKey("3201000000000002")
	if a == b || a == k2.agentKey("3201000000000001") || strings.Contains(a, "3201") || len(a) != 32 {
		t.Fatalf("agent keys %q %q %q", a, b, k2.agentKey("3201000000000001"))
	}
	sealed := k1.seal(a, []byte("Agent Number 1"))
	if strings.Contains(sealed, "Agent") || sealed == k1.seal(a, []byte("Agent Number 1")) {
		t.Fatalf("seal is not randomised encryption: %q", sealed)
	}
	if plain, err := k1.open(a, sealed); err != nil || string(plain) != "Agent Number 1" {
		t.Fatalf("open = %q, %v", plain, err)
	}
	for name, open := range map[string]func() ([]byte, error){
		"another agent": func() ([]byte, error) { return k1.open(b, sealed) },
		"another key":   func() ([]byte, error) { return k2.open(a, sealed) },
		"cut short":     func() ([]byte, error) { return k1.open(a, sealed[:len(sealed)-3]) },
		"not sealed":    func() ([]byte, error) { return k1.open(a, `{"line":2}`) },
	} {
		if _, err := open(); err != errUnsealable {
			t.Errorf("%s: %v, want errUnsealable", name, err)
		}
	}
}

// BenchmarkAgentCrypto is the sealing work one agent costs a run: its name
// and sealed row at import, and its row opened at each of the loads of its
// steps (six in a run without retries), beside BenchmarkOnboard's time per
// agent.
//
//	go test -run '^$' -bench AgentCrypto ./fleet
func BenchmarkAgentCrypto(b *testing.B) {
	k, _ := NewDataKey(bytes.Repeat([]byte{1}, DataKeySize))
	rows, bad, err := ReadCSV(strings.NewReader("name,identity_type,identity_number,birth_date,birth_place,gender,occupation,country_id,province_id,city_id,district_id,address,phone_number,email,identity_image,selfie_image\n"+
		"Agent Number 1,ktp,3201000000010000,31-10-1990,Kota Depok,male,entrepreneur,1,12,184,1234,Jalan Margonda Raya 1,080000000001,,datakey.go,personal.go\n"), ".")
	if err != nil || len(bad) > 0 {
		b.Fatal(err, bad)
	}
	// clear is the same work as the run did before rows were sealed: the
	// row as JSON, read back at each load.
	b.Run("clear", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			js, err := json.Marshal(rows[0])
			if err != nil {
				b.Fatal(err)
			}
			for range 6 {
				var r Row
				if err := json.Unmarshal(js, &r); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("sealed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			key := k.agentKey(rows[0].Params.IdentityNumber)
			sealed, err := k.sealRow(key, rows[0])
			if err != nil {
				b.Fatal(err)
			}
			for range 6 {
				if _, err := k.openRow(key, sealed.row, 2); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// Processes started at once on a new run each open or create its key file:
// one creates it, the others read that key, and nothing else is left in
// the directory.
func TestOpenOrCreateKeyFileAtOnce(t *testing.T) {
	for round := range 10 {
		dir := t.TempDir()
		path := filepath.Join(dir, "run.db.key")
		type result struct {
			k       *DataKey
			created bool
			err     error
		}
		results := make(chan result, 4)
		for range cap(results) {
			go func() {
				k, created, err := OpenOrCreateKeyFile(path)
				results <- result{k, created, err}
			}()
		}
		var checks []string
		created := 0
		for range cap(results) {
			r := <-results
			if r.err != nil {
				t.Fatalf("round %d: %v", round, r.err)
			}
			if r.created {
				created++
			}
			checks = append(checks, r.k.check)
		}
		if created != 1 || len(slices.Compact(slices.Sorted(slices.Values(checks)))) != 1 {
			t.Fatalf("round %d: %d created; key checks %q: want one created and one key", round, created, checks)
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || entries[0].Name() != "run.db.key" {
			t.Fatalf("round %d: the directory holds %v; want the key file alone", round, entries)
		}
		if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
			t.Fatalf("round %d: key file %v, %v; want mode 0600", round, info.Mode(), err)
		}
	}
}

// A key file in a directory that does not exist is an error naming the key
// file, not the temporary file it is written through.
func TestCreateKeyFileInAMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nodir", "run.db.key")
	_, err := CreateKeyFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path+":") || strings.Contains(err.Error(), ".tmp") {
		t.Fatalf("got %v, want an error about %s that does not exist", err, path)
	}
}
