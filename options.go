package flipkyc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// DefaultMaxResponseBytes is how much of a reply the client reads by default.
const DefaultMaxResponseBytes = 1 << 20

type config struct {
	env              Environment
	agentsURL        string
	kycURL           string
	httpClient       *http.Client
	requestID        func() string
	userAgent        string
	logger           *slog.Logger
	retry            RetryPolicy
	maxResponseBytes int64
	maxImageBytes    int64
	idleTimeout      time.Duration
	attemptHook      func(context.Context, Attempt)
	clock            clock
}

// Option configures a Client. An invalid option makes New fail.
type Option func(*config) error

// WithEnvironment selects Sandbox (the default) or Production base URLs.
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
// (for example "https://api.flip.id/kyc-sandbox/api/v1").
func WithBaseURLs(agentsAPI, kycAPI string) Option {
	return func(c *config) error {
		c.agentsURL, c.kycURL = agentsAPI, kycAPI
		return nil
	}
}

// WithHTTPClient makes the client send its requests through hc. hc is used as
// given: its Transport is looked up at every call and never replaced, so
// httpmock, tracing transports and proxies keep working. Redirects are not
// followed, so that credentials never go to another host.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("WithHTTPClient: nil *http.Client")
		}
		c.httpClient = hc
		return nil
	}
}

// WithRequestIDGenerator replaces the generator of Request-ID values. Each
// value must be "bigflip-" followed by a UUID; a call whose value is not fails
// before it is sent.
func WithRequestIDGenerator(gen func() string) Option {
	return func(c *config) error {
		if gen == nil {
			return errors.New("WithRequestIDGenerator: nil generator")
		}
		c.requestID = gen
		return nil
	}
}

// WithUserAgent appends suffix (for example "acme-backend/2.3") to the SDK's
// User-Agent.
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
// Request-ID, duration; never headers or bodies) at debug level and each
// retry at info level. Without it the client is silent.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("WithLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithRetryPolicy sets the retry limits; RetryPolicy{MaxAttempts: 1} turns
// retries off.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *config) error {
		if err := p.check(); err != nil {
			return fmt.Errorf("WithRetryPolicy: %w", err)
		}
		c.retry = p.withDefaults()
		return nil
	}
}

// WithMaxResponseBytes sets how much of a reply the client reads (default
// DefaultMaxResponseBytes); a longer successful reply is a *DecodeError.
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
const DefaultIdleTimeout = 60 * time.Second

// WithIdleTimeout sets how long an attempt may go without progress, neither
// a byte of its request sent nor a byte of its reply read, before it is
// abandoned (default DefaultIdleTimeout). Unlike a total timeout it never
// cuts a large upload that is still moving. It applies whatever
// *http.Client the client uses; a context deadline still bounds the whole
// call.
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
func WithAttemptHook(hook func(context.Context, Attempt)) Option {
	return func(c *config) error {
		if hook == nil {
			return errors.New("WithAttemptHook: nil hook")
		}
		c.attemptHook = hook
		return nil
	}
}
