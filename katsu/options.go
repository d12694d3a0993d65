package katsu

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/flipkyc/flipkyc/internal/backoff"
)

type config struct {
	baseURL      string
	insecureHTTP bool
	version      string
	language     Language
	httpClient   *http.Client
	logger       *slog.Logger
	retry        backoff.Policy
	clock        backoff.Clock
}

// Option configures a Client, for New. An invalid option makes New fail.
type Option func(*config) error

// WithBaseURL sets the root URL of Katsu's API, such as
// "https://katsu.example.ng", without /api/v{version} (the client adds it).
// It is required: Katsu's documentation gives only relative paths. New
// refuses a URL that is not http or https, has no host, carries
// credentials, a query or a fragment, and a plain http URL whose host is
// not loopback (localhost, 127.0.0.0/8, ::1), over which the Bearer token
// would travel in clear, unless WithInsecureHTTP is given too. A trailing
// slash is dropped.
func WithBaseURL(u string) Option {
	return func(c *config) error {
		c.baseURL = u
		return nil
	}
}

// WithInsecureHTTP lets WithBaseURL be a plain http URL on a host that is
// not loopback, such as a gateway inside a private network. The Bearer
// token and personal data then travel unencrypted: use it only where the
// network itself is trusted. Loopback http (fakes, tests) needs no option.
func WithInsecureHTTP() Option {
	return func(c *config) error {
		c.insecureHTTP = true
		return nil
	}
}

// WithVersion sets the API version put in /api/v{version}/ (DefaultVersion,
// "1", otherwise): digits with an optional minor version, such as "2" or
// "1.0", without the "v".
func WithVersion(v string) Option {
	return func(c *config) error {
		c.version = v
		return nil
	}
}

// WithLanguage makes every call send Accept-Language l, the language of
// Katsu's messages; the Lang call option overrides it for one call. Without
// it no Accept-Language is sent and Katsu answers in English. A language
// other than English or French makes New fail.
func WithLanguage(l Language) Option {
	return func(c *config) error {
		if !l.valid() {
			return fmt.Errorf("WithLanguage: %q is not one of en, fr", string(l))
		}
		c.language = l
		return nil
	}
}

// WithHTTPClient makes the client send its requests through hc. hc's
// Transport is read at every call and never replaced, so httpmock, tracing
// transports and proxies keep working; a nil Transport means
// http.DefaultTransport as it is at that call. hc's Timeout and Jar are
// used; its CheckRedirect is not: redirects are never followed, so the
// token never goes to another host. Without this option the client uses
// http.DefaultTransport and no total timeout (bound calls with their
// context). A nil hc makes New fail.
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
// retry at info level, with the operation, method, path (never the query),
// status, attempt and wait only: never headers, bodies or messages from
// Katsu. Without it the client is silent. A nil l makes New fail.
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
// are retried does not change (see RetryPolicy). A negative limit makes New
// fail. The Retry call option overrides it for one call.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *config) error {
		if err := backoff.Policy(p).Check(); err != nil {
			return fmt.Errorf("WithRetryPolicy: %w", err)
		}
		c.retry = p.limits()
		return nil
	}
}
