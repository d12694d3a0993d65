//go:build unix

package fleet_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/flipkyc/flipkyc/fleet"
)

// withUmask runs the test under umask mask, the usual 022 unless told.
func withUmask(t *testing.T, mask int) {
	old := syscall.Umask(mask)
	t.Cleanup(func() { syscall.Umask(old) })
}

// dirModes lists every file in dir with its permissions.
func dirModes(t *testing.T, dir string) map[string]os.FileMode {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]os.FileMode{}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = info.Mode().Perm()
	}
	return out
}

// Every file of a SQLite run (the database, its -wal and -shm) is its
// owner's only under the usual umask, and the run's files are the
// ones named by the path, whatever characters it holds.
func TestRunFilesOwnerOnlyAndNamedByThePath(t *testing.T) {
	t.Parallel()
	withUmask(t, 0o022)
	for _, name := range []string{"run.db", "run#1.fleet.db", "run?x=1.db", "100%25 of run.db", "a b#c?d%e.db"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			csv := writeRun(t, dir, 2, nil)
			images := dirModes(t, dir)
			dsn := filepath.Join(dir, name)
			h := newHarness(t, dsn)
			importCSV(t, h.f, csv)
			h.run(h.f)
			if c, _ := h.db.Counts(context.Background()); c[fleet.StateApproved] != 2 {
				t.Fatalf("counts %v", c)
			}
			modes := dirModes(t, dir)
			for n := range images {
				delete(modes, n)
			}
			// The one-process lock is on the database file itself: no
			// lock file.
			for _, want := range []string{name, name + "-wal", name + "-shm"} {
				if _, ok := modes[want]; !ok {
					t.Errorf("no %q among the run's files %v", want, modes)
				}
			}
			for n, m := range modes {
				if !strings.HasPrefix(n, name) {
					t.Errorf("the run wrote %q, not named by its path %q", n, name)
				}
				if m != 0o600 {
					t.Errorf("%s has mode %v, want 0600", n, m)
				}
			}
		})
	}
}

// An existing run whose files other users can read is made its owner's
// only when opened, and Open says so once, naming no more than the file.
func TestOpenTightensAnOpenRun(t *testing.T) {
	withUmask(t, 0o022)
	dir := t.TempDir()
	dsn := filepath.Join(dir, "run.db")
	db, err := fleet.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	if n := db.Notices(); len(n) != 0 {
		t.Errorf("a new run: notices %q", n)
	}
	db.Close()
	for _, suffix := range []string{"", "-wal", "-shm", ".lock"} {
		if err := os.WriteFile(dsn+suffix, nil, 0o644); err != nil && suffix != "" {
			t.Fatal(err)
		}
		if err := os.Chmod(dsn+suffix, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db, err = fleet.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	notices := db.Notices()
	if len(notices) != 1 || !strings.Contains(notices[0], "owner only") || strings.Contains(notices[0], dir) {
		t.Errorf("notices %q: want one line, without the directory", notices)
	}
	for n, m := range dirModes(t, dir) {
		if m != 0o600 {
			t.Errorf("%s has mode %v, want 0600", n, m)
		}
	}
}
