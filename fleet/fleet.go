// Package fleet onboards many agents with Flip's Agent KYC API as durable
// jobs: one row per agent, each taken through create, identity image,
// selfie, upload check, submit and decision, on River (SQLite by default,
// Postgres to share one run between machines).
//
// Every step records its intent before it calls Flip, so a process killed
// at any point resumes without repeating what took effect: a create whose
// outcome is unknown is parked as needing attention with its Request-ID
// and never sent again; an upload or submission in doubt is settled by
// reading the agent first. Callbacks (CallbackHandler) advance agents, and
// a reconciler reads agents whose callback is late, so a lost callback
// delays an agent but never strands it.
//
// An agent parked at its create (outcome unknown, or Flip's 2002: already
// registered) is resumed by a person who found its agent id: a Repair with
// AgentID (the agent_id column of a repair CSV) is checked with Flip, and
// the agent goes on from the status Flip has for it, without a create and
// without an upload Flip already has. Rejected agents are resumed by a
// Repair with the correction their rejection code calls for (FixFor).
//
// Personal data: each agent's CSV row (and a pending correction) is stored
// sealed with AES-256-GCM under the run's DataKey, which the database does
// not hold (Open's WithDataKey); agents are named by a keyed hash of their
// identity number. DB.Forget and the retention period (Config.Retain)
// erase it, DB.Inventory says what is held, DB.Rekey moves a run to a new
// key.
//
// Each agent has a timeline (Fleet.Agent): the journal of every request
// sent for it with its Request-ID and result, every callback, every
// correction and person's action with who did it (WithActor), written in
// the transaction of the change it describes; it holds no personal value
// and erasure keeps it. Fleet.Agents pages through the agents, Reveal
// shows one's data and records who looked.
//
// The library package flipkyc does not import fleet: its dependencies
// (River, SQLite, pgx) stay out of programs that use only the SDK.
package fleet

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/internal/backoff"
)

// DefaultRate is the default limit on requests per second to Flip, shared
// by every worker (and, on Postgres, every machine). Flip documents no
// limit, so the default is conservative.
const DefaultRate = 5.0

// Config configures a Fleet.
type Config struct {
	// DB is the run's database (Open).
	DB *DB
	// SecretKey is Flip's secret key; ClientOptions point the client at
	// Flip (WithEnvironment, WithBaseURLs, …). Fleet adds its own HTTP
	// client, whose transport waits for the rate limit.
	SecretKey     string
	ClientOptions []flipkyc.Option
	// Transport is the HTTP transport under the rate limit; a pooled
	// transport of its own by default.
	Transport http.RoundTripper
	// Rate is the most requests per second sent to Flip (DefaultRate when
	// zero). On Postgres it is shared by every process of the run.
	Rate float64
	// Workers is how many jobs run at once in this process (10 by default).
	Workers int
	// StaleAfter is how long an agent waits for a callback before the
	// reconciler reads it from Flip (2 minutes by default);
	// ReconcileEvery how often the reconciler looks (15 s by default) and
	// ReconcileBatch how many agents it reads at most each time (by
	// default half the requests Rate allows over ReconcileEvery, from 50
	// to 5,000: callbacks lost in bulk are read at the pace of the rate).
	StaleAfter     time.Duration
	ReconcileEvery time.Duration
	ReconcileBatch int
	// PollInterval is how often idle workers look for jobs (100 ms).
	PollInterval time.Duration
	// JobTimeout bounds one job (2 minutes by default): an agent's create
	// and its two uploads run as one job; submit, repair and a read each
	// as one of their own.
	JobTimeout time.Duration
	// OrphanAfter is how long a process may miss its heartbeat before the
	// steps it was running are given to others (15 s by default).
	OrphanAfter time.Duration
	// Retain is how long an agent's personal data is kept after it
	// reached a final state (DefaultRetain when zero); the run erases it
	// when it starts and with each reconciliation after that (DB.EraseExpired).
	Retain time.Duration
	// Logger receives River's and the fleet's warnings (River's other lines
	// too when it is enabled for LevelDebug); silent when nil.
	Logger *slog.Logger
	// ID names this process among the run's (host and pid by default).
	ID string
	// Clock is this process's clock for the times it stamps on agents
	// (time.Now by default). Times that processes compare (heartbeats, the
	// age of a step) are the database's, never a process's own.
	Clock func() time.Time

	// hooks are River hooks, for tests.
	hooks []rivertype.Hook
}

// Fleet runs onboarding jobs against one database.
type Fleet struct {
	cfg   Config
	db    *DB
	flip  *flipkyc.Client
	river *river.Client[*sql.Tx]
	// lim spaces the requests to Flip (Config.Rate); nil without a
	// SecretKey.
	lim limiter
	// stopping ends the limiter's waits in jobs when Run stops.
	stopping runStopping
	log      *slog.Logger
	// unlock releases the lock on the SQLite run's file.
	unlock func()
	// offset is the database's clock minus this process's, in ms (now).
	offset atomic.Int64
	// waitHeld waits between the tries of acquireWaiting: backoff.Sleep,
	// or a test's.
	waitHeld func(ctx context.Context, d time.Duration) error
}

// New returns a Fleet that works the run's jobs (Run) and accepts rows
// (Import), repairs (Repair) and callbacks (HandleEvent).
func New(cfg Config) (*Fleet, error) {
	if cfg.DB == nil {
		return nil, errors.New("fleet: Config.DB is required")
	}
	if cfg.Rate < 0 || cfg.Workers < 0 || cfg.Retain < 0 {
		return nil, errors.New("fleet: Rate, Workers and Retain cannot be negative")
	}
	cfg.setDefaults()
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.ID == "" {
		host, _ := os.Hostname()
		cfg.ID = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), uuid.NewString()[:8])
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	f := &Fleet{cfg: cfg, db: cfg.DB, log: log, waitHeld: backoff.Sleep}
	if cfg.SecretKey != "" {
		base := cfg.Transport
		if base == nil {
			t := http.DefaultTransport.(*http.Transport).Clone()
			t.MaxIdleConnsPerHost = cfg.Workers + 4
			base = t
		}
		var lim limiter = newLocalLimiter(cfg.Rate)
		if cfg.DB.postgres {
			lim = newDBLimiter(cfg.DB, cfg.Rate)
		}
		f.lim = stoppableLimiter{lim: lim, stopping: &f.stopping}
		hc := &http.Client{Transport: &limitedTransport{base: base, lim: f.lim}}
		opts := append(append([]flipkyc.Option{}, cfg.ClientOptions...), flipkyc.WithHTTPClient(hc))
		c, err := flipkyc.New(cfg.SecretKey, opts...)
		if err != nil {
			return nil, err
		}
		f.flip = c
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &worker[createArgs]{f: f, step: f.onboard, slotFirst: true, intent: createIntent})
	river.AddWorker(workers, &worker[uploadArgs]{f: f, step: f.onboard})
	river.AddWorker(workers, &worker[submitArgs]{f: f, step: f.submit, intent: submitIntent})
	river.AddWorker(workers, &worker[repairArgs]{f: f, step: f.repair})
	river.AddWorker(workers, &worker[pollArgs]{f: f, step: f.poll})
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[reconcileArgs]) error {
		if err := f.eraseExpired(ctx); err != nil {
			return err
		}
		return f.reconcile(ctx)
	}))
	rcfg := riverConfig(cfg, workers, log)
	rcfg.RetryPolicy = retryPolicy{now: f.now}
	rcfg.Hooks = cfg.hooks
	rcfg.PeriodicJobs = []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(cfg.ReconcileEvery),
		func() (river.JobArgs, *river.InsertOpts) { return reconcileArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true, ID: "fleet_reconcile"})}
	rc, err := river.NewClient(cfg.DB.driver, rcfg)
	if err != nil {
		return nil, err
	}
	f.river = rc
	// Stamps from the start (Import) are on the database's clock.
	octx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.measureOffset(octx); err != nil {
		log.Warn("fleet: reading the database's clock", "err", err)
	}
	return f, nil
}

// setDefaults fills in the settings left zero.
func (cfg *Config) setDefaults() {
	setDefault(&cfg.Rate, DefaultRate)
	setDefault(&cfg.Workers, 10)
	setDefault(&cfg.StaleAfter, 2*time.Minute)
	setDefault(&cfg.ReconcileEvery, 15*time.Second)
	setDefault(&cfg.ReconcileBatch, int(min(5000, max(50, cfg.Rate*cfg.ReconcileEvery.Seconds()/2))))
	setDefault(&cfg.PollInterval, 100*time.Millisecond)
	setDefault(&cfg.JobTimeout, 2*time.Minute)
	setDefault(&cfg.OrphanAfter, 15*time.Second)
	setDefault(&cfg.Retain, DefaultRetain)
}

// riverConfig is the engine's River settings for cfg (defaults filled in):
// its queue, fetching, timeouts and attempts. New adds the retry policy,
// hooks and the reconciler; the benchmarks' River baseline uses it as is.
func riverConfig(cfg Config, workers *river.Workers, log *slog.Logger) *river.Config {
	return &river.Config{
		ID:                   cfg.ID,
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}},
		Workers:              workers,
		FetchPollInterval:    cfg.PollInterval,
		FetchCooldown:        fetchCooldown(cfg),
		JobTimeout:           cfg.JobTimeout,
		RescueStuckJobsAfter: cfg.JobTimeout + time.Minute,
		MaxAttempts:          maxAttempts,
		Logger:               riverLogger(log),
	}
}

// fetchCooldown is the least time between River's fetches of jobs: short
// enough that the workers can take jobs at the rate (a fetch takes at most
// Workers jobs; an agent's four requests are two jobs), at least 5 ms, at
// most the poll interval or 50 ms.
func fetchCooldown(cfg Config) time.Duration {
	return min(cfg.PollInterval, 50*time.Millisecond, max(5*time.Millisecond, time.Duration(float64(cfg.Workers)/cfg.Rate*float64(time.Second))))
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// maxAttempts bounds the tries of one step; the last failure parks the
// agent with the error, so no agent is left without a state.
const maxAttempts = 12

// retryPolicy schedules a step's next try on the database's clock (now),
// which River compares with the database's now().
type retryPolicy struct{ now func() time.Time }

func (p retryPolicy) NextRetry(j *rivertype.JobRow) time.Time {
	d := time.Duration(1<<min(j.Attempt, 6)) * 250 * time.Millisecond // 0.5 s … 16 s
	return p.now().Add(d)
}

// riverLogger passes River its warnings and errors, and its other lines
// as log's level allows only when log is enabled for debugging (the
// command's -v): River's informational lines are many.
func riverLogger(log *slog.Logger) *slog.Logger {
	if log.Enabled(context.Background(), slog.LevelDebug) {
		return log
	}
	return slog.New(discardBelow{h: log.Handler(), min: slog.LevelWarn})
}

// discardBelow drops River's log lines under min.
type discardBelow struct {
	h   slog.Handler
	min slog.Level
}

func (d discardBelow) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= d.min && d.h.Enabled(ctx, l)
}
func (d discardBelow) Handle(ctx context.Context, r slog.Record) error { return d.h.Handle(ctx, r) }
func (d discardBelow) WithAttrs(a []slog.Attr) slog.Handler {
	return discardBelow{h: d.h.WithAttrs(a), min: d.min}
}
func (d discardBelow) WithGroup(n string) slog.Handler {
	return discardBelow{h: d.h.WithGroup(n), min: d.min}
}

// Job kinds, one per step.
type (
	createArgs    struct{ Key string }
	uploadArgs    struct{ Key string }
	submitArgs    struct{ Key string }
	repairArgs    struct{ Key string }
	pollArgs      struct{ Key string }
	reconcileArgs struct{}
)

func (createArgs) Kind() string { return "fleet_create" }

// InsertOpts gives the steps of agents already under way (priority 1,
// River's default) the workers before new agents: an agent goes through
// the run soon after its create, and the queue holds the run's new agents
// rather than each of them at every step.
func (createArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Priority: 2} }

// InsertOpts make reads, submissions and uploads unique per agent while
// one is pending (queued, waiting for a retry or running): however long
// Flip is down, the reconciler and callbacks queue no second one.
func (pollArgs) InsertOpts() river.InsertOpts   { return river.InsertOpts{UniqueOpts: onePending} }
func (submitArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{UniqueOpts: onePending} }
func (uploadArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{UniqueOpts: onePending} }

// onePending is unique by kind and arguments among the states of a job
// not yet done.
var onePending = river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled}}

func (uploadArgs) Kind() string    { return "fleet_upload" }
func (submitArgs) Kind() string    { return "fleet_submit" }
func (repairArgs) Kind() string    { return "fleet_repair" }
func (pollArgs) Kind() string      { return "fleet_poll" }
func (reconcileArgs) Kind() string { return "fleet_reconcile" }

type keyed interface {
	river.JobArgs
	key() string
}

func (a createArgs) key() string { return a.Key }
func (a uploadArgs) key() string { return a.Key }
func (a submitArgs) key() string { return a.Key }
func (a repairArgs) key() string { return a.Key }
func (a pollArgs) key() string   { return a.Key }

// worker runs one step for the agent its job names. A step reads the
// agent's state and acts only when the state calls for it, so a step run
// twice (after a crash, or a job inserted twice) does nothing the second
// time.
type worker[T keyed] struct {
	river.WorkerDefaults[T]
	f    *Fleet
	step func(ctx context.Context, a *agent) error
	// intent, if not nil, is the step's first request's intent, recorded
	// with its lease.
	intent *leaseIntent
	// slotFirst: the job's first request takes its slot of the rate limit
	// before the lease (and its intent) is taken, so that the intent is
	// recorded once the request may go, just before it is sent.
	slotFirst bool
}

// Work runs the step for the agent the job names. A step that cannot run
// (the stored row cannot be read, the input breaks a rule) or that failed
// MaxAttempts times parks the agent with the reason, so that no agent is
// left without a state and the run ends.
func (w *worker[T]) Work(ctx context.Context, j *river.Job[T]) error {
	key := j.Args.key()
	// A job waiting for its turn at the rate limit when the run stops
	// ends here (stoppableLimiter), having sent nothing more.
	ctx, cancelJob := context.WithCancelCause(ctx)
	defer cancelJob(nil)
	ctx = context.WithValue(ctx, jobCancelKey{}, cancelJob)
	if w.slotFirst && w.f.lim != nil {
		switch err := w.f.lim.wait(ctx); {
		case err == nil:
			ctx = withSlotTaken(ctx)
		case ctx.Err() != nil:
			// The job was stopped while it waited, having done nothing:
			// later, without spending an attempt.
			return river.JobSnooze(time.Second)
		default:
			// The step goes on without a slot: its first request waits for
			// one in the transport, and fails unsent as any step's would
			// (the last attempt parks the agent).
			w.f.log.Warn("fleet: waiting for the rate limit", "kind", j.Kind, "err", err)
		}
	}
	ctx, cancel, a, err := w.f.acquireWaiting(ctx, j.ID, j.Attempt, key, w.intent)
	switch {
	case errors.Is(err, errNotFound):
		return nil
	case errors.Is(err, errHeld), errors.Is(err, errLate):
		// Another running job has the agent, or this attempt must not
		// act: try again later, as a new attempt (a job handed back is
		// finished already, and River leaves it so).
		return river.JobSnooze(time.Second)
	case cancel == nil:
		return err
	}
	// The lease is taken; err is a stored row that cannot be opened.
	defer cancel()
	// The step's last state change completes the job in its own
	// transaction (finish): a crash between the two cannot run the step
	// again.
	ctx = context.WithValue(ctx, finishKey{}, &jobFinish{complete: func(ctx context.Context, tx *sql.Tx) error {
		_, err := river.JobCompleteTx[riverdriver.Driver[*sql.Tx]](ctx, tx, j)
		return err
	}})
	defer w.f.releaseLease(ctx, key)
	if err == nil {
		err = w.step(ctx, a)
	}
	if err == nil || errors.Is(err, errMoved) {
		return nil
	}
	if errors.Is(context.Cause(ctx), errStopping) {
		// The run stopped while the step waited to send: the next run
		// goes on from what is recorded, without spending an attempt.
		return river.JobSnooze(time.Second)
	}
	reason := fmt.Sprintf("%s cannot run: %v", j.Kind, err)
	if !permanent(err) {
		if j.Attempt < j.MaxAttempts {
			return err
		}
		if j.Kind == (pollArgs{}).Kind() {
			// A read that failed for good changes nothing: the agent
			// still waits, and the reconciler reads it again later.
			w.f.log.Warn("fleet: reading an agent failed for good; read again later", "err", err)
			return nil
		}
		reason = fmt.Sprintf("%s failed %d times, last: %v", j.Kind, j.Attempt, err)
	}
	w.f.log.Warn("fleet: step failed for good; the agent is parked", "kind", j.Kind, "err", err)
	// Park the agent in whatever state the job left it in (a job may take
	// it through several steps), unless it is final; parked_from keeps
	// that state for Resume.
	ctx = context.WithoutCancel(ctx)
	return w.f.db.inTx(ctx, func(tx *sql.Tx) error {
		n, err := w.f.change(ctx, tx, "UPDATE fleet_agents SET state = ?, attention = ?, parked_from = state, updated_at = ? WHERE key = ? AND state NOT IN (?, ?, ?, ?)",
			StateAttention, reason, w.f.nowMillis(), key, StateApproved, StateRejected, StateUploadFailed, StateAttention)
		if err != nil || n == 0 {
			return err
		}
		if err := w.f.db.note(ctx, tx, key, parkedEntry(reason)); err != nil {
			return err
		}
		return w.f.finish(ctx, tx)
	})
}

// errUnreadableRow is a stored row this version cannot decode.
var errUnreadableRow = errors.New("fleet: the stored row cannot be read by this version")

// permanent reports whether err stays the same however often the step is
// tried: the step parks its agent at once.
func permanent(err error) bool {
	var ve *flipkyc.ValidationError
	return errors.Is(err, errUnreadableRow) || errors.As(err, &ve)
}

// agent is one row of fleet_agents.
type agent struct {
	Key, State, KYCStatus, CreateRequestID, StepRequestID, Repair, Attention string
	Line                                                                     int
	AgentID                                                                  sql.NullInt64
	Code                                                                     int
	Row                                                                      Row
	// Erased is an agent whose personal data was erased (Forget, or the
	// retention period): Row and Repair are empty.
	Erased bool
	// sendNow: this job recorded the intent of the agent's next request
	// (its state and StepRequestID) with the last result, so nothing was
	// sent under it yet: the request goes without reading the agent first.
	sendNow bool
}

const agentColumns = "key, line, row, state, agent_id, kyc_status, rejection_code, create_request_id, step_request_id, repair, attention, erased_at"

// scanAgent reads an agent and opens its sealed row and correction; an
// erased agent has neither.
func (d *DB) scanAgent(s interface{ Scan(...any) error }) (*agent, error) {
	var a agent
	var row string
	var erasedAt int64
	if err := s.Scan(&a.Key, &a.Line, &row, &a.State, &a.AgentID, &a.KYCStatus, &a.Code, &a.CreateRequestID, &a.StepRequestID, &a.Repair, &a.Attention, &erasedAt); err != nil {
		return nil, err
	}
	a.Erased = erasedAt != 0
	var err error
	if a.Row, err = d.key.openRow(a.Key, row, a.Line); err != nil {
		if errors.Is(err, ErrNoDataKey) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v", errUnreadableRow, err)
	}
	if a.Repair != "" {
		b, err := d.key.open(a.Key, a.Repair)
		if err != nil {
			return nil, fmt.Errorf("%w: the stored correction of line %d: %v", errUnreadableRow, a.Line, err)
		}
		a.Repair = string(b)
	}
	return &a, nil
}

func (f *Fleet) load(ctx context.Context, q querier, key string) (*agent, error) {
	a, err := f.db.scanAgent(f.db.queryRow(ctx, q, "SELECT "+agentColumns+" FROM fleet_agents WHERE key = ?", key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound
	}
	return a, err
}

// park sets an agent aside with the reason a person must read, if it is
// still in state from, and records notes (the request that led to it) and
// the parking in the journal; it ends the step's job (finish).
func (f *Fleet) park(ctx context.Context, key, from, reason string, notes ...Entry) error {
	return f.db.inTx(ctx, func(tx *sql.Tx) error {
		// The notes (the request's result) are recorded whoever moved the
		// agent since.
		n, err := f.changeNotingIn(ctx, tx, key, notes, []Entry{parkedEntry(reason)},
			"UPDATE fleet_agents SET state = 'attention', attention = ?, parked_from = state, updated_at = ? WHERE key = ? AND state = ?",
			reason, f.nowMillis(), key, from)
		if err != nil || n == 0 {
			return err
		}
		return f.finish(ctx, tx)
	})
}

type finishKey struct{}

// jobFinish completes the job of a step (complete) and says whether it
// did (done).
type jobFinish struct {
	complete func(context.Context, *sql.Tx) error
	done     atomic.Bool
}

// finish completes the job of the step running under ctx in tx, with the
// step's last state change; nothing outside a job.
func (f *Fleet) finish(ctx context.Context, tx *sql.Tx) error {
	jf, ok := ctx.Value(finishKey{}).(*jobFinish)
	if !ok {
		return nil
	}
	err := jf.complete(ctx, tx)
	if errors.Is(err, rivertype.ErrNotFound) {
		err = nil // the job's row is gone: nothing to complete
	}
	if err == nil {
		jf.done.Store(true)
	}
	return err
}

// finished reports whether the job of the step running under ctx was
// completed by a state change of the step (finish); its transaction may
// yet fail, and the job then ends as River records the step's error.
func finished(ctx context.Context) bool {
	jf, ok := ctx.Value(finishKey{}).(*jobFinish)
	return ok && jf.done.Load()
}

// change runs a step's UPDATE of an agent (ending with its WHERE clause)
// only while the step's job holds the agent (fence): a worker whose step
// was handed to another process changes nothing.
func (f *Fleet) change(ctx context.Context, q querier, query string, args ...any) (int64, error) {
	cond, held := fence(ctx)
	return f.db.exec(ctx, q, query+cond, append(args, held...)...)
}

// inFlight reports whether a step of the run is queued, waiting for a
// retry or running (the reconciler aside); true when it cannot tell.
func (f *Fleet) inFlight(ctx context.Context) bool {
	var one int
	err := f.db.queryRow(ctx, f.db.sql, "SELECT 1 FROM river_job WHERE kind <> ? AND state IN ('available', 'pending', 'retryable', 'running', 'scheduled') LIMIT 1",
		reconcileArgs{}.Kind()).Scan(&one)
	return !errors.Is(err, sql.ErrNoRows)
}

// now is the database's clock as this process reads it: its own clock
// (Config.Clock) corrected by the offset to the database's measured at
// each heartbeat. Every time the fleet stamps (updated_at, polled_at) and
// compares is so on one clock, whichever process stamped it.
func (f *Fleet) now() time.Time {
	return f.cfg.Clock().Add(time.Duration(f.offset.Load()) * time.Millisecond)
}

// nowMillis is now in Unix milliseconds.
func (f *Fleet) nowMillis() int64 { return f.now().UnixMilli() }

// measureOffset sets the offset of the database's clock to this process's.
func (f *Fleet) measureOffset(ctx context.Context) error {
	var db int64
	before := f.cfg.Clock()
	if err := f.db.queryRow(ctx, f.db.sql, "SELECT "+f.db.nowSQL()).Scan(&db); err != nil {
		return err
	}
	after := f.cfg.Clock()
	mid := before.Add(after.Sub(before) / 2)
	f.offset.Store(db - mid.UnixMilli())
	return nil
}

// insert schedules a job in tx.
func (f *Fleet) insert(ctx context.Context, tx *sql.Tx, args river.JobArgs) error {
	_, err := f.river.InsertTx(ctx, tx, args, nil)
	return err
}

// Import adds the rows that the run does not have yet, each with its
// create job in the same transaction, and returns how many were new. Rows
// already in the run (a resumed run) are left as they are. A new row whose
// phone number an agent of the run, a correction queued for one, or an
// earlier row has is not added and is returned as refused: Flip registers
// a phone number once in a company, and would refuse its create.
//
// Each agent is named by the keyed hash of its identity number, and its
// row is sealed with the run's data key (Open's WithDataKey).
func (f *Fleet) Import(ctx context.Context, rows []Row) (added int, refused []RowError, err error) {
	if f.db.key == nil {
		return 0, nil, ErrNoDataKey
	}
	// The numbers of corrections queued for agents count as theirs.
	queued, err := f.db.queuedPhones(ctx)
	if err != nil {
		return 0, nil, err
	}
	for start := 0; start < len(rows); start += 200 {
		batch := rows[start:min(start+200, len(rows))]
		keys := make([]any, len(batch))
		for i, r := range batch {
			keys[i] = f.db.key.agentKey(r.Params.IdentityNumber)
		}
		var jobs []river.InsertManyParams
		var batchRefused []RowError
		err := f.db.inTx(ctx, func(tx *sql.Tx) error {
			jobs, batchRefused = jobs[:0], batchRefused[:0]
			now := f.nowMillis()
			// The agents the run has already are left out before the
			// INSERT: a plain read does not wait for a row another
			// process holds (a paused one, in its transaction), where
			// the INSERT's conflict check would.
			var present []string
			if err := collect(ctx, tx, f.db.rebind("SELECT key FROM fleet_agents WHERE key IN (?"+strings.Repeat(", ?", len(keys)-1)+")"),
				collectString(&present), keys...); err != nil {
				return err
			}
			var fresh []Row
			var freshKeys []string
			for i, r := range batch {
				if key := keys[i].(string); !slices.Contains(present, key) {
					fresh, freshKeys = append(fresh, r), append(freshKeys, key)
				}
			}
			taken, err := f.db.phonesTaken(ctx, tx, queued, fresh)
			if err != nil {
				return err
			}
			earlier := map[string]int{} // phone key -> line, in this batch
			for i, r := range fresh {
				key := freshKeys[i]
				s, err := f.db.key.sealRow(key, r)
				if err != nil {
					return err
				}
				if taken[i].line != 0 {
					batchRefused = append(batchRefused, RowError{r.Line, "phone_number", taken[i].rule()})
					continue
				}
				if first, ok := earlier[s.phoneKey]; ok {
					batchRefused = append(batchRefused, RowError{r.Line, "phone_number", fmt.Sprintf("the same as line %d's: Flip registers a phone number once", first)})
					continue
				}
				n, err := f.db.exec(ctx, tx, "INSERT INTO fleet_agents (key, line, row, personal_fields, phone_key, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'new', ?, ?) ON CONFLICT (key) DO NOTHING",
					key, r.Line, s.row, s.fields, s.phoneKey, now, now)
				if err != nil {
					return err
				}
				if n == 1 {
					if s.phoneKey != "" {
						earlier[s.phoneKey] = r.Line
					}
					jobs = append(jobs, river.InsertManyParams{Args: createArgs{Key: key}})
					if err := f.db.note(ctx, tx, key, Entry{Kind: EntryState, Operation: opImported, Result: fmt.Sprintf("line %d of the CSV: create queued", r.Line), Actor: actorOf(ctx)}); err != nil {
						return err
					}
				}
			}
			if len(jobs) > 0 {
				if _, err := f.river.InsertManyTx(ctx, tx, jobs); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return added, refused, err
		}
		added += len(jobs) // committed
		refused = append(refused, batchRefused...)
	}
	return added, refused, nil
}

// eraseExpired erases the personal data whose retention period ended.
func (f *Fleet) eraseExpired(ctx context.Context) error {
	n, err := f.db.EraseExpired(ctx, f.cfg.Retain)
	if n > 0 {
		f.log.Info("fleet: personal data erased at the end of its retention period", "agents", n)
	}
	return err
}

// Run works the run's jobs until every agent is final (approved, rejected,
// upload failed) or parked, or ctx ends. progress, if not nil, is called
// about once a second with the counts.
func (f *Fleet) Run(ctx context.Context, progress func(Counts)) error {
	if f.flip == nil {
		return errors.New("fleet: Run needs Config.SecretKey")
	}
	if f.db.key == nil {
		return ErrNoDataKey
	}
	if err := f.claim(ctx); err != nil {
		return err
	}
	defer f.release()
	if err := f.eraseExpired(ctx); err != nil {
		return err
	}
	stopping := f.stopping.begin()
	defer stopping()
	if err := f.river.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	stop := func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := f.river.Stop(sctx); err != nil {
			_ = f.river.StopAndCancel(context.Background())
		}
	}
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for n := 0; ; n++ {
		if n%2 == 0 {
			if err := f.heartbeat(ctx); err != nil && ctx.Err() == nil {
				f.log.Warn("fleet: heartbeat", "err", err)
			}
		}
		// Counting every state reads the whole table: only for progress,
		// once a second; the check for the end finds one active agent or
		// one step in flight (a step may still change a parked agent: a
		// create that succeeds records the agent's id).
		if progress != nil && n%2 == 0 {
			if c, err := f.db.Counts(ctx); err == nil {
				progress(c)
				if c.Active() == 0 && !f.inFlight(ctx) {
					stop()
					return nil
				}
			}
		} else if active, err := f.db.anyActive(ctx); err == nil && !active && !f.inFlight(ctx) {
			if progress != nil {
				if c, err := f.db.Counts(ctx); err == nil {
					progress(c)
				}
			}
			stop()
			return nil
		}
		select {
		case <-ctx.Done():
			stopping() // the steps waiting for their turn at the rate limit give up
			stop()
			return ctx.Err()
		case <-tick.C:
		}
	}
}
