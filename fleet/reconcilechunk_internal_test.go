package fleet

import (
	"context"
	"fmt"
	"testing"
)

// reconcile queues one read for each late agent, at most ReconcileBatch a
// round, in transactions of reconcileChunk agents; an agent queued is not
// queued again by the next round.
func TestReconcileQueuesLateAgentsInChunks(t *testing.T) {
	ctx := context.Background()
	f, _, _ := newRaceRun(t, nil)
	tx, err := f.db.sql.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 450 {
		if _, err := tx.Exec("INSERT INTO fleet_agents (key, line, row, state, created_at, updated_at) VALUES (?, ?, '', ?, 0, 0)",
			fmt.Sprintf("late-%d", i), 1000+i, StateInReview); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	f.cfg.ReconcileBatch = 300
	count := func(q string) int {
		var n int
		if err := f.db.sql.QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	commits := commitCount(t, f.db)
	for round, want := range []int{300, 450, 450} {
		before := commits.Load()
		if err := f.reconcile(ctx); err != nil {
			t.Fatal(err)
		}
		// 200 and 100; 150; none found.
		if n, want := commits.Load()-before, []int64{2, 1, 1}[round]; n != want {
			t.Errorf("round %d: %d transactions, want %d", round+1, n, want)
		}
		polls := count("SELECT COUNT(*) FROM river_job WHERE kind = 'fleet_poll'")
		agents := count("SELECT COUNT(DISTINCT args) FROM river_job WHERE kind = 'fleet_poll'")
		polled := count("SELECT COUNT(*) FROM fleet_agents WHERE key LIKE 'late-%' AND polled_at > 0")
		if polls != want || agents != want || polled != want {
			t.Errorf("round %d: %d reads queued for %d agents, %d agents marked; want %d of each", round+1, polls, agents, polled, want)
		}
	}
}
