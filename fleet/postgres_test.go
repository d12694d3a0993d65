package fleet_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/flipkyc/flipkyc/internal/pgtest"
	"github.com/flipkyc/flipkyc/internal/testwait"
)

// A real Postgres for the tests: see internal/pgtest.

func TestMain(m *testing.M) {
	testwait.Parallel(4)
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// postgresDSN returns the URL of a new, empty database.
func postgresDSN(t testing.TB) string {
	t.Helper()
	return pgtest.Database(t, "fleet")
}

// runDSN returns a new run's database of the kind db: a new Postgres
// database for "postgres", else the SQLite file run.db in dir.
func runDSN(t testing.TB, db, dir string) string {
	t.Helper()
	if db == "postgres" {
		return postgresDSN(t)
	}
	return filepath.Join(dir, "run.db")
}
