package dollarpe

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
// default, 1 MiB.
const DefaultMaxResponseBytes = 1 << 20

type config struct {
	env          Environment
	baseURL      string
	insecureHTTP bool
	httpClient   *http.Client
	logger       *slog.Logger
	retry        backoff.Policy
	maxBody      int64
	clock        Clock
	userAgent    string
}

// Option configures a Client, for New. An invalid option makes New fail.
type Option func(*config) error

// WithEnvironment selects Sandbox (the default) or Production; any other
// value makes New fail.
func WithEnvironment(env Environment) Option {
	return func(c *config) error {
		if env != Sandbox && env != Production {
			return fmt.Errorf("unknown environment %d", int(env))
		}
		c.env = env
		return nil
	}
}

// WithBaseURL sends requests to base (scheme and host, such as a fake's
// URL) instead of the environment's; APIPrefix is appended to it. The
// environment still decides whether MockKYCStatus is allowed. New refuses
// a plain http URL whose host is not loopback (localhost, 127.0.0.0/8,
// ::1), over which the API key, each request's signature and the
// customer's personal data would travel in clear, unless WithInsecureHTTP
// is given too.
func WithBaseURL(base string) Option {
	return func(c *config) error {
		c.baseURL = base
		return nil
	}
}

// WithInsecureHTTP lets WithBaseURL be a plain http URL on a host that is
// not loopback, such as a gateway inside a private network. The API key,
// the signatures and personal data then travel unencrypted: use it only
// where the network itself is trusted. Loopback http (fakes, tests) needs
// no option.
func WithInsecureHTTP() Option {
	return func(c *config) error {
		c.insecureHTTP = true
		return nil
	}
}

// WithHTTPClient sends requests through hc. Its Transport is read at every
// attempt and never wrapped or replaced (so httpmock and tracing
// transports work; nil means http.DefaultTransport), its Timeout and Jar
// apply, and redirects are never followed, whatever its CheckRedirect says.
// A nil hc makes New fail.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("WithHTTPClient: nil *http.Client")
		}
		c.httpClient = hc
		return nil
	}
}

// WithLogger makes the client log each attempt at debug level and each
// retry at info level. Lines carry the operation, method, path, status (0
// when no reply came) and attempt number only: never headers, bodies,
// input or error texts. A nil l makes New fail.
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
// defaults (DollarPe's guidance: 5 attempts, backoff from 1 s capped at
// 30 s). Which failures are retried does not change. A negative limit makes
// New fail.
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
// DefaultMaxResponseBytes); a longer successful reply is a *DecodeError. n
// must be at least 1.
func WithMaxResponseBytes(n int64) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("WithMaxResponseBytes: %d, want at least 1", n)
		}
		c.maxBody = n
		return nil
	}
}

// WithClock replaces the time source: the X-TIMESTAMP of each attempt and
// the waits between attempts. Tests use it to never sleep. A nil clock
// makes New fail.
func WithClock(clock Clock) Option {
	return func(c *config) error {
		if clock == nil {
			return errors.New("WithClock: nil clock")
		}
		c.clock = clock
		return nil
	}
}

// WithUserAgent appends suffix to the SDK's User-Agent ("dollarpe-go/"
// and Version). A suffix with control characters makes New fail.
func WithUserAgent(suffix string) Option {
	return func(c *config) error {
		if strings.IndexFunc(suffix, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
			return errors.New("WithUserAgent: suffix contains control characters")
		}
		c.userAgent = strings.TrimSpace(suffix)
		return nil
	}
}

// Clock is the client's time source.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Sleep waits for d or until ctx ends, and then returns ctx's error.
	Sleep(ctx context.Context, d time.Duration) error
}

// RetryPolicy sets how often and how patiently a call is repeated. Which
// failures are repeated is fixed: reads (GET) after a transport error or a
// 5xx; any call after a 429; a POST or PATCH after a transport error only
// when its request was not fully written. A 401 is never repeated.
type RetryPolicy struct {
	// MaxAttempts is the most attempts of one call, the first included; 1
	// disables retries. Zero means 5.
	MaxAttempts int
	// BaseDelay is the longest wait before the second attempt; it doubles
	// for each further one, jittered between half and all of it. Zero
	// means 1 s.
	BaseDelay time.Duration
	// MaxDelay caps the backoff wait. Zero means 30 s.
	MaxDelay time.Duration
	// MaxRetryAfter caps a wait asked for by Retry-After. Zero means 60 s.
	MaxRetryAfter time.Duration
}

// defaultRetry is the policy's defaults: DollarPe's own guidance.
var defaultRetry = backoff.Policy{MaxAttempts: 5, BaseDelay: time.Second, MaxDelay: 30 * time.Second, MaxRetryAfter: 60 * time.Second}

// limits returns the policy with the defaults in place of its zero fields.
func (p RetryPolicy) limits() backoff.Policy { return backoff.Policy(p).Or(defaultRetry) }

// CallOption configures one call; a nil CallOption is ignored.
type CallOption func(*callOptions)

type callOptions struct {
	retry    *RetryPolicy
	response *Response
}

// Retry sets the retry limits of one call in place of the client's.
func Retry(p RetryPolicy) CallOption { return func(co *callOptions) { co.retry = &p } }

// ResponseInto makes the call fill *r with what it saw on the wire when it
// ends, whether it succeeded or failed (not when its input was refused).
func ResponseInto(r *Response) CallOption { return func(co *callOptions) { co.response = r } }

// Response is what a call saw on the wire, filled in by ResponseInto.
type Response struct {
	// Operation is the method called, such as "GetCustomer".
	Operation string
	// Attempts is how many HTTP exchanges the call made.
	Attempts int
	// StatusCode is the HTTP status of the last reply; 0 when none came.
	StatusCode int
	// Header is the header of the last reply, with the credentials
	// removed; nil when none came.
	Header http.Header
	// Message is the envelope's message of the last reply.
	Message string
}
