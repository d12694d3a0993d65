package katsu

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flipkyc/flipkyc/internal/backoff"
)

// RetryPolicy sets how often and how patiently a call is repeated, for
// WithRetryPolicy and the Retry call option. Which failures are repeated is
// fixed: a GET (Get, List) after a connection failure or a 5xx reply, any
// call after 429 Too Many Requests (Katsu refused it, so nothing happened),
// and a POST (Update, Approve) only when its request was not completely
// written. A POST that may have reached Katsu is never repeated: it fails
// with an *OutcomeUnknownError. Zero fields take the defaults; negative ones
// are refused.
type RetryPolicy struct {
	// MaxAttempts is the most attempts one call makes, the first included.
	// 1 disables retries. Zero means the default, 3.
	MaxAttempts int
	// BaseDelay is the longest wait before the second attempt; it doubles
	// for each further attempt, and each wait is jittered between half its
	// length and its length. Zero means 200ms.
	BaseDelay time.Duration
	// MaxDelay caps the backoff wait. Zero means 5s.
	MaxDelay time.Duration
	// MaxRetryAfter caps a wait asked for by a Retry-After header. Zero
	// means 30s.
	MaxRetryAfter time.Duration
}

// check reports a policy with a negative limit.
func (p RetryPolicy) check() error {
	if p.MaxAttempts < 0 {
		return fmt.Errorf("MaxAttempts is %d, want 1 or more (1 disables retries)", p.MaxAttempts)
	}
	if p.BaseDelay < 0 || p.MaxDelay < 0 || p.MaxRetryAfter < 0 {
		return errors.New("negative delay")
	}
	return nil
}

// withDefaults returns p with its zero fields set to the defaults.
func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts == 0 {
		p.MaxAttempts = 3
	}
	if p.BaseDelay == 0 {
		p.BaseDelay = 200 * time.Millisecond
	}
	if p.MaxDelay == 0 {
		p.MaxDelay = 5 * time.Second
	}
	if p.MaxRetryAfter == 0 {
		p.MaxRetryAfter = 30 * time.Second
	}
	return p
}

// delay returns the wait before attempt+1: the server's Retry-After when it
// gave one (capped), else exponential backoff with jitter.
func (p RetryPolicy) delay(attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, p.MaxRetryAfter)
	}
	return backoff.Exponential(p.BaseDelay, p.MaxDelay, attempt)
}

// clock is the time source of retries; tests replace it so they never
// sleep.
type clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

// realClock is the clock of a client outside tests.
type realClock struct{}

// Now returns the current time.
func (realClock) Now() time.Time { return time.Now() }

// Sleep waits d or until ctx ends.
func (realClock) Sleep(ctx context.Context, d time.Duration) error { return backoff.Sleep(ctx, d) }
