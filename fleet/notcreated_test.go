package fleet_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/flipkyc/flipkyc/fleet"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// An agent whose process was killed after recording its create's intent
// is parked, and Flip has no agent from that create. It is created again
// only when a person confirms, with that create's Request-ID in a repair
// CSV's not_created column, that Flip created nothing; the new create
// goes with a new Request-ID, and the confirmation does not work twice.
func TestParkedAtCreateCreatedAgainWhenConfirmedNotCreated(t *testing.T) {
	t.Parallel()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			dsn := runDSN(t, db, dir)
			csv := writeRun(t, dir, 2, nil)
			rows := readRows(t, csv)
			h := newHarness(t, dsn)
			if _, _, err := h.f.Import(ctx, rows); err != nil {
				t.Fatal(err)
			}
			// The process recorded line 2's intent and was killed before
			// its create reached Flip.
			lost := "bigflip-" + uuid.NewString()
			q := "UPDATE fleet_agents SET state = 'creating', create_request_id = ? WHERE line = ?"
			if db == "postgres" {
				q = "UPDATE fleet_agents SET state = 'creating', create_request_id = $1 WHERE line = $2"
			}
			if _, err := h.db.SQL().Exec(q, lost, rows[0].Line); err != nil {
				t.Fatal(err)
			}
			h.run(h.f)
			recs := records(t, h.db)
			if recs[0].State != fleet.StateAttention || recs[0].CreateRequestID != lost || recs[1].State != fleet.StateApproved {
				t.Fatalf("after the run: %+v", recs)
			}
			for _, remedy := range []string{"agent_id", "not_created", lost} {
				if !strings.Contains(recs[0].Attention, remedy) {
					t.Errorf("the reason does not name %q: %s", remedy, recs[0].Attention)
				}
			}

			// Without the confirmation, a run creates nothing.
			h.run(h.newFleet(fleet.Config{}))
			if n := len(h.fake.RequestsTo(flipkyctest.RouteCreateAgent)); n != 1 {
				t.Fatalf("%d creates before the confirmation, want 1 (line 3's)", n)
			}
			if recs := records(t, h.db); recs[0].State != fleet.StateAttention {
				t.Fatalf("line 2 is %s without a confirmation", recs[0].State)
			}

			// Refused: another Request-ID, an agent that is not parked.
			bad, err := h.f.Repair(ctx, []fleet.Repair{
				{Line: 2, IdentityNumber: rows[0].Params.IdentityNumber, NotCreated: "bigflip-" + uuid.NewString()},
				{Line: 3, IdentityNumber: rows[1].Params.IdentityNumber, NotCreated: recs[1].CreateRequestID},
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(bad) != 2 || bad[0].Field != "not_created" || !strings.Contains(bad[0].Rule, "not the Request-ID") || !strings.Contains(bad[1].Rule, "not parked") {
				t.Fatalf("refusals %v", bad)
			}

			// From the repair CSV's not_created column.
			repairCSV := filepath.Join(dir, "not-created.csv")
			must(t, os.WriteFile(repairCSV, []byte(fmt.Sprintf("identity_number,not_created\n%s,%s\n", rows[0].Params.IdentityNumber, lost)), 0o600))
			file, err := os.Open(repairCSV)
			must(t, err)
			reps, bad, err := fleet.ReadRepairCSV(file, dir)
			file.Close()
			if err != nil || len(bad) > 0 || len(reps) != 1 || reps[0].NotCreated != lost {
				t.Fatalf("ReadRepairCSV: %v %v %+v", err, bad, reps)
			}
			if bad, err := h.f.Repair(ctx, reps); err != nil || len(bad) > 0 {
				t.Fatalf("Repair: %v %v", err, bad)
			}
			h.run(h.newFleet(fleet.Config{}))
			recs = records(t, h.db)
			if recs[0].State != fleet.StateApproved || recs[0].CreateRequestID == lost || !strings.HasPrefix(recs[0].CreateRequestID, "bigflip-") {
				t.Fatalf("line 2: %s with create Request-ID %q, want approved with a new one", recs[0].State, recs[0].CreateRequestID)
			}
			var sent []string
			for _, r := range h.fake.RequestsTo(flipkyctest.RouteCreateAgent) {
				if r.Fields["identity_number"] == rows[0].Params.IdentityNumber {
					sent = append(sent, r.Header.Get("Request-ID"))
				}
			}
			if len(sent) != 1 || sent[0] != recs[0].CreateRequestID {
				t.Errorf("creates of line 2 sent with Request-IDs %q, want one with %q", sent, recs[0].CreateRequestID)
			}

			// The same confirmation again changes nothing.
			if bad, err := h.f.Repair(ctx, reps); err != nil || len(bad) != 1 || !strings.Contains(bad[0].Rule, "not parked") {
				t.Fatalf("Repair again: %v %v", err, bad)
			}
			checkFake(t, h.fake, records(t, h.db))
		})
	}
}

func TestRepairCSVNotCreated(t *testing.T) {
	rid := "bigflip-" + uuid.NewString()
	in := "identity_number,not_created,agent_id,name\n" +
		"3201000000010000," + rid + ",,\n" +
		"3201000000020000,yes,,\n" +
		"3201000000030000," + rid + ",7,\n" +
		"3201000000040000," + rid + ",,New Name\n"
	reps, bad, err := fleet.ReadRepairCSV(strings.NewReader(in), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != 1 || reps[0].NotCreated != rid || reps[0].Line != 2 {
		t.Errorf("repairs %+v", reps)
	}
	if len(bad) != 3 || bad[0].Line != 3 || bad[0].Field != "not_created" || !strings.Contains(bad[1].Rule+bad[2].Rule, "alone") {
		t.Errorf("bad rows %v", bad)
	}
}
