package fleet

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/riverqueue/river"
)

// Never twice: how a step is handed to another process.
//
// A process that works a run registers itself in fleet_processes and
// beats every second, on the database's clock. When it stops beating (it
// was killed, its machine was lost, or it is only paused: a GC pause,
// SIGSTOP, a suspended VM), the steps River recorded as running on it are
// handed to others only once their worker can no longer act, as River's
// own rescuer does:
//
//   - Time is the database's. Heartbeats are stamped with the database's
//     now(), and a step is handed back only when its heartbeat is
//     OrphanAfter old AND its attempt began (River's attempted_at, set by
//     the database when the job was fetched) more than the process's
//     JobTimeout plus OrphanAfter ago. A worker's context ends at its
//     attempt's JobTimeout, measured from attempted_at by the database
//     when the step starts (lease), so a worker woken after that finds its
//     context done and net/http sends nothing more. A machine whose clock
//     is off changes nothing: no two machines' clocks are compared.
//   - Writes are fenced. A step takes its agent's lease (lease_job,
//     lease_attempt: the job's id and attempt) when it starts, only while
//     its job is running in that attempt within its JobTimeout and no other
//     running job holds the agent; every state change the step makes
//     checks, in the same statement, that it still holds the lease. A late
//     worker whose step was handed back changes nothing once the new job
//     holds the agent (or the hand-back cleared the lease): its next intent
//     write fails, so it sends nothing more either. Before that, its
//     context has ended (above): the writes it can still make are the
//     facts of what it sent or did not send (a create's agent id, a
//     request's return to its state before, when nothing was sent), made
//     detached from that context on purpose.
//   - A handed-back job is finished (cancelled) and a new job with the same
//     arguments is queued in the same transaction, and its agent's lease is
//     cleared, unless a paused process holds the agent's row inside a
//     transaction (the hand-back skips such rows rather than wait for a
//     process that may never run again; a lease whose job is not running
//     holds nothing): a late worker's completion of its old job changes
//     nothing, where setting the old row back to available would let the
//     late worker complete the new attempt's job.
//
// The hand-back changes river_job itself, because River v0.51 has no
// supported way to do it sooner than its rescuer (RescueStuckJobsAfter,
// JobTimeout plus a minute here, kept as a backstop); it relies on River's
// schema (state, attempt, attempted_at, attempted_by), fixed by the River
// version in go.mod: check it when River is upgraded. A SQLite run is
// worked by one process at a time, locked by the database file itself, so the steps
// a previous process left running are handed back at once: it is dead.

// claim registers the process. A SQLite run is worked by one process at a
// time (a lock on the database file, released by the system when the
// process dies): another live one is an error, and the steps a dead one
// left running are handed back at once.
func (f *Fleet) claim(ctx context.Context) error {
	if !f.db.postgres {
		release, err := f.db.lockRun()
		if err != nil {
			return err
		}
		f.unlock = release
	}
	return f.db.inTx(ctx, func(tx *sql.Tx) error {
		if !f.db.postgres {
			if _, err := f.db.exec(ctx, tx, "DELETE FROM fleet_processes"); err != nil {
				return err
			}
			if _, err := f.db.exec(ctx, tx, "UPDATE river_job SET state = 'available' WHERE state = 'running'"); err != nil {
				return err
			}
		}
		return f.beat(ctx, tx)
	})
}

// beat stamps the process's heartbeat with the database's clock.
func (f *Fleet) beat(ctx context.Context, q querier) error {
	_, err := f.db.exec(ctx, q, "INSERT INTO fleet_processes (id, heartbeat_at, job_timeout_ms) VALUES (?, "+f.db.nowSQL()+", ?) ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, job_timeout_ms = excluded.job_timeout_ms",
		f.cfg.ID, f.cfg.JobTimeout.Milliseconds())
	return err
}

// heartbeat renews the process's row and, on Postgres, hands back the
// running steps of processes that stopped beating, once their workers can
// no longer act.
func (f *Fleet) heartbeat(ctx context.Context) error {
	if err := f.beat(ctx, f.db.sql); err != nil {
		return err
	}
	if err := f.measureOffset(ctx); err != nil {
		return err
	}
	if !f.db.postgres {
		return nil
	}
	orphan := f.cfg.OrphanAfter.Milliseconds()
	return f.db.inTx(ctx, func(tx *sql.Tx) error {
		// A process paused inside a transaction holds its rows' locks
		// until it runs again: the hand-back skips the rows it holds and,
		// should it meet another lock, gives up until the next beat
		// rather than stop this process's heartbeat behind it.
		if _, err := tx.ExecContext(ctx, "SET LOCAL lock_timeout = '2s'"); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT j.id, j.kind, j.args FROM river_job j JOIN fleet_processes p ON p.id = j.attempted_by[array_length(j.attempted_by, 1)]
			WHERE j.state = 'running' AND p.heartbeat_at < `+f.db.nowSQL()+` - $1
			AND j.attempted_at < now() - (p.job_timeout_ms + $1) * interval '1 millisecond'
			FOR UPDATE OF j SKIP LOCKED`, orphan)
		if err != nil {
			return err
		}
		var ids []int64
		var jobs []river.InsertManyParams
		for rows.Next() {
			var id int64
			var kind string
			var args []byte
			if err := rows.Scan(&id, &kind, &args); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
			if a, err := argsOf(kind, args); err == nil && a != nil {
				jobs = append(jobs, river.InsertManyParams{Args: a})
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(ids) > 0 {
			if _, err := tx.ExecContext(ctx, "UPDATE river_job SET state = 'cancelled', finalized_at = now() WHERE id = ANY($1)", ids); err != nil {
				return err
			}
			// A lease whose job is not running holds nothing (acquire):
			// clearing it is for the reader, and a row a paused process
			// holds keeps it.
			if _, err := tx.ExecContext(ctx, "UPDATE fleet_agents SET lease_job = NULL, lease_attempt = NULL WHERE key IN (SELECT key FROM fleet_agents WHERE lease_job = ANY($1) FOR UPDATE SKIP LOCKED)", ids); err != nil {
				return err
			}
			if len(jobs) > 0 {
				if _, err := f.river.InsertManyTx(ctx, tx, jobs); err != nil {
					return err
				}
			}
			f.log.Warn("fleet: handed back the steps of a process that stopped beating", "steps", len(ids))
		}
		// A process is forgotten once none of its steps is running.
		_, err = tx.ExecContext(ctx, `DELETE FROM fleet_processes WHERE id IN (SELECT id FROM fleet_processes p WHERE heartbeat_at < `+f.db.nowSQL()+` - $1
			AND NOT EXISTS (SELECT 1 FROM river_job j WHERE j.state = 'running' AND j.attempted_by[array_length(j.attempted_by, 1)] = p.id)
			FOR UPDATE SKIP LOCKED)`, orphan)
		return err
	})
}

// argsOf decodes a job's arguments by its kind, to queue it again; nil
// for the reconciler, which River queues itself.
func argsOf(kind string, raw []byte) (river.JobArgs, error) {
	var a river.JobArgs
	switch kind {
	case createArgs{}.Kind():
		a = &createArgs{}
	case uploadArgs{}.Kind():
		a = &uploadArgs{}
	case submitArgs{}.Kind():
		a = &submitArgs{}
	case repairArgs{}.Kind():
		a = &repairArgs{}
	case pollArgs{}.Kind():
		a = &pollArgs{}
	default:
		return nil, nil
	}
	if err := json.Unmarshal(raw, a); err != nil {
		return nil, err
	}
	switch v := a.(type) {
	case *createArgs:
		return *v, nil
	case *uploadArgs:
		return *v, nil
	case *submitArgs:
		return *v, nil
	case *repairArgs:
		return *v, nil
	case *pollArgs:
		return *v, nil
	}
	return nil, nil
}

// lease names the job attempt that holds an agent.
type lease struct {
	job     int64
	attempt int
}

type leaseKey struct{}

// fence is the condition, and its arguments, that a state change made
// under ctx's lease still holds it; empty outside a job (a callback, a
// person's repair), whose changes are not a step's.
func fence(ctx context.Context) (string, []any) {
	l, ok := ctx.Value(leaseKey{}).(lease)
	if !ok {
		return "", nil
	}
	return " AND lease_job = ? AND lease_attempt = ?", []any{l.job, l.attempt}
}

var (
	// errHeld: another running job holds the agent; this one waits.
	errHeld = errors.New("fleet: another running job holds the agent")
	// errLate: the job's attempt is no longer running or ran past its
	// JobTimeout; it must not act.
	errLate = errors.New("fleet: the job's attempt is over")
)

// heldWaits are the waits of a step that finds its agent held by another
// running job, before it takes the lease again; then it is snoozed. The
// holder is most often ending: a callback moved the agent on and queued
// this step while the holder's last transaction waited for its commit
// (Flip sends the upload check's callback as it answers the upload). A
// snooze would hold the step back a second for a few milliseconds' wait.
var heldWaits = []time.Duration{2 * time.Millisecond, 4 * time.Millisecond, 8 * time.Millisecond, 16 * time.Millisecond, 32 * time.Millisecond}

// acquireWaiting is acquire, taken again after each of heldWaits while
// another running job holds the agent (errHeld) and ctx lasts.
func (f *Fleet) acquireWaiting(ctx context.Context, job int64, attempt int, key string, intent *leaseIntent) (context.Context, context.CancelFunc, *agent, error) {
	lctx, cancel, a, err := f.acquire(ctx, job, attempt, key, intent)
	for _, d := range heldWaits {
		if !errors.Is(err, errHeld) || f.waitHeld(ctx, d) != nil {
			break
		}
		lctx, cancel, a, err = f.acquire(ctx, job, attempt, key, intent)
	}
	return lctx, cancel, a, err
}

// acquire takes the agent's lease for the job's attempt and returns ctx
// carrying it, bounded by the attempt's JobTimeout as the database
// measures it from attempted_at, and the agent as the same statement read
// it. A lease taken on an agent whose stored row cannot be opened returns
// ctx (cancel not nil), no agent and the error.
//
// With an intent (leaseIntent), an agent found in its state from is moved
// to its state to under a new Request-ID, with the journal's entry, in the
// lease's own transaction; the agent returned has sendNow set.
func (f *Fleet) acquire(ctx context.Context, job int64, attempt int, key string, intent *leaseIntent) (context.Context, context.CancelFunc, *agent, error) {
	free := `(lease_job IS NULL OR (lease_job = ? AND lease_attempt = ?) OR NOT EXISTS (SELECT 1 FROM river_job h WHERE h.id = fleet_agents.lease_job AND h.attempt = fleet_agents.lease_attempt AND h.state = 'running'))`
	mine := `EXISTS (SELECT 1 FROM river_job j WHERE j.id = ? AND j.attempt = ? AND j.state = 'running'`
	left := f.cfg.JobTimeout.Milliseconds()
	var inTime []any
	if f.db.postgres {
		mine += ` AND j.attempted_at > now() - ? * interval '1 millisecond'`
		inTime = []any{left}
	}
	set, setArgs, rid, at := "", []any(nil), "", f.nowMillis()
	var sending Entry // the intent's journal entry
	if intent != nil {
		rid = newRequestID()
		col := intent.requestColumn()
		set = ", state = CASE WHEN state = ? THEN ? ELSE state END, " + col + " = CASE WHEN state = ? THEN ? ELSE " + col + " END, updated_at = CASE WHEN state = ? THEN ? ELSE updated_at END"
		setArgs = []any{intent.from, intent.to, intent.from, rid, intent.from, at}
		sending = request(intent.op, rid, resultSending)
	}
	const journal = "INSERT INTO fleet_journal (agent_key, at, kind, operation, request_id, result, actor) "
	var a *agent
	var err error
	switch {
	case f.db.postgres:
		q := `UPDATE fleet_agents SET lease_job = ?, lease_attempt = ?` + set + ` WHERE key = ? AND ` + free + ` AND ` + mine + `)
			RETURNING (SELECT ?::bigint - (extract(epoch from now() - j.attempted_at) * 1000)::bigint FROM river_job j WHERE j.id = ?) AS left_ms, ` + agentColumns
		args := append(append(append([]any{job, attempt}, setArgs...), key, job, attempt, job, attempt, left), left, job)
		if intent != nil {
			q = "WITH acquired AS (" + q + "), noted AS (" + journal + "SELECT key, " + f.db.nowSQL() + ", ?, ?, ?, ?, ? FROM acquired WHERE " + intent.requestColumn() + " = ?) SELECT left_ms, " + agentColumns + " FROM acquired"
			args = append(args, sending.Kind, sending.Operation, sending.RequestID, sending.Result, sending.Actor, rid)
		}
		a, err = f.db.scanAgent(withFirst{f.db.queryRow(ctx, f.db.sql, q, args...), &left})
	case intent != nil:
		// SQLite: the lease, the intent and its entry in one transaction;
		// the intent goes with its entry or not at all.
		if terr := f.db.inTx(ctx, func(tx *sql.Tx) error {
			a, err = f.db.scanAgent(f.db.queryRow(ctx, tx, `UPDATE fleet_agents SET lease_job = ?, lease_attempt = ?`+set+` WHERE key = ? AND `+free+` AND `+mine+`) RETURNING `+agentColumns,
				append(append([]any{job, attempt}, setArgs...), key, job, attempt, job, attempt)...))
			moved := a != nil && intent.requestID(a) == rid
			if a == nil && !errors.Is(err, errUnreadableRow) && !errors.Is(err, ErrNoDataKey) && !errors.Is(err, sql.ErrNoRows) {
				return err // the statement failed: nothing is recorded
			}
			if a == nil && (errors.Is(err, errUnreadableRow) || errors.Is(err, ErrNoDataKey)) {
				// Taken, but the row cannot be opened: was the intent recorded?
				if err := f.db.queryRow(ctx, tx, "SELECT "+intent.requestColumn()+" = ? FROM fleet_agents WHERE key = ?", rid, key).Scan(&moved); err != nil {
					return err
				}
			}
			if !moved {
				return nil
			}
			return f.db.note(ctx, tx, key, sending)
		}); terr != nil {
			return nil, nil, nil, terr
		}
	default:
		a, err = f.db.scanAgent(f.db.queryRow(ctx, f.db.sql, `UPDATE fleet_agents SET lease_job = ?, lease_attempt = ? WHERE key = ? AND `+free+` AND `+mine+`) RETURNING `+agentColumns,
			job, attempt, key, job, attempt, job, attempt))
	}
	if a != nil && intent != nil && intent.requestID(a) == rid && a.State == intent.to {
		a.sendNow = true
	}
	taken := err == nil || errors.Is(err, errUnreadableRow) || errors.Is(err, ErrNoDataKey)
	if !taken && !errors.Is(err, sql.ErrNoRows) {
		return nil, nil, nil, err
	}
	if !taken {
		var running bool
		err := f.db.queryRow(ctx, f.db.sql, "SELECT "+mine+") FROM fleet_agents WHERE key = ?", append(append([]any{job, attempt}, inTime...), key)...).Scan(&running)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return nil, nil, nil, errNotFound
		case err != nil:
			return nil, nil, nil, err
		case running:
			return nil, nil, nil, errHeld
		}
		return nil, nil, nil, errLate
	}
	switch {
	case intent == nil:
	case left <= 0:
		// Nothing is sent under an intent the attempt cannot act on.
		f.withdrawIntent(ctx, key, rid, intent, "the job's attempt ran out of time before it")
	case a == nil:
		// Nor under one recorded for a row that cannot be opened.
		f.withdrawIntent(ctx, key, rid, intent, "the stored row cannot be opened")
	}
	if left <= 0 {
		return nil, nil, nil, errLate
	}
	ctx, cancel := context.WithTimeout(context.WithValue(ctx, leaseKey{}, lease{job, attempt}), time.Duration(left)*time.Millisecond)
	return ctx, cancel, a, err
}

// withdrawIntent puts the agent key back in the state it was in before
// acquire recorded intent under rid, with why nothing was sent under it in
// the journal, if it is still there: a step that cannot act sends nothing,
// and leaves no request in doubt (a create's would park as an outcome
// unknown). A failure is logged: the intent stays, which is safe.
func (f *Fleet) withdrawIntent(ctx context.Context, key, rid string, intent *leaseIntent, why string) {
	// ctx carries no lease yet: the change is not fenced.
	_, err := f.changeNoting(context.WithoutCancel(ctx), key, request(intent.op, rid, "not sent: "+why),
		"UPDATE fleet_agents SET state = ?, updated_at = ? WHERE key = ? AND state = ? AND "+intent.requestColumn()+" = ?",
		intent.from, f.nowMillis(), key, intent.to, rid)
	if err != nil {
		f.log.Warn("fleet: withdrawing a request's intent", "operation", intent.op, "err", err)
	}
}

// leaseIntent is the intent of a step's first request, recorded with the
// step's lease (acquire) when the agent is in state from: the agent moves
// to state to under a new Request-ID, and the journal records op's
// intent. A process stopped after it leaves the agent in state to, which a
// read settles; a create cannot be read back, so its agent is parked as an
// outcome unknown, for a person to settle.
type leaseIntent struct {
	from, to, op string
	// column holds the Request-ID: step_request_id unless set (a create's
	// is create_request_id).
	column string
}

// The intents recorded with a step's lease: a create job's and a submit
// job's first request.
var (
	createIntent = &leaseIntent{from: StateNew, to: StateCreating, op: opCreate, column: "create_request_id"}
	submitIntent = &leaseIntent{from: StateChecked, to: StateSubmitting, op: opSubmit}
)

// requestColumn is the column that holds the intent's Request-ID.
func (i *leaseIntent) requestColumn() string {
	if i.column == "" {
		return "step_request_id"
	}
	return i.column
}

// requestID is a's Request-ID in the intent's column.
func (i *leaseIntent) requestID(a *agent) string {
	if i.column == "create_request_id" {
		return a.CreateRequestID
	}
	return a.StepRequestID
}

// withFirst scans a row's first column into first and the others into
// the destinations it is given.
type withFirst struct {
	row   interface{ Scan(...any) error }
	first any
}

func (w withFirst) Scan(dest ...any) error { return w.row.Scan(append([]any{w.first}, dest...)...) }

// releaseLease frees the agent when its step ends, for the next step;
// a step whose job was completed with its last state change (finish)
// left nothing to free: a lease whose job is not running holds nothing.
func (f *Fleet) releaseLease(ctx context.Context, key string) {
	cond, args := fence(ctx)
	if cond == "" || finished(ctx) {
		return
	}
	_, err := f.db.exec(context.WithoutCancel(ctx), f.db.sql, "UPDATE fleet_agents SET lease_job = NULL, lease_attempt = NULL WHERE key = ?"+cond, append([]any{key}, args...)...)
	if err != nil {
		f.log.Warn("fleet: releasing an agent", "err", err)
	}
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

// HoldRun takes a SQLite run's one-process lock (which Run takes too) for
// a process that is about to work the run, before it writes to it (an
// import), so that a second process started at once says that another
// works the run before it does anything; on Postgres, which several
// processes share, it does nothing. It returns what releases the lock.
func (d *DB) HoldRun() (release func(), err error) {
	if d.postgres {
		return func() {}, nil
	}
	return d.lockRun()
}

// lockRun takes a SQLite run's one-process lock, on the database file
// itself (openLock), and returns what releases it.
func (d *DB) lockRun() (func(), error) {
	if d.lock == nil {
		file, err := openLock(d.dsn)
		if err != nil {
			return nil, err
		}
		d.lock = file
	}
	return lock(d.lock)
}
