// Package backoff computes and waits out the delays between the attempts
// of a call, for the module's API clients.
package backoff

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Exponential returns the wait before attempt+1 (attempt counts from 1):
// base doubled attempt-1 times, capped at max, with equal jitter (half the
// wait plus a random part of the other half). It cannot overflow for any
// arguments and returns 0 for a non-positive wait.
func Exponential(base, max time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < max; i++ {
		if d > math.MaxInt64/2 {
			d = math.MaxInt64
			break
		}
		d *= 2
	}
	d = min(d, max)
	if d <= 0 {
		return 0
	}
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(d-half)))
}

// ParseRetryAfter reads a Retry-After header value, in seconds or as an
// HTTP date, as a wait from now; 0 when it is empty, past or unreadable.
// Waits over a day are read as a day.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(min(secs, 24*3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), 24*time.Hour)
	}
	return 0
}

// Sleep waits for d or until ctx ends, whichever comes first, and returns
// ctx's error in the second case. A wait of 0 or less returns at once.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Policy is the limits of a retry policy: each client's exported
// RetryPolicy has the same fields and converts to it.
type Policy struct {
	MaxAttempts   int           // attempts of one call, the first included
	BaseDelay     time.Duration // the longest wait before the second attempt
	MaxDelay      time.Duration // the cap of a backoff wait
	MaxRetryAfter time.Duration // the cap of a wait a Retry-After asks for
}

// Check reports a policy with a negative limit.
func (p Policy) Check() error {
	if p.MaxAttempts < 0 {
		return fmt.Errorf("MaxAttempts is %d, want 1 or more (1 disables retries)", p.MaxAttempts)
	}
	if p.BaseDelay < 0 || p.MaxDelay < 0 || p.MaxRetryAfter < 0 {
		return errors.New("negative delay")
	}
	return nil
}

// Or returns p with its zero fields taken from def.
func (p Policy) Or(def Policy) Policy {
	if p.MaxAttempts == 0 {
		p.MaxAttempts = def.MaxAttempts
	}
	if p.BaseDelay == 0 {
		p.BaseDelay = def.BaseDelay
	}
	if p.MaxDelay == 0 {
		p.MaxDelay = def.MaxDelay
	}
	if p.MaxRetryAfter == 0 {
		p.MaxRetryAfter = def.MaxRetryAfter
	}
	return p
}

// Delay returns the wait before attempt+1: the server's Retry-After when it
// gave one, capped at MaxRetryAfter, else Exponential backoff.
func (p Policy) Delay(attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, p.MaxRetryAfter)
	}
	return Exponential(p.BaseDelay, p.MaxDelay, attempt)
}

// Clock is the time source of a client's retries; tests replace it so they
// never sleep.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx ends, and then returns ctx's error.
	Sleep(ctx context.Context, d time.Duration) error
}

// RealClock is the Clock of a client outside tests.
type RealClock struct{}

// Now returns the current time.
func (RealClock) Now() time.Time { return time.Now() }

// Sleep waits for d or until ctx ends.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error { return Sleep(ctx, d) }
