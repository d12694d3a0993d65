package fleet_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/flipkyc/flipkyc/fleet"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// parkedWayOuts runs the run to its end and returns the way out of each
// parked agent.
func parkedWayOuts(t *testing.T, h *harness) []string {
	t.Helper()
	h.run(h.f)
	var outs []string
	for _, r := range records(t, h.db) {
		if r.State == fleet.StateAttention {
			outs = append(outs, r.WayOut)
		}
	}
	return outs
}

func resume(t *testing.T, h *harness, want int) {
	t.Helper()
	n, err := h.f.Resume(context.Background())
	if err != nil || n != want {
		t.Fatalf("Resume = %d, %v; want %d", n, err, want)
	}
}

// A way an agent is parked after its create whose way out Resume takes: a
// submission Flip refused, whose decision came by callback while the agent
// was parked: stored, and applied when the agent is resumed, with no read.
func TestParkedAgentsResumed(t *testing.T) {
	t.Parallel()
	t.Run("image unreadable, put back", func(t *testing.T) {
		// The way out of an image that could not be read is a repair row
		// (TestParkedAtUploadsRepaired): Resume leaves the agent parked,
		// since the step would fail again as it is.
		dir := t.TempDir()
		h := newHarness(t, filepath.Join(dir, "run.db"))
		importCSV(t, h.f, writeRun(t, dir, 1, nil))
		if err := os.Remove(filepath.Join(dir, "ktp.png")); err != nil {
			t.Fatal(err)
		}
		if outs := parkedWayOuts(t, h); len(outs) != 1 || outs[0] != fleet.WayOutRepair {
			t.Fatalf("parked with ways out %v, want %s", outs, fleet.WayOutRepair)
		}
		resume(t, h, 0)
	})
	t.Run("callback while parked", func(t *testing.T) {
		dir := t.TempDir()
		h := newHarness(t, filepath.Join(dir, "run.db"))
		importCSV(t, h.f, writeRun(t, dir, 2, nil))
		// Flip takes the submissions, but their replies are lost as a 400:
		// the run parks them as refused, and Flip's callbacks (held until
		// then) come while they are parked.
		h.fake.FailNextAfterApplying(flipkyctest.RouteSubmit, 2, 400)
		held := make(chan struct{})
		h.hold.Store(&held)
		outs := parkedWayOuts(t, h)
		close(held)
		if len(outs) != 2 || outs[0] != fleet.WayOutResume {
			t.Fatalf("parked with ways out %v, want 2 × %s", outs, fleet.WayOutResume)
		}
		waitFor(t, func() bool {
			var n int
			_ = h.db.SQL().QueryRow("SELECT COUNT(*) FROM fleet_events WHERE kyc_status = 'APPROVED' AND applied = 0").Scan(&n)
			return n == 2
		})
		// Reads fail from now on: only the stored callbacks can decide.
		h.fake.FailNext(flipkyctest.RouteGetAgent, 100000, 503)
		resume(t, h, 2)
		h.run(h.f)
		if c, _ := h.db.Counts(context.Background()); c[fleet.StateApproved] != 2 {
			t.Fatalf("counts %v, want 2 approved", c)
		}
		if n := len(h.fake.RequestsTo(flipkyctest.RouteSubmit)); n != 2 {
			t.Errorf("%d submissions, want 2 (none sent again)", n)
		}
	})
}
