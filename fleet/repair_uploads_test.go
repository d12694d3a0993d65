package fleet_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flipkyc/flipkyc/fleet"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// copyFile copies src to dst (mode 0600).
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// writeTinyPNG writes a PNG too small for Flip's image rules at path.
func writeTinyPNG(t *testing.T, path string) {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// readRepairs reads a repair CSV given as text, images in dir.
func readRepairs(t *testing.T, text, dir string) []fleet.Repair {
	t.Helper()
	reps, bad, err := fleet.ReadRepairCSV(strings.NewReader(text), dir)
	if err != nil || len(bad) > 0 {
		t.Fatalf("ReadRepairCSV: %v %v", err, bad)
	}
	return reps
}

// An agent created at Flip and parked at its uploads because an image
// vanished or was refused is shown the way
// out "repair", which Resume does not take (it would fail again); a repair
// row with a new file and/or corrected data takes it on from the upload it
// was parked at, to approved, with no create sent twice and no upload
// repeated after it succeeded; corrected data goes first, by UpdateAgent.
func TestParkedAtUploadsRepaired(t *testing.T) {
	t.Parallel()
	const agents = 2
	cases := []struct {
		name string
		// breakFiles breaks the images after the CSV was read.
		breakFiles func(t *testing.T, dir string)
		// repair is the repair CSV's header and the columns after each
		// agent's identity number.
		header, columns string
		parkedFrom      string
		wantName        string // the name UpdateAgent sends, "" for none
	}{
		{"identity file vanished",
			func(t *testing.T, dir string) { must(t, os.Remove(filepath.Join(dir, "ktp.png"))) },
			"identity_number,identity_image", "ktp2.png", fleet.StateUploadingIdentity, ""},
		{"identity refused, corrected data",
			func(t *testing.T, dir string) { writeTinyPNG(t, filepath.Join(dir, "ktp.png")) },
			"identity_number,identity_image,name", "ktp2.png,Agent Corrected", fleet.StateUploadingIdentity, "Agent Corrected"},
		{"selfie vanished",
			func(t *testing.T, dir string) { must(t, os.Remove(filepath.Join(dir, "selfie.png"))) },
			"identity_number,selfie_image", "selfie2.png", fleet.StateUploadingSelfie, ""},
	}
	for _, db := range []string{"sqlite", "postgres"} {
		for _, c := range cases {
			t.Run(db+"/"+c.name, func(t *testing.T) {
				ctx := context.Background()
				dir := t.TempDir()
				dsn := runDSN(t, db, dir)
				h := newHarness(t, dsn)
				importCSV(t, h.f, writeRun(t, dir, agents, nil))
				copyFile(t, filepath.Join(dir, "ktp.png"), filepath.Join(dir, "ktp2.png"))
				copyFile(t, filepath.Join(dir, "selfie.png"), filepath.Join(dir, "selfie2.png"))
				c.breakFiles(t, dir)
				if outs := parkedWayOuts(t, h); len(outs) != agents || outs[0] != fleet.WayOutRepair || outs[1] != fleet.WayOutRepair {
					t.Fatalf("parked with ways out %v, want %d × %s", outs, agents, fleet.WayOutRepair)
				}
				var from string
				must(t, h.db.SQL().QueryRow("SELECT parked_from FROM fleet_agents WHERE line = 2").Scan(&from))
				if from != c.parkedFrom {
					t.Fatalf("parked from %s, want %s", from, c.parkedFrom)
				}
				resume(t, h, 0)

				text := c.header + "\n"
				for i := range agents {
					text += fmt.Sprintf("3201%08d0000,%s\n", i, c.columns)
				}
				bad, err := h.f.Repair(ctx, readRepairs(t, text, dir))
				if err != nil || len(bad) > 0 {
					t.Fatalf("Repair: %v %v", err, bad)
				}
				h.run(h.f)
				recs := records(t, h.db)
				for _, r := range recs {
					if r.State != fleet.StateApproved {
						t.Errorf("line %d: %s (%s), want approved", r.Line, r.State, r.Attention)
					}
				}
				checkFake(t, h.fake, recs)
				updates := h.fake.RequestsTo(flipkyctest.RouteUpdateAgent)
				if c.wantName == "" && len(updates) != 0 {
					t.Errorf("%d updates, want none", len(updates))
				}
				if c.wantName != "" {
					if len(updates) != agents {
						t.Fatalf("%d updates, want %d", len(updates), agents)
					}
					for _, u := range updates {
						if u.Handled != http.StatusOK || u.Fields["name"] != c.wantName {
							t.Errorf("update %s answered %d with name %q, want 200 and %q", u.Path, u.Handled, u.Fields["name"], c.wantName)
						}
					}
				}
				var kept int
				must(t, h.db.SQL().QueryRow("SELECT COUNT(*) FROM fleet_agents WHERE repair <> ''").Scan(&kept))
				if kept != 0 {
					t.Errorf("%d corrections kept after the uploads", kept)
				}
			})
		}
	}
}

// A repair row for an agent parked at its uploads is refused, changing
// nothing, when it gives what the uploads cannot use: documents, or an
// identity image Flip has already.
func TestParkedAtUploadsRepairRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	h := newHarness(t, filepath.Join(dir, "run.db"))
	importCSV(t, h.f, writeRun(t, dir, 1, nil))
	copyFile(t, filepath.Join(dir, "ktp.png"), filepath.Join(dir, "ktp2.png"))
	must(t, os.Remove(filepath.Join(dir, "selfie.png")))
	if outs := parkedWayOuts(t, h); len(outs) != 1 || outs[0] != fleet.WayOutRepair {
		t.Fatalf("parked with ways out %v, want %s", outs, fleet.WayOutRepair)
	}
	for _, c := range []struct{ text, field string }{
		{"identity_number,identity_image\n320100000000000000,ktp2.png\n", "identity_image"},
		{"identity_number,documents\n320100000000000000,family_card=ktp2.png\n", "documents"},
	} {
		bad, err := h.f.Repair(ctx, readRepairs(t, strings.Replace(c.text, "320100000000000000", "3201000000000000", 1), dir))
		if err != nil || len(bad) != 1 || bad[0].Field != c.field {
			t.Errorf("Repair(%s) = %v, %v; want one refusal of %s", c.field, bad, err, c.field)
		}
	}
	if r := records(t, h.db)[0]; r.State != fleet.StateAttention || r.WayOut != fleet.WayOutRepair {
		t.Errorf("agent %s (way out %s), want still parked", r.State, r.WayOut)
	}
}

// Corrected data Flip refuses parks the agent again with the way out
// "repair", and the next repair row takes it on to approved; the identity
// image is sent once with effect.
func TestParkedAtUploadsDataRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	h := newHarness(t, filepath.Join(dir, "run.db"))
	importCSV(t, h.f, writeRun(t, dir, 1, nil))
	copyFile(t, filepath.Join(dir, "ktp.png"), filepath.Join(dir, "ktp2.png"))
	must(t, os.Remove(filepath.Join(dir, "ktp.png")))
	if outs := parkedWayOuts(t, h); len(outs) != 1 || outs[0] != fleet.WayOutRepair {
		t.Fatalf("parked with ways out %v, want %s", outs, fleet.WayOutRepair)
	}
	fix := readRepairs(t, "identity_number,identity_image,name\n3201000000000000,ktp2.png,Agent Corrected\n", dir)
	h.fake.FailNext(flipkyctest.RouteUpdateAgent, 1, http.StatusBadRequest)
	if bad, err := h.f.Repair(ctx, fix); err != nil || len(bad) > 0 {
		t.Fatalf("Repair: %v %v", err, bad)
	}
	h.run(h.f)
	r := records(t, h.db)[0]
	if r.State != fleet.StateAttention || r.WayOut != fleet.WayOutRepair || !strings.HasPrefix(r.Attention, "Flip refused the corrected data: ") {
		t.Fatalf("agent %s (%s, way out %s), want parked for its data with way out %s", r.State, r.Attention, r.WayOut, fleet.WayOutRepair)
	}
	if n := len(h.fake.RequestsTo(flipkyctest.RouteUploadImage)); n != 0 {
		t.Errorf("%d uploads before the data was taken, want none", n)
	}
	if bad, err := h.f.Repair(ctx, fix); err != nil || len(bad) > 0 {
		t.Fatalf("Repair again: %v %v", err, bad)
	}
	h.run(h.f)
	recs := records(t, h.db)
	if recs[0].State != fleet.StateApproved {
		t.Errorf("agent %s (%s), want approved", recs[0].State, recs[0].Attention)
	}
	checkFake(t, h.fake, recs)
}
