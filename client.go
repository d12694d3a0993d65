package flipkyc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
	"unicode"

	"github.com/flipkyc/flipkyc/internal/backoff"
)

// Environment selects Flip's sandbox or production base URLs; see
// WithEnvironment.
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

// String returns "production" for Production and "sandbox" for any other
// value.
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

// Client calls Flip's Agent KYC API. It is immutable after New and safe for
// concurrent use.
type Client struct {
	agentsBase string
	kycBase    string
	key        *secretKey
	http       *http.Client
	requestID  func() string
	// ownRequestIDs: requestID is the SDK's own generator, whose values
	// need no check.
	ownRequestIDs bool
	logger        *slog.Logger
	retry         backoff.Policy
	maxBody       int64
	// maxImageBytes is MaxImageBytes; only the SDK's benchmarks lift it.
	maxImageBytes int64
	idleTimeout   time.Duration
	attemptHook   func(context.Context, Attempt) // nil when none
	clock         backoff.Clock
}

// New returns a Client that authenticates with key, Flip's API secret
// key for the chosen environment (Sandbox unless WithEnvironment says
// otherwise). Every option is checked here, so a misconfigured client never
// reaches the first call: an empty key, a key with spaces or control
// characters, an invalid option or a base URL that is not an http or https
// URL without credentials, query or fragment makes New fail, with every
// problem listed in one error. A nil option is ignored.
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
		ownRequestIDs:    true,
		logger:           slog.New(slog.DiscardHandler),
		retry:            defaultRetry,
		maxResponseBytes: DefaultMaxResponseBytes,
		maxImageBytes:    MaxImageBytes,
		idleTimeout:      DefaultIdleTimeout,
		clock:            backoff.RealClock{},
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
		ownRequestIDs: cfg.ownRequestIDs,
		logger:        cfg.logger,
		retry:         cfg.retry,
		maxBody:       cfg.maxResponseBytes,
		clock:         cfg.clock,
		maxImageBytes: cfg.maxImageBytes,
		idleTimeout:   cfg.idleTimeout,
		attemptHook:   cfg.attemptHook,
	}, nil
}

// Environment variables read by NewFromEnv.
const (
	EnvSecretKey  = "FLIP_SECRET_KEY"   // Flip's API secret key; required
	EnvAPIBaseURL = "FLIP_API_BASE_URL" // base URL of the v2 agents API; optional
	EnvKYCBaseURL = "FLIP_KYC_BASE_URL" // base URL of the KYC service; optional
)

// NewFromEnv returns a Client configured from the environment: the secret key
// from FLIP_SECRET_KEY, and, where set, the v2 agents API base URL from
// FLIP_API_BASE_URL and the KYC service base URL from FLIP_KYC_BASE_URL. The
// environment is Sandbox unless opts say otherwise; opts are applied after
// the environment's values, so WithBaseURLs among them overrides the two
// URL variables. It fails as New does, naming FLIP_SECRET_KEY when the key
// is missing or malformed.
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
// the SDK's framing-checked transport, or through http.DefaultTransport as it
// is at that moment once it was replaced (httpmock.Activate replaces it, and
// then sees the SDK's calls); see defaultTransport. Stuck peers are bounded by the
// request path's idle timeout, which needs no transport of its own.
func defaultHTTPClient() *http.Client { return &http.Client{} }

// Format prints the client's two base URLs and never its secret key: the
// same under every verb, as a value or a pointer.
func (c Client) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "flipkyc.Client{agents: %s, kyc: %s, key: %s}", c.agentsBase, c.kycBase, redacted)
}
