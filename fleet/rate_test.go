package fleet

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/internal/pgtest"
)

// The local limiter hands out slots one interval apart, however many
// workers ask at once, so requests never go faster than the rate.
func TestLocalLimiterSpacesSlots(t *testing.T) {
	l := newLocalLimiter(1000) // 1 ms apart
	start := time.Now()
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if err := l.wait(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// 50 slots handed out: the next free one is at least 50 intervals
	// after the first.
	if got := l.next.Sub(start); got < 50*time.Millisecond {
		t.Errorf("50 slots span %v, want at least 50ms", got)
	}
}

// A request whose context ends while it waits for the rate limit was never
// sent, and says so, so that the SDK does not take a state change for one
// whose outcome is unknown.
func TestLimitedTransportSaysNothingWasSent(t *testing.T) {
	l := newLocalLimiter(0.001) // one request every 1000 s
	called := false
	tr := &limitedTransport{lim: l, base: roundTrip(func(*http.Request) (*http.Response, error) {
		called = true
		return nil, errors.New("sent")
	})}
	if err := l.wait(context.Background()); err != nil { // takes the first slot
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://127.0.0.1/agents", nil)
	_, err := tr.RoundTrip(req)
	if !errors.Is(err, flipkyc.ErrNotSent) || !errors.Is(err, context.Canceled) || called {
		t.Fatalf("RoundTrip = %v (base called %v), want ErrNotSent and context.Canceled, base not called", err, called)
	}
}

// A job that took its first request's slot before its lease (slotFirst)
// sends that request without waiting again; its next request, a retry
// included, waits for a slot of its own.
func TestLimitedTransportUsesTheSlotTakenOnce(t *testing.T) {
	l := newLocalLimiter(0.001) // one request every 1000 s
	sent := 0
	tr := &limitedTransport{lim: l, base: roundTrip(func(*http.Request) (*http.Response, error) {
		sent++
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody}, nil
	})}
	if err := l.wait(context.Background()); err != nil { // the slot the job took
		t.Fatal(err)
	}
	ctx := withSlotTaken(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://127.0.0.1/agents", nil)
	if _, err := tr.RoundTrip(req); err != nil || sent != 1 {
		t.Fatalf("first request: %v, sent %d; want sent at once on the slot taken", err, sent)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	req, _ = http.NewRequestWithContext(short, http.MethodPost, "http://127.0.0.1/agents", nil)
	if _, err := tr.RoundTrip(req); !errors.Is(err, context.DeadlineExceeded) || sent != 1 {
		t.Fatalf("second request: %v, sent %d; want it to wait for a slot of its own", err, sent)
	}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// On Postgres a process takes its slots from the run's shared row in
// blocks: the next request of a block waits for its slot, an interval
// after the first, without asking the database (here closed); the one
// after the block asks it.
func TestDBLimiterTakesSlotsInBlocks(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, pgtest.Database(t, "fleet"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l := newDBLimiter(db, 20) // 50 ms apart: blocks of 2
	if l.block != 2 {
		t.Fatalf("block of %d slots at 20/s, want 2", l.block)
	}
	if err := l.wait(ctx); err != nil {
		t.Fatal(err)
	}
	closed, err := sql.Open("pgx", "postgres://127.0.0.1:1/none")
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	l.db = &DB{sql: closed, postgres: true}
	if err := l.wait(ctx); err != nil {
		t.Fatalf("the block's second slot: %v", err)
	}
	if err := l.wait(ctx); err == nil {
		t.Error("a wait past the block did not ask the (closed) database")
	}
}

// River fetches jobs often enough for the workers to keep up with the
// rate (a fetch takes at most Workers jobs), within 5 ms and the poll
// interval (or 50 ms).
func TestFetchCooldownFollowsTheRate(t *testing.T) {
	for _, c := range []struct {
		workers int
		rate    float64
		want    time.Duration
	}{
		{10, 5, 50 * time.Millisecond},
		{10, 100, 50 * time.Millisecond},
		{10, 500, 20 * time.Millisecond},
		{32, 500, 50 * time.Millisecond},
		{10, 1e6, 5 * time.Millisecond},
	} {
		cfg := Config{Workers: c.workers, Rate: c.rate}
		cfg.setDefaults()
		if got := fetchCooldown(cfg); got != c.want {
			t.Errorf("%d workers at %g/s: fetch cooldown %v, want %v", c.workers, c.rate, got, c.want)
		}
	}
}
