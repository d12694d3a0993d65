package fleet_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/flipkyc/flipkyc/fleet"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// refuseAddresses answers a create whose address is one of refused with
// Flip's 422 VALIDATION_ERROR on the address (code 1041), as Flip does for
// a rule the SDK does not know, and records the Request-IDs it refused.
type refuseAddresses struct {
	refused map[string]bool
	mu      sync.Mutex
	ids     []string // Request-IDs of the creates refused
}

func (ra *refuseAddresses) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/agents") {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			form, _ := url.ParseQuery(string(body))
			if ra.refused[form.Get("address")] {
				ra.mu.Lock()
				ra.ids = append(ra.ids, r.Header.Get("Request-ID"))
				ra.mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnprocessableEntity)
				_, _ = io.WriteString(w, `{"code":"VALIDATION_ERROR","errors":[{"attribute":"address","code":1041,"message":"Invalid attribute"}]}`)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (ra *refuseAddresses) requestIDs() []string {
	ra.mu.Lock()
	defer ra.mu.Unlock()
	return append([]string(nil), ra.ids...)
}

// acceptedCreates counts, per identity number, the creates the fake took.
func acceptedCreates(fake *flipkyctest.Server) map[string]int {
	n := map[string]int{}
	for _, r := range fake.RequestsTo(flipkyctest.RouteCreateAgent) {
		if r.Status == http.StatusOK {
			n[r.Fields["identity_number"]]++
		}
	}
	return n
}

// A create Flip refused for its data (422, the address breaks a rule of
// Flip's) created nothing: the agent is parked with a reason naming the
// field and rule, and no personal value, and the way out "repair". Resume
// does not send the same data again. A repair row with the corrected
// address creates the first agent again, and onboard's changed row the
// second, each under a new Request-ID, once, to approved.
func TestCreateRefusedCorrected(t *testing.T) {
	t.Parallel()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			dsn := runDSN(t, db, dir)
			ra := &refuseAddresses{refused: map[string]bool{"Jalan Margonda Raya 0": true, "Jalan Margonda Raya 1": true}}
			h := newHarness(t, dsn, flipkyctest.WithMiddleware(ra.middleware))
			csv := writeRun(t, dir, 3, nil)
			rows := readRows(t, csv)
			importCSV(t, h.f, csv)
			if outs := parkedWayOuts(t, h); len(outs) != 2 || outs[0] != fleet.WayOutRepair || outs[1] != fleet.WayOutRepair {
				t.Fatalf("parked with ways out %v, want 2 × %s", outs, fleet.WayOutRepair)
			}
			recs := records(t, h.db)
			for _, r := range recs[:2] {
				if r.State != fleet.StateAttention || !strings.HasPrefix(r.Attention, "Flip refused the create: ") {
					t.Fatalf("line %d: %s (%s), want parked as a refused create", r.Line, r.State, r.Attention)
				}
				for _, want := range []string{"address", "1041", "Invalid attribute", "repair", "onboard"} {
					if !strings.Contains(r.Attention, want) {
						t.Errorf("line %d: the reason does not say %q: %s", r.Line, want, r.Attention)
					}
				}
				for _, personal := range []string{"Margonda", r.IdentityNumber, "Agent Number"} {
					if strings.Contains(r.Attention, personal) {
						t.Errorf("line %d: the reason holds a personal value: %s", r.Line, r.Attention)
					}
				}
			}
			if recs[2].State != fleet.StateApproved {
				t.Fatalf("line 4: %s, want approved", recs[2].State)
			}
			refusedIDs := ra.requestIDs()
			if len(refusedIDs) != 2 {
				t.Fatalf("%d creates refused, want 2", len(refusedIDs))
			}

			// Resume leaves them: the same data would be refused again.
			resume(t, h, 0)
			h.run(h.f)
			if n := len(ra.requestIDs()); n != 2 {
				t.Fatalf("%d creates refused after resume, want 2 (none sent again)", n)
			}

			// A repair row with the same data, or with an image, is refused
			// and changes nothing.
			nik0, nik1 := rows[0].Params.IdentityNumber, rows[1].Params.IdentityNumber
			copyFile(t, filepath.Join(dir, "ktp.png"), filepath.Join(dir, "ktp2.png"))
			for _, c := range []struct{ text, field string }{
				{"identity_number,address\n" + nik0 + ",Jalan Margonda Raya 0\n", "row"},
				{"identity_number,identity_image,address\n" + nik0 + ",ktp2.png,Jalan Juanda Nomor 12\n", "identity_image"},
			} {
				bad, err := h.f.Repair(ctx, readRepairs(t, c.text, dir))
				if err != nil || len(bad) != 1 || bad[0].Field != c.field {
					t.Errorf("Repair(%q) = %v, %v; want one refusal of %s", c.text, bad, err, c.field)
				}
			}
			// Line 2: a repair row with the corrected address.
			if bad, err := h.f.Repair(ctx, readRepairs(t, "identity_number,address\n"+nik0+",Jalan Juanda Nomor 12\n", dir)); err != nil || len(bad) > 0 {
				t.Fatalf("Repair: %v %v", err, bad)
			}
			// Line 3: onboard again with the corrected CSV row.
			b, err := os.ReadFile(csv)
			must(t, err)
			must(t, os.WriteFile(csv, bytes.Replace(b, []byte("Jalan Margonda Raya 1,"), []byte("Jalan Sudirman Nomor 7,"), 1), 0o600))
			// (Line 2's row is not used: the agent, corrected by the repair
			// row, is under way.)
			taken, unused, err := h.f.TakeChanges(ctx, readRows(t, csv))
			if err != nil || taken != 1 || len(unused) != 1 || unused[0].Line != 2 {
				t.Fatalf("TakeChanges = %d, %v, %v; want line 3 taken, line 2 not used", taken, unused, err)
			}
			h.run(h.f)
			recs = records(t, h.db)
			for _, r := range recs {
				if r.State != fleet.StateApproved {
					t.Errorf("line %d: %s (%s), want approved", r.Line, r.State, r.Attention)
				}
			}
			if n := len(ra.requestIDs()); n != 2 {
				t.Errorf("%d creates refused, want 2", n)
			}
			accepted := acceptedCreates(h.fake)
			for _, nik := range []string{nik0, nik1, rows[2].Params.IdentityNumber} {
				if accepted[nik] != 1 {
					t.Errorf("%d creates taken of %s, want 1", accepted[nik], nik[len(nik)-4:])
				}
			}
			for _, r := range recs[:2] {
				for _, old := range refusedIDs {
					if r.CreateRequestID == old {
						t.Errorf("line %d created again under the refused Request-ID", r.Line)
					}
				}
			}
			addresses := map[string]string{}
			for _, a := range h.fake.Agents() {
				addresses[a.IdentityNumber] = a.Address
			}
			if addresses[nik0] != "Jalan Juanda Nomor 12" || addresses[nik1] != "Jalan Sudirman Nomor 7" {
				t.Errorf("Flip has the addresses %q and %q, want the corrected ones", addresses[nik0], addresses[nik1])
			}
		})
	}
}

// A create Flip turned away for another cause than its data (403: the
// key, the address) created nothing either: the agent is parked with the
// way out "resume", and Resume creates it again, under a new Request-ID.
func TestCreateTurnedAwayResumed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h := newHarnessConfig(t, filepath.Join(dir, "run.db"), fleet.Config{Workers: 1})
	importCSV(t, h.f, writeRun(t, dir, 2, nil))
	h.fake.FailNext(flipkyctest.RouteCreateAgent, 1, http.StatusForbidden)
	outs := parkedWayOuts(t, h)
	if len(outs) != 1 || outs[0] != fleet.WayOutResume {
		t.Fatalf("parked with ways out %v, want 1 × %s", outs, fleet.WayOutResume)
	}
	var turnedAway string
	for _, r := range h.fake.RequestsTo(flipkyctest.RouteCreateAgent) {
		if r.Status == http.StatusForbidden {
			turnedAway = r.Header.Get("Request-ID")
		}
	}
	resume(t, h, 1)
	h.run(h.f)
	recs := records(t, h.db)
	for _, r := range recs {
		if r.State != fleet.StateApproved || r.CreateRequestID == turnedAway {
			t.Errorf("line %d: %s with create Request-ID %s, want approved under a new one", r.Line, r.State, r.CreateRequestID)
		}
	}
	for nik, n := range acceptedCreates(h.fake) {
		if n != 1 {
			t.Errorf("%d creates taken of %s, want 1", n, nik[len(nik)-4:])
		}
	}
}

// A stored row the SDK's checks refuse before sending (a row an earlier
// version took) parks its agent at once, with the field and rule and the
// way out "repair", without a create sent; the repair row's corrected data
// creates it.
func TestCreateBreakingRuleCorrected(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	h := newHarness(t, filepath.Join(dir, "run.db"))
	rows := readRows(t, writeRun(t, dir, 1, nil))
	rows[0].Params.Address = "Jl 1" // under 10 characters
	if _, _, err := h.f.Import(ctx, rows); err != nil {
		t.Fatal(err)
	}
	if outs := parkedWayOuts(t, h); len(outs) != 1 || outs[0] != fleet.WayOutRepair {
		t.Fatalf("parked with ways out %v, want %s", outs, fleet.WayOutRepair)
	}
	if r := records(t, h.db)[0]; !strings.HasPrefix(r.Attention, "the create breaks a rule of Flip's") || !strings.Contains(r.Attention, "address") {
		t.Fatalf("reason %q, want the create's broken rule on the address", r.Attention)
	}
	if n := len(h.fake.RequestsTo(flipkyctest.RouteCreateAgent)); n != 0 {
		t.Fatalf("%d creates sent, want none", n)
	}
	resume(t, h, 0)
	nik := rows[0].Params.IdentityNumber
	if bad, err := h.f.Repair(ctx, readRepairs(t, "identity_number,address\n"+nik+",Jalan Juanda Nomor 12\n", dir)); err != nil || len(bad) > 0 {
		t.Fatalf("Repair: %v %v", err, bad)
	}
	h.run(h.f)
	if r := records(t, h.db)[0]; r.State != fleet.StateApproved {
		t.Fatalf("agent %s (%s), want approved", r.State, r.Attention)
	}
	if accepted := acceptedCreates(h.fake); accepted[nik] != 1 {
		t.Errorf("%d creates taken, want 1", accepted[nik])
	}
}

// onboardWithPhoneTaken creates on the fake, outside the run, an agent
// with row's phone number, then onboards the CSV: row's create is refused
// for its phone number (2002), and its agent parked for a repair.
func onboardWithPhoneTaken(t *testing.T, h *harness, row fleet.Row, csv string) {
	t.Helper()
	cl, err := h.fake.NewClient()
	must(t, err)
	other := row.Params
	other.IdentityNumber = "3201999999990000"
	if _, err := cl.CreateAgent(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	importCSV(t, h.f, csv)
	if outs := parkedWayOuts(t, h); len(outs) != 1 || outs[0] != fleet.WayOutRepair {
		t.Fatalf("parked with ways out %v, want %s: %s", outs, fleet.WayOutRepair, records(t, h.db)[0].Attention)
	}
}

// A create answered 2002 on the phone number alone (another agent holds
// it; Flip found none with this identity number) created nothing: the
// agent is parked with the way out "repair", not "agent_id", and a repair
// row with another phone number creates it, under a new Request-ID.
func TestCreatePhoneTakenCorrected(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	h := newHarness(t, filepath.Join(dir, "run.db"))
	rows := readRows(t, writeRun(t, dir, 1, nil))
	onboardWithPhoneTaken(t, h, rows[0], filepath.Join(dir, "agents.csv"))
	if r := records(t, h.db)[0]; !strings.HasPrefix(r.Attention, "Flip refused the create: ") || !strings.Contains(r.Attention, "phone_") || !strings.Contains(r.Attention, "2002") {
		t.Fatalf("reason %q, want the create refused for the phone number", r.Attention)
	}
	resume(t, h, 0)
	nik := rows[0].Params.IdentityNumber
	if bad, err := h.f.Repair(ctx, readRepairs(t, "identity_number,phone_number\n"+nik+",081234567890\n", dir)); err != nil || len(bad) > 0 {
		t.Fatalf("Repair: %v %v", err, bad)
	}
	h.run(h.f)
	if r := records(t, h.db)[0]; r.State != fleet.StateApproved {
		t.Fatalf("agent %s (%s), want approved", r.State, r.Attention)
	}
	if accepted := acceptedCreates(h.fake); accepted[nik] != 1 {
		t.Errorf("%d creates of line 2 taken, want 1", accepted[nik])
	}
}
