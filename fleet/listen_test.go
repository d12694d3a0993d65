package fleet_test

import (
	"context"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc/fleet"
)

// On Postgres River fetches jobs when they are inserted (LISTEN/NOTIFY),
// not only by polling: a process working a run holds a LISTEN session.
func TestPostgresFetchesByListen(t *testing.T) {
	dsn := postgresDSN(t)
	dir := t.TempDir()
	h := newHarnessConfig(t, dsn, fleet.Config{PollInterval: 2 * time.Second})
	importCSV(t, h.f, writeRun(t, dir, 3, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.f.Run(ctx, nil) }()
	listening, finished := false, false
	waitFor(t, func() bool {
		var n int
		_ = h.db.SQL().QueryRow("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'listen %'").Scan(&n)
		listening = listening || n > 0
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			finished = true
			return true
		default:
			return listening
		}
	})
	cancel()
	if !finished {
		<-done
	}
	if !listening {
		t.Fatal("no LISTEN session while the run was worked")
	}
}
