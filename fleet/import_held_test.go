package fleet_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc/fleet"
)

// Import leaves out the agents the run has before it inserts: an agent's
// row that another process holds in an open transaction (a process paused
// in one) does not hold the import up.
func TestImportDoesNotWaitForAHeldAgent(t *testing.T) {
	t.Parallel()
	dsn := postgresDSN(t)
	h := newHarnessConfig(t, dsn, fleet.Config{})
	path := writeRun(t, t.TempDir(), 3, nil)
	importCSV(t, h.f, path)

	other, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	held, err := other.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer held.Rollback() //nolint:errcheck
	if _, err := held.Exec("UPDATE fleet_agents SET updated_at = updated_at + 1 WHERE line = 3"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, _, err := h.f.Import(ctx, readRows(t, path))
	if err != nil || n != 0 {
		t.Fatalf("import again with line 3 held: %d added, %v; want none added, no error", n, err)
	}
}
