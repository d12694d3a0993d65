package fleet

import (
	"context"
	"database/sql"
	"time"
)

// A process that works a run registers itself in fleet_processes and
// beats every second. When a process dies (killed, machine lost), the steps
// River recorded as running on it are handed back to the queue as soon as
// its heartbeat is OrphanAfter old, instead of after River's rescue delay;
// each step is safe to run again (it reads its state first).
//
// The hand-back UPDATEs river_job itself, because River v0.51 has no
// supported way to do it: its rescuer (RescueStuckJobsAfter) judges a
// running job by the age of its attempt, not by its process, may not be set
// below JobTimeout (so a dead process's steps would wait minutes, and a
// live slow step could be taken from a live process), and runs every 30 s
// on the leader; JobRetry and JobCancel leave running jobs alone, and
// River keeps no liveness of its clients. The UPDATE changes only what a
// fetch would find (state 'available', scheduled_at) on rows River recorded
// as attempted by a process whose heartbeat stopped; the attempt was
// already counted when the job was fetched. It relies on River's schema
// (state, attempted_by), fixed by the River version in go.mod: check it
// when River is upgraded. RescueStuckJobsAfter stays set as a backstop.

// claim registers the process. A SQLite run is worked by one process at a
// time (a lock file beside it, released by the system when the process
// dies): another live one is an error, and the steps a dead one left
// running are handed back at once.
func (f *Fleet) claim(ctx context.Context) error {
	if !f.db.postgres {
		release, err := lockFile(f.db.dsn + ".lock")
		if err != nil {
			return err
		}
		f.unlock = release
	}
	now := nowMillis()
	return f.db.inTx(ctx, func(tx *sql.Tx) error {
		if !f.db.postgres {
			if _, err := f.db.exec(ctx, tx, "DELETE FROM fleet_processes"); err != nil {
				return err
			}
			if _, err := f.db.exec(ctx, tx, "UPDATE river_job SET state = 'available' WHERE state = 'running'"); err != nil {
				return err
			}
		}
		_, err := f.db.exec(ctx, tx, "INSERT INTO fleet_processes (id, heartbeat_at) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at", f.cfg.ID, now)
		return err
	})
}

// heartbeat renews the process's row and, on Postgres, hands back the
// running steps of processes that stopped beating.
func (f *Fleet) heartbeat(ctx context.Context) error {
	if _, err := f.db.exec(ctx, f.db.sql, "UPDATE fleet_processes SET heartbeat_at = ? WHERE id = ?", nowMillis(), f.cfg.ID); err != nil {
		return err
	}
	if !f.db.postgres {
		return nil
	}
	cutoff := nowMillis() - f.cfg.OrphanAfter.Milliseconds()
	return f.db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE river_job SET state = 'available', scheduled_at = now()
			WHERE state = 'running' AND attempted_by[array_length(attempted_by, 1)] IN (SELECT id FROM fleet_processes WHERE heartbeat_at < $1)`, cutoff); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "DELETE FROM fleet_processes WHERE heartbeat_at < $1", cutoff)
		return err
	})
}

// release unregisters the process.
func (f *Fleet) release() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = f.db.exec(ctx, f.db.sql, "DELETE FROM fleet_processes WHERE id = ?", f.cfg.ID)
	if f.unlock != nil {
		f.unlock()
		f.unlock = nil
	}
}
