package fleet

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// newRaceRun is a run of one agent, imported, against the fake; before
// runs inside the fake just before it handles a create.
func newRaceRun(t *testing.T, before func(f *Fleet)) (*Fleet, *flipkyctest.Server, *agent) {
	t.Helper()
	return newRaceRunAt(t, filepath.Join(t.TempDir(), "run.db"), before)
}

// newRaceRunAt is newRaceRun on the database dsn.
func newRaceRunAt(t *testing.T, dsn string, before func(f *Fleet)) (*Fleet, *flipkyctest.Server, *agent) {
	t.Helper()
	ctx := context.Background()
	key, err := NewDataKey(make([]byte, DataKeySize))
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, dsn, WithDataKey(key))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var f *Fleet
	fake := flipkyctest.NewServer(t, flipkyctest.WithMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/agents") && before != nil {
				before(f)
			}
			next.ServeHTTP(w, r)
		})
	}))
	f, err = New(Config{DB: db, SecretKey: fake.SecretKey(), Rate: 1000,
		ClientOptions: []flipkyc.Option{flipkyc.WithBaseURLs(fake.AgentsURL, fake.KYCURL)}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var photo bytes.Buffer
	if err := png.Encode(&photo, image.NewGray(image.Rect(0, 0, 256, 256))); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ktp.png", "selfie.png"} {
		if err := os.WriteFile(filepath.Join(dir, name), photo.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	rows, bad, err := ReadCSV(strings.NewReader("name,identity_type,identity_number,birth_date,birth_place,gender,occupation,country_id,province_id,city_id,district_id,address,phone_number,email,identity_image,selfie_image\n"+
		"Agent Racer,ktp,3201000000770000,31-10-1990,Kota Depok,male,entrepreneur,1,12,184,1234,Jalan Margonda Raya 1,080000000077,,ktp.png,selfie.png\n"), dir)
	if err != nil || len(bad) > 0 {
		t.Fatalf("ReadCSV: %v %v", bad, err)
	}
	if _, _, err := f.Import(ctx, rows); err != nil {
		t.Fatal(err)
	}
	a, err := f.load(ctx, db.sql, key.agentKey(rows[0].Params.IdentityNumber))
	if err != nil {
		t.Fatal(err)
	}
	return f, fake, a
}

// A job that finds the agent moved by another job stops: it sends nothing
// and leaves the agent to the other job.
func TestStepThatLostTheAgentStops(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, fake, stale := newRaceRun(t, nil)
	// Another job recorded its create intent after this one loaded the
	// agent.
	if _, err := f.db.exec(ctx, f.db.sql, "UPDATE fleet_agents SET state = ?, create_request_id = ? WHERE key = ?", StateCreating, "bigflip-00000000-0000-4000-8000-000000000000", stale.Key); err != nil {
		t.Fatal(err)
	}
	if err := f.onboard(ctx, stale); err != nil {
		t.Fatalf("onboard = %v, want nil (the other job has the agent)", err)
	}
	if n := len(fake.Agents()); n != 0 {
		t.Errorf("%d agents created, want 0", n)
	}
	now, err := f.load(ctx, f.db.sql, stale.Key)
	if err != nil || now.State != StateCreating {
		t.Errorf("state %q (%v), want creating, untouched", now.State, err)
	}
}

// A create that succeeds after another job parked the agent as an unknown
// outcome still records the agent's id, and the agent goes on.
func TestCreateThatSucceedsAfterBeingParkedKeepsTheID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, fake, a := newRaceRun(t, func(f *Fleet) {
		// The other job parks the agent while this create is under way.
		key := "3201000000770000"
		if err := f.park(context.Background(), key, StateCreating, "create outcome unknown"); err != nil {
			t.Error(err)
		}
	})
	if err := f.create(ctx, a); err != nil {
		t.Fatal(err)
	}
	agents := fake.Agents()
	if len(agents) != 1 {
		t.Fatalf("%d agents at the fake, want 1", len(agents))
	}
	now, err := f.load(ctx, f.db.sql, a.Key)
	if err != nil {
		t.Fatal(err)
	}
	if now.State != StateCreated || now.AgentID.Int64 != agents[0].ID || now.Attention != "" {
		t.Errorf("agent %s, id %v, attention %q; want created with id %d and no attention", now.State, now.AgentID, now.Attention, agents[0].ID)
	}
}

// A Summary names parked agents without their identity numbers, whoever
// marshals it; Records, the export, keeps them.
func TestSummaryLeavesOutIdentityNumbers(t *testing.T) {
	ctx := context.Background()
	f, _, a := newRaceRun(t, nil)
	if err := f.park(ctx, a.Key, StateNew, "needs a person"); err != nil {
		t.Fatal(err)
	}
	sum, err := f.db.Summarize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Attention) != 1 || sum.Attention[0].IdentityNumber != "" || sum.Attention[0].Attention != "needs a person" {
		t.Errorf("Summary.Attention = %+v", sum.Attention)
	}
	recs, err := f.db.Records(ctx)
	if err != nil || len(recs) != 1 || recs[0].IdentityNumber != a.Row.Params.IdentityNumber {
		t.Errorf("Records = %d records, %v; want the identity number kept", len(recs), err)
	}
}

// logWatch is a slog handler that reports each message on a channel.
type logWatch struct{ msgs chan string }

func (l logWatch) Enabled(context.Context, slog.Level) bool { return true }
func (l logWatch) Handle(_ context.Context, r slog.Record) error {
	select {
	case l.msgs <- r.Message:
	default:
	}
	return nil
}
func (l logWatch) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l logWatch) WithGroup(string) slog.Handler      { return l }

// An agent's id is never lost: when recording it after a successful create
// fails, the write is tried again until it is made, and the agent goes on
// as created, never parked.
func TestCreatedAgentIDWriteRetried(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, fake, a := newRaceRun(t, nil)
	watch := logWatch{msgs: make(chan string, 16)}
	f.log = slog.New(watch)
	// The database refuses the id until the test lifts the fault.
	if _, err := f.db.sql.Exec(`CREATE TRIGGER refuse_agent_id BEFORE UPDATE OF agent_id ON fleet_agents
		WHEN NEW.agent_id IS NOT NULL BEGIN SELECT RAISE(ABORT, 'disk I/O error (test)'); END`); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- f.create(ctx, a) }()
	select {
	case msg := <-watch.msgs:
		if !strings.Contains(msg, "recording a created agent's id failed") {
			t.Fatalf("logged %q", msg)
		}
	case err := <-done:
		t.Fatalf("create returned %v before the id was recorded", err)
	}
	if _, err := f.db.sql.Exec("DROP TRIGGER refuse_agent_id"); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	now, err := f.load(ctx, f.db.sql, a.Key)
	if err != nil {
		t.Fatal(err)
	}
	agents := fake.Agents()
	if len(agents) != 1 || now.State != StateCreated || now.AgentID.Int64 != agents[0].ID {
		t.Errorf("agent %s with id %v, want created with the fake's id", now.State, now.AgentID)
	}
}

// Run ends only when no step is in flight: an agent parked while its
// create is under way (another job found it in creating) is taken on by
// that create when it succeeds, and Run waits for it to end.
func TestRunEndsWithNoStepInFlight(t *testing.T) {
	t.Parallel()
	f, fake, a := newRaceRun(t, func(f *Fleet) {
		if err := f.park(context.Background(), "3201000000770000", StateCreating, "create outcome unknown"); err != nil {
			t.Error(err)
		}
	})
	writePNGs(t, filepath.Dir(a.Row.IdentityImage))
	fake.SetLatency(1500 * time.Millisecond) // the parked agent's create stays in flight
	// The same run, read soon when callbacks do not come (the fake sends
	// none here).
	f, err := New(Config{DB: f.db, SecretKey: fake.SecretKey(), Rate: 1000, StaleAfter: 50 * time.Millisecond,
		ReconcileEvery: 50 * time.Millisecond, PollInterval: 20 * time.Millisecond,
		ClientOptions: []flipkyc.Option{flipkyc.WithBaseURLs(fake.AgentsURL, fake.KYCURL)}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := f.Run(ctx, nil); err != nil {
		t.Fatal(err)
	}
	c, err := f.db.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Active() != 0 {
		t.Errorf("Run ended with agents under way: %v", c)
	}
	if n := len(fake.Agents()); n != 1 {
		t.Errorf("%d agents at the fake, want 1", n)
	}
}

// writePNGs writes the images newRaceRun's row names as real PNGs.
func writePNGs(t *testing.T, dir string) {
	t.Helper()
	for _, name := range []string{"ktp.png", "selfie.png"} {
		var b bytes.Buffer
		if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 256, 256))); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
