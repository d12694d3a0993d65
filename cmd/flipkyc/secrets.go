package main

import (
	"errors"
	"flag"
	"io"
	"io/fs"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"

	"github.com/flipkyc/flipkyc/fleet"
	"github.com/flipkyc/flipkyc/internal/redact"
)

// Secrets the command is given (a database password in --db, the callback
// token) never reach its output: every command writes through a
// secretScrubber, which removes each registered secret in every form the
// SDK's redaction knows (plain, base64, escaped), whatever printed it (a
// message of the command, an error quoted from a driver, a log line).

// secretScrubber writes to w with the registered secrets redacted. The
// command writes whole lines or table cells in one Write, so a secret is
// never split between two.
type secretScrubber struct {
	w       io.Writer
	secrets *secretSet
}

func (s secretScrubber) Write(p []byte) (int, error) {
	clean := s.secrets.scrub(string(p))
	if clean == string(p) {
		return s.w.Write(p)
	}
	if _, err := io.WriteString(s.w, clean); err != nil {
		return 0, err
	}
	return len(p), nil
}

// secretSet is the secrets of one invocation, registered as they are read.
type secretSet struct {
	mu     sync.Mutex
	values []string
	secret *redact.Secret
}

// add registers values as secrets. Values shorter than
// redact.MinKnownLen are not registered: replacing them wherever they
// appear would garble the output; showDSN still hides them in a DSN.
func (s *secretSet) add(values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range values {
		if len(v) >= redact.MinKnownLen {
			s.values = append(s.values, v)
		}
	}
	s.secret = redact.NewSecret(s.values...)
}

func (s *secretSet) scrub(text string) string {
	s.mu.Lock()
	secret := s.secret
	s.mu.Unlock()
	if secret == nil {
		return text
	}
	return secret.Scrub(text)
}

// passwordParam matches a password parameter of a DSN, in a URL's query or
// in key=value form, quoted ('…', with \' and \\ escapes) or not.
var passwordParam = regexp.MustCompile(`(?i)((?:^|[?&;\s])(?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'?|[^&\s]*)`)

// isPostgresURL reports whether dsn is a Postgres URL (postgres://…), in
// any case: what is printed is redacted as a URL even where the run would
// not take it for one (fleet.IsPostgres decides that).
func isPostgresURL(dsn string) bool {
	lower := strings.ToLower(dsn)
	return strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://")
}

// keyValueDSN matches a DSN in Postgres's key=value form ("host=db
// dbname=fleet …"), which the run's database does not read: it would be
// taken for the name of a SQLite file.
var keyValueDSN = regexp.MustCompile(`^\s*[A-Za-z_]+\s*=`)

// showDSN returns dsn as the command prints it: a Postgres URL with the
// password of its user info and the values of its password and sslpassword
// parameters replaced by [redacted] (the whole URL when it cannot be
// parsed), and any other text (a file path, key=value form) with its
// password parameters redacted.
func showDSN(dsn string) string {
	if !isPostgresURL(dsn) {
		return passwordParam.ReplaceAllString(dsn, "${1}"+redact.Redacted)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn[:strings.Index(dsn, "://")+3] + redact.Redacted
	}
	out := u.Scheme + "://"
	if u.User != nil {
		out += url.User(u.User.Username()).String()
		if _, set := u.User.Password(); set {
			out += ":" + redact.Redacted
		}
		out += "@"
	}
	out += u.Host + u.EscapedPath()
	if u.RawQuery != "" || u.ForceQuery {
		params := strings.Split(u.RawQuery, "&")
		for i, p := range params {
			key, _, _ := strings.Cut(p, "=")
			if k, err := url.QueryUnescape(key); err == nil && isPasswordKey(k) || err != nil && isPasswordKey(key) {
				params[i] = key + "=" + redact.Redacted
			}
		}
		out += "?" + strings.Join(params, "&")
	}
	if u.Fragment != "" {
		out += "#" + redact.Redacted
	}
	return out
}

func isPasswordKey(k string) bool {
	k = strings.ToLower(strings.TrimSpace(k))
	return k == "password" || k == "sslpassword"
}

// schemePrefix matches the start of a URL up to its user info: a scheme,
// its colon and any slashes, after any white space.
var schemePrefix = regexp.MustCompile(`^\s*[A-Za-z][A-Za-z0-9+.\-]*:/*`)

// dsnSecrets returns the secrets a DSN carries, in the forms they may be
// printed in: its user info's password and its password parameters, as
// written and decoded (percent-encoding, key=value quoting).
func dsnSecrets(dsn string) []string {
	var out []string
	add := func(v string) {
		out = append(out, v)
		if d, err := url.QueryUnescape(v); err == nil && d != v {
			out = append(out, d)
		}
		if d, err := url.PathUnescape(v); err == nil && d != v {
			out = append(out, d)
		}
	}
	if isPostgresURL(dsn) {
		if u, err := url.Parse(dsn); err == nil && u.User != nil {
			if pw, set := u.User.Password(); set {
				out = append(out, pw)
			}
		}
	}
	// The user info as written, also where the URL does not parse or is
	// mistyped (white space before it, one slash): from the colon after the
	// user name up to the first and to the last '@', and what lies between
	// those, which a driver that ends the user info at the first '@' prints
	// as part of the host.
	if m := schemePrefix.FindStringIndex(dsn); m != nil {
		rest := dsn[m[1]:]
		first, last := strings.Index(rest, "@"), strings.LastIndex(rest, "@")
		if colon := strings.Index(rest, ":"); colon >= 0 && colon < first {
			add(rest[colon+1 : first])
			add(rest[colon+1 : last])
		}
		if first >= 0 && last > first {
			add(rest[first+1 : last])
		}
	}
	for _, m := range passwordParam.FindAllStringSubmatch(dsn, -1) {
		v := m[2]
		add(v)
		if strings.HasPrefix(v, "'") {
			inner := strings.TrimSuffix(strings.TrimPrefix(v, "'"), "'")
			add(inner)
			out = append(out, strings.NewReplacer(`\'`, `'`, `\\`, `\`).Replace(inner))
		}
	}
	return out
}

// useDSN registers the secrets of a --db value, so that nothing the
// command prints gives them away, and refuses a key=value DSN, which would
// be taken for a file name.
func (e *env) useDSN(dsn string) error {
	e.secrets.add(dsnSecrets(dsn)...)
	if !fleet.IsPostgres(dsn) && keyValueDSN.MatchString(dsn) {
		return usagef("--db: a key=value connection string is not read; give a postgres:// URL or a SQLite file")
	}
	return nil
}

// withoutPath returns err without the path a *fs.PathError repeats: the
// caller names the file in its own words.
func withoutPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// tokenSource is how a command takes the callback token: the environment
// variable, a file, or a flag (kept for compatibility, discouraged: its
// value is visible to every local user in the process list).
type tokenSource struct {
	flagName string
	flag     *string
	file     *string
}

// tokenHelp explains the flag and its two better alternatives.
func tokenHelp(flagName string) (flagUsage, fileUsage string) {
	return "discouraged: a flag's value is visible to every local user in the process list; use " + envCallbackToken +
			" or --" + flagName + "-file",
		"read Flip's callback validation token from this file (its first line); keeps the token out of the process list and shell history"
}

// defineToken defines --NAME and --NAME-file on fs.
func defineToken(fs *flag.FlagSet, flagName string) tokenSource {
	flagUsage, fileUsage := tokenHelp(flagName)
	return tokenSource{
		flagName: flagName,
		flag:     fs.String(flagName, "", flagUsage),
		file:     fs.String(flagName+"-file", "", fileUsage),
	}
}

// callbackToken returns the callback token from the flag, the file or the
// environment, in that order; found is false
// when none of them gives one. Giving both the flag and the file is a
// usage error, as is a file that cannot be read or holds no token.
func (e *env) callbackToken(src tokenSource) (token string, found bool, err error) {
	switch {
	case *src.flag != "" && *src.file != "":
		return "", false, usagef("give --%s or --%s-file, not both", src.flagName, src.flagName)
	case *src.flag != "":
		token = *src.flag
		e.warn("--%s is visible to every local user in the process list; use %s or --%s-file", src.flagName, envCallbackToken, src.flagName)
	case *src.file != "":
		if token, err = e.readTokenFile(src.flagName+"-file", *src.file, "the callback token's"); err != nil {
			return "", false, err
		}
	default:
		token = e.getenv(envCallbackToken)
	}
	return token, token != "", nil
}

// readTokenFile reads a token from the first line of the file given to
// --flagName, and warns when users other than its owner can read the file;
// whose says whose token it is in the warning.
func (e *env) readTokenFile(flagName, path, whose string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", inputErrorf("--%s: cannot read the file: %v", flagName, withoutPath(err))
	}
	first, _, _ := strings.Cut(string(data), "\n")
	token := strings.TrimSpace(first)
	if token == "" {
		return "", inputErrorf("--%s: the file holds no token on its first line", flagName)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		e.warn("%s --%s %s can be read by other users (%v): make it readable by its owner only (chmod 600)", whose, flagName, path, st.Mode().Perm())
	}
	return token, nil
}

// requireToken returns the callback token of listen and trigger, which need
// one, and registers it as a secret.
func (e *env) requireToken(src tokenSource) (string, error) {
	token, found, err := e.callbackToken(src)
	if err != nil {
		return "", err
	}
	if !found {
		return "", usagef("no callback token: set %s or give --%s-file", envCallbackToken, src.flagName)
	}
	e.secrets.add(token)
	return token, nil
}
