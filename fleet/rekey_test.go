package fleet_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/fleet"
)

// Rekey re-seals a run under a new key and renames its agents, jobs
// included: afterwards the old key is refused, the new one reads the same
// records, the CSV finds its agents, and an agent imported before the
// change and not yet worked goes on.
func TestRekey(t *testing.T) {
	t.Parallel()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			dsn := runDSN(t, db, dir)
			rows := readRows(t, writeRun(t, dir, 4, map[int]int{1: 10}))
			h := newHarness(t, dsn)
			if _, _, err := h.f.Import(ctx, rows[:3]); err != nil {
				t.Fatal(err)
			}
			h.run(h.f)
			if _, err := h.db.Forget(ctx, fleet.Forget{Line: 2}); err != nil {
				t.Fatal(err)
			}
			if _, _, err := h.f.Import(ctx, rows[3:]); err != nil { // its create job waits
				t.Fatal(err)
			}
			before := records(t, h.db)
			var keysBefore []string
			r, _ := h.db.SQL().Query("SELECT key FROM fleet_agents ORDER BY line")
			for r.Next() {
				var k string
				r.Scan(&k)
				keysBefore = append(keysBefore, k)
			}
			r.Close()

			next, err := fleet.NewDataKey(bytes.Repeat([]byte{9}, fleet.DataKeySize))
			if err != nil {
				t.Fatal(err)
			}
			if err := h.db.Rekey(ctx, next); err != nil {
				t.Fatal(err)
			}
			// The phone numbers' keys are the new key's too.
			fresh := rows[1]
			fresh.Line, fresh.Params.IdentityNumber = 9, "3201999999990000"
			if refused, _, err := h.db.InRun(ctx, []fleet.Row{fresh}); err != nil || len(refused) != 1 || refused[0].Field != "phone_number" {
				t.Errorf("InRun after Rekey of a new agent with line 3's phone number: %v %v; want it refused", refused, err)
			}
			h.db.Close()
			if d, err := fleet.Open(ctx, dsn, fleet.WithDataKey(testDataKey(t))); !errors.Is(err, fleet.ErrWrongDataKey) {
				if d != nil {
					d.Close()
				}
				t.Fatalf("the old key after Rekey: %v, want ErrWrongDataKey", err)
			}
			d, err := fleet.Open(ctx, dsn, fleet.WithDataKey(next))
			if err != nil {
				t.Fatal(err)
			}
			h.db = d
			t.Cleanup(func() { d.Close() })
			after := records(t, d)
			for i := range before {
				a, b := after[i], before[i]
				if a.Line != b.Line || a.IdentityNumber != b.IdentityNumber || a.State != b.State || a.AgentID != b.AgentID || a.Erased != b.Erased {
					t.Errorf("record %d after Rekey: %+v, want %+v", i, after[i], before[i])
				}
			}
			var renamed int
			r, _ = d.SQL().Query("SELECT key FROM fleet_agents ORDER BY line")
			for i := 0; r.Next(); i++ {
				var k string
				r.Scan(&k)
				if k != keysBefore[i] {
					renamed++
				}
			}
			r.Close()
			if renamed != 3 {
				t.Errorf("%d agents renamed, want 3 (all but the erased one)", renamed)
			}
			h.f = h.newFleet(fleet.Config{})
			if n, _, err := h.f.Import(ctx, rows); err != nil || n != 1 { // line 2 was erased, under the old key's name
				t.Errorf("re-Import after Rekey: %d new, %v; want only the erased agent's row", n, err)
			}
			h.run(h.f)
			// The waiting agent is approved; the erased one imported again
			// is refused by Flip as already registered, and parked.
			c, _ := d.Counts(ctx)
			if c[fleet.StateApproved] != 3 || c[fleet.StateRejected] != 1 || c[fleet.StateAttention] != 1 {
				t.Errorf("after Rekey the run went on to %v; want 3 approved, 1 rejected, 1 parked", c)
			}
			if _, err := d.Forget(ctx, fleet.Forget{Line: 2}); err == nil || !strings.Contains(err.Error(), "line 2 names 2 agents") {
				t.Errorf("Forget of a line two agents have: %v", err)
			}
		})
	}
}

// The inventory counts each kind of personal data held, says since when,
// names the photo directories and the exports written, and shows no value.
func TestInventory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	rows := readRows(t, writeRun(t, dir, 3, nil))
	rows[0].Params.Email = "agent.zero@example.com"
	h := newHarness(t, filepath.Join(dir, "run.db"))
	if _, _, err := h.f.Import(ctx, rows); err != nil {
		t.Fatal(err)
	}
	if _, err := h.db.Forget(ctx, fleet.Forget{Line: 4}); err != nil {
		t.Fatal(err)
	}
	if err := h.db.RecordExport(ctx, filepath.Join(dir, "export.csv"), 3, false); err != nil {
		t.Fatal(err)
	}
	inv, err := h.db.Inventory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if inv.Agents != 3 || inv.Holding != 2 || inv.Erased != 1 || inv.LastErasure.IsZero() {
		t.Errorf("inventory counts %+v", inv)
	}
	held := map[fleet.PersonalField]int{}
	for _, f := range inv.Fields {
		held[f.Field] = f.Agents
		if f.Agents > 0 && f.Since.IsZero() {
			t.Errorf("%s held without a since", f.Field)
		}
	}
	if held[fleet.FieldIdentityNumber] != 2 || held[fleet.FieldName] != 2 || held[fleet.FieldEmail] != 1 || held[fleet.FieldImagePaths] != 2 {
		t.Errorf("fields held %v", held)
	}
	if !inv.ImageDirsKnown || len(inv.ImageDirs) != 1 || inv.ImageDirs[0] != dir {
		t.Errorf("image dirs %v (known %v), want [%s]", inv.ImageDirs, inv.ImageDirsKnown, dir)
	}
	if len(inv.Exports) != 1 || inv.Exports[0].Path != filepath.Join(dir, "export.csv") || inv.Exports[0].Revealed {
		t.Errorf("exports %+v", inv.Exports)
	}
}

// A correction is kept only until it was sent: once the agent is in review
// again (and then approved), the inventory counts no pending correction and
// the run holds no copy of it.
func TestSentCorrectionIsNotKept(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	rows := readRows(t, writeRun(t, dir, 2, map[int]int{1: 10}))
	h := newHarness(t, filepath.Join(dir, "run.db"))
	if _, _, err := h.f.Import(ctx, rows); err != nil {
		t.Fatal(err)
	}
	h.run(h.f)
	bad, err := h.f.Repair(ctx, []fleet.Repair{{Line: 3, IdentityNumber: rows[1].Params.IdentityNumber, Data: &flipkyc.RepairDataParams{Name: "Agent Fixed"}}})
	if err != nil || len(bad) > 0 {
		t.Fatalf("Repair: %v, %v", bad, err)
	}
	if inv, err := h.db.Inventory(ctx); err != nil || inv.Corrections != 1 {
		t.Fatalf("inventory before the correction was sent: %d corrections, %v; want 1", inv.Corrections, err)
	}
	h.run(h.newFleet(fleet.Config{}))
	if c, _ := h.db.Counts(ctx); c[fleet.StateApproved] != 2 {
		t.Fatalf("after the repair: %v, want 2 approved", c)
	}
	// The next run (or reconciliation) drops it, if sending it did not.
	if _, err := h.db.EraseExpired(ctx, fleet.DefaultRetain); err != nil {
		t.Fatal(err)
	}
	if inv, err := h.db.Inventory(ctx); err != nil || inv.Corrections != 0 {
		t.Errorf("inventory after the correction was sent: %d corrections, %v; want 0", inv.Corrections, err)
	}
}
