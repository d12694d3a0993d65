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

// editLine rewrites the CSV line of the agent named name with edit.
func editLine(t *testing.T, path, name string, edit func(string) string) {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, name+",") {
			lines[i] = edit(l)
		}
	}
	must(t, os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600))
}

// Onboarding again with a corrected CSV: the changed row of an agent parked
// at its uploads (its image vanished) is taken as its correction and the
// agent goes on to approved, its new name sent by UpdateAgent; the changed
// rows of an approved and a rejected agent are not used, each reported as
// "unchanged: in the run" with what takes it on instead; an unchanged row
// is passed over. Nothing is created twice, no upload repeated.
func TestOnboardAgainTakesChanges(t *testing.T) {
	t.Parallel()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			dsn := runDSN(t, db, dir)
			h := newHarness(t, dsn)
			csv := writeRun(t, dir, 4, map[int]int{2: 10})
			copyFile(t, filepath.Join(dir, "ktp.png"), filepath.Join(dir, "ktp-gone.png"))
			editLine(t, csv, "Agent Number 0", func(l string) string { return strings.Replace(l, ",ktp.png,", ",ktp-gone.png,", 1) })
			importCSV(t, h.f, csv)
			must(t, os.Remove(filepath.Join(dir, "ktp-gone.png")))
			h.run(h.f)
			if c, _ := h.db.Counts(ctx); c[fleet.StateAttention] != 1 || c[fleet.StateApproved] != 2 || c[fleet.StateRejected] != 1 {
				t.Fatalf("counts %v, want 1 parked, 2 approved, 1 rejected", c)
			}

			editLine(t, csv, "Agent Number 0", func(l string) string {
				return strings.Replace(strings.Replace(l, ",ktp-gone.png,", ",ktp.png,", 1), "Agent Number 0,", "Agent Corrected,", 1)
			})
			editLine(t, csv, "Agent Number 1", func(l string) string { return strings.Replace(l, "Agent Number 1,", "Agent Renamed,", 1) })
			editLine(t, csv, "Agent Number 2", func(l string) string { return strings.Replace(l, "Raya 2,", "Raya 22,", 1) })
			rows := readRows(t, csv)
			if n, _, err := h.f.Import(ctx, rows); err != nil || n != 0 {
				t.Fatalf("Import = %d, %v; want 0 new", n, err)
			}
			taken, ignored, err := h.f.TakeChanges(ctx, rows)
			if err != nil || taken != 1 {
				t.Fatalf("TakeChanges = %d, %v, %v; want 1 taken", taken, ignored, err)
			}
			if len(ignored) != 2 || ignored[0].Line != 3 || ignored[1].Line != 4 ||
				!strings.HasPrefix(ignored[0].Rule, "unchanged: in the run") || !strings.Contains(ignored[1].Rule, "flipkyc repair") {
				t.Errorf("ignored %v, want lines 3 (approved) and 4 (rejected: repair)", ignored)
			}
			h.run(h.f)
			recs := records(t, h.db)
			want := []string{fleet.StateApproved, fleet.StateApproved, fleet.StateRejected, fleet.StateApproved}
			for i, r := range recs {
				if r.State != want[i] {
					t.Errorf("line %d: %s (%s), want %s", r.Line, r.State, r.Attention, want[i])
				}
			}
			checkFake(t, h.fake, recs)
			updates := h.fake.RequestsTo(flipkyctest.RouteUpdateAgent)
			if len(updates) != 1 || updates[0].Handled != http.StatusOK || updates[0].Fields["name"] != "Agent Corrected" {
				t.Errorf("updates %+v, want one, of line 2's name", updates)
			}
			// Again: every row is as its agent now has it, or not used.
			if taken, ignored, err := h.f.TakeChanges(ctx, rows); err != nil || taken != 0 || len(ignored) != 2 {
				t.Errorf("TakeChanges again = %d, %v, %v; want 0 taken, the 2 unused rows", taken, ignored, err)
			}
		})
	}
}
