package katsu

import (
	"time"

	"github.com/flipkyc/flipkyc/internal/backoff"
)

// RetryPolicy sets how often and how patiently a call is repeated, for
// WithRetryPolicy and the Retry call option. Which failures are repeated is
// fixed: a GET (Get, List) after a connection failure or a 5xx reply, any
// call after 429 Too Many Requests (Katsu refused it, so nothing happened),
// and a POST (Update, Approve) only when it is known that its request was
// not completely written: the connection could not be made (a dial or DNS
// error), or the transport reports its progress through httptrace and never
// reported the request written whole. A transport that reports no httptrace events gives no such
// evidence. A POST that may have reached Katsu is never repeated: it fails
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

// defaultRetry is the policy's defaults, documented on its fields.
var defaultRetry = backoff.Policy{MaxAttempts: 3, BaseDelay: 200 * time.Millisecond, MaxDelay: 5 * time.Second, MaxRetryAfter: 30 * time.Second}

// limits returns the policy with the defaults in place of its zero fields.
func (p RetryPolicy) limits() backoff.Policy { return backoff.Policy(p).Or(defaultRetry) }
