package fleet_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc/fleet"
)

// A SQLite run is worked by one process at a time, whatever name the
// file is opened by: a symlink or another spelling of its path is refused
// while the run is being worked. (A hard link also finds the lock, but
// SQLite does not open a WAL database through a second name to begin
// with.)
func TestSQLiteRunLockedByFileNotName(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"symlink", "other spelling"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "run.db")
			h := newHarness(t, path)
			h.fake.SetLatency(2 * time.Second) // the first run stays in its create
			importCSV(t, h.f, writeRun(t, dir, 1, nil))
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			first := make(chan error, 1)
			go func() { first <- h.f.Run(ctx, nil) }()
			waitFor(t, func() bool {
				c, _ := h.db.Counts(ctx)
				return c[fleet.StateCreating] == 1
			})

			other := filepath.Join(dir, "other.db")
			switch name {
			case "symlink":
				if err := os.Symlink(path, other); err != nil {
					t.Fatal(err)
				}
			case "other spelling":
				other = filepath.Join(dir, ".", "sub", "..", "run.db")
				if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
					t.Fatal(err)
				}
			}
			db, err := fleet.Open(ctx, other, fleet.WithDataKey(testDataKey(t)))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			second := (&harness{t: t, db: db, fake: h.fake}).newFleet(fleet.Config{})
			err = second.Run(ctx, nil)
			if err == nil || !strings.Contains(err.Error(), "another process is working this SQLite run") {
				t.Errorf("second Run through %s = %v, want refused", name, err)
			}
			if err := <-first; err != nil {
				t.Fatalf("first Run: %v", err)
			}
		})
	}
}

// HoldRun takes the run's lock before anything is written: a second
// handle's HoldRun is refused while the first holds it, and the first
// process's Run works the run under the lock it holds.
func TestHoldRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "run.db")
	h := newHarness(t, path)
	release, err := h.db.HoldRun()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	other, err := fleet.Open(context.Background(), path, fleet.WithDataKey(testDataKey(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.HoldRun(); err == nil || !strings.Contains(err.Error(), "another process is working this SQLite run") {
		t.Fatalf("second HoldRun = %v, want refused", err)
	}
	importCSV(t, h.f, writeRun(t, dir, 2, nil))
	h.run(h.f)
	if c, err := h.db.Counts(context.Background()); err != nil || c[fleet.StateApproved] != 2 {
		t.Fatalf("counts %v %v, want 2 approved", c, err)
	}
}
