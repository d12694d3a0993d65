package fleet_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc/fleet"
)

var binary struct {
	once sync.Once
	path string
	err  error
}

// flipkycBinary builds cmd/flipkyc once.
func flipkycBinary(t testing.TB) string {
	t.Helper()
	binary.once.Do(func() {
		dir, err := os.MkdirTemp("", "fleet-bin-")
		if err != nil {
			binary.err = err
			return
		}
		binary.path = filepath.Join(dir, "flipkyc")
		out, err := exec.Command("go", "build", "-o", binary.path, "../cmd/flipkyc").CombinedOutput()
		if err != nil {
			binary.err = err
			t.Logf("%s", out)
		}
	})
	if binary.err != nil {
		t.Fatalf("building cmd/flipkyc: %v", binary.err)
	}
	return binary.path
}

// onboardCmd is "flipkyc onboard" against the harness's fake.
func (h *harness) onboardCmd(t *testing.T, csv, dsn string) (*exec.Cmd, *bytes.Buffer) {
	cmd := exec.Command(flipkycBinary(t), "onboard", "--csv", csv, "--db", dsn, "--rate", "400", "--workers", "8",
		"--stale-after", "1s", "--reconcile-every", "300ms",
		// A killed process's steps go to another process only after their
		// job timeout (and its heartbeat is late): short, for the tests.
		"--job-timeout", "10s", "--orphan-after", "2s")
	cmd.Env = append(os.Environ(), "FLIP_SECRET_KEY="+h.fake.SecretKey(), fleet.EnvDataKey+"="+testDataKeyText,
		"FLIP_API_BASE_URL="+h.fake.AgentsURL, "FLIP_KYC_BASE_URL="+h.fake.KYCURL)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// A test that ends early (failed, or a process left paused) leaves no
	// process behind to hold the run and its output's pipe.
	t.Cleanup(func() {
		if cmd.Process != nil {
			_ = cmd.Process.Kill()
		}
	})
	return cmd, &out
}

// waitCmd waits for cmd, started with its output to a buffer; after limit
// it stops it with SIGQUIT, so that the output ends with where each of its
// goroutines waited, then kills it, and returns an error saying so.
func waitCmd(cmd *exec.Cmd, limit time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
	}
	_ = cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
	return fmt.Errorf("%s did not end in %v; stopped with SIGQUIT (its goroutines are in its output)", filepath.Base(cmd.Path), limit)
}

// crashAndResume kills "flipkyc onboard" with SIGKILL at random points,
// kills times, then runs it to the end, and checks the fake and the run.
func crashAndResume(t *testing.T, dsn string, rows, kills int) {
	dir := t.TempDir()
	csv := writeRun(t, dir, rows, map[int]int{1: 14, 5: 23})
	h := newHarness(t, dsn)
	h.fake.SetLatency(3 * time.Millisecond)
	h.drop.Store(2)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for i := range kills {
		cmd, out := h.onboardCmd(t, csv, dsn)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(150+rng.IntN(900)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		c, _ := h.db.Counts(context.Background())
		t.Logf("kill %d: %v (%d bytes of output)", i+1, c, out.Len())
	}
	cmd, out := h.onboardCmd(t, csv, dsn)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Exit status 1: agents parked (a create killed in flight is an
	// outcome unknown).
	if err := waitCmd(cmd, 2*time.Minute); err != nil && cmd.ProcessState.ExitCode() != 1 {
		t.Fatalf("final run: %v\n%s", err, out)
	}
	checkRun(t, h, rows)
}

// checkRun checks that every agent is final or parked with a reason, and
// the fake's side.
func checkRun(t *testing.T, h *harness, rows int) {
	t.Helper()
	recs, err := h.db.Records(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != rows {
		t.Fatalf("%d agents in the run, want %d", len(recs), rows)
	}
	states := map[string]int{}
	for _, r := range recs {
		states[r.State]++
		switch {
		case !fleet.Final(r.State):
			t.Errorf("line %d left in %s", r.Line, r.State)
		case r.State == fleet.StateAttention && r.Attention == "":
			t.Errorf("line %d parked without a reason", r.Line)
		}
	}
	t.Logf("final states: %v", states)
	checkFake(t, h.fake, recs)
}

func TestCrashResumeSQLite(t *testing.T) {
	t.Parallel()
	crashAndResume(t, filepath.Join(t.TempDir(), "run.db"), 120, 4)
}

func TestCrashResumePostgres(t *testing.T) {
	t.Parallel()
	crashAndResume(t, postgresDSN(t), 120, 3)
}

// Two processes share one Postgres run and finish one CSV; no agent is
// handled twice.
func TestTwoProcessesPostgres(t *testing.T) {
	t.Parallel()
	dsn := postgresDSN(t)
	dir := t.TempDir()
	csv := writeRun(t, dir, 150, nil)
	h := newHarness(t, dsn)
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for range 2 {
		cmd, out := h.onboardCmd(t, csv, dsn)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	for i, cmd := range cmds {
		if err := waitCmd(cmd, 2*time.Minute); err != nil {
			t.Fatalf("process %d: %v\n%s", i, err, outs[i])
		}
	}
	checkRun(t, h, 150)
	// Both processes worked: each took agents through create and uploads.
	db := h.db.SQL()
	var workers int
	if err := db.QueryRow("SELECT COUNT(DISTINCT attempted_by[1]) FROM river_job WHERE kind = 'fleet_create'").Scan(&workers); err != nil {
		t.Fatal(err)
	}
	if workers != 2 {
		t.Errorf("creates and uploads worked by %d processes, want 2", workers)
	}
}
