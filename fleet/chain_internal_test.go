package fleet

import (
	"context"
	"database/sql"
	"testing"

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
