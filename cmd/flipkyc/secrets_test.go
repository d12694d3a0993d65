package main

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc/fleet"
	"github.com/flipkyc/flipkyc/internal/pgtest"
	"github.com/flipkyc/flipkyc/internal/redact"
	"github.com/flipkyc/flipkyc/internal/testwait"
)

// A database password reaches no output, whatever form of DSN carries it:
// in the user info, in the query (password, sslpassword, any case), in
// key=value form, quoted or percent-encoded; the progress line names the
// run without it.
func TestDSNPasswordNeverPrinted(t *testing.T) {
	t.Parallel()
	const secret = "Pw-dsn-S3cret"
	_, vars := fakeEnv(t)
	agents := []fleetAgent{{suffix: "800001"}}
	csvPath := writeFleetRun(t, agents)
	dir := filepath.Dir(csvPath)
	closed := "127.0.0.1:1" // nothing listens: every Postgres open fails
	for _, tc := range []struct {
		name string
		dsn  string
	}{
		{"user info", "postgres://fleet:" + secret + "@" + closed + "/fleet?sslmode=disable"},
		{"query", "postgres://fleet@" + closed + "/fleet?sslmode=disable&password=" + secret},
		{"query, other case", "postgresql://fleet@" + closed + "/fleet?PassWord=" + secret + "&sslmode=disable"},
		{"sslpassword", "postgres://fleet@" + closed + "/fleet?sslmode=disable&sslpassword=" + secret},
		{"percent-encoded", "postgres://fleet@" + closed + "/fleet?sslmode=disable&password=" + strings.ReplaceAll(secret, "-", "%2D")},
		{"malformed URL", "postgres://fleet:" + secret + "@[::1/fleet?password=" + secret},
		{"key=value", "host=127.0.0.1 port=1 user=fleet password=" + secret + " sslmode=disable"},
		{"key=value, quoted", "host=127.0.0.1 port=1 password='" + secret + " x' sslmode=disable"},
		{"a file path with one", filepath.Join(dir, "run password="+secret+".db")},
		{"scheme in upper case", "POSTGRES://fleet:" + secret + "@" + closed + "/fleet?sslmode=disable"},
		{"white space before the URL", " postgres://fleet:" + secret + "@" + closed + "/fleet?sslmode=disable"},
		{"one slash after the scheme", "postgres:/fleet:" + secret + "@" + closed + "/fleet?sslmode=disable"},
		{"an '@' in the password, not encoded", "postgres://fleet:ab@" + secret + "@" + closed + "/fleet?sslmode=disable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, args := range [][]string{
				{"status", "--db", tc.dsn},
				{"status", "--db", tc.dsn, "--json"},
				append([]string{"onboard", "--csv", csvPath, "--db", tc.dsn}, fast...),
				{"listen", "--addr", "127.0.0.1:0", "--db", tc.dsn},
			} {
				if args[0] == "listen" && !strings.Contains(tc.dsn, closed) {
					continue // a SQLite run: listen would serve until stopped
				}
				lvars := map[string]string{envCallbackToken: testToken}
				for k, v := range vars {
					lvars[k] = v
				}
				r := fleetCLI(t, lvars, agents, args...)
				for _, leak := range []string{secret, strings.ReplaceAll(secret, "-", "%2D")} {
					assert.NotContains(t, r.stdout+r.stderr, leak, "%v", args)
				}
				if strings.HasPrefix(tc.name, "key=value") {
					assert.Equal(t, exitUsage, r.code, "a key=value DSN is not taken for a file name: %v", args)
				}
				if strings.HasPrefix(tc.name, "a file") && args[0] == "onboard" {
					assert.Contains(t, r.stderr, "state in "+filepath.Join(dir, "run password=[redacted]"))
				}
			}
		})
	}
	made, err := filepath.Glob("host=*")
	require.NoError(t, err)
	assert.Empty(t, made, "no SQLite file named after a key=value DSN")
}

func TestShowDSN(t *testing.T) {
	for _, tc := range []struct{ dsn, want string }{
		{"/runs/agents.fleet.db", "/runs/agents.fleet.db"},
		{"postgres://fleet@db/fleet", "postgres://fleet@db/fleet"},
		{"postgres://fleet:pw@db:5432/fleet?sslmode=disable", "postgres://fleet:[redacted]@db:5432/fleet?sslmode=disable"},
		{"postgres://fleet:p%40ss@db/fleet?password=a%26b&sslpassword=c&application_name=x", "postgres://fleet:[redacted]@db/fleet?password=[redacted]&sslpassword=[redacted]&application_name=x"},
		{"postgresql://db/fleet?PASSWORD=x", "postgresql://db/fleet?PASSWORD=[redacted]"},
		{"postgres://fleet:pw@[::1/fleet", "postgres://[redacted]"},
		{"host=db password=pw user=fleet", "host=db password=[redacted] user=fleet"},
		{"host=db password = 'p w\\' x' sslpassword=k", "host=db password = [redacted] sslpassword=[redacted]"},
	} {
		assert.Equal(t, tc.want, showDSN(tc.dsn), tc.dsn)
	}
}

// The callback token comes from the environment or a file as well as the
// flag; the flag, visible in the process list, is discouraged in -h and
// warned about; giving two sources is a usage error.
func TestCallbackTokenSources(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(testToken+"\n"), 0o600))
	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.WriteFile(empty, []byte("\n"), 0o600))

	// listen and trigger with the file: the callback is authentic.
	p, url := startListen(t, nil, "--token-file", tokenFile)
	r := ok(t, nil, "trigger", "APPROVED", "--agent", "7", "--url", url, "--token-file", tokenFile)
	assert.Contains(t, r.stdout, "HTTP 200")
	p.waitFor(t, "the row", func(stdout, _ string) bool { return strings.Contains(stdout, "APPROVED") })
	assert.Equal(t, exitOK, p.stop(t))
	assert.Empty(t, strings.TrimPrefix(p.stderr.String(), strings.SplitAfter(p.stderr.String(), "\n")[0]), "no warning")

	// fake sends the file's token with its callbacks, and prints it
	// [redacted]: a token the user gives may be Flip's real one.
	fake, s := startFake(t, nil, "--callback-token-file", tokenFile)
	assert.Equal(t, redact.Redacted, s.CallbackToken)
	assert.Equal(t, exitOK, fake.stop(t))
	assert.NotContains(t, fake.stdout.String()+fake.stderr.String(), testToken)

	// The flag still works, with a warning.
	rec := newReceiver(t)
	r = cli(t, nil, "", "trigger", "APPROVED", "--agent", "7", "--url", rec.URL, "--token", testToken)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "--token is visible to every local user in the process list")
	assert.Equal(t, testToken, rec.last(t).form.Get("token"))

	for _, args := range [][]string{
		{"trigger", "APPROVED", "--agent", "7", "--url", rec.URL, "--token", testToken, "--token-file", tokenFile},
		{"trigger", "APPROVED", "--agent", "7", "--url", rec.URL, "--token-file", empty},
		{"trigger", "APPROVED", "--agent", "7", "--url", rec.URL, "--token-file", filepath.Join(dir, "none")},
		{"listen", "--token-file", filepath.Join(dir, "none")},
		{"fake", "--callback-token", "x", "--callback-token-file", tokenFile},
	} {
		r := cli(t, nil, "", args...)
		assert.Equal(t, exitUsage, r.code, "%v: %s", args, r.stderr)
	}
	assert.Len(t, rec.all(), 1, "nothing sent with a bad token source")

	for _, c := range []string{"listen", "trigger"} {
		help := ok(t, nil, c, "-h").stdout
		assert.Contains(t, help, "--token-file")
		assert.Contains(t, help, envCallbackToken)
		assert.Contains(t, help, "process list")
	}
	help := ok(t, nil, "fake", "-h").stdout
	assert.Contains(t, help, "--callback-token-file")
	assert.Contains(t, help, "process list")
}

func TestMain(m *testing.M) {
	testwait.Parallel(4)
	code := m.Run()
	pgtest.Stop()
	removeBuiltBinary()
	os.Exit(code)
}

// Against a real Postgres (which trusts the test user, so any password
// opens it): a run whose DSN carries its password in the user info, the
// query and sslpassword is worked, listened to and reported with the DSN
// printed redacted, and the password nowhere.
func TestDSNPasswordNeverPrintedPostgres(t *testing.T) {
	t.Parallel()
	const secret = "Pw-pg-S3cret"
	base := pgtest.Database(t, "cmd")
	u, err := url.Parse(base)
	require.NoError(t, err)
	u.User = url.UserPassword(u.User.Username(), secret)
	dsn := u.String() + "&password=" + secret + "&sslpassword=" + secret + "x"
	agents := []fleetAgent{{suffix: "810001"}}
	csvPath := writeFleetRun(t, agents)
	_, vars := fakeEnv(t)
	vars[fleet.EnvDataKey] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" // a Postgres run's key is never beside it

	r := fleetCLI(t, vars, agents, append([]string{"onboard", "--csv", csvPath, "--db", dsn}, fast...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	shown := strings.NewReplacer(secret+"x", "[redacted]", secret, "[redacted]").Replace(dsn)
	assert.Contains(t, r.stderr, "state in "+shown+"\n")
	out := r.stdout + r.stderr
	for _, args := range [][]string{{"status", "--db", dsn}, {"status", "--db", dsn, "--json"}} {
		r := fleetCLI(t, vars, agents, args...)
		require.Equal(t, exitOK, r.code, r.stderr)
		out += r.stdout + r.stderr
	}
	p, _ := startListen(t, map[string]string{envCallbackToken: testToken}, "--db", dsn)
	assert.Equal(t, exitOK, p.stop(t))
	out += p.stdout.String() + p.stderr.String()
	assert.NotContains(t, out, secret)
}
