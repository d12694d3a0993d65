package fleet_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/fleet"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// harness is a run against the fake, with callbacks delivered to the
// fleet's store through a receiver that can drop them.
type harness struct {
	t    testing.TB
	db   *fleet.DB
	fake *flipkyctest.Server
	f    *fleet.Fleet
	drop atomic.Int64 // callbacks still to drop
	// hold, when set, holds callbacks until it is closed.
	hold atomic.Pointer[chan struct{}]
}

func newHarness(t testing.TB, dsn string, opts ...flipkyctest.Option) *harness {
	return newHarnessConfig(t, dsn, fleet.Config{}, opts...)
}

func newHarnessConfig(t testing.TB, dsn string, cfg fleet.Config, opts ...flipkyctest.Option) *harness {
	t.Helper()
	h := &harness{t: t, db: openTestRun(t, dsn)}
	var handler atomic.Pointer[http.Handler]
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c := h.hold.Load(); c != nil {
			<-*c
		}
		if h.drop.Add(-1) >= 0 {
			w.WriteHeader(http.StatusOK) // Flip counts it delivered; it is lost
			return
		}
		(*handler.Load()).ServeHTTP(w, r)
	}))
	t.Cleanup(recv.Close)
	h.fake = flipkyctest.NewServer(t, append([]flipkyctest.Option{flipkyctest.WithCallbacks(recv.URL, "")}, opts...)...)
	h.f = h.newFleet(cfg)
	hd, err := h.f.CallbackHandler(flipkyctest.DefaultCallbackToken)
	if err != nil {
		t.Fatal(err)
	}
	handler.Store(&hd)
	return h
}

func (h *harness) newFleet(cfg fleet.Config) *fleet.Fleet {
	cfg.DB = h.db
	cfg.SecretKey = h.fake.SecretKey()
	cfg.ClientOptions = append([]flipkyc.Option{flipkyc.WithBaseURLs(h.fake.AgentsURL, h.fake.KYCURL)}, cfg.ClientOptions...)
	setIf(&cfg.Rate, 1000)
	setIf(&cfg.Workers, 8)
	setIf(&cfg.StaleAfter, 300*time.Millisecond)
	setIf(&cfg.ReconcileEvery, 200*time.Millisecond)
	setIf(&cfg.PollInterval, 20*time.Millisecond)
	f, err := fleet.New(cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	return f
}

func setIf[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

func (h *harness) run(f *fleet.Fleet) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := f.Run(ctx, nil); err != nil {
		h.t.Fatalf("Run: %v", err)
	}
}

func readRows(t testing.TB, path string) []fleet.Row {
	t.Helper()
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	rows, bad, err := fleet.ReadCSV(file, filepath.Dir(path))
	if err != nil || len(bad) > 0 {
		t.Fatalf("ReadCSV: %v %v", err, bad)
	}
	return rows
}

func importCSV(t *testing.T, f *fleet.Fleet, path string) int {
	t.Helper()
	rows := readRows(t, path)
	n, _, err := f.Import(context.Background(), rows)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// checkFake checks the fake's side against the run's records: no identity
// number sent in more than one create; every agent that is not parked was
// created exactly once (a parked one may have been killed between its
// recorded intent and the request, so it was sent at most once); no image
// sent again after it succeeded.
func checkFake(t *testing.T, fake *flipkyctest.Server, recs []fleet.Record) {
	t.Helper()
	creates := map[string]int{}
	for _, r := range fake.RequestsTo(flipkyctest.RouteCreateAgent) {
		creates[r.Fields["identity_number"]]++
	}
	for _, r := range recs {
		n := creates[r.IdentityNumber]
		if n > 1 || (n == 0 && r.State != fleet.StateAttention) {
			t.Errorf("line %d (%s): %d create requests", r.Line, r.State, n)
		}
	}
	if len(creates) > len(recs) {
		t.Errorf("creates for %d identity numbers, the run has %d", len(creates), len(recs))
	}
	uploads := map[string]int{}
	for _, r := range fake.RequestsTo(flipkyctest.RouteUploadImage) {
		if r.Handled == http.StatusOK {
			uploads[r.Path+"?selfie="+r.Fields["selfie"]]++
		}
	}
	for k, n := range uploads {
		if n != 1 {
			t.Errorf("%s: %d successful uploads, want 1", k, n)
		}
	}
}

// TestOnboardEndToEnd runs a whole run on SQLite and on Postgres: three
// callbacks lost on the way (the fake counts them delivered) are made up
// for by the reconciler's reads, rejections show their fix, a re-run sends
// nothing, and repairs resume the rejected agents.
func TestOnboardEndToEnd(t *testing.T) {
	t.Parallel()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			dir := t.TempDir()
			dsn := runDSN(t, db, dir)
			onboardEndToEnd(t, dir, dsn)
		})
	}
}

func onboardEndToEnd(t *testing.T, dir, dsn string) {
	csv := writeRun(t, dir, 40, map[int]int{3: 14, 7: 10, 9: 29})
	h := newHarness(t, dsn)
	h.drop.Store(3) // three callbacks lost: the reconciler must find them
	if n := importCSV(t, h.f, csv); n != 40 {
		t.Fatalf("imported %d, want 40", n)
	}
	h.run(h.f)
	c, err := h.db.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c[fleet.StateApproved] != 37 || c[fleet.StateRejected] != 3 || c.Total() != 40 {
		t.Fatalf("counts %v, want 37 approved and 3 rejected", c)
	}
	if h.drop.Load() >= 0 {
		t.Fatalf("the run did not lose three callbacks (drop counter %d)", h.drop.Load())
	}
	// Each lost callback left an agent waiting; only a read moved it.
	if gets := len(h.fake.RequestsTo(flipkyctest.RouteGetAgent)); gets < 3 {
		t.Errorf("%d reads of agents, want at least one for each of the 3 lost callbacks", gets)
	}
	checkFake(t, h.fake, records(t, h.db))
	sum, err := h.db.Summarize(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, r := range sum.Rejections {
		codes = append(codes, r.Code.String()+":"+string(r.Fix[0]))
	}
	if got := strings.Join(codes, ","); got != "10:repair_data,14:repair_identity_image,29:none" {
		t.Errorf("rejections %s", got)
	}

	// Re-running the same CSV adds nothing and sends nothing.
	before := len(h.fake.Requests())
	if n := importCSV(t, h.f, csv); n != 0 {
		t.Fatalf("re-import added %d", n)
	}
	h.run(h.newFleet(fleet.Config{}))
	if after := len(h.fake.Requests()); after != before {
		t.Errorf("a resumed finished run sent %d requests", after-before)
	}

	// Repairs: new data for code 10, a new identity photo for 14; the
	// fake approves after a fix. A photo for code 29 (fraud) is refused.
	repairCSV := filepath.Join(dir, "repair.csv")
	os.WriteFile(repairCSV, []byte("identity_number,name,identity_image\n"+
		"3201000000079910,Agent Seven Fixed,\n"+
		"3201000000039914,,ktp.png\n"+
		"3201000000099929,,ktp.png\n"), 0o600)
	file, _ := os.Open(repairCSV)
	reps, bad, err := fleet.ReadRepairCSV(file, dir)
	file.Close()
	if err != nil || len(bad) > 0 {
		t.Fatalf("ReadRepairCSV: %v %v", err, bad)
	}
	bad, err = h.f.Repair(context.Background(), reps)
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) != 1 || bad[0].Line != 4 || !strings.Contains(bad[0].Rule, "code 29") {
		t.Fatalf("repair refusals %v, want line 4 (code 29)", bad)
	}
	h.run(h.newFleet(fleet.Config{}))
	c, _ = h.db.Counts(context.Background())
	if c[fleet.StateApproved] != 39 || c[fleet.StateRejected] != 1 {
		t.Fatalf("after repair: %v, want 39 approved, 1 rejected", c)
	}
}

func TestBadRowsReportedOthersGoOn(t *testing.T) {
	dir := t.TempDir()
	path := writeRun(t, dir, 3, nil)
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	lines[2] = strings.Replace(lines[2], "31-10-1990", "31-02-1990", 1)  // line 3: no such day
	lines[3] = strings.Replace(lines[3], "selfie.png", "missing.png", 1) // line 4: no file
	os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
	file, _ := os.Open(path)
	defer file.Close()
	rows, bad, err := fleet.ReadCSV(file, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Line != 2 {
		t.Fatalf("good rows %v", rows)
	}
	if len(bad) != 2 || bad[0].Line != 3 || bad[0].Field != "birth_date" || bad[1].Line != 4 || bad[1].Field != "selfie_image" {
		t.Fatalf("bad rows %v", bad)
	}
}

func TestCreateOutcomeUnknownIsParkedNotResent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	csv := writeRun(t, dir, 4, nil)
	h := newHarness(t, filepath.Join(dir, "run.db"))
	h.fake.FailNextAfterApplying(flipkyctest.RouteCreateAgent, 1, http.StatusBadGateway)
	h.fake.DropNextAfterApplying(flipkyctest.RouteUploadImage, 1)
	importCSV(t, h.f, csv)
	h.run(h.f)
	sum, _ := h.db.Summarize(context.Background())
	if sum.Counts[fleet.StateApproved] != 3 || len(sum.Attention) != 1 {
		t.Fatalf("summary %+v", sum)
	}
	if a := sum.Attention[0]; !strings.Contains(a.Attention, "outcome unknown") || !strings.Contains(a.Attention, a.CreateRequestID) || a.CreateRequestID == "" {
		t.Errorf("attention %+v", a)
	}
	checkFake(t, h.fake, records(t, h.db))
}

func records(t *testing.T, db *fleet.DB) []fleet.Record {
	t.Helper()
	recs, err := db.Records(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// dyingTransport passes requests on until the first repair request has
// reached Flip; from then on, as if the process had been killed right
// after sending it, no reply comes back and nothing more is sent.
type dyingTransport struct {
	base http.RoundTripper
	dead atomic.Bool
	died chan struct{}
}

func (d *dyingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if d.dead.Load() {
		return nil, errors.New("the process is gone")
	}
	resp, err := d.base.RoundTrip(r)
	if strings.HasSuffix(r.URL.Path, "/repair") && d.dead.CompareAndSwap(false, true) {
		if resp != nil {
			resp.Body.Close()
		}
		close(d.died)
		return nil, errors.New("the process is gone")
	}
	return resp, err
}

// A process that dies after sending a repair leaves the agent repairing,
// with its intent recorded; the next run reads the agent first, finds the
// repair took effect and does not send it again.
func TestRepairInterruptedIsNotResent(t *testing.T) {
	t.Parallel()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			dir := t.TempDir()
			dsn := runDSN(t, db, dir)
			csv := writeRun(t, dir, 2, map[int]int{1: 10})
			h := newHarness(t, dsn)
			importCSV(t, h.f, csv)
			h.run(h.f)
			if c, _ := h.db.Counts(context.Background()); c[fleet.StateRejected] != 1 {
				t.Fatalf("counts %v, want 1 rejected", c)
			}
			bad, err := h.f.Repair(context.Background(), []fleet.Repair{
				{Line: 3, IdentityNumber: "3201000000019910", Data: &flipkyc.RepairDataParams{Name: "Agent One Fixed"}},
			})
			if err != nil || len(bad) > 0 {
				t.Fatalf("Repair: %v %v", err, bad)
			}
			// The decision's callback is lost as well, so only a read can
			// tell the next run that the repair took effect.
			h.drop.Store(1)
			dt := &dyingTransport{base: http.DefaultTransport.(*http.Transport).Clone(), died: make(chan struct{})}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- h.newFleet(fleet.Config{Transport: dt}).Run(ctx, nil) }()
			select {
			case <-dt.died:
			case err := <-done:
				t.Fatalf("Run returned %v before the repair was sent", err)
			case <-time.After(2 * time.Minute):
				t.Fatal("no repair sent in 2 minutes")
			}
			cancel()
			<-done
			recs := records(t, h.db)
			if recs[1].State != fleet.StateRepairing {
				t.Fatalf("after the dead process: %s, want %s", recs[1].State, fleet.StateRepairing)
			}

			h.run(h.newFleet(fleet.Config{}))
			if c, _ := h.db.Counts(context.Background()); c[fleet.StateApproved] != 2 {
				t.Fatalf("counts %v, want 2 approved", c)
			}
			repairs := h.fake.RequestsTo(flipkyctest.RouteRepairData)
			if len(repairs) != 1 || repairs[0].Handled != http.StatusOK {
				t.Fatalf("%d repair requests, want 1 that took effect", len(repairs))
			}
			if !strings.HasPrefix(repairs[0].Header.Get("Request-ID"), "bigflip-") {
				t.Errorf("repair Request-ID %q", repairs[0].Header.Get("Request-ID"))
			}
		})
	}
}

// An agent parked at its create (outcome unknown; 2002, already
// registered) is resumed by a repair row with the agent id a person found:
// checked with Flip, then taken on from where Flip has it, without a
// create and without repeating an upload Flip has.
func TestParkedAtCreateResumedWithAgentID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	csv := writeRun(t, dir, 3, nil)
	rows := readRows(t, csv)
	h := newHarnessConfig(t, filepath.Join(dir, "run.db"), fleet.Config{Workers: 1})
	// Line 3's agent is already registered at Flip, its identity image
	// uploaded: its create gets 2002.
	cl, err := h.fake.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	pre, err := cl.CreateAgent(ctx, rows[1].Params)
	if err != nil {
		t.Fatal(err)
	}
	ktp, _ := os.Open(rows[1].IdentityImage)
	_, err = cl.UploadIdentityImage(ctx, pre.ID, rows[1].Params.IdentityType, flipkyc.Image{Name: "ktp.png", Content: ktp})
	ktp.Close()
	if err != nil {
		t.Fatal(err)
	}
	// Line 2's create takes effect and its reply is lost (one worker:
	// creates go in line order).
	h.fake.FailNextAfterApplying(flipkyctest.RouteCreateAgent, 1, http.StatusBadGateway)
	if _, _, err := h.f.Import(ctx, rows); err != nil {
		t.Fatal(err)
	}
	h.run(h.f)
	recs := records(t, h.db)
	if recs[0].State != fleet.StateAttention || recs[1].State != fleet.StateAttention || recs[2].State != fleet.StateApproved {
		t.Fatalf("states %s %s %s, want attention, attention, approved", recs[0].State, recs[1].State, recs[2].State)
	}
	for _, r := range recs[:2] {
		if !strings.Contains(r.Attention, "agent_id") {
			t.Errorf("line %d: the reason does not say how to resume: %s", r.Line, r.Attention)
		}
	}
	ids := map[string]int64{}
	for _, a := range h.fake.Agents() {
		ids[a.IdentityNumber] = a.ID
	}
	creates := len(h.fake.RequestsTo(flipkyctest.RouteCreateAgent))

	// Refused: an agent that is not parked, another agent's id, an id
	// Flip does not have.
	bad, err := h.f.Repair(ctx, []fleet.Repair{
		{Line: 4, IdentityNumber: recs[2].IdentityNumber, AgentID: ids[recs[2].IdentityNumber]},
		{Line: 2, IdentityNumber: recs[0].IdentityNumber, AgentID: pre.ID},
		{Line: 2, IdentityNumber: recs[0].IdentityNumber, AgentID: 999999},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) != 3 || !strings.Contains(bad[0].Rule, "not parked") || !strings.Contains(bad[1].Rule, "another identity number") || !strings.Contains(bad[2].Rule, "no agent") {
		t.Fatalf("refusals %v", bad)
	}

	// From the repair CSV's agent_id column.
	repairCSV := filepath.Join(dir, "resolve.csv")
	os.WriteFile(repairCSV, []byte(fmt.Sprintf("identity_number,agent_id\n%s,%d\n%s,%d\n",
		recs[0].IdentityNumber, ids[recs[0].IdentityNumber], recs[1].IdentityNumber, pre.ID)), 0o600)
	file, _ := os.Open(repairCSV)
	reps, bad, err := fleet.ReadRepairCSV(file, dir)
	file.Close()
	if err != nil || len(bad) > 0 {
		t.Fatalf("ReadRepairCSV: %v %v", err, bad)
	}
	if bad, err := h.f.Repair(ctx, reps); err != nil || len(bad) > 0 {
		t.Fatalf("Repair: %v %v", err, bad)
	}
	h.run(h.newFleet(fleet.Config{}))
	recs = records(t, h.db)
	for _, r := range recs {
		if r.State != fleet.StateApproved || r.AgentID != ids[r.IdentityNumber] {
			t.Errorf("line %d: %s with id %d, want approved with %d", r.Line, r.State, r.AgentID, ids[r.IdentityNumber])
		}
	}
	if n := len(h.fake.RequestsTo(flipkyctest.RouteCreateAgent)); n != creates {
		t.Errorf("%d creates sent after the agents were resumed", n-creates)
	}
	uploads := map[string]int{}
	for _, r := range h.fake.RequestsTo(flipkyctest.RouteUploadImage) {
		if r.Handled == http.StatusOK {
			uploads[r.Path+"?selfie="+r.Fields["selfie"]]++
		}
	}
	if len(uploads) != 6 {
		t.Errorf("successful uploads %v, want the two images of three agents", uploads)
	}
	for k, n := range uploads {
		if n != 1 {
			t.Errorf("%s: %d successful uploads, want 1", k, n)
		}
	}
}

func TestRepairCSVAgentID(t *testing.T) {
	in := "identity_number,agent_id,name\n3201000000010000,1042,\n3201000000020000,x,\n3201000000030000,7,New Name\n"
	reps, bad, err := fleet.ReadRepairCSV(strings.NewReader(in), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != 1 || reps[0].AgentID != 1042 || reps[0].Data != nil {
		t.Errorf("repairs %+v", reps)
	}
	if len(bad) != 2 || bad[0].Line != 3 || bad[0].Field != "agent_id" || bad[1].Line != 4 || !strings.Contains(bad[1].Rule, "alone") {
		t.Errorf("bad rows %v", bad)
	}
}

// A repair CSV's identity or phone number a spreadsheet wrote in
// scientific notation is a bad row saying so, not an agent not found.
func TestRepairCSVScientificNotation(t *testing.T) {
	in := "identity_number,phone_number\n3.20101E+15,081200000001\n3201000000020000,6.28123E+11\n"
	reps, bad, err := fleet.ReadRepairCSV(strings.NewReader(in), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if got := rowErrors(bad); len(reps) != 0 || got != "line 2: identity_number: written as a number in scientific notation (E+) by a spreadsheet, which lost its last digits: format the column as text and export the CSV again\n"+
		"line 3: phone_number: written as a number in scientific notation (E+) by a spreadsheet, which lost its last digits: format the column as text and export the CSV again" {
		t.Errorf("repairs %+v, bad %q", reps, got)
	}
}
