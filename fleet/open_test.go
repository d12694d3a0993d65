package fleet_test

import (
	"context"
	"database/sql"
	"errors"
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
	other := sqliteWithTables(t, filepath.Join(dir, "other.db"), "CREATE TABLE foo (x)")
	for name, path := range map[string]string{"photo": photo, "pipe": fifo, "directory": dir, "another program's SQLite database": other} {
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
	if _, err := fleet.Open(context.Background(), other); !errors.Is(err, fleet.ErrAnotherProgramsDatabase) {
		t.Errorf("another program's database: %v, want ErrAnotherProgramsDatabase", err)
	}
	if _, err := os.Stat(other + ".key"); err == nil {
		t.Error("a key file was made beside another program's database")
	}
	// A run whose making stopped after River's tables, before the fleet's,
	// is a run.
	stopped := filepath.Join(dir, "stopped.fleet.db")
	db, err := fleet.Open(context.Background(), stopped, fleet.WithDataKey(testDataKey(t)))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.SQL().Query("SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB 'fleet_*'")
	if err != nil {
		t.Fatal(err)
	}
	var fleetTables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		fleetTables = append(fleetTables, name)
	}
	rows.Close()
	for _, name := range fleetTables {
		if _, err := db.SQL().Exec("DROP TABLE " + name); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	if db, err := fleet.Open(context.Background(), stopped, fleet.WithDataKey(testDataKey(t))); err != nil {
		t.Errorf("a run whose making stopped: %v", err)
	} else {
		db.Close()
	}
	// An empty file is a run about to start.
	empty := filepath.Join(dir, "new.fleet.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err = fleet.Open(context.Background(), empty, fleet.WithDataKey(testDataKey(t)))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if !fleet.IsSQLiteFile(empty) {
		t.Error("the new run is not a SQLite file")
	}
}

// sqliteWithTables makes a SQLite database at path, readable by all, with
// the tables the statements create, and returns path.
func sqliteWithTables(t *testing.T, path string, statements ...string) string {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range statements {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A process reading a run (RunExists, OpenRun) while another makes it finds
// no run yet, or the whole run: never a database that is not a run's, nor
// a locked one.
func TestRunExistsWhileMade(t *testing.T) {
	t.Parallel()
	for round := range 8 {
		dsn := filepath.Join(t.TempDir(), "run.db")
		made := make(chan error, 1)
		go func() {
			d, err := fleet.Open(context.Background(), dsn, fleet.WithDataKey(testDataKey(t)))
			if err == nil {
				err = d.Close()
			}
			made <- err
		}()
		for exists := false; !exists; {
			var err error
			if exists, err = fleet.RunExists(context.Background(), dsn); err != nil {
				t.Fatalf("round %d: RunExists while the run is made: %v", round, err)
			}
		}
		if err := <-made; err != nil {
			t.Fatal(err)
		}
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
