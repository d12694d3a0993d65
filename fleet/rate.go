package fleet

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/internal/backoff"
)

// limiter spaces requests to Flip.
type limiter interface {
	wait(ctx context.Context) error
}

// limitedTransport waits for the limiter before every request, retries
// included.
type limitedTransport struct {
	base http.RoundTripper
	lim  limiter
}

func (t *limitedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := t.lim.wait(r.Context()); err != nil {
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
// clock, so that every process of a run shares the limit (Postgres).
type dbLimiter struct {
	db       *DB
	interval time.Duration
}

func (l *dbLimiter) wait(ctx context.Context) error {
	var waitMicros int64
	err := l.db.sql.QueryRowContext(ctx, `WITH clk AS (SELECT (extract(epoch from clock_timestamp()) * 1000000)::bigint AS t)
		UPDATE fleet_rate SET next_at = GREATEST(next_at, (SELECT t FROM clk)) + $1 WHERE id = 1
		RETURNING next_at - $1 - (SELECT t FROM clk)`, l.interval.Microseconds()).Scan(&waitMicros)
	if err != nil {
		return err
	}
	return backoff.Sleep(ctx, time.Duration(waitMicros)*time.Microsecond)
}
