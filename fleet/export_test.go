package fleet

import (
	"context"
	"database/sql"
	"io"
	"log/slog"

	"github.com/riverqueue/river"
)

// TrivialArgs is the job of the River baseline: its work does nothing.
type TrivialArgs struct{}

// Kind names the baseline's job kind.
func (TrivialArgs) Kind() string { return "bench_trivial" }

// NewTrivialRiver returns a River client on d's driver with the engine's
// settings for cfg (riverConfig: workers, fetch poll and cooldown), whose
// one job kind, TrivialArgs, does nothing: the baseline the benchmarks
// compare the fleet with.
func NewTrivialRiver(d *DB, cfg Config) (*river.Client[*sql.Tx], error) {
	cfg.setDefaults()
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(context.Context, *river.Job[TrivialArgs]) error { return nil }))
	return river.NewClient(d.driver, riverConfig(cfg, workers, slog.New(slog.NewTextHandler(io.Discard, nil))))
}

// NoteForTest records entries for the agent key as a step does (DB.note:
// one statement, in their order).
func NoteForTest(ctx context.Context, d *DB, key string, entries ...Entry) error {
	return d.note(ctx, d.sql, key, entries...)
}

// TimelineForTest reads the journal of the agent key (DB.timeline).
func TimelineForTest(ctx context.Context, d *DB, key string) ([]Entry, error) {
	return d.timeline(ctx, key)
}

// ChangeNotingForTest runs a change of the agent key, fenced by the lease
// of job's attempt (none when job is 0), and records always, and ifChanged
// when it changed the agent (Fleet.changeNotingIn, in a transaction).
func ChangeNotingForTest(ctx context.Context, f *Fleet, job int64, attempt int, key string, always, ifChanged []Entry, query string, args ...any) (n int64, err error) {
	if job != 0 {
		ctx = context.WithValue(ctx, leaseKey{}, lease{job, attempt})
	}
	err = f.db.inTx(ctx, func(tx *sql.Tx) error {
		n, err = f.changeNotingIn(ctx, tx, key, always, ifChanged, query, args...)
		return err
	})
	return n, err
}
