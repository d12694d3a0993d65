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

// Open takes only a run's database, an empty file or a new one: a path that
// names anything else (a photo, a CSV, a pipe, a directory) is refused and
// left as it was, its mode too.
func TestOpenRefusesWhatIsNotARunsDatabase(t *testing.T) {
	dir := t.TempDir()
	photo := filepath.Join(dir, "ktp.png")
	if err := os.WriteFile(photo, []byte("\x89PNG\r\n\x1a\nnot a database"), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("no FIFO here: %v", err)
	}
	for name, path := range map[string]string{"photo": photo, "pipe": fifo, "directory": dir} {
		t.Run(name, func(t *testing.T) {
			before, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			db, err := fleet.Open(context.Background(), path, fleet.WithDataKey(testDataKey(t)))
			if err == nil {
				db.Close()
				t.Fatal("opened")
			}
			after, _ := os.Stat(path)
			if after.Mode() != before.Mode() || after.Size() != before.Size() {
				t.Errorf("changed: %v %d → %v %d", before.Mode(), before.Size(), after.Mode(), after.Size())
			}
			if _, err := os.Stat(path + "-journal"); err == nil {
				t.Error("a journal was created beside it")
			}
		})
	}
	// An empty file is a run about to start.
	empty := filepath.Join(dir, "new.fleet.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := fleet.Open(context.Background(), empty, fleet.WithDataKey(testDataKey(t)))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if !fleet.IsSQLiteFile(empty) {
		t.Error("the new run is not a SQLite file")
	}
}

func TestIsPostgresIgnoresTheSchemesCase(t *testing.T) {
	for dsn, want := range map[string]bool{
		"postgres://u@h/db": true, "POSTGRES://u@h/db": true, "PostgreSQL://u@h/db": true,
		"run.fleet.db": false, "postgres.db": false, "./postgres://x": false,
	} {
		if got := fleet.IsPostgres(dsn); got != want {
			t.Errorf("IsPostgres(%q) = %v", dsn, got)
		}
	}
	if testing.Short() {
		return
	}
	dsn := postgresDSN(t)
	i := strings.Index(dsn, "://")
	db, err := fleet.Open(context.Background(), strings.ToUpper(dsn[:i])+dsn[i:], fleet.WithDataKey(testDataKey(t)))
	if err != nil {
		t.Fatalf("an upper-case scheme: %v", err)
	}
	db.Close()
}
