package fleet_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc/fleet"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// A create job whose stored row cannot be opened sends nothing: its agent
// is parked as a step that cannot run (way out resume), not as a create
// that may have reached Flip (way out agent_id), and its journal says the
// intent recorded with the lease was not sent.
func TestUnreadableRowLeavesNoCreateInDoubt(t *testing.T) {
	dir := t.TempDir()
	dsn := filepath.Join(dir, "run.db")
	csv := writeRun(t, dir, 1, nil)
	h := newHarness(t, dsn)
	if _, _, err := h.f.Import(context.Background(), readRows(t, csv)); err != nil {
		t.Fatal(err)
	}
	if _, err := h.db.SQL().Exec("UPDATE fleet_agents SET row = ? WHERE line = 2", `{"line": "two", "params": 5}`); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := h.f.Run(ctx, nil); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if n := len(h.fake.RequestsTo(flipkyctest.RouteCreateAgent)); n != 0 {
		t.Fatalf("%d creates sent, want none", n)
	}
	r := records(t, h.db)[0]
	if r.State != fleet.StateAttention || r.WayOut != fleet.WayOutResume {
		t.Errorf("line 2: %s, way out %q, reason %q; want parked, way out %q: no create was sent", r.State, r.WayOut, r.Attention, fleet.WayOutResume)
	}
	_, entries, err := h.f.Agent(context.Background(), 2)
	if err != nil {
		t.Logf("Agent: %v", err)
	}
	withdrawn := false
	for _, e := range entries {
		t.Logf("journal: %s %s %s %q", e.Kind, e.Operation, e.RequestID, e.Result)
		withdrawn = withdrawn || (e.Operation == "create" && strings.HasPrefix(e.Result, "not sent: "))
	}
	if !withdrawn {
		t.Error("the journal does not say the create was not sent")
	}
}
