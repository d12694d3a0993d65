package fleet_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flipkyc/flipkyc/fleet"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// A rejected agent (code 14: a new identity photo) whose correction could
// not be sent as it is (its image vanished before it was sent; Flip
// refused it) is parked with the way out "repair", which Resume does not
// take (the same correction would fail again). A second repair row, with a
// good file, is accepted, replaces the pending correction and takes the
// agent to approved; the photo is sent once with effect.
func TestCorrectionFailedRepairedAgain(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// spoil makes the first correction fail once it is queued.
		spoil  func(t *testing.T, h *harness, dir string)
		reason string
	}{
		{"image vanished before it was sent",
			func(t *testing.T, h *harness, dir string) { must(t, os.Remove(filepath.Join(dir, "ktp-first.png"))) },
			"cannot read the corrected image"},
		{"Flip refused the correction",
			func(t *testing.T, h *harness, dir string) {
				h.fake.FailNext(flipkyctest.RouteRepairPhoto, 1, http.StatusBadRequest)
			},
			"Flip refused the correction"},
	}
	for _, db := range []string{"sqlite", "postgres"} {
		for _, c := range cases {
			t.Run(db+"/"+c.name, func(t *testing.T) {
				ctx := context.Background()
				dir := t.TempDir()
				dsn := runDSN(t, db, dir)
				h := newHarness(t, dsn)
				importCSV(t, h.f, writeRun(t, dir, 1, map[int]int{0: 14}))
				h.run(h.f)
				if r := records(t, h.db)[0]; r.State != fleet.StateRejected {
					t.Fatalf("agent %s, want rejected", r.State)
				}
				copyFile(t, filepath.Join(dir, "ktp.png"), filepath.Join(dir, "ktp-first.png"))
				copyFile(t, filepath.Join(dir, "ktp.png"), filepath.Join(dir, "ktp-second.png"))
				const nik = "3201000000009914"
				if bad, err := h.f.Repair(ctx, readRepairs(t, "identity_number,identity_image\n"+nik+",ktp-first.png\n", dir)); err != nil || len(bad) > 0 {
					t.Fatalf("Repair: %v %v", err, bad)
				}
				c.spoil(t, h, dir)
				if outs := parkedWayOuts(t, h); len(outs) != 1 || outs[0] != fleet.WayOutRepair {
					t.Fatalf("parked with ways out %v, want %s", outs, fleet.WayOutRepair)
				}
				s, err := h.db.Summarize(ctx)
				must(t, err)
				if len(s.Attention) != 1 || s.Attention[0].WayOut != fleet.WayOutRepair || !strings.Contains(s.Attention[0].Attention, c.reason) {
					t.Fatalf("status shows %+v, want the agent with its reason and the way out %s", s.Attention, fleet.WayOutRepair)
				}
				resume(t, h, 0)

				// A correction the rejection does not call for is still refused.
				if bad, err := h.f.Repair(ctx, readRepairs(t, "identity_number,name\n"+nik+",Agent Renamed\n", dir)); err != nil || len(bad) != 1 {
					t.Fatalf("Repair with data for code 14 = %v, %v; want one refusal", bad, err)
				}
				if bad, err := h.f.Repair(ctx, readRepairs(t, "identity_number,identity_image\n"+nik+",ktp-second.png\n", dir)); err != nil || len(bad) > 0 {
					t.Fatalf("Repair again: %v %v", err, bad)
				}
				h.run(h.f)
				recs := records(t, h.db)
				if recs[0].State != fleet.StateApproved {
					t.Fatalf("agent %s (%s), want approved", recs[0].State, recs[0].Attention)
				}
				took := 0
				for _, r := range h.fake.RequestsTo(flipkyctest.RouteRepairPhoto) {
					if r.Status == http.StatusOK {
						took++
					}
				}
				if took != 1 {
					t.Errorf("%d photo corrections taken, want 1", took)
				}
				var kept int
				must(t, h.db.SQL().QueryRow("SELECT COUNT(*) FROM fleet_agents WHERE repair <> ''").Scan(&kept))
				if kept != 0 {
					t.Errorf("%d corrections kept after the decision", kept)
				}
				checkFake(t, h.fake, recs)
			})
		}
	}
}

// An agent whose personal data was erased while it was parked, or under
// way, shows the way out "new_run": Resume leaves it, and a repair row for
// it is refused, since the run has no data to go on with.
func TestErasedParkedAgentWayOut(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	h := newHarness(t, filepath.Join(dir, "run.db"))
	rows := readRows(t, writeRun(t, dir, 2, nil))
	if _, _, err := h.f.Import(ctx, rows); err != nil {
		t.Fatal(err)
	}
	// Line 3 is erased before its create; line 2's identity image
	// vanishes, and it is erased once parked.
	if _, err := h.db.Forget(ctx, fleet.Forget{Line: 3}); err != nil {
		t.Fatal(err)
	}
	must(t, os.Remove(filepath.Join(dir, "ktp.png")))
	if outs := parkedWayOuts(t, h); len(outs) != 2 || outs[0] != fleet.WayOutRepair || outs[1] != fleet.WayOutNewRun {
		t.Fatalf("parked with ways out %v, want %s and %s", outs, fleet.WayOutRepair, fleet.WayOutNewRun)
	}
	if _, err := h.db.Forget(ctx, fleet.Forget{Line: 2}); err != nil {
		t.Fatal(err)
	}
	s, err := h.db.Summarize(ctx)
	must(t, err)
	if len(s.Attention) != 2 || s.Attention[0].WayOut != fleet.WayOutNewRun || s.Attention[1].WayOut != fleet.WayOutNewRun {
		t.Fatalf("status shows %+v, want both agents with the way out %s", s.Attention, fleet.WayOutNewRun)
	}
	resume(t, h, 0)
	copyFile(t, filepath.Join(dir, "selfie.png"), filepath.Join(dir, "ktp2.png"))
	bad, err := h.f.Repair(ctx, readRepairs(t, "identity_number,identity_image\n"+rows[0].Params.IdentityNumber+",ktp2.png\n", dir))
	if err != nil || len(bad) != 1 || !strings.Contains(bad[0].Rule, "erased") {
		t.Fatalf("Repair = %v, %v; want it refused as erased", bad, err)
	}
}

// A step that failed for good (here its one allowed attempt: an upload
// whose reply was lost, 503) parks the agent with the way out "resume";
// Resume puts it back at that upload, which reads the agent first and
// sends the image once with effect, to approved.
func TestStepFailedForGoodResumed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h := newHarness(t, filepath.Join(dir, "run.db"))
	importCSV(t, h.f, writeRun(t, dir, 1, nil))
	if _, err := h.db.SQL().Exec("UPDATE river_job SET max_attempts = 1"); err != nil {
		t.Fatal(err)
	}
	h.fake.FailNext(flipkyctest.RouteUploadImage, 1, http.StatusServiceUnavailable)
	if outs := parkedWayOuts(t, h); len(outs) != 1 || outs[0] != fleet.WayOutResume {
		t.Fatalf("parked with ways out %v, want %s", outs, fleet.WayOutResume)
	}
	if r := records(t, h.db)[0]; !strings.Contains(r.Attention, "failed 1 times") {
		t.Fatalf("reason %q, want the step's failures", r.Attention)
	}
	resume(t, h, 1)
	h.run(h.f)
	recs := records(t, h.db)
	if recs[0].State != fleet.StateApproved {
		t.Fatalf("agent %s (%s), want approved", recs[0].State, recs[0].Attention)
	}
	checkFake(t, h.fake, recs)
}
