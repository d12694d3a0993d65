package fleet

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc/flipkyctest"
)

// A create job whose context ends after its lease recorded the create's
// intent, before the request is written, sends nothing: the agent goes
// back to new (the create goes again later), not parked as an outcome
// unknown.
func TestCreateCancelledAfterItsIntentGoesBackToNew(t *testing.T) {
	ctx := context.Background()
	f, fake, a := newRaceRun(t, nil)
	job := runningCreateJob(t, f)
	jobCtx, cancel, atStart, err := f.acquire(withSlotTaken(ctx), job, 1, a.Key, createIntent)
	if err != nil {
		t.Fatal(err)
	}
	if !atStart.sendNow {
		t.Fatal("intent not recorded with the lease")
	}
	cancel() // the job is stopped (River's StopAndCancel, its timeout) just after its lease
	err = f.create(inJob(jobCtx), atStart)
	t.Logf("create: %v", err)
	if n := len(fake.RequestsTo(flipkyctest.RouteCreateAgent)); n != 0 {
		t.Fatalf("%d creates sent, want none", n)
	}
	now, err := f.load(ctx, f.db.sql, a.Key)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := f.db.Records(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tl, _ := f.db.timeline(ctx, a.Key)
	for _, e := range tl {
		t.Logf("journal: %s %s %s %q", e.Kind, e.Operation, e.RequestID, e.Result)
	}
	if now.State != StateNew {
		t.Errorf("agent %s, way out %q, reason %q; want new: nothing was sent", now.State, recs[0].WayOut, now.Attention)
	}
}

// failingLimiter refuses every slot, as a limiter whose database is gone.
type failingLimiter struct{}

func (failingLimiter) wait(context.Context) error { return errors.New("rate limit unavailable") }

// A create job that cannot take its slot before its lease goes on without
// it: its request waits for a slot in the transport (which fails unsent,
// and parks the agent at the last attempt, as any step's request would),
// and the agent is created once.
func TestCreateJobWithoutItsSlotGoesOn(t *testing.T) {
	f, fake, a := newRaceRun(t, nil)
	f.lim = failingLimiter{} // the job's own wait; the transport keeps its limiter
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx, nil) }()
	deadline := time.Now().Add(time.Minute)
	for {
		now, err := f.load(context.Background(), f.db.sql, a.Key)
		if err != nil {
			t.Fatal(err)
		}
		if now.AgentID.Valid {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent %s after a minute, want it created", now.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	if n := len(fake.RequestsTo(flipkyctest.RouteCreateAgent)); n != 1 {
		t.Fatalf("%d creates sent, want 1", n)
	}
}
