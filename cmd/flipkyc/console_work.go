package main

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/flipkyc/flipkyc/fleet"
)

// consoleWorker works the run's jobs from the console, so that the
// actions taken in it complete: when the console starts (to take on what a
// stopped process left) and whenever an action queues a job, it runs a
// Fleet as onboard does, until no agent is under way. A SQLite run that
// another process works is left to it (its lock refuses a second one; that
// process works the jobs the console queues too), and the worker tries
// again every lockedRetry until it may. A Postgres run is worked alongside
// the other processes. The worker never takes a run on by itself
// otherwise, so that it does not hold a SQLite run's lock when an onboard
// is started on it.
type consoleWorker struct {
	db       *fleet.DB
	newFleet func() (*fleet.Fleet, error)
	logger   *slog.Logger
	wakeCh   chan struct{}

	mu    sync.Mutex
	state workState
	err   string
}

// What the console's worker is doing.
type workState int

const (
	workIdle    workState = iota // nothing under way
	workRunning                  // working the run's jobs
	workLocked                   // another process works the (SQLite) run
	workFailed                   // the last try failed (err says why)
)

// lockedRetry is how often the worker tries again while another process
// holds a SQLite run's lock.
const lockedRetry = 2 * time.Second

func newConsoleWorker(db *fleet.DB, newFleet func() (*fleet.Fleet, error), logger *slog.Logger) *consoleWorker {
	return &consoleWorker{db: db, newFleet: newFleet, logger: logger, wakeCh: make(chan struct{}, 1)}
}

// wake asks the worker to work the run now (an action queued a job).
func (w *consoleWorker) wake() {
	select {
	case w.wakeCh <- struct{}{}:
	default:
	}
}

// errRunLocked is what Run says when another process holds a SQLite run's
// lock.
const errRunLocked = "another process is working this SQLite run"

func (w *consoleWorker) loop(ctx context.Context) {
	for {
		w.runOnce(ctx)
		var retry <-chan time.Time
		var t *time.Timer
		if w.status().state == workLocked {
			t = time.NewTimer(lockedRetry)
			retry = t.C
		}
		select {
		case <-ctx.Done():
		case <-w.wakeCh:
		case <-retry:
		}
		if t != nil {
			t.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// runOnce works the run until no agent is under way, or says why not.
func (w *consoleWorker) runOnce(ctx context.Context) {
	f, err := w.newFleet()
	if err == nil {
		w.set(workRunning, "")
		err = f.Run(ctx, nil)
	}
	switch {
	case err == nil, ctx.Err() != nil:
		w.set(workIdle, "")
	case strings.Contains(err.Error(), errRunLocked):
		w.set(workLocked, "")
	default:
		w.logger.Warn("console: working the run failed", "err", err)
		w.set(workFailed, err.Error())
	}
}

func (w *consoleWorker) set(s workState, err string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.state, w.err = s, err
}

// workStatus is what the worker is doing, and why it failed.
type workStatus struct {
	state workState
	err   string
}

func (w *consoleWorker) status() workStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	return workStatus{state: w.state, err: w.err}
}

// Describe says in a sentence who works the run, naming the other
// processes registered as working it (by the id each gave itself: host,
// pid and a random suffix).
func (w *consoleWorker) Describe(ctx context.Context) string {
	s := w.status()
	procs, err := runProcesses(ctx, w.db)
	if err != nil {
		procs = nil
	}
	switch {
	case s.state == workRunning && len(procs) > 1:
		return "This console is working the run's jobs; processes working it: " + strings.Join(procs, ", ") + "."
	case s.state == workRunning:
		return "This console is working the run's jobs."
	case len(procs) > 0:
		return "Another process works this run (" + strings.Join(procs, ", ") + "): the jobs of actions taken here are worked by it."
	case s.state == workLocked:
		return "Another process works this run: the jobs of actions taken here are worked by it."
	case s.state == workFailed:
		return "Working the run failed: " + maskText(s.err) + ". Actions are queued; the console tries again with the next one."
	}
	return "Nothing is under way; the console works the run's jobs when an action queues one."
}

// runProcesses names the processes registered as working the run, by the
// id each gave itself (host, pid and a random suffix).
func runProcesses(ctx context.Context, d *fleet.DB) ([]string, error) {
	rows, err := d.SQL().QueryContext(ctx, "SELECT id FROM fleet_processes ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
