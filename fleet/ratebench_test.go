package fleet_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/fleet"
	"github.com/flipkyc/flipkyc/internal/pgtest"
)

// benchConfig is the command's settings (10 workers, 100 ms poll) at rate.
func benchConfig(rate float64) fleet.Config {
	return fleet.Config{Workers: 10, Rate: rate, PollInterval: 100 * time.Millisecond,
		StaleAfter: time.Minute, ReconcileEvery: 30 * time.Second}
}

// BenchmarkLimitedByFlip runs the fleet against the fake ('flipkyc fake',
// in a process of its own) at a configured rate (Config.Rate, as --rate) with the command's settings
// (10 workers, 100 ms poll) and reports the request rate it achieved as a
// fraction of it ("of-rate"; the goal is at least 0.9). The rate is
// measured while there is work to send: from the first request's reply to
// the last create's, when agents still wait for their first step; after
// it, the run only finishes the agents under way.
//
// The "unlimited" runs (no rate limit to speak of) first run River alone
// with trivial jobs at the engine's settings (fleet.NewTrivialRiver: same
// driver, database kind, workers, fetch poll and cooldown) as the
// baseline ("river-jobs/s"), then the fleet, and report the fleet's
// completed jobs per second as a fraction of it ("of-river"; goal at least
// 0.7).
//
// Every run reports this process's CPU time per agent over the run
// ("cpu-ms/agent": the fleet's onboarding and callback handling, which
// the fake's callbacks reach over loopback HTTP, as 'flipkyc onboard
// --listen'; goal at most 2 ms), the fake's process's own beside it
// ("fake-cpu-ms/agent"), and on Postgres the database's commits per agent over the
// whole run, migration and import included ("commits/agent", from
// pg_stat_database). On a Postgres the tests started themselves
// (internal/pgtest), the unlimited runs also report the server's own CPU
// time: per agent over the fleet's run, migration and import included
// ("pg-cpu-ms/agent"), and per job over River alone's
// ("river-pg-cpu-ms/job"), for the server shares the 2 cores with the
// fleet and the fake.
//
//	go test -run '^$' -bench LimitedByFlip -benchtime 1x ./fleet
func BenchmarkLimitedByFlip(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		for _, rate := range []float64{20, 100, 500} {
			b.Run(fmt.Sprintf("%s/%g", db, rate), func(b *testing.B) {
				for range b.N {
					r := limitedRun(b, db, rate, int(rate*2.5)) // about 4 requests per agent: 10 s
					b.ReportMetric(r.achieved, "req/s")
					b.ReportMetric(r.achieved/rate, "of-rate")
					b.ReportMetric(float64(r.requests), "requests")
					r.report(b)
				}
			})
		}
		b.Run(db+"/unlimited", func(b *testing.B) {
			for range b.N {
				const n = 1000
				base, baseServerCPU := riverBaseline(b, db, 2*n)
				r := limitedRun(b, db, 1e6, n)
				b.ReportMetric(base, "river-jobs/s")
				if baseServerCPU > 0 && r.serverCPUPerAgent > 0 {
					b.ReportMetric(float64(r.serverCPUPerAgent.Microseconds())/1000, "pg-cpu-ms/agent")
					b.ReportMetric(float64(baseServerCPU.Microseconds())/1000/float64(2*n), "river-pg-cpu-ms/job")
				}
				b.ReportMetric(r.jobsPerSecond, "jobs/s")
				b.ReportMetric(r.jobsPerSecond/base, "of-river")
				b.ReportMetric(float64(n)/r.elapsed.Seconds(), "agents/s")
				r.report(b)
			}
		})
	}
}

// runFigures are what limitedRun measured.
type runFigures struct {
	achieved        float64       // requests per second while agents waited for their create
	requests        int           // the requests counted for achieved
	elapsed         time.Duration // from Run's start to the run's last state change (Run notices the end up to 0.5 s later)
	jobsPerSecond   float64       // the run's completed jobs (the reconciler aside) per second of elapsed
	cpuPerAgent     time.Duration // this process's CPU time during Run (the fleet's: onboarding and callbacks), per agent
	fakeCPUPerAgent time.Duration // the fake's process's CPU time, its start and the import included, per agent
	commits         float64       // Postgres: commits per agent over the whole run; 0 on SQLite
	// serverCPUPerAgent is the Postgres server's CPU time per agent over
	// the whole run (pgtest.ServerCPU); 0 on SQLite or another server.
	serverCPUPerAgent time.Duration
}

// report reports the figures every run has.
func (r runFigures) report(b *testing.B) {
	b.ReportMetric(float64(r.cpuPerAgent.Microseconds())/1000, "cpu-ms/agent")
	b.ReportMetric(float64(r.fakeCPUPerAgent.Microseconds())/1000, "fake-cpu-ms/agent")
	if r.commits > 0 {
		b.ReportMetric(r.commits, "commits/agent")
	}
	b.ReportMetric(0, "ns/op") // the run's time is in the figures above
}

// limitedRun onboards n agents at rate and measures the run (runFigures).
func limitedRun(b *testing.B, db string, rate float64, n int) runFigures {
	dir := b.TempDir()
	dsn := filepath.Join(dir, "run.db")
	var commitsBefore int64
	var serverBefore time.Duration
	if db == "postgres" {
		dsn = postgresDSN(b)
		commitsBefore = xactCommits(b, dsn)
		serverBefore, _ = pgtest.ServerCPU()
	}
	csv := writeRun(b, dir, n, nil)
	var mu sync.Mutex
	var first, lastCreate time.Time
	var at []time.Time
	hook := func(_ context.Context, a flipkyc.Attempt) {
		now := time.Now()
		mu.Lock()
		defer mu.Unlock()
		if first.IsZero() {
			first = now
		}
		if a.Operation == "CreateAgent" {
			lastCreate = now
		}
		at = append(at, now)
	}
	cfg := benchConfig(rate)
	cfg.ClientOptions = []flipkyc.Option{flipkyc.WithAttemptHook(hook)}
	h := newProcessHarness(b, dsn, cfg)
	ctx := context.Background()
	if _, _, err := h.f.Import(ctx, readRows(b, csv)); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	run, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cpu, start := processCPU(), time.Now()
	if err := h.f.Run(run, nil); err != nil {
		b.Fatal(err)
	}
	var r runFigures
	r.cpuPerAgent = (processCPU() - cpu) / time.Duration(n)
	b.StopTimer()
	r.fakeCPUPerAgent = h.stopFake() / time.Duration(n)
	// The work ends with the last agent's last state change: Run's return
	// comes up to a check of the end (0.5 s) and River's stop later, which
	// River alone's figure (to its last completed job) does not count.
	var last int64
	if err := h.db.SQL().QueryRowContext(ctx, "SELECT MAX(updated_at) FROM fleet_agents").Scan(&last); err != nil {
		b.Fatal(err)
	}
	r.elapsed = time.UnixMilli(last).Sub(start)
	if c, _ := h.db.Counts(ctx); c[fleet.StateApproved] != n {
		b.Fatalf("counts %v", c)
	}
	var jobs int
	if err := h.db.SQL().QueryRowContext(ctx, "SELECT COUNT(*) FROM river_job WHERE state = 'completed' AND kind <> 'fleet_reconcile'").Scan(&jobs); err != nil {
		b.Fatal(err)
	}
	r.jobsPerSecond = float64(jobs) / r.elapsed.Seconds()
	if db == "postgres" {
		h.db.Close() // its sessions end, and Postgres counts their commits
		r.commits = float64(xactCommits(b, dsn)-commitsBefore) / float64(n)
		// The sessions have ended (xactCommits waited for them), and the
		// server has counted their CPU time.
		if after, ok := pgtest.ServerCPU(); ok {
			r.serverCPUPerAgent = (after - serverBefore) / time.Duration(n)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, t := range at {
		if t.After(first) && !t.After(lastCreate) {
			r.requests++
		}
	}
	r.achieved = float64(r.requests) / lastCreate.Sub(first).Seconds()
	return r
}

// riverBaseline runs jobs trivial jobs on River alone at the engine's
// settings (fleet.NewTrivialRiver), on a new database of the kind db, and
// returns the jobs completed per second, from River's start to the last,
// and on Postgres the server's CPU time over the whole (pgtest.ServerCPU;
// 0 when not known).
func riverBaseline(b *testing.B, db string, jobs int) (perSecond float64, serverCPU time.Duration) {
	dsn := filepath.Join(b.TempDir(), "river.db")
	var serverBefore time.Duration
	if db == "postgres" {
		dsn = postgresDSN(b)
		serverBefore, _ = pgtest.ServerCPU()
	}
	ctx := context.Background()
	d, err := fleet.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			d.Close()
		}
	}()
	rc, err := fleet.NewTrivialRiver(d, benchConfig(1e6))
	if err != nil {
		b.Fatal(err)
	}
	for start := 0; start < jobs; start += 200 {
		batch := make([]river.InsertManyParams, min(200, jobs-start))
		for i := range batch {
			batch[i] = river.InsertManyParams{Args: fleet.TrivialArgs{}}
		}
		tx, err := d.SQL().BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := rc.InsertManyTx(ctx, tx, batch); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	done, cancelSub := rc.Subscribe(river.EventKindJobCompleted)
	defer cancelSub()
	start := time.Now()
	if err := rc.Start(ctx); err != nil {
		b.Fatal(err)
	}
	timeout := time.After(5 * time.Minute)
	for got := 0; got < jobs; got++ {
		select {
		case <-done:
		case <-timeout:
			_ = rc.Stop(ctx)
			b.Fatalf("River completed %d of %d trivial jobs in 5 minutes", got, jobs)
		}
	}
	perSecond = float64(jobs) / time.Since(start).Seconds()
	if err := rc.Stop(ctx); err != nil {
		b.Fatal(err)
	}
	closed = true
	d.Close()
	if db == "postgres" {
		xactCommits(b, dsn) // waits for the sessions to end
		if after, ok := pgtest.ServerCPU(); ok {
			serverCPU = after - serverBefore
		}
	}
	return perSecond, serverCPU
}

// xactCommits returns the commits Postgres counted in dsn's database
// (pg_stat_database), once every other session of it has ended and
// reported them.
func xactCommits(b *testing.B, dsn string) int64 {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	for {
		var others int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()").Scan(&others); err != nil {
			b.Fatal(err)
		}
		if others == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	var commits int64
	if _, err := db.ExecContext(ctx, "SELECT pg_stat_clear_snapshot()"); err != nil {
		b.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()").Scan(&commits); err != nil {
		b.Fatal(err)
	}
	return commits
}
