package flipkyc

import (
	"time"

	"github.com/flipkyc/flipkyc/internal/backoff"
)

// RetryPolicy says how often and how patiently a call is repeated, for
// WithRetryPolicy and the Retry call option. Which failures are repeated is
// fixed by the SDK (see the README's Reliability section); the policy only
// sets the limits. Zero fields take the defaults; negative ones are refused.
type RetryPolicy struct {
	// MaxAttempts is the most attempts one call makes, the first included.
	// 1 disables retries. Zero means the default, 3.
	MaxAttempts int
	// BaseDelay is the longest wait before the second attempt; it doubles for
	// each further attempt. Each wait is jittered between half its length and
	// its length. Zero means 200ms.
	BaseDelay time.Duration
	// MaxDelay caps the backoff wait. Zero means 5s.
	MaxDelay time.Duration
	// MaxRetryAfter caps a wait asked for by the server's Retry-After header.
	// Zero means 30s.
	MaxRetryAfter time.Duration
}

// defaultRetry is the policy's defaults, documented on its fields.
var defaultRetry = backoff.Policy{MaxAttempts: 3, BaseDelay: 200 * time.Millisecond, MaxDelay: 5 * time.Second, MaxRetryAfter: 30 * time.Second}

// limits returns the policy with the defaults in place of its zero fields.
func (p RetryPolicy) limits() backoff.Policy { return backoff.Policy(p).Or(defaultRetry) }
