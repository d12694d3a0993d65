package fleet_test

import (
	"context"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc/fleet"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// While Flip is down, agents waiting for a callback are read again and
// again, but each has at most one read (and one submission, one upload)
// pending at a time, however long the outage: River's unique jobs.
func TestOutageLeavesOnePendingJobPerAgentAndKind(t *testing.T) {
	t.Parallel()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			dir := t.TempDir()
			dsn := dir + "/run.db"
			if db == "postgres" {
				dsn = postgresDSN(t)
			}
			h := newHarnessConfig(t, dsn, fleet.Config{StaleAfter: 30 * time.Millisecond, ReconcileEvery: 20 * time.Millisecond})
			h.drop.Store(1 << 40) // every callback lost: agents wait for reads
			// Reads of agents fail for the whole test: Flip is down for them.
			h.fake.FailNext(flipkyctest.RouteGetAgent, 100000, 503)
			importCSV(t, h.f, writeRun(t, dir, 20, nil))
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- h.f.Run(ctx, nil) }()
			// Many reconciler rounds, each finding every agent late.
			waitFor(t, func() bool { return len(h.fake.RequestsTo(flipkyctest.RouteGetAgent)) >= 150 })
			cancel()
			<-done
			rows, err := h.db.SQL().Query(`SELECT kind, args, COUNT(*) FROM river_job
				WHERE state IN ('available', 'pending', 'retryable', 'scheduled', 'running') GROUP BY kind, args`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			polls := 0
			for rows.Next() {
				var kind, args string
				var n int
				if err := rows.Scan(&kind, &args, &n); err != nil {
					t.Fatal(err)
				}
				if kind == "fleet_poll" {
					polls++
				}
				if n > 1 && kind != "fleet_reconcile" {
					t.Errorf("%s %s: %d pending jobs, want at most 1", kind, args, n)
				}
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if polls == 0 {
				t.Fatal("no pending reads: the outage was not seen")
			}
		})
	}
}
