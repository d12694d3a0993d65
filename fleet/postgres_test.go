package fleet_test

import (
	"os"
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
