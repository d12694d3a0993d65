// Package flipkyc is a client for Flip's Agent KYC (agent verification) API:
// it registers a company's money-transfer agents with Flip, uploads their
// identity images, submits them for review, repairs rejected data and reads
// the result, and it receives Flip's KYC callbacks.
//
// Every call goes through one request path that adds Basic auth (the secret
// key as user name), a "bigflip-<uuid>" Request-ID and a User-Agent, checks the
// documented input rules before anything is sent, retries only where a repeat
// cannot double an effect, and turns every failure into a typed error:
// *ValidationError, *APIError, *DecodeError or *RetryError.
package flipkyc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Environment selects Flip's sandbox or production base URLs.
type Environment int

const (
	// Sandbox is Flip's test environment; it has its own secret key. Its
	// base URLs are https://bigflip.id/big_sandbox_api/v2 (agents) and
	// https://api.flip.id/kyc-sandbox/api/v1 (KYC service).
	Sandbox Environment = iota
	// Production is Flip's live environment; it requires the caller's IP to
	// be whitelisted. Its base URLs are https://bigflip.id/api/v2 (agents)
	// and https://api.flip.id/kyc/api/v1 (KYC service).
	Production
)

// String returns "sandbox" or "production".
func (e Environment) String() string {
	if e == Production {
		return "production"
	}
	return "sandbox"
}

// baseURLs returns the v2 agents API and KYC service base URLs of e.
func (e Environment) baseURLs() (agents, kyc string) {
	if e == Production {
		return "https://bigflip.id/api/v2", "https://api.flip.id/kyc/api/v1"
	}
	return "https://bigflip.id/big_sandbox_api/v2", "https://api.flip.id/kyc-sandbox/api/v1"
}

// RetryPolicy says how often and how patiently a call is repeated. Which
// failures are repeated is fixed by the SDK (see the README's Reliability
// section); the policy only sets the limits.
type RetryPolicy struct {
	// MaxAttempts is the most attempts one call makes, the first included.
	// 1 disables retries. Zero means the default, 3.
	MaxAttempts int
	// BaseDelay is the wait before the second attempt; it doubles for each
	// further attempt, with jitter. Zero means 200ms.
	BaseDelay time.Duration
	// MaxDelay caps the backoff wait. Zero means 5s.
	MaxDelay time.Duration
	// MaxRetryAfter caps a wait asked for by the server's Retry-After header.
	// Zero means 30s.
	MaxRetryAfter time.Duration
}

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
// gave one (capped), else exponential backoff with equal jitter.
func (p RetryPolicy) delay(attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, p.MaxRetryAfter)
	}
	d := p.MaxDelay
	if attempt < 31 && p.BaseDelay<<(attempt-1) < p.MaxDelay {
		d = p.BaseDelay << (attempt - 1)
	}
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(d-half)+1))
}

// clock is the time source of retries; tests replace it so they never sleep.
type clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

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
		if p.MaxAttempts < 0 {
			return fmt.Errorf("WithRetryPolicy: MaxAttempts is %d, want 1 or more (1 disables retries)", p.MaxAttempts)
		}
		if p.BaseDelay < 0 || p.MaxDelay < 0 || p.MaxRetryAfter < 0 {
			return errors.New("WithRetryPolicy: negative delay")
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

// Client calls Flip's Agent KYC API. It is immutable after New and safe for
// concurrent use.
type Client struct {
	agentsBase string
	kycBase    string
	key        *secretKey
	http       *http.Client
	requestID  func() string
	logger     *slog.Logger
	retry      RetryPolicy
	maxBody    int64
	// maxImageBytes is MaxImageBytes; only the SDK's benchmarks lift it.
	maxImageBytes int64
	idleTimeout   time.Duration
	clock         clock
}

// New returns a Client that authenticates with key, Flip's API secret
// key for the chosen environment (Sandbox unless WithEnvironment says
// otherwise). Every option is checked here, so a misconfigured client never
// reaches the first call.
func New(key string, opts ...Option) (*Client, error) {
	return newClient(key, "secret key", opts)
}

// newClient builds a Client; keyName says where the key came from, for the
// error when it is missing or malformed.
func newClient(key, keyName string, opts []Option) (*Client, error) {
	var problems []error
	switch {
	case key == "":
		problems = append(problems, fmt.Errorf("%s is empty", keyName))
	case strings.IndexFunc(key, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		problems = append(problems, fmt.Errorf("%s contains spaces or control characters", keyName))
	}
	cfg := config{
		requestID:        newRequestID,
		logger:           slog.New(slog.DiscardHandler),
		retry:            RetryPolicy{}.withDefaults(),
		maxResponseBytes: DefaultMaxResponseBytes,
		maxImageBytes:    MaxImageBytes,
		idleTimeout:      DefaultIdleTimeout,
		clock:            realClock{},
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil {
			problems = append(problems, err)
		}
	}
	agentsDefault, kycDefault := cfg.env.baseURLs()
	agentsBase, err := checkBaseURL("agents API", cfg.agentsURL, agentsDefault)
	if err != nil {
		problems = append(problems, err)
	}
	kycBase, err := checkBaseURL("KYC API", cfg.kycURL, kycDefault)
	if err != nil {
		problems = append(problems, err)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("flipkyc.New: %w", errors.Join(problems...))
	}
	userAgent := "flipkyc-go/" + Version
	if cfg.userAgent != "" {
		userAgent += " " + cfg.userAgent
	}
	base := cfg.httpClient
	if base == nil {
		base = defaultHTTPClient()
	}
	secret := newSecretKey(key)
	return &Client{
		agentsBase: agentsBase,
		kycBase:    kycBase,
		key:        secret,
		http: &http.Client{
			Transport:     &authTransport{key: secret, userAgent: []string{userAgent}, base: base},
			Timeout:       base.Timeout,
			Jar:           base.Jar,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		requestID:     cfg.requestID,
		logger:        cfg.logger,
		retry:         cfg.retry,
		maxBody:       cfg.maxResponseBytes,
		clock:         cfg.clock,
		maxImageBytes: cfg.maxImageBytes,
		idleTimeout:   cfg.idleTimeout,
	}, nil
}

// Environment variables read by NewFromEnv.
const (
	EnvSecretKey  = "FLIP_SECRET_KEY"
	EnvAPIBaseURL = "FLIP_API_BASE_URL"
	EnvKYCBaseURL = "FLIP_KYC_BASE_URL"
)

// NewFromEnv returns a Client configured from the environment: the secret key
// from FLIP_SECRET_KEY, and, where set, the v2 agents API base URL from
// FLIP_API_BASE_URL and the KYC service base URL from FLIP_KYC_BASE_URL. The
// environment is Sandbox unless opts say otherwise; opts are applied after
// the environment's values.
func NewFromEnv(opts ...Option) (*Client, error) {
	fromEnv := func(c *config) error {
		if v := os.Getenv(EnvAPIBaseURL); v != "" {
			c.agentsURL = v
		}
		if v := os.Getenv(EnvKYCBaseURL); v != "" {
			c.kycURL = v
		}
		return nil
	}
	return newClient(os.Getenv(EnvSecretKey), EnvSecretKey+" (the secret key)", append([]Option{fromEnv}, opts...))
}

// checkBaseURL validates raw (or def when raw is empty) and returns it without
// a trailing slash.
func checkBaseURL(name, raw, def string) (string, error) {
	if raw == "" {
		raw = def
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", fmt.Errorf("%s base URL: not a URL", name)
	case u.Scheme != "https" && u.Scheme != "http":
		return "", fmt.Errorf("%s base URL: scheme must be https or http", name)
	case u.Host == "":
		return "", fmt.Errorf("%s base URL: no host", name)
	case u.User != nil:
		return "", fmt.Errorf("%s base URL: must not carry credentials", name)
	case u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("%s base URL: must not have a query or fragment", name)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// defaultHTTPClient is used when the caller gives no *http.Client: never
// http.DefaultClient, and no Transport of its own, so each call goes through
// http.DefaultTransport as it is at that moment (httpmock.Activate replaces
// it, and then sees the SDK's calls). Stuck peers are bounded by the
// request path's idle timeout, which needs no transport of its own.
func defaultHTTPClient() *http.Client { return &http.Client{} }

// Format prints the client without its secret key, under every verb, as a
// value or a pointer.
func (c Client) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "flipkyc.Client{agents: %s, kyc: %s, key: %s}", c.agentsBase, c.kycBase, redacted)
}

// apiFamily names which of Flip's two APIs a call goes to.
type apiFamily int

const (
	agentsAPI apiFamily = iota // bigflip.id …/v2
	kycAPI                     // api.flip.id …/kyc…/api/v1
)

// requestBody is a request body that can be produced once per attempt.
type requestBody interface {
	contentType() string
	// open returns the body for one attempt and its length, or -1 if unknown.
	open() (io.Reader, int64, error)
	// replayable reports whether open may be called again after a body was sent.
	replayable() bool
}

// call describes one API call for do.
type call struct {
	method string
	api    apiFamily
	path   string // escaped, relative to the family's base URL
	query  url.Values
	body   requestBody // a streamed body (multipart), or nil
	form   string      // an application/x-www-form-urlencoded body, when body is nil
	// repeatable is true where sending the call twice cannot double an
	// effect: reads and the full-replacement agent update. Such calls are
	// retried on connection errors and 429/502/503/504. The others are
	// repeated only when nothing was written to the network, or on 429;
	// when one fails after it may have reached Flip, do reports an
	// *OutcomeUnknownError.
	repeatable bool
	// sent is the call's own personal input, masked wherever a reply
	// echoes it into an error; nil when the call sends none.
	sent personalData
}

// personalData is input that carries personal data: the values that must
// never come back in an error's text.
type personalData interface{ personalValues() []string }

// do sends r, retrying as the policy allows, and decodes a 2xx reply into
// out (which may be nil). It is the only place that talks to the network.
func (c *Client) do(ctx context.Context, r call, out any) error {
	id, _ := ctx.Value(requestIDKey{}).(string)
	if id == "" {
		id = c.requestID()
	}
	if err := checkRequestID(id); err != nil {
		return &ValidationError{Op: r.method + " " + r.path, Fields: []FieldError{{Field: "Request-ID", Rule: err.Error()}}}
	}
	st := &callState{requestID: []string{id}}
	ctx = context.WithValue(ctx, callStateKey{}, st)
	if !r.repeatable {
		// A call that may not be repeated once it left the machine watches
		// whether its whole request was written. Until WroteRequest reports
		// success, Flip has at most a part of the request, which it cannot
		// act on, so the call may be sent again.
		st.trace.WroteRequest = st.requestWritten
		ctx = httptrace.WithClientTrace(ctx, &st.trace)
	}
	target := c.agentsBase + r.path
	if r.api == kycAPI {
		target = c.kycBase + r.path
	}
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	for attempt := 1; ; attempt++ {
		res := c.attempt(ctx, r, target, st, attempt, out)
		if res.err == nil {
			return nil
		}
		if !res.retryable || attempt >= c.retry.MaxAttempts || ctx.Err() != nil ||
			(r.body != nil && !r.body.replayable()) {
			err := res.err
			if attempt > 1 {
				err = &RetryError{Attempts: attempt, Err: err}
			}
			if res.ambiguous {
				err = &OutcomeUnknownError{Method: r.method, Path: r.path, RequestID: id, Err: err}
			}
			return err
		}
		wait := c.retry.delay(attempt, res.retryAfter)
		c.logger.LogAttrs(ctx, slog.LevelInfo, "flipkyc: retrying",
			slog.String("method", r.method), slog.String("path", r.path), slog.String("request_id", id),
			slog.Int("attempt", attempt), slog.Duration("wait", wait), slog.String("error", res.err.Error()))
		if werr := c.clock.Sleep(ctx, wait); werr != nil {
			return fmt.Errorf("flipkyc: %s %s: %w while waiting to retry after attempt %d: %w", r.method, r.path, werr, attempt, res.err)
		}
	}
}

// attemptResult is the outcome of one HTTP exchange.
type attemptResult struct {
	err error
	// retryable: the failure may be retried under the policy.
	retryable bool
	// ambiguous: the call may not be repeated and may have taken effect at
	// Flip: it failed after its request was written, with no answer from
	// Flip that says it was refused.
	ambiguous  bool
	retryAfter time.Duration
}

// attempt makes one HTTP exchange.
func (c *Client) attempt(ctx context.Context, r call, target string, st *callState, n int, out any) attemptResult {
	id := st.requestID[0]
	st.wrote.Store(false)
	var body io.Reader
	length, contentType := int64(0), ""
	switch {
	case r.body != nil:
		var err error
		if body, length, err = r.body.open(); err != nil {
			return attemptResult{err: fmt.Errorf("flipkyc: %s %s: preparing body: %w", r.method, r.path, err)}
		}
		contentType = r.body.contentType()
	case r.form != "":
		body, length, contentType = strings.NewReader(r.form), int64(len(r.form)), "application/x-www-form-urlencoded"
	}
	watch := c.newIdleWatch(ctx)
	defer watch.stop()
	if body != nil {
		body = watch.requestBody(body)
	}
	req, err := http.NewRequestWithContext(watch.ctx, r.method, target, body)
	if err != nil {
		return attemptResult{err: fmt.Errorf("flipkyc: %s %s: %w", r.method, r.path, err)}
	}
	req.GetBody = nil // the request path, not net/http, decides what is replayed
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
		if length >= 0 {
			req.ContentLength = length
		} else {
			req.ContentLength = -1
		}
	}
	req.Header.Set("Accept", "application/json")

	start := c.clock.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		err = watch.cause(err)
		c.log(ctx, r, id, n, 0, start, err)
		wrote := r.repeatable || st.wrote.Load()
		netErr := &NetworkError{Method: r.method, Path: r.path, RequestID: id, Err: c.key.scrubErr(err)}
		if ctx.Err() != nil {
			return attemptResult{err: netErr, ambiguous: !r.repeatable && wrote}
		}
		return attemptResult{err: netErr, retryable: r.repeatable || !wrote, ambiguous: !r.repeatable && wrote}
	}
	raw, readErr := readLimited(watch.replyBody(resp.Body), c.maxBody)
	tooLong := int64(len(raw)) > c.maxBody
	if tooLong {
		raw = raw[:c.maxBody]
		_, _ = io.CopyN(io.Discard, resp.Body, 64<<10) // a little more, so the connection may be reused
	}
	_ = resp.Body.Close()
	if readErr != nil {
		readErr = watch.cause(readErr)
	}
	c.log(ctx, r, id, n, resp.StatusCode, start, readErr)
	// clean is what every text taken from the reply into an error goes
	// through: secrets removed, personal data masked.
	clean := func(s string) string {
		var known []string
		if r.sent != nil {
			known = r.sent.personalValues()
		}
		return c.key.clean(s, known)
	}

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		decodeErr := func(cause error) *DecodeError {
			return &DecodeError{StatusCode: resp.StatusCode, Method: r.method, Path: r.path, RequestID: id,
				Body: maskBody(raw, excerptLimit, clean), Err: c.key.scrubErr(cause)}
		}
		switch {
		case readErr != nil:
			// The reply was cut off; a read may be repeated, a write may not.
			return attemptResult{err: decodeErr(fmt.Errorf("reading reply: %w", readErr)),
				retryable: r.repeatable, ambiguous: !r.repeatable}
		case tooLong:
			return attemptResult{err: decodeErr(fmt.Errorf("reply larger than %d bytes", c.maxBody)), ambiguous: !r.repeatable}
		case looksLikeErrorBody(raw):
			apiErr := &APIError{StatusCode: resp.StatusCode, Method: r.method, Path: r.path, RequestID: id}
			apiErr.parseErrorBody(raw, clean)
			return attemptResult{err: apiErr}
		}
		if out == nil {
			return attemptResult{}
		}
		if err := decodeJSON(raw, out); err != nil {
			return attemptResult{err: decodeErr(err), ambiguous: !r.repeatable}
		}
		return attemptResult{}
	}

	apiErr := &APIError{StatusCode: resp.StatusCode, Method: r.method, Path: r.path, RequestID: id,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), c.clock.Now())}
	if !apiErr.parseErrorBody(raw, clean) {
		apiErr.Body = maskBody(raw, excerptLimit, clean)
	}
	res := attemptResult{err: apiErr, retryAfter: apiErr.RetryAfter}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		res.retryable = true
	case resp.StatusCode == http.StatusBadGateway, resp.StatusCode == http.StatusServiceUnavailable,
		resp.StatusCode == http.StatusGatewayTimeout:
		res.retryable = r.repeatable
	}
	// A server error after a state change was sent says nothing of whether
	// the change was made: a gateway may have lost Flip's answer.
	res.ambiguous = !r.repeatable && resp.StatusCode >= 500
	return res
}

// readLimited reads r to its end or to limit+1 bytes, whichever comes
// first, so a caller can tell a reply over the limit.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	if limit < math.MaxInt64 {
		limit++
	}
	return io.ReadAll(io.LimitReader(r, limit))
}

func (c *Client) log(ctx context.Context, r call, id string, attempt, status int, start time.Time, err error) {
	if !c.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", r.method), slog.String("path", r.path), slog.String("request_id", id),
		slog.Int("attempt", attempt), slog.Int("status", status), slog.Duration("elapsed", c.clock.Now().Sub(start)),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	c.logger.LogAttrs(ctx, slog.LevelDebug, "flipkyc: request", attrs...)
}

// parseRetryAfter reads a Retry-After header in seconds or as an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
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
		return t.Sub(now)
	}
	return 0
}

// responseChecker is implemented by results that can tell a decoded reply
// lacks what the documentation promises (for example an agent without id).
type responseChecker interface{ checkResponse() error }

// decodeJSON decodes a 2xx reply into out and checks it.
func decodeJSON(raw []byte, out any) error {
	if len(raw) == 0 {
		return errors.New("empty body")
	}
	if err := decodeReply(raw, out); err != nil {
		return err
	}
	if rc, ok := out.(responseChecker); ok {
		return rc.checkResponse()
	}
	return nil
}
