package dollarpe

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"github.com/flipkyc/flipkyc/internal/backoff"
	"github.com/flipkyc/flipkyc/internal/redact"
)

// Version is the SDK's version, sent in its User-Agent.
const Version = "0.1.0"

// APIPrefix is the path prefix of DollarPe's customer and KYC service,
// appended to the base URL.
const APIPrefix = "/cms/api/v1"

// Environment selects DollarPe's sandbox or production; each has its own
// API key and secret.
type Environment int

const (
	// Sandbox is DollarPe's test environment, https://sandbox.dollarpe.xyz;
	// it alone serves MockKYCStatus.
	Sandbox Environment = iota
	// Production is DollarPe's live environment,
	// https://production.dollarpe.xyz.
	Production
)

// String returns "production" for Production and "sandbox" otherwise.
func (e Environment) String() string {
	if e == Production {
		return "production"
	}
	return "sandbox"
}

// baseURL returns e's base URL, without the API prefix.
func (e Environment) baseURL() string {
	if e == Production {
		return "https://production.dollarpe.xyz"
	}
	return "https://sandbox.dollarpe.xyz"
}

// Client calls DollarPe's KYC API. It is immutable after New and safe for
// concurrent use. It prints without its key and secret. A Client not made
// by New (the zero Client) fails every call with ErrNotConfigured.
type Client struct {
	base    string // base URL + APIPrefix, no trailing slash
	env     Environment
	apiKey  string
	secret  string
	forms   *redact.Secret
	hc      *http.Client
	logger  *slog.Logger
	retry   backoff.Policy
	maxBody int64
	clock   Clock
	agent   string
}

// MinCredentialLen is the shortest API key or secret New accepts. Errors
// have every occurrence of the credentials removed from their texts; a
// shorter one (DollarPe issues long ones) would be found inside ordinary
// words and garble every error.
const MinCredentialLen = 8

// New returns a Client that signs its requests with apiKey and secret, the
// credentials of the chosen environment (Sandbox unless WithEnvironment
// says otherwise). It fails, listing every problem, when the key or secret
// is empty, shorter than MinCredentialLen or holds spaces or control
// characters, or an option is invalid, and when the base URL is plain http
// to a host that is not loopback without WithInsecureHTTP. A nil option is
// ignored.
func New(apiKey, secret string, opts ...Option) (*Client, error) {
	var problems []error
	for _, cred := range []struct{ name, v string }{{"API key", apiKey}, {"API secret", secret}} {
		switch {
		case cred.v == "":
			problems = append(problems, fmt.Errorf("%s is empty", cred.name))
		case strings.IndexFunc(cred.v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
			problems = append(problems, fmt.Errorf("%s contains spaces or control characters", cred.name))
		case len(cred.v) < MinCredentialLen:
			problems = append(problems, fmt.Errorf("%s is shorter than %d characters", cred.name, MinCredentialLen))
		}
	}
	cfg := config{retry: defaultRetry, maxBody: DefaultMaxResponseBytes}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil {
			problems = append(problems, err)
		}
	}
	base := cfg.baseURL
	if base == "" {
		base = cfg.env.baseURL()
	}
	u, err := url.Parse(base)
	switch {
	case err != nil:
		problems = append(problems, errors.New("base URL: not a URL"))
	case u.Scheme != "https" && u.Scheme != "http":
		problems = append(problems, errors.New("base URL: scheme must be https or http"))
	case u.Host == "":
		problems = append(problems, errors.New("base URL: no host"))
	case u.User != nil:
		problems = append(problems, errors.New("base URL: must not carry credentials"))
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		problems = append(problems, errors.New("base URL: must not have a query or fragment"))
	case u.Scheme == "http" && !cfg.insecureHTTP && !isLoopback(u.Hostname()):
		problems = append(problems, errors.New("base URL: plain http to a host that is not loopback would send the API key, "+
			"signatures and personal data in clear: use https, or add WithInsecureHTTP on a trusted network"))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("dollarpe.New: %w", errors.Join(problems...))
	}
	if cfg.httpClient == nil {
		cfg.httpClient = &http.Client{}
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	if cfg.clock == nil {
		cfg.clock = backoff.RealClock{}
	}
	agent := "dollarpe-go/" + Version
	if cfg.userAgent != "" {
		agent += " " + cfg.userAgent
	}
	return &Client{
		base:    strings.TrimRight(u.String(), "/") + APIPrefix,
		env:     cfg.env,
		apiKey:  apiKey,
		secret:  secret,
		forms:   redact.NewSecret(apiKey, secret),
		hc:      cfg.httpClient,
		logger:  cfg.logger,
		retry:   cfg.retry,
		maxBody: cfg.maxBody,
		clock:   cfg.clock,
		agent:   agent,
	}, nil
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// configured reports whether c was made by New.
func (c *Client) configured() bool {
	return c != nil && c.hc != nil && c.base != "" && c.apiKey != "" && c.secret != "" && c.forms != nil &&
		c.logger != nil && c.clock != nil && c.maxBody > 0
}

// Environment returns the environment the client was built for (Sandbox
// for a nil Client).
func (c *Client) Environment() Environment {
	if c == nil {
		return Sandbox
	}
	return c.env
}

// Format prints the client's environment and base URL, never its key or
// secret, under every verb.
func (c Client) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "dollarpe.Client{env: %s, base: %s, key: %s, secret: %s}", c.env, c.base, redact.Redacted, redact.Redacted)
}

// LogValue logs the client as Format prints it.
func (c *Client) LogValue() slog.Value {
	if c == nil {
		return slog.StringValue("dollarpe.Client(nil)")
	}
	return slog.StringValue(fmt.Sprint(*c))
}
