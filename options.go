package flipkyc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/flipkyc/flipkyc/internal/backoff"
)

// DefaultMaxResponseBytes is how much of a reply the client reads by
// default, 1 MiB; see WithMaxResponseBytes.
const DefaultMaxResponseBytes = 1 << 20

type config struct {
	env              Environment
	agentsURL        string
	kycURL           string
	httpClient       *http.Client
	requestID        func() string
	ownRequestIDs    bool
	userAgent        string
	logger           *slog.Logger
	retry            backoff.Policy
	maxResponseBytes int64
	maxImageBytes    int64
	idleTimeout      time.Duration
	attemptHook      func(context.Context, Attempt)
	clock            backoff.Clock
}

// Option configures a Client, for New and NewFromEnv. An invalid option
// makes New fail.
type Option func(*config) error

// WithEnvironment selects the base URLs of Sandbox (the default) or
// Production; WithBaseURLs overrides them. Any other value makes New fail.
func WithEnvironment(env Environment) Option {
	return func(c *config) error {
		if env != Sandbox && env != Production {
			return fmt.Errorf("unknown environment %d", int(env))
		}
		c.env = env
		return nil
	}
}

// WithBaseURLs sets both base URLs explicitly, overriding the environment's:
// agentsAPI for the v2 agents API (for example
// "https://bigflip.id/big_sandbox_api/v2") and kycAPI for the KYC service
// (for example "https://api.flip.id/kyc-sandbox/api/v1"). An empty one keeps
// the environment's; New refuses a URL that is not http or https, or that
// has no host, carries credentials, or has a query or fragment. A trailing
// slash is dropped.
func WithBaseURLs(agentsAPI, kycAPI string) Option {
	return func(c *config) error {
		c.agentsURL, c.kycURL = agentsAPI, kycAPI
		return nil
	}
}

// WithHTTPClient makes the client send its requests through hc. hc's
// Transport is used as given: it is looked up at every call and never
// replaced, so httpmock, tracing transports and proxies keep working; a nil
// Transport means the default below. hc's Timeout and Jar are copied
// when New runs, and its CheckRedirect is not used: redirects are never
// followed, so that credentials never go to another host. Without this
// option the client has no total timeout, and sends through the SDK's own
// copy of http.DefaultTransport, which drops an HTTP/1.1 connection whose
// reply runs past its Content-Length or last chunk instead of reading the
// rest as the next reply; once a program (or httpmock.Activate) replaces
// http.DefaultTransport, the client uses that, as it is at each call. A nil
// hc makes New fail.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("WithHTTPClient: nil *http.Client")
		}
		c.httpClient = hc
		return nil
	}
}

// WithRequestIDGenerator replaces the generator of Request-ID values; it is
// called once per call, and every attempt of the call sends the same value.
// Each value must be "bigflip-" followed by a UUID; a call whose value is not
// fails with a *ValidationError before it is sent. The RequestID call option
// overrides it for one call. A nil gen makes New fail.
func WithRequestIDGenerator(gen func() string) Option {
	return func(c *config) error {
		if gen == nil {
			return errors.New("WithRequestIDGenerator: nil generator")
		}
		c.requestID, c.ownRequestIDs = gen, false
		return nil
	}
}

// WithUserAgent appends suffix (for example "acme-backend/2.3"), trimmed of
// surrounding spaces, to the SDK's User-Agent, "flipkyc-go/" followed by
// Version. A suffix with control characters makes New fail.
func WithUserAgent(suffix string) Option {
	return func(c *config) error {
		if strings.IndexFunc(suffix, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
			return errors.New("WithUserAgent: suffix contains control characters")
		}
		c.userAgent = strings.TrimSpace(suffix)
		return nil
	}
}

// WithLogger makes the client log each attempt (method, path, status,
// Request-ID, duration and error; never headers or bodies) at debug level,
// and each retry and each outcome confirmed by reading the agent at info
// level. Without it the client is silent. A nil l makes New fail.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("WithLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithRetryPolicy sets the retry limits of every call; zero fields take the
// defaults and RetryPolicy{MaxAttempts: 1} turns retries off. Which failures
// are retried does not change. A negative limit makes New fail. The Retry
// call option overrides it for one call.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *config) error {
		if err := backoff.Policy(p).Check(); err != nil {
			return fmt.Errorf("WithRetryPolicy: %w", err)
		}
		c.retry = p.limits()
		return nil
	}
}

// WithMaxResponseBytes sets how much of a reply the client reads (default
// DefaultMaxResponseBytes); a longer successful reply is a *DecodeError, and
// a longer error reply is read only that far. n must be at least 1.
func WithMaxResponseBytes(n int64) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("WithMaxResponseBytes: %d, want at least 1", n)
		}
		c.maxResponseBytes = n
		return nil
	}
}

// DefaultIdleTimeout is how long a call waits by default while nothing moves
// on its connection: no byte of the request sent, no byte of the reply read.
// See WithIdleTimeout.
const DefaultIdleTimeout = 60 * time.Second

// WithIdleTimeout sets how long an attempt may go without progress, neither
// a byte of its request sent nor a byte of its reply read, before it is
// abandoned (default DefaultIdleTimeout). Unlike a total timeout it never
// cuts a large upload that is still moving. It applies whatever
// *http.Client the client uses; a context deadline still bounds the whole
// call. An abandoned attempt fails with an error that matches ErrStalled: a
// *NetworkError, or a *DecodeError when a 2xx reply stalled while its body
// was read. A stalled attempt is never retried, for any call: it has already
// waited d, and a peer that went silent once is likely to again.
//
// Without a context deadline, a call that meets only silence ends after d
// (60 s by default). The longest a call can take without a deadline, when
// every attempt fails in a retryable way just before d passes, is
// MaxAttempts × d plus the waits between attempts (with the defaults 3 × 60 s
// plus at most 2 × 30 s of Retry-After: 4 minutes). A reply or upload that
// keeps moving, however slowly, is never cut: only a deadline bounds that.
// d must be positive.
func WithIdleTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("WithIdleTimeout: %s, want more than zero", d)
		}
		c.idleTimeout = d
		return nil
	}
}

// WithAttemptHook makes the client call hook after every HTTP exchange of
// every call, with what happened and whether a retry follows: the place for
// metrics and traces that need more than a RoundTripper sees. hook runs on
// the calling goroutine and must not block; a panic in it is not recovered.
// A nil hook makes New fail.
func WithAttemptHook(hook func(context.Context, Attempt)) Option {
	return func(c *config) error {
		if hook == nil {
			return errors.New("WithAttemptHook: nil hook")
		}
		c.attemptHook = hook
		return nil
	}
}
