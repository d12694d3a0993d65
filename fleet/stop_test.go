package fleet_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/flipkyc/flipkyc/fleet"
)

// sendCounter counts the requests that left the rate limit, and those
// among them that left it after stopped was set.
type sendCounter struct {
	base               http.RoundTripper
	stopped            atomic.Bool
	sent, afterStopped atomic.Int64
}

func (s *sendCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	s.sent.Add(1)
	if s.stopped.Load() {
		s.afterStopped.Add(1)
	}
	return s.base.RoundTrip(r)
}

// A run stopped (its context ended) at a low rate sends nothing more: the
// steps waiting for their turn at the rate limit give up unsent, rather
// than each sending at its slot (seconds away) and going on to its next
// request as River's stop lets them. The next run finishes every agent,
// with no step sent twice and none parked for the stop.
func TestStopEndsWaitsForTheRateLimit(t *testing.T) {
	t.Parallel()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			stopAtALowRate(t, db)
		})
	}
}

func stopAtALowRate(t *testing.T, db string) {
	dir := t.TempDir()
	csv := writeRun(t, dir, 12, nil)
	dsn := runDSN(t, db, dir)
	h := newHarness(t, dsn)
	counter := &sendCounter{base: http.DefaultTransport}
	f := h.newFleet(fleet.Config{Rate: 4, Workers: 8, Transport: counter})
	importCSV(t, f, csv)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx, nil) }()
	waitFor(t, func() bool { return counter.sent.Load() >= 3 })
	counter.stopped.Store(true)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v, want it stopped by its context", err)
	}
	// A request whose slot came as the run stopped may still go; at 4
	// requests a second, with 8 workers waiting, the stop used to let
	// each send at its slot and go on.
	if n := counter.afterStopped.Load(); n > 1 {
		t.Errorf("%d requests sent after the run stopped, want at most the one whose slot came with the stop", n)
	}
	h.run(h.newFleet(fleet.Config{}))
	if c, err := h.db.Counts(context.Background()); err != nil || c[fleet.StateApproved] != 12 {
		t.Fatalf("after the next run: %v %v, want 12 approved", c, err)
	}
	checkNoRepeats(t, h.fake)
}
