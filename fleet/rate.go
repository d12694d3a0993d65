package fleet

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/internal/backoff"
)

// limiter spaces requests to Flip.
type limiter interface {
	wait(ctx context.Context) error
}

// errStopping ends a job's wait for its turn at the rate limit when the
// run stops: the job sends nothing more and is handed back for the next
// run, without spending an attempt.
var errStopping = errors.New("fleet: the run is stopping: the request goes in the next run")

// runStopping tells a Run's steps that it stops.
type runStopping struct {
	mu  sync.Mutex
	ctx context.Context // ended when the Run stops; nil outside Run
}

// begin returns the function that says the Run stops.
func (s *runStopping) begin() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	s.mu.Lock()
	s.ctx = ctx
	s.mu.Unlock()
	return cancel
}

// current returns the context that ends when the Run stops, nil outside
// Run.
func (s *runStopping) current() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ctx
}

// jobCancelKey carries, in a job's context, the function that ends the
// job's context with a cause.
type jobCancelKey struct{}

// stoppableLimiter is a limiter whose waits in a job end when the run
// stops. River's stop lets running jobs finish, and a job's slot at a low
// rate may be seconds away, its next ones more: a job waiting for its turn
// has nothing in flight, so its context is ended (errStopping) and it
// sends nothing more; a request already sent is answered and recorded.
type stoppableLimiter struct {
	lim      limiter
	stopping *runStopping
}

func (l stoppableLimiter) wait(ctx context.Context) error {
	cancelJob, inJob := ctx.Value(jobCancelKey{}).(context.CancelCauseFunc)
	stopping := l.stopping.current()
	if !inJob || stopping == nil {
		return l.lim.wait(ctx)
	}
	if stopping.Err() != nil {
		cancelJob(errStopping)
		return errStopping
	}
	wctx, cancelWait := context.WithCancel(ctx)
	defer cancelWait()
	unwatch := context.AfterFunc(stopping, cancelWait)
	err := l.lim.wait(wctx)
	unwatch()
	if err != nil && ctx.Err() == nil && stopping.Err() != nil {
		cancelJob(errStopping)
		return errStopping
	}
	return err
}

// limitedTransport waits for the limiter before every request, retries
// included.
type limitedTransport struct {
	base http.RoundTripper
	lim  limiter
}

func (t *limitedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if taken, ok := r.Context().Value(slotTakenKey{}).(*atomic.Bool); ok && taken.CompareAndSwap(true, false) {
		// The job took this request's slot before its lease (slotFirst);
		// a job stopped since sends nothing, and says so.
		if err := r.Context().Err(); err != nil {
			return nil, fmt.Errorf("fleet: the job ended before its request was sent: %w: %w", err, flipkyc.ErrNotSent)
		}
	} else if err := t.lim.wait(r.Context()); err != nil {
		// Nothing was sent: the SDK may try a state change again rather
		// than park it as an outcome unknown.
		return nil, fmt.Errorf("fleet: waiting for the rate limit: %w: %w", err, flipkyc.ErrNotSent)
	}
	if before, ok := r.Context().Value(beforeSendKey{}).(func(context.Context) error); ok {
		if err := before(r.Context()); err != nil {
			return nil, fmt.Errorf("fleet: recording the request's intent: %w: %w", err, flipkyc.ErrNotSent)
		}
	}
	return t.base.RoundTrip(r)
}

// slotTakenKey carries, in a job's context, whether a slot the job took
// before its lease is still unused: the job's first request uses it,
// every later one (retries included) waits for its own.
type slotTakenKey struct{}

// withSlotTaken returns ctx carrying a slot taken for its first request.
func withSlotTaken(ctx context.Context) context.Context {
	taken := new(atomic.Bool)
	taken.Store(true)
	return context.WithValue(ctx, slotTakenKey{}, taken)
}

// beforeSendKey carries, in a request's context, a function the transport
// calls once the request has its slot, just before it is written (a
// create's intent); its error stops the request unsent.
type beforeSendKey struct{}

// localLimiter gives each request a slot interval after the previous one:
// for one process (SQLite).
type localLimiter struct {
	mu       sync.Mutex
	next     time.Time
	interval time.Duration
}

func newLocalLimiter(rate float64) *localLimiter {
	return &localLimiter{interval: time.Duration(float64(time.Second) / rate)}
}

func (l *localLimiter) wait(ctx context.Context) error {
	l.mu.Lock()
	now := time.Now()
	slot := l.next
	if slot.Before(now) {
		slot = now
	}
	l.next = slot.Add(l.interval)
	l.mu.Unlock()
	return backoff.Sleep(ctx, slot.Sub(now))
}

// dbLimiter takes slots from one row of fleet_rate, on the database's
// clock, so that every process of a run shares the limit (Postgres). It
// takes them in blocks of about blockSpan's worth (one at a time at low
// rates), one update for many requests, and hands them out in turn. A
// slot left unused for longer than blockSpan (or an interval, when that is
// longer) is dropped rather than used late: requests never go faster than
// the rate by more than one block's worth.
type dbLimiter struct {
	db       *DB
	interval time.Duration
	block    int

	mu    sync.Mutex
	slots []time.Time // taken and not yet used, on this process's clock, in order
}

// blockSpan is about how much of the rate a Postgres process takes at once.
const blockSpan = 100 * time.Millisecond

func newDBLimiter(db *DB, rate float64) *dbLimiter {
	interval := time.Duration(float64(time.Second) / rate)
	return &dbLimiter{db: db, interval: interval, block: int(min(max(blockSpan/max(interval, 1), 1), 50))}
}

func (l *dbLimiter) wait(ctx context.Context) error {
	l.mu.Lock()
	now := time.Now()
	for len(l.slots) > 0 && l.slots[0].Before(now.Add(-max(l.interval, blockSpan))) {
		l.slots = l.slots[1:]
	}
	if len(l.slots) == 0 {
		if err := l.take(ctx); err != nil {
			l.mu.Unlock()
			return err
		}
		now = time.Now()
	}
	slot := l.slots[0]
	l.slots = l.slots[1:]
	l.mu.Unlock()
	return backoff.Sleep(ctx, slot.Sub(now))
}

// take reserves the next block of slots.
func (l *dbLimiter) take(ctx context.Context) error {
	span := time.Duration(l.block) * l.interval
	var waitMicros int64
	err := l.db.sql.QueryRowContext(ctx, `WITH clk AS (SELECT (extract(epoch from clock_timestamp()) * 1000000)::bigint AS t)
		UPDATE fleet_rate SET next_at = GREATEST(next_at, (SELECT t FROM clk)) + $1 WHERE id = 1
		RETURNING next_at - $1 - (SELECT t FROM clk)`, span.Microseconds()).Scan(&waitMicros)
	if err != nil {
		return err
	}
	first := time.Now().Add(time.Duration(waitMicros) * time.Microsecond)
	for i := range l.block {
		l.slots = append(l.slots, first.Add(time.Duration(i)*l.interval))
	}
	return nil
}
