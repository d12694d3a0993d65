package katsu

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode"

	"github.com/flipkyc/flipkyc/internal/backoff"
	"github.com/flipkyc/flipkyc/internal/redact"
)

// DefaultVersion is the API version New puts in /api/v{version}/ when
// WithVersion is not given: "1", the only version Katsu's documentation
// shows.
const DefaultVersion = "1"

// userAgent is sent with every request.
const userAgent = "flipkyc-katsu-go/1"

// Client calls Katsu's KYC API. It is immutable after New and safe for
// concurrent use.
type Client struct {
	base     string // base URL without a trailing slash
	version  string
	prefix   string // "/api/v" + version
	language Language
	token    *token
	hc       *http.Client // the caller's, read at every call; nil for none
	logger   *slog.Logger // nil when silent
	retry    backoff.Policy
	clock    backoff.Clock
}

// token is the Bearer token with every form in which a reply may echo it.
type token struct {
	header string // "Bearer <token>"
	forms  *redact.Secret
}

// New returns a Client that authenticates with the Bearer token tok and
// sends its requests to the base URL set with WithBaseURL, which is
// required: Katsu documents no host. Every option is checked here, so a
// misconfigured client never reaches the first call: an empty token or one
// with spaces or control characters, a missing base URL or one that is not
// an http or https URL with a host and without credentials, query or
// fragment, an invalid version or language make New fail, with every problem
// listed in one error. A nil option is ignored.
func New(tok string, opts ...Option) (*Client, error) {
	var problems []error
	switch {
	case tok == "":
		problems = append(problems, errors.New("token is empty"))
	case strings.HasPrefix(strings.ToLower(tok), "bearer "):
		problems = append(problems, errors.New(`token starts with "Bearer ": give the token alone, the client adds the scheme`))
	case strings.IndexFunc(tok, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		problems = append(problems, errors.New("token contains spaces or control characters"))
	}
	cfg := config{version: DefaultVersion, retry: defaultRetry, clock: backoff.RealClock{}}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil {
			problems = append(problems, err)
		}
	}
	base, err := checkBaseURL(cfg.baseURL, cfg.insecureHTTP)
	if err != nil {
		problems = append(problems, err)
	}
	if !versionPattern.MatchString(cfg.version) {
		problems = append(problems, fmt.Errorf("WithVersion: %q is not a version such as \"1\" or \"1.0\" (without the v)", cfg.version))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("katsu.New: %w", errors.Join(problems...))
	}
	return &Client{
		base:     base,
		version:  cfg.version,
		prefix:   "/api/v" + cfg.version,
		language: cfg.language,
		token:    &token{header: "Bearer " + tok, forms: redact.NewSecret("Bearer "+tok, tok)},
		hc:       cfg.httpClient,
		logger:   cfg.logger,
		retry:    cfg.retry,
		clock:    cfg.clock,
	}, nil
}

// versionPattern is what WithVersion accepts: digits, optionally a minor
// version.
var versionPattern = regexp.MustCompile(`^[0-9]{1,4}(\.[0-9]{1,4})?$`)

// apiPathPattern finds /api/v{version} in a base URL's path, which the
// client adds itself.
var apiPathPattern = regexp.MustCompile(`(?i)/api/v[0-9]`)

// checkBaseURL validates raw and returns it without a trailing slash;
// plain http is accepted on a loopback host, or anywhere with insecure.
func checkBaseURL(raw string, insecure bool) (string, error) {
	if raw == "" {
		return "", errors.New("base URL missing: Katsu documents no host, so give the one you were issued with WithBaseURL")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", errors.New("WithBaseURL: not a URL")
	case u.Scheme != "https" && u.Scheme != "http":
		return "", errors.New("WithBaseURL: scheme must be https or http")
	case u.Host == "":
		return "", errors.New("WithBaseURL: no host")
	case u.User != nil:
		return "", errors.New("WithBaseURL: must not carry credentials")
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return "", errors.New("WithBaseURL: must not have a query or fragment")
	case apiPathPattern.MatchString(u.Path):
		return "", errors.New("WithBaseURL: give the root without /api/v{version}; the client adds it")
	case u.Scheme == "http" && !insecure && !isLoopback(u.Hostname()):
		return "", errors.New("WithBaseURL: plain http to a host that is not loopback would send the Bearer token in clear: use https, or add WithInsecureHTTP on a trusted network")
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// BaseURL returns the base URL the client sends to, without a trailing
// slash.
func (c *Client) BaseURL() string { return c.base }

// Version returns the API version the client puts in its paths.
func (c *Client) Version() string { return c.version }

// Format prints the client's base URL, version and language and never its
// token: the same under every verb, as a value or a pointer.
func (c Client) Format(f fmt.State, _ rune) {
	lang := string(c.language)
	if lang == "" {
		lang = "default"
	}
	_, _ = fmt.Fprintf(f, "katsu.Client{base: %s, version: %s, language: %s, token: %s}", c.base, c.version, lang, redact.Redacted)
}

// LogValue logs the client as it prints, without its token.
func (c *Client) LogValue() slog.Value { return slog.StringValue(fmt.Sprint(c)) }
