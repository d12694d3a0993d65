package fleet_test

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc/fleet"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// A create's intent is recorded just before the request is written, after
// its wait for the rate limit: killed at random points at the default rate,
// where most steps wait for their slot, the process leaves at most one
// agent in ten kills with a create recorded that Flip never received (the
// issue's goal: at most 2 in 20 kills).
func TestKilledWhileWaitingForTheRateLeavesNoUnsentCreate(t *testing.T) {
	t.Parallel()
	const kills = 10
	dir := t.TempDir()
	dsn := filepath.Join(dir, "run.db")
	csv := writeRun(t, dir, 40, nil)
	h := newHarness(t, dsn)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	for range kills {
		cmd, _ := h.onboardCmd(t, csv, dsn)
		cmd.Args = append(cmd.Args, "--rate", "5") // the default
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(300+rng.IntN(900)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
	}
	received := map[string]bool{}
	for _, r := range h.fake.RequestsTo(flipkyctest.RouteCreateAgent) {
		received[r.Fields["identity_number"]] = true
	}
	recs, err := h.db.Records(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	unsent := 0
	for _, r := range recs {
		if (r.State == fleet.StateCreating || r.State == fleet.StateAttention) && r.CreateRequestID != "" && !received[r.IdentityNumber] {
			unsent++
		}
	}
	t.Logf("%d creates received by the fake; %d recorded but never received", len(received), unsent)
	if len(received) == 0 {
		t.Fatal("no create reached the fake: the kills came too early")
	}
	if unsent > kills/10 {
		t.Errorf("%d agents with a create recorded that Flip never received after %d kills, want at most %d", unsent, kills, kills/10)
	}
}
