package fleet_test

import (
	"context"
	"database/sql"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc/fleet"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// checkNoRepeats checks the fake's request log: no identity number sent in
// two creates, no image and no submission sent twice for one agent.
// Without faults of the fake, any second request is a step run twice.
func checkNoRepeats(t *testing.T, fake *flipkyctest.Server) {
	t.Helper()
	count := func(route flipkyctest.Route, key func(flipkyctest.Request) string) {
		seen := map[string]int{}
		for _, r := range fake.RequestsTo(route) {
			seen[key(r)]++
		}
		for k, n := range seen {
			if n > 1 {
				t.Errorf("%s %s: sent %d times, want once", route, k, n)
			}
		}
	}
	count(flipkyctest.RouteCreateAgent, func(r flipkyctest.Request) string { return "identity " + r.Fields["identity_number"] })
	count(flipkyctest.RouteUploadImage, func(r flipkyctest.Request) string { return r.Path + "?selfie=" + r.Fields["selfie"] })
	count(flipkyctest.RouteSubmit, func(r flipkyctest.Request) string { return r.Path })
}

// A process paused (SIGSTOP) longer than --orphan-after while another
// works the same Postgres run keeps its steps while it may still act
// (paused less than --job-timeout); paused longer, its steps are handed to
// the other process and, woken, it sends and changes nothing for them.
// Either way nothing is sent twice.
func TestPausedProcessPostgres(t *testing.T) {
	t.Parallel()
	t.Run("shorter than job timeout", func(t *testing.T) {
		pausedProcess(t, "20s", func(db *sql.DB, since time.Duration) bool { return since > 4*time.Second })
	})
	t.Run("longer than job timeout", func(t *testing.T) {
		pausedProcess(t, "3s", func(db *sql.DB, since time.Duration) bool {
			var handed int
			_ = db.QueryRow("SELECT COUNT(*) FROM river_job WHERE state = 'cancelled'").Scan(&handed)
			return handed > 0
		})
	})
}

// pausedProcess pauses one of two processes working a Postgres run until
// resume says so (given the database and the time since the pause).
func pausedProcess(t *testing.T, jobTimeout string, resume func(db *sql.DB, since time.Duration) bool) {
	dsn := postgresDSN(t)
	dir := t.TempDir()
	csv := writeRun(t, dir, 60, nil)
	h := newHarness(t, dsn)
	h.fake.SetLatency(5 * time.Millisecond)
	start := func() (*exec.Cmd, func() string) {
		cmd, out := h.onboardCmd(t, csv, dsn)
		// A slow shared rate keeps steps waiting for their slot after
		// their intent is recorded: the pause finds steps in flight.
		cmd.Args = append(cmd.Args, "--rate", "40", "--orphan-after", "1s", "--job-timeout", jobTimeout)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, out.String
	}
	paused, pausedOut := start()
	// Pause the first process in full flow: steps have recorded their
	// intent and wait for their slot to send.
	waitFor(t, func() bool {
		var done, sending int
		_ = h.db.SQL().QueryRow("SELECT COUNT(*) FILTER (WHERE state IN ('identity_uploaded', 'awaiting_check', 'in_review', 'approved')), COUNT(*) FILTER (WHERE state IN ('creating', 'uploading_identity', 'uploading_selfie', 'submitting')) FROM fleet_agents").Scan(&done, &sending)
		return done >= 5 && sending >= 3
	})
	if err := paused.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	other, otherOut := start()
	// The other process works while the first one's heartbeat is far past
	// --orphan-after.
	pausedAt := time.Now()
	for deadline := pausedAt.Add(2 * time.Minute); !resume(h.db.SQL(), time.Since(pausedAt)); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("paused for 2 minutes, and the condition to wake the process never held\n%s", postgresActivity(h.db.SQL()))
		}
	}
	if err := paused.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		cmd *exec.Cmd
		out func() string
	}{{paused, pausedOut}, {other, otherOut}} {
		// Exit status 1: agents parked (a create handed back is an
		// outcome unknown).
		if err := waitCmd(p.cmd, 2*time.Minute); err != nil && p.cmd.ProcessState.ExitCode() != 1 {
			t.Fatalf("onboard: %v\n%s", err, p.out())
		}
	}
	checkRun(t, h, 60)
	checkNoRepeats(t, h.fake)
}

// waitFor polls cond (every 50 ms, up to 2 minutes) until it holds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 2 minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A process whose clock is 30 s ahead or behind shares a Postgres run with
// a process on time: no time the two compare is either's own, so neither
// takes the other's steps, and nothing is sent twice.
func TestClockSkewPostgres(t *testing.T) {
	t.Parallel()
	for _, skew := range []time.Duration{30 * time.Second, -30 * time.Second} {
		t.Run(skew.String(), func(t *testing.T) {
			dsn := postgresDSN(t)
			dir := t.TempDir()
			csv := writeRun(t, dir, 60, nil)
			h := newHarness(t, dsn)
			h.fake.SetLatency(5 * time.Millisecond)
			importCSV(t, h.f, csv)
			skewed := h.newFleet(fleet.Config{ID: "skewed", Rate: 40, OrphanAfter: time.Second,
				Clock: func() time.Time { return time.Now().Add(skew) }})
			onTime := h.newFleet(fleet.Config{ID: "on-time", Rate: 40, OrphanAfter: time.Second})
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			errs := make(chan error, 2)
			for _, f := range []*fleet.Fleet{skewed, onTime} {
				go func() { errs <- f.Run(ctx, nil) }()
			}
			for range 2 {
				if err := <-errs; err != nil {
					t.Fatalf("Run: %v", err)
				}
			}
			checkRun(t, h, 60)
			checkNoRepeats(t, h.fake)
		})
	}
}

// postgresActivity describes a Postgres run for a failed test: its
// processes, its running jobs and the database's sessions with what each
// waits for.
func postgresActivity(db *sql.DB) string {
	var b strings.Builder
	for _, q := range []string{
		"SELECT id, heartbeat_at, job_timeout_ms FROM fleet_processes",
		"SELECT id, kind, attempt, attempted_by, attempted_at, now() FROM river_job WHERE state = 'running'",
		"SELECT state, COUNT(*) FROM river_job GROUP BY state",
		"SELECT state, COUNT(*) FROM fleet_agents GROUP BY state",
		"SELECT pid, state, wait_event_type, wait_event, now() - xact_start, left(query, 160) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
	} {
		fmt.Fprintf(&b, "%s:\n", q)
		rows, err := db.Query(q)
		if err != nil {
			fmt.Fprintf(&b, "  %v\n", err)
			continue
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			_ = rows.Scan(ptrs...)
			fmt.Fprintf(&b, "  %v\n", vals)
		}
		rows.Close()
	}
	return b.String()
}
