package fleet

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// inJob is ctx as a job's step sees it (finish completes nothing here).
func inJob(ctx context.Context) context.Context {
	return context.WithValue(ctx, finishKey{}, &jobFinish{complete: func(context.Context, *sql.Tx) error { return nil }})
}

// In a job, a request's result is recorded with the next request's intent,
// in one transaction: the create's agent id with the identity upload's
// intent, the identity upload's result with the selfie's. Each intent and
// its Request-ID are stored before the request goes out under it, and the
// job sends it without reading the agent first.
func TestJobRecordsResultWithNextIntent(t *testing.T) {
	ctx := inJob(context.Background())
	f, fake, a := newRaceRun(t, nil)
	var seen []string // the stored state and step Request-ID as each upload goes out
	stored := func() (state, rid string) {
		if err := f.db.sql.QueryRow("SELECT state, step_request_id FROM fleet_agents WHERE key = ?", a.Key).Scan(&state, &rid); err != nil {
			t.Fatal(err)
		}
		return state, rid
	}
	if err := f.create(ctx, a); err != nil {
		t.Fatal(err)
	}
	state, rid := stored()
	if state != StateUploadingIdentity || rid == "" || rid != a.StepRequestID || !a.sendNow || !a.AgentID.Valid {
		t.Fatalf("after the create: stored %s %q, in memory %s %q sendNow %v; want uploading_identity under one Request-ID, sendNow", state, rid, a.State, a.StepRequestID, a.sendNow)
	}
	seen = append(seen, rid)
	if err := f.upload(ctx, a); err != nil {
		t.Fatal(err)
	}
	state, rid = stored()
	if state != StateUploadingSelfie || rid == "" || rid != a.StepRequestID || !a.sendNow {
		t.Fatalf("after the identity upload: stored %s %q, in memory %s %q sendNow %v; want uploading_selfie, sendNow", state, rid, a.State, a.StepRequestID, a.sendNow)
	}
	seen = append(seen, rid)
	if err := f.upload(ctx, a); err != nil {
		t.Fatal(err)
	}
	if state, _ = stored(); state != StateAwaitingCheck {
		t.Fatalf("after the selfie: %s, want awaiting_check", state)
	}
	if n := len(fake.RequestsTo(flipkyctest.RouteGetAgent)); n != 0 {
		t.Errorf("%d reads of the agent, want none: each intent was this job's own", n)
	}
	uploads := fake.RequestsTo(flipkyctest.RouteUploadImage)
	if len(uploads) != 2 {
		t.Fatalf("%d uploads, want 2", len(uploads))
	}
	for i, u := range uploads {
		if got := u.Header.Get("Request-ID"); got != seen[i] {
			t.Errorf("upload %d sent under Request-ID %q, want the one stored with its intent, %q", i+1, got, seen[i])
		}
	}
	timeline, err := f.db.timeline(context.Background(), a.Key)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range timeline {
		got = append(got, e.Operation+": "+e.Result)
	}
	want := []string{"imported: ", "create: sending", "create: created", "upload identity image: sending", "upload identity image: accepted", "upload selfie: sending", "upload selfie: accepted"}
	if len(got) < len(want) {
		t.Fatalf("timeline %q, want it to begin %q", got, want)
	}
	for i, w := range want {
		if len(got[i]) < len(w) || got[i][:len(w)] != w {
			t.Errorf("timeline entry %d = %q, want %q…", i, got[i], w)
		}
	}
}

// Outside a job (no step sends the next request) and when the next
// intent cannot be written, the create's agent id is recorded alone: the
// agent is created, its id never held back.
func TestCreatedIDRecordedAloneWhenTheNextIntentFails(t *testing.T) {
	ctx := inJob(context.Background())
	f, fake, a := newRaceRun(t, nil)
	if _, err := f.db.sql.Exec(`CREATE TRIGGER refuse_upload_intent BEFORE UPDATE OF state ON fleet_agents
		WHEN NEW.state = 'uploading_identity' BEGIN SELECT RAISE(ABORT, 'disk I/O error (test)'); END`); err != nil {
		t.Fatal(err)
	}
	if err := f.create(ctx, a); err != nil {
		t.Fatal(err)
	}
	now, err := f.load(context.Background(), f.db.sql, a.Key)
	if err != nil {
		t.Fatal(err)
	}
	agents := fake.Agents()
	if len(agents) != 1 || now.State != StateCreated || now.AgentID.Int64 != agents[0].ID || a.sendNow {
		t.Errorf("agent %s with id %v (sendNow %v), want created with the fake's id, nothing to send yet", now.State, now.AgentID, a.sendNow)
	}
}

// A step whose last write finds the agent moved on already (Flip's
// callback came first: the upload check passed, or the decision) still
// completes its job in that transaction: nothing is left to free or read
// after it.
func TestLastWriteCompletesTheJobWhenTheAgentMovedOn(t *testing.T) {
	for _, tc := range []struct {
		name, from, now string
		last            func(f *Fleet, ctx context.Context, a *agent) error
	}{
		{"selfie uploaded after the upload check's callback", StateUploadingSelfie, StateChecked, func(f *Fleet, ctx context.Context, a *agent) error {
			return f.uploaded(ctx, a, true, flipkyc.StatusUploadIdentitySelfieProgress)
		}},
		{"submission settled after the decision", StateSubmitting, StateApproved, func(f *Fleet, ctx context.Context, a *agent) error {
			return f.settle(ctx, a.Key, StateSubmitting)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _, a := newRaceRun(t, nil)
			if _, err := f.db.sql.Exec("UPDATE fleet_agents SET state = ?, agent_id = 7 WHERE key = ?", tc.now, a.Key); err != nil {
				t.Fatal(err)
			}
			a.State = tc.from
			completed := 0
			ctx := context.WithValue(context.Background(), finishKey{}, &jobFinish{complete: func(context.Context, *sql.Tx) error {
				completed++
				return nil
			}})
			if err := tc.last(f, ctx, a); err != nil {
				t.Fatal(err)
			}
			if completed != 1 || !finished(ctx) {
				t.Errorf("job completed %d times (finished %v), want once, with the last write", completed, finished(ctx))
			}
			var state string
			if err := f.db.sql.QueryRow("SELECT state FROM fleet_agents WHERE key = ?", a.Key).Scan(&state); err != nil || state != tc.now {
				t.Errorf("state %q (%v), want %s untouched", state, err, tc.now)
			}
		})
	}
}

// A submission's intent is recorded with the step's lease, in one
// transaction: the step starts with the agent in submitting under a new
// Request-ID, stored with its journal entry, and sends it without reading
// the agent first.
func TestSubmitIntentRecordedWithTheLease(t *testing.T) {
	ctx := context.Background()
	f, fake, a := newRaceRun(t, nil)
	job := checkedWithRunningSubmit(t, f, a)
	jobCtx, cancel, atStart, err := f.acquire(ctx, job, 1, a.Key, submitIntent)
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	var stored, storedRID string
	if err := f.db.sql.QueryRow("SELECT state, step_request_id FROM fleet_agents WHERE key = ?", a.Key).Scan(&stored, &storedRID); err != nil {
		t.Fatal(err)
	}
	if atStart.State != StateSubmitting || !atStart.sendNow || stored != StateSubmitting || storedRID == "" || storedRID != atStart.StepRequestID {
		t.Fatalf("at the step's start: agent %s %q sendNow %v, stored %s %q; want submitting under the stored Request-ID, sendNow", atStart.State, atStart.StepRequestID, atStart.sendNow, stored, storedRID)
	}
	readsBefore := len(fake.RequestsTo(flipkyctest.RouteGetAgent))
	if err := f.submit(inJob(jobCtx), atStart); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.RequestsTo(flipkyctest.RouteGetAgent)) - readsBefore; n != 0 {
		t.Errorf("%d reads of the agent by the submission, want none", n)
	}
	subs := fake.RequestsTo(flipkyctest.RouteSubmit)
	if len(subs) != 1 || subs[0].Header.Get("Request-ID") != storedRID {
		t.Fatalf("submissions %d, want 1 under Request-ID %s", len(subs), storedRID)
	}
	timeline, err := f.db.timeline(ctx, a.Key)
	if err != nil {
		t.Fatal(err)
	}
	var intents int
	for _, e := range timeline {
		if e.Operation == opSubmit && e.Result == resultSending && e.RequestID == storedRID {
			intents++
		}
	}
	if intents != 1 {
		t.Errorf("%d journal entries of the submission's intent, want 1: %+v", intents, timeline)
	}
}

// A step that panics inside a transaction leaves the database usable: the
// transaction is rolled back as the panic goes on, so that on SQLite the
// deferred lease release and River's recovery of the panic get the one
// connection instead of waiting for it for ever.
func TestPanicInTransactionRollsItBack(t *testing.T) {
	f, _, a := newRaceRun(t, nil)
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic did not go on")
			}
		}()
		_ = f.db.inTx(context.Background(), func(tx *sql.Tx) error {
			if _, err := tx.Exec("UPDATE fleet_agents SET state = ? WHERE key = ?", StateAttention, a.Key); err != nil {
				t.Error(err)
			}
			panic("a bug in a step")
		})
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var state string
	if err := f.db.sql.QueryRowContext(ctx, "SELECT state FROM fleet_agents WHERE key = ?", a.Key).Scan(&state); err != nil {
		t.Fatalf("the database after the panic: %v", err)
	}
	if state == StateAttention {
		t.Errorf("the panicking transaction's change was kept")
	}
}

// A submission's intent whose journal entry cannot be written is not
// recorded either: the lease, the intent and its entry commit together or
// not at all, and the agent is left checked, as it was.
func TestSubmitIntentNotRecordedWithoutItsEntry(t *testing.T) {
	ctx := context.Background()
	f, _, a := newRaceRun(t, nil)
	job := checkedWithRunningSubmit(t, f, a)
	if _, err := f.db.sql.Exec(`CREATE TRIGGER refuse_journal BEFORE INSERT ON fleet_journal
		BEGIN SELECT RAISE(ABORT, 'disk I/O error (test)'); END`); err != nil {
		t.Fatal(err)
	}
	_, cancel, _, err := f.acquire(ctx, job, 1, a.Key, submitIntent)
	if cancel != nil {
		cancel()
	}
	if err == nil {
		t.Fatal("acquire with the journal refusing its entry: no error")
	}
	var state string
	var leaseJob sql.NullInt64
	if err := f.db.sql.QueryRow("SELECT state, lease_job FROM fleet_agents WHERE key = ?", a.Key).Scan(&state, &leaseJob); err != nil {
		t.Fatal(err)
	}
	if state != StateChecked || leaseJob.Valid {
		t.Errorf("after the failed acquire: state %s, lease %v; want checked and no lease (the intent recorded without its journal entry)", state, leaseJob)
	}
}

// checkedWithRunningSubmit takes a through its create and both uploads,
// as Flip has them, and leaves it checked (the upload check's callback,
// not delivered here, is what moves it there) with its submit job running
// its first attempt; it returns the job's id.
func checkedWithRunningSubmit(t *testing.T, f *Fleet, a *agent) int64 {
	t.Helper()
	ctx := context.Background()
	if err := f.onboard(inJob(ctx), a); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.sql.Exec("UPDATE fleet_agents SET state = ? WHERE key = ?", StateChecked, a.Key); err != nil {
		t.Fatal(err)
	}
	var job int64
	err := f.db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := f.river.InsertTx(ctx, tx, submitArgs{Key: a.Key}, nil)
		if err == nil {
			job = res.Job.ID
			_, err = tx.Exec("UPDATE river_job SET state = 'running', attempt = 1 WHERE id = ?", job)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return job
}

// A create job's lease, taken once its request has its slot of the rate
// limit (withSlotTaken), records the create's intent in one transaction
// (the agent creating under a new Request-ID, with the journal's entry),
// and the create goes under that Request-ID without recording the intent
// again.
func TestCreateIntentRecordedWithTheLease(t *testing.T) {
	ctx := context.Background()
	f, fake, a := newRaceRun(t, nil)
	job := runningCreateJob(t, f)
	jobCtx, cancel, atStart, err := f.acquire(withSlotTaken(ctx), job, 1, a.Key, createIntent)
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	var stored, storedRID string
	if err := f.db.sql.QueryRow("SELECT state, create_request_id FROM fleet_agents WHERE key = ?", a.Key).Scan(&stored, &storedRID); err != nil {
		t.Fatal(err)
	}
	if atStart.State != StateCreating || !atStart.sendNow || stored != StateCreating || storedRID == "" || storedRID != atStart.CreateRequestID {
		t.Fatalf("at the step's start: agent %s %q sendNow %v, stored %s %q; want creating under the stored Request-ID, sendNow", atStart.State, atStart.CreateRequestID, atStart.sendNow, stored, storedRID)
	}
	if err := f.create(inJob(jobCtx), atStart); err != nil {
		t.Fatal(err)
	}
	creates := fake.RequestsTo(flipkyctest.RouteCreateAgent)
	if len(creates) != 1 || creates[0].Header.Get("Request-ID") != storedRID {
		t.Fatalf("creates %d, want 1 under Request-ID %s", len(creates), storedRID)
	}
	now, err := f.load(ctx, f.db.sql, a.Key)
	if err != nil {
		t.Fatal(err)
	}
	if !now.AgentID.Valid || now.CreateRequestID != storedRID {
		t.Errorf("after the create: agent id %v, Request-ID %q; want the id recorded under %s", now.AgentID, now.CreateRequestID, storedRID)
	}
	timeline, err := f.db.timeline(ctx, a.Key)
	if err != nil {
		t.Fatal(err)
	}
	var intents int
	for _, e := range timeline {
		if e.Operation == opCreate && e.Result == resultSending {
			intents++
			if e.RequestID != storedRID {
				t.Errorf("create's intent under %s, want %s", e.RequestID, storedRID)
			}
		}
	}
	if intents != 1 {
		t.Errorf("%d journal entries of the create's intent, want 1: %+v", intents, timeline)
	}
}

// A create the SDK refuses before sending, after its intent was recorded
// with the lease, parks the agent with the way out repair, as a refusal:
// Flip created no agent, so it is not an outcome unknown.
func TestCreateIntentRefusedBeforeSending(t *testing.T) {
	ctx := context.Background()
	f, fake, a := newRaceRun(t, nil)
	job := runningCreateJob(t, f)
	jobCtx, cancel, atStart, err := f.acquire(ctx, job, 1, a.Key, createIntent)
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	atStart.Row.Params.PhoneNumber = "12" // breaks the SDK's rule for phone numbers
	if err := f.create(inJob(jobCtx), atStart); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.RequestsTo(flipkyctest.RouteCreateAgent)); n != 0 {
		t.Fatalf("%d creates sent, want none", n)
	}
	recs, err := f.db.Records(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r := recs[0]; r.State != StateAttention || r.WayOut != WayOutRepair || !strings.HasPrefix(r.Attention, reasonCreateBreaksRule) {
		t.Errorf("after the refusal: %s, way out %q, reason %q; want parked with way out repair", r.State, r.WayOut, r.Attention)
	}
}

// runningCreateJob marks the run's create job running its first attempt
// and returns the job's id.
func runningCreateJob(t *testing.T, f *Fleet) int64 {
	t.Helper()
	var job int64
	if err := f.db.sql.QueryRow("SELECT id FROM river_job WHERE kind = ?", createArgs{}.Kind()).Scan(&job); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.sql.Exec("UPDATE river_job SET state = 'running', attempt = 1 WHERE id = ?", job); err != nil {
		t.Fatal(err)
	}
	return job
}

// A step that finds its agent held by another running job takes the lease
// as soon as the holder ends, after short waits (heldWaits), instead of
// being snoozed for a second; a holder that stays, or a step whose context
// ends, leaves it held (the job is then snoozed) after the waits it made.
func TestStepWaitsBrieflyForAHolderEnding(t *testing.T) {
	for _, tc := range []struct {
		name    string
		endsAt  int // the wait after which the holder ends; 0: never
		cancels bool
		waits   []time.Duration
		err     error
	}{
		{"holder ends during the second wait", 2, false, heldWaits[:2], nil},
		{"holder stays", 0, false, heldWaits, errHeld},
		{"context ends", 0, true, heldWaits[:1], errHeld},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			f, _, a := newRaceRun(t, nil)
			job := checkedWithRunningSubmit(t, f, a)
			var holder int64
			err := f.db.inTx(ctx, func(tx *sql.Tx) error {
				res, err := f.river.InsertTx(ctx, tx, createArgs{Key: a.Key}, nil)
				if err == nil {
					holder = res.Job.ID
					_, err = tx.Exec("UPDATE river_job SET state = 'running', attempt = 1 WHERE id = ?", holder)
				}
				if err == nil {
					_, err = tx.Exec("UPDATE fleet_agents SET lease_job = ?, lease_attempt = 1 WHERE key = ?", holder, a.Key)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			var waits []time.Duration
			f.waitHeld = func(ctx context.Context, d time.Duration) error {
				waits = append(waits, d)
				if tc.cancels {
					return context.Canceled
				}
				if len(waits) == tc.endsAt {
					_, err := f.db.sql.Exec("UPDATE river_job SET state = 'completed', finalized_at = datetime('now') WHERE id = ?", holder)
					return err
				}
				return nil
			}
			_, cancel, got, err := f.acquireWaiting(ctx, job, 1, a.Key, submitIntent)
			if cancel != nil {
				defer cancel()
			}
			if !errors.Is(err, tc.err) || !slices.Equal(waits, tc.waits) {
				t.Fatalf("acquireWaiting: %v after waits %v; want %v after %v", err, waits, tc.err, tc.waits)
			}
			if tc.err == nil && (got == nil || got.State != StateSubmitting) {
				t.Errorf("the step's agent %+v; want it taken, submitting", got)
			}
		})
	}
}
