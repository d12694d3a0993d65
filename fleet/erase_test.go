package fleet_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/fleet"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// sealedRow reads an agent's sealed row as stored.
func sealedRow(t *testing.T, db *fleet.DB, line int) string {
	t.Helper()
	var row string
	if err := db.SQL().QueryRow("SELECT row FROM fleet_agents WHERE line = " + strconv.Itoa(line)).Scan(&row); err != nil {
		t.Fatal(err)
	}
	return row
}

// Forget erases an agent's personal data, by identity number, line or
// agent id, and records it; what the operator needs stays, status and
// exports go on, a repair says the data is gone, and the erased bytes are
// gone from the SQLite file and its WAL. An agent still being onboarded is
// parked.
func TestForget(t *testing.T) {
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
			before := records(t, h.db)
			sealed := sealedRow(t, h.db, 3)

			e, err := h.db.Forget(ctx, fleet.Forget{IdentityNumber: rows[1].Params.IdentityNumber})
			if err != nil {
				t.Fatal(err)
			}
			if e.Line != 3 || e.AgentID != before[1].AgentID || e.State != fleet.StateRejected || e.Reason != fleet.ReasonRequest || e.Already ||
				!slices.Equal(e.Fields, []string{"name", "identity_number", "birth_date", "birth_place", "gender", "occupation", "address", "phone_number", "image_paths"}) {
				t.Errorf("Forget = %+v", e)
			}
			if _, err := h.db.Forget(ctx, fleet.Forget{Line: 2}); err != nil {
				t.Fatal(err)
			}
			if e, err := h.db.Forget(ctx, fleet.Forget{AgentID: before[0].AgentID}); err != nil || !e.Already || e.Line != 2 {
				t.Errorf("Forget of an erased agent = %+v, %v; want Already", e, err)
			}
			if _, err := h.db.Forget(ctx, fleet.Forget{Line: 99}); !errors.Is(err, fleet.ErrNoSuchAgent) {
				t.Errorf("Forget of line 99: %v, want ErrNoSuchAgent", err)
			}

			after := records(t, h.db)
			for i, r := range after {
				erased := i < 2
				want := before[i]
				want.Erased = erased
				if erased {
					want.IdentityNumber = ""
				}
				if r.Line != want.Line || r.IdentityNumber != want.IdentityNumber || r.AgentID != want.AgentID || r.State != want.State ||
					r.KYCStatus != want.KYCStatus || r.RejectionCode != want.RejectionCode || r.CreateRequestID != want.CreateRequestID || r.Erased != erased {
					t.Errorf("record of line %d after Forget: %+v; want %+v", r.Line, r, want)
				}
			}
			if sum, err := h.db.Summarize(ctx); err != nil || sum.Total != 3 || len(sum.Rejections) != 1 {
				t.Errorf("Summarize after Forget: %+v, %v", sum, err)
			}
			bad, err := h.f.Repair(ctx, []fleet.Repair{{Line: 2, IdentityNumber: rows[1].Params.IdentityNumber, Data: &flipkyc.RepairDataParams{Name: "Agent Fixed"}}})
			if err != nil || len(bad) != 1 || !strings.Contains(bad[0].Rule, "personal data was erased") {
				t.Errorf("Repair of an erased agent: %v, %v; want a refusal saying the data is gone", bad, err)
			}
			erasures, err := h.db.Erasures(ctx)
			if err != nil || len(erasures) != 2 || erasures[0].Line+erasures[1].Line != 5 {
				t.Errorf("Erasures = %+v, %v", erasures, err)
			}
			if db == "sqlite" {
				files, _ := filepath.Glob(dsn + "*")
				for _, file := range files {
					b, _ := os.ReadFile(file)
					if bytes.Contains(b, []byte(sealed[10:60])) {
						t.Errorf("%s still holds the erased sealed row", filepath.Base(file))
					}
				}
			}

			// An agent not yet final is parked when forgotten, and the
			// run ends without sending anything for it.
			if _, _, err := h.f.Import(ctx, rows[3:]); err != nil {
				t.Fatal(err)
			}
			if _, err := h.db.Forget(ctx, fleet.Forget{Line: 5}); err != nil {
				t.Fatal(err)
			}
			creates := len(h.fake.RequestsTo(flipkyctest.RouteCreateAgent))
			h.run(h.newFleet(fleet.Config{}))
			r := records(t, h.db)[3]
			if r.State != fleet.StateAttention || !strings.Contains(r.Attention, "personal data erased while the agent was new") {
				t.Errorf("forgotten new agent: %+v", r)
			}
			if n := len(h.fake.RequestsTo(flipkyctest.RouteCreateAgent)); n != creates {
				t.Errorf("%d creates sent for a forgotten agent", n-creates)
			}
		})
	}
}

// Personal data is kept for Config.Retain after an agent is final, then
// erased by the run itself (with the reason recorded); a fresh run with
// the default period erases nothing.
func TestRetention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	rows := readRows(t, writeRun(t, dir, 3, nil))
	h := newHarness(t, filepath.Join(dir, "run.db"))
	if _, _, err := h.f.Import(ctx, rows); err != nil {
		t.Fatal(err)
	}
	h.run(h.f)
	h.run(h.newFleet(fleet.Config{}))
	if inv, err := h.db.Inventory(ctx); err != nil || inv.Holding != 3 || inv.Erased != 0 {
		t.Fatalf("with the default retention: %+v, %v; want all 3 held", inv, err)
	}
	h.run(h.newFleet(fleet.Config{Retain: time.Millisecond}))
	erasures, err := h.db.Erasures(ctx)
	if err != nil || len(erasures) != 3 {
		t.Fatalf("Erasures = %+v, %v; want 3", erasures, err)
	}
	for _, e := range erasures {
		if e.Reason != fleet.ReasonRetention || e.State != fleet.StateApproved {
			t.Errorf("erasure %+v; want retention of an approved agent", e)
		}
	}
	for _, r := range records(t, h.db) {
		if !r.Erased || r.IdentityNumber != "" || r.State != fleet.StateApproved {
			t.Errorf("record after retention: %+v", r)
		}
	}
	// The same CSV still finds its agents: nothing created again.
	if n, _, err := h.f.Import(ctx, rows); err != nil || n != 0 {
		t.Errorf("re-Import after retention: %d new, %v", n, err)
	}
}

// A correction queued while the agent is being erased is not stored: the
// erasure wins, and the run never sends (or keeps) data of an erased
// agent. On Postgres the test holds the agent's row while Repair waits to
// queue the correction, erases it meanwhile, and lets Repair go on.
func TestRepairDuringErasureStoresNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	rows := readRows(t, writeRun(t, dir, 2, map[int]int{1: 10}))
	h := newHarness(t, postgresDSN(t))
	if _, _, err := h.f.Import(ctx, rows); err != nil {
		t.Fatal(err)
	}
	h.run(h.f)
	db := h.db.SQL()
	var key string
	if err := db.QueryRow("SELECT key FROM fleet_agents WHERE line = 3 AND state = $1", fleet.StateRejected).Scan(&key); err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec("SELECT key FROM fleet_agents WHERE key = $1 FOR UPDATE", key); err != nil {
		t.Fatal(err)
	}
	type result struct {
		bad []fleet.RowError
		err error
	}
	done := make(chan result, 1)
	go func() {
		bad, err := h.f.Repair(ctx, []fleet.Repair{{Line: 3, IdentityNumber: rows[1].Params.IdentityNumber, Data: &flipkyc.RepairDataParams{Name: "Agent Fixed"}}})
		done <- result{bad, err}
	}()
	// Wait until Repair's update waits for the row this test holds.
	for deadline := time.Now().Add(2 * time.Minute); ; {
		if time.Now().After(deadline) {
			t.Fatal("Repair's update did not wait for the held row in 2 minutes")
		}
		var waiting int
		if err := db.QueryRow("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'UPDATE fleet_agents SET state%'").Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		select {
		case r := <-done:
			t.Fatalf("Repair returned without waiting for the row: %v, %v", r.bad, r.err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	// What Forget does to a rejected agent.
	if _, err := tx.Exec("UPDATE fleet_agents SET row = '', repair = '', personal_fields = 0, erased_at = 1 WHERE key = $1", key); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if r := <-done; r.err != nil {
		t.Fatalf("Repair: %v", r.err)
	}
	var state, repair string
	if err := db.QueryRow("SELECT state, repair FROM fleet_agents WHERE key = $1", key).Scan(&state, &repair); err != nil {
		t.Fatal(err)
	}
	if state != fleet.StateRejected || repair != "" {
		t.Errorf("after a correction raced an erasure: state %s, correction stored %v; want rejected and none", state, repair != "")
	}
}
