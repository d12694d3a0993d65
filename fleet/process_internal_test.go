package fleet

import (
	"context"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc/internal/pgtest"
)

// On Postgres, the steps of a process that stopped beating are handed back
// even when that process, paused inside a transaction, still holds its
// agent's row: the hand-back skips the row (a lease whose job is not
// running holds nothing) instead of waiting for a process that may never
// run again, and the heartbeat goes on.
func TestHandBackSkipsTheRowsOfAPausedProcess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, _, a := newRaceRunAt(t, pgtest.Database(t, "fleet"), nil)
	var job int64
	if err := f.db.sql.QueryRow("SELECT id FROM river_job WHERE kind = $1", createArgs{}.Kind()).Scan(&job); err != nil {
		t.Fatal(err)
	}
	// The create job ran an hour ago in a process that stopped beating.
	for _, q := range []string{
		"INSERT INTO fleet_processes (id, heartbeat_at, job_timeout_ms) VALUES ('paused', (extract(epoch from now()) * 1000)::bigint - 3600000, 1000)",
		"UPDATE river_job SET state = 'running', attempt = 1, attempted_by = '{paused}', attempted_at = now() - interval '1 hour' WHERE id = $1",
		"UPDATE fleet_agents SET lease_job = $1, lease_attempt = 1",
	} {
		args := []any{job}
		if q[0] == 'I' {
			args = nil
		}
		if _, err := f.db.sql.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// The paused process is inside a transaction that holds the agent.
	held, err := f.db.sql.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Rollback() //nolint:errcheck
	if _, err := held.Exec("SELECT 1 FROM fleet_agents WHERE key = $1 FOR UPDATE", a.Key); err != nil {
		t.Fatal(err)
	}
	beat, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := f.heartbeat(beat); err != nil {
		t.Fatalf("heartbeat: %v (waited for the paused process's row)", err)
	}
	var state string
	if err := f.db.sql.QueryRow("SELECT state FROM river_job WHERE id = $1", job).Scan(&state); err != nil {
		t.Fatal(err)
	}
	if state != "cancelled" {
		t.Errorf("the paused process's job is %s, want cancelled (handed back)", state)
	}
	var queued int
	if err := f.db.sql.QueryRow("SELECT COUNT(*) FROM river_job WHERE kind = $1 AND state = 'available'", createArgs{}.Kind()).Scan(&queued); err != nil {
		t.Fatal(err)
	}
	if queued != 1 {
		t.Errorf("%d create jobs queued again, want 1", queued)
	}
}
