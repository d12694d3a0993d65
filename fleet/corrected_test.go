package fleet_test

import (
	"context"
	"testing"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/fleet"
)

// Corrected data that Flip took becomes the agent's row: Reveal (and so
// the console and exports) gives the corrected name and phone afterwards,
// with the row's other fields as imported, and the run still finds the
// agent by the identity number it was imported with. Nothing of the
// correction is kept beside the row.
func TestCorrectedDataBecomesTheRows(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn, dir string) {
		ctx := context.Background()
		rows := readRows(t, writeRun(t, dir, 3, map[int]int{1: 10}))
		h := newHarness(t, dsn)
		if n, _, err := h.f.Import(ctx, rows); err != nil || n != len(rows) {
			t.Fatalf("Import: %d, %v", n, err)
		}
		h.run(h.f)
		const fixedName, fixedPhone = "Agent Corrected Second", "081299990000"
		bad, err := h.f.Repair(ctx, []fleet.Repair{{Line: 2, IdentityNumber: rows[1].Params.IdentityNumber,
			Data: &flipkyc.RepairDataParams{Name: fixedName, PhoneNumber: fixedPhone}}})
		if err != nil || len(bad) > 0 {
			t.Fatalf("Repair: %v %v", bad, err)
		}
		h.run(h.newFleet(fleet.Config{}))
		if c, _ := h.db.Counts(ctx); c[fleet.StateApproved] != len(rows) {
			t.Fatalf("counts %v, want all approved", c)
		}
		got, err := h.f.Reveal(fleet.WithActor(ctx, "test"), rows[1].Line)
		if err != nil {
			t.Fatal(err)
		}
		want := rows[1].Params
		want.Name, want.PhoneNumber = fixedName, fixedPhone
		if got.Params != want {
			t.Errorf("the row after the correction:\n got %v\nwant %v (the corrected name and phone, the rest as imported)", got.Params, want)
		}
		if other, _ := h.f.Reveal(ctx, rows[0].Line); other.Params != rows[0].Params {
			t.Errorf("another agent's row changed")
		}
		if line, found, err := h.db.HasIdentity(ctx, rows[1].Params.IdentityNumber); err != nil || !found || line != rows[1].Line {
			t.Errorf("HasIdentity(the imported number) = %d, %v, %v; want line %d", line, found, err, rows[1].Line)
		}
		// The corrected phone number is the agent's: a new agent cannot
		// have it, and may have the one it replaced.
		fresh := rows[0]
		fresh.Line, fresh.Params.IdentityNumber = 9, "3201999999990000"
		for phone, want := range map[string]int{fixedPhone: 1, rows[1].Params.PhoneNumber: 0} {
			fresh.Params.PhoneNumber = phone
			if refused, _, err := h.db.InRun(ctx, []fleet.Row{fresh}); err != nil || len(refused) != want {
				t.Errorf("InRun of a new agent with the phone number %s: %v %v; want %d refused", phone, refused, err, want)
			}
		}
		var repair string
		if err := h.db.SQL().QueryRow("SELECT repair FROM fleet_agents WHERE line = 2").Scan(&repair); err != nil || repair != "" {
			t.Errorf("the correction is kept beside the row (%d bytes, %v)", len(repair), err)
		}
	})
}
