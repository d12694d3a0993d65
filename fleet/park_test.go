package fleet_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/fleet"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// A step that cannot run, however often it is tried, parks its agent with
// the reason at once, and the run ends: a stored row this version cannot
// decode, a row whose data breaks the SDK's rules.
func TestStepThatCannotRunParksAndTheRunEnds(t *testing.T) {
	t.Parallel()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			dir := t.TempDir()
			dsn := runDSN(t, db, dir)
			csv := writeRun(t, dir, 3, nil)
			h := newHarness(t, dsn)
			rows := readRows(t, csv)
			// Line 3's data breaks the SDK's rules (stored sealed, as
			// any row); line 2's stored row is not one this version reads.
			rows[1].Params = flipkyc.AgentParams{IdentityNumber: rows[1].Params.IdentityNumber}
			if _, _, err := h.f.Import(context.Background(), rows); err != nil {
				t.Fatal(err)
			}
			q := "UPDATE fleet_agents SET row = ? WHERE line = 2"
			if db == "postgres" {
				q = "UPDATE fleet_agents SET row = $1 WHERE line = 2"
			}
			if _, err := h.db.SQL().Exec(q, `{"line": "two", "params": 5}`); err != nil {
				t.Fatal(err)
			}
			// Bounded far below the retries of a step that keeps failing.
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			if err := h.f.Run(ctx, nil); err != nil {
				t.Fatalf("Run: %v (an agent is still active)", err)
			}
			recs := records(t, h.db)
			for i, want := range []string{"cannot be read by this version", "invalid input", ""} {
				r := recs[i]
				if want == "" {
					if r.State != fleet.StateApproved {
						t.Errorf("line %d: %s, want approved", r.Line, r.State)
					}
					continue
				}
				if r.State != fleet.StateAttention || !strings.Contains(r.Attention, want) {
					t.Errorf("line %d: %s %q, want parked with %q", r.Line, r.State, r.Attention, want)
				}
			}
			if n := len(h.fake.RequestsTo(flipkyctest.RouteCreateAgent)); n != 1 {
				t.Errorf("%d creates, want 1: nothing sent for the agents that cannot run", n)
			}
		})
	}
}
