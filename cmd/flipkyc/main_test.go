package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/flipkyctest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every command has help with an example, reached with -h, --help and
// "help CMD", and the help never shows the key or the token from the
// environment.
func TestHelpOfEveryCommand(t *testing.T) {
	vars := map[string]string{flipkyc.EnvSecretKey: testKey, envCallbackToken: testToken}
	for _, c := range commands {
		t.Run(c.path, func(t *testing.T) {
			args := strings.Fields(c.path)
			for _, form := range [][]string{append(args, "-h"), append(args, "--help"), append([]string{"help"}, args...)} {
				r := cli(t, vars, "", form...)
				require.Equal(t, exitOK, r.code, "%v", form)
				assert.Contains(t, r.stdout, "Usage: flipkyc "+c.path)
				assert.Contains(t, r.stdout, "Example:\n  ")
				assert.Contains(t, r.stdout[strings.Index(r.stdout, "Example:"):], "flipkyc "+c.path)
				assert.Empty(t, r.stderr)
				if c.flip {
					assert.Contains(t, r.stdout, "--production")
					assert.Contains(t, r.stdout, flipkyc.EnvSecretKey)
				}
			}
		})
	}
}

func TestOverviewAndUnknownCommands(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		r := cli(t, nil, "", args...)
		assert.Equal(t, exitOK, r.code)
		for _, c := range commands {
			assert.Contains(t, r.stdout, c.path)
		}
		assert.Contains(t, r.stdout, "Exit status: 0 ok, 1 Flip or network error, 2 usage error")
	}
	r := cli(t, nil, "")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "Usage: flipkyc")

	r = cli(t, nil, "", "frobnicate")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, `unknown command "frobnicate"`)

	r = cli(t, nil, "", "agent")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "want one of: get, create, update")

	r = cli(t, nil, "", "help", "agent", "delete")
	assert.Equal(t, exitUsage, r.code)

	r = cli(t, nil, "", "version")
	assert.Equal(t, exitOK, r.code)
	assert.Equal(t, "flipkyc "+flipkyc.Version+"\n", r.stdout)

	r = cli(t, nil, "", "version", "--json")
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.JSONEq(t, `{"version":"`+flipkyc.Version+`","go":"`+runtime.Version()+`"}`, r.stdout)
}

// Usage errors exit 2, send nothing to Flip, point at the help, and never
// repeat a value that may be personal data.
func TestUsageErrors(t *testing.T) {
	srv, vars := fakeEnv(t)
	vars[envCallbackToken] = testToken
	img := writePNG(t, "ktp.png")
	for _, args := range [][]string{
		{"agent", "get"},
		{"agent", "get", testPhone + "x"},
		{"agent", "get", "1", "2"},
		{"agent", "get", "1", "--nope"},
		{"agent", "create", "extra"},
		{"agent", "create", "--country-id", testPhone + "x"},
		{"agent", "create", "--birth-date", "31/10/1990" + testPhone},
		{"agent", "create", "--use-identity-address=" + testPhone},
		{"agent", "update", "1", "--province-id", "-3"},
		{"upload", "identity", "1"},
		{"upload", "selfie", "1", img, "extra"},
		{"documents", "1"},
		{"documents", "1", "--doc", "diary=" + img},
		{"documents", "1", "--doc", img},
		{"repair", "data", "1", "--email", testEmail},
		{"locations", "countries", "1"},
		{"locations", "provinces", "x"},
		{"locations", "cities", "1", "2"},
		{"submit"},
		{"ping", "now"},
		{"trigger", "--agent", "1", "--url", "http://127.0.0.1:1/"},
		{"trigger", "BOGUS", "--agent", "1", "--url", "http://127.0.0.1:1/"},
		{"trigger", "APPROVED", "--url", "http://127.0.0.1:1/"},
		{"trigger", "APPROVED", "--agent", "1"},
		{"trigger", "APPROVED", "--agent", "1", "--url", "ftp://127.0.0.1/"},
		{"trigger", "REJECTED", "--agent", "1", "--reason", "-4", "--url", "http://127.0.0.1:1/"},
		{"listen", "extra"},
		{"listen", "--forward-to", "not a url"},
		{"fake", "--reviewer", "maybe"},
		{"fake", "--reviewer", "reject:99"},
		{"fake", "--upload-check", "fail:abc"},
		{"fake", "--callback-url", "http://example.com/flip"},
		{"fake", "--max-uploads", "0"},
		{"fake", "--latency", "-1s"},
	} {
		r := cli(t, vars, "", args...)
		assert.Equal(t, exitUsage, r.code, "%v: %s", args, r.stderr)
		assert.True(t, strings.HasPrefix(r.stderr, "flipkyc "+args[0]), "%v: %s", args, r.stderr)
		assert.NotContains(t, r.stderr, testPhone, "%v", args)
		assert.Empty(t, r.stdout, "%v", args)
	}
	assert.Empty(t, srv.Requests(), "a usage error sends nothing")

	// A file that cannot be read, and bad --from-json input.
	for _, tc := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"", []string{"upload", "identity", "1", filepath.Join(t.TempDir(), "missing.jpg")}, "cannot open the image file: no such file"},
		{`{"name": "` + testName + `", "address": [1]}`, []string{"agent", "create", "--from-json", "-"}, "address: want a string, a number or a boolean"},
		{`{"name": "` + testName, []string{"agent", "create", "--from-json", "-"}, "not valid JSON"},
		{`["` + testName + `"]`, []string{"agent", "create", "--from-json", "-"}, "want a JSON object"},
		{`{"country_id": "` + testPhone + `x"}`, []string{"agent", "create", "--from-json", "-"}, "country_id: want a whole number"},
		{`{"email": "` + testEmail + `"}`, []string{"repair", "data", "1", "--from-json", "-"}, "email: repair data does not take this field"},
		{"", []string{"agent", "create", "--from-json", filepath.Join(t.TempDir(), "none.json")}, "--from-json"},
	} {
		r := cli(t, vars, tc.stdin, tc.args...)
		assert.Equal(t, exitUsage, r.code, "%v", tc.args)
		assert.Contains(t, r.stderr, tc.want, "%v", tc.args)
		assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %s", r.stderr)
	}
	assert.Empty(t, srv.Requests())
}

// The configuration comes from the environment; without a key, or with a
// bad base URL, nothing is sent and the exit status is 2.
func TestConfigurationErrors(t *testing.T) {
	srv, _ := fakeEnv(t)
	noKey := map[string]string{flipkyc.EnvAPIBaseURL: srv.AgentsURL, flipkyc.EnvKYCBaseURL: srv.KYCURL}
	r := cli(t, noKey, "", "agent", "get", "1")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "FLIP_SECRET_KEY is not set")

	r = cli(t, noKey, "", "ping", "--production")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "production")

	bad := map[string]string{flipkyc.EnvSecretKey: testKey, flipkyc.EnvAPIBaseURL: "ftp://flip.example", flipkyc.EnvKYCBaseURL: srv.KYCURL}
	r = cli(t, bad, "", "agent", "get", "1", "--json")
	assert.Equal(t, exitUsage, r.code)
	e := decode[jsonError](t, r.stderr)
	assert.Contains(t, e.Error, "scheme must be https or http")
	assert.Equal(t, exitUsage, e.ExitStatus)

	spaced := map[string]string{flipkyc.EnvSecretKey: testKey + " x", flipkyc.EnvAPIBaseURL: srv.AgentsURL, flipkyc.EnvKYCBaseURL: srv.KYCURL}
	r = cli(t, spaced, "", "agent", "get", "1")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "FLIP_SECRET_KEY")
	assert.Empty(t, srv.Requests())
}

// Flip's refusals and network failures exit 1 with one line that carries
// the Request-ID; validation failures exit 2 and list every field.
func TestExitStatuses(t *testing.T) {
	srv, vars := fakeEnv(t)

	r := cli(t, vars, "", "agent", "get", "424242")
	assert.Equal(t, exitFailure, r.code)
	assert.Regexp(t, `^flipkyc agent get: GetAgent: GET /agents/424242: HTTP 404: .* \[Request-ID bigflip-[0-9a-f-]{36}\]\n$`, r.stderr)
	assert.Empty(t, r.stdout)

	r = cli(t, vars, "", "agent", "get", "424242", "--json")
	assert.Equal(t, exitFailure, r.code)
	e := decode[jsonError](t, r.stderr)
	assert.Equal(t, "flipkyc agent get", e.Command)
	assert.Equal(t, 404, e.HTTPStatus)
	assert.Equal(t, exitFailure, e.ExitStatus)
	assert.Regexp(t, `^bigflip-[0-9a-f-]{36}$`, e.RequestID)
	assert.Contains(t, e.Error, e.RequestID)
	assert.Equal(t, e.RequestID, srv.Requests()[len(srv.Requests())-1].Header.Get("Request-ID"), "the Request-ID sent")

	// A wrong key.
	wrong := map[string]string{flipkyc.EnvSecretKey: "sk-wrong", flipkyc.EnvAPIBaseURL: srv.AgentsURL, flipkyc.EnvKYCBaseURL: srv.KYCURL}
	r = cli(t, wrong, "", "locations", "countries")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "HTTP 401")
	assert.Contains(t, r.stderr, "[Request-ID bigflip-")

	// Nothing listening: a network error, with the Request-ID sent.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://" + l.Addr().String()
	require.NoError(t, l.Close())
	down := map[string]string{flipkyc.EnvSecretKey: testKey, flipkyc.EnvAPIBaseURL: closed, flipkyc.EnvKYCBaseURL: closed}
	r = cli(t, down, "", "agent", "get", "7")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "connection refused")
	assert.Contains(t, r.stderr, "[Request-ID bigflip-")
	assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %s", r.stderr)

	// A create whose reply is lost: the outcome is unknown, exit 1.
	srv.FailNextAfterApplying(flipkyctest.RouteCreateAgent, 1, http.StatusBadGateway)
	r = cli(t, vars, "", append([]string{"agent", "create"}, personArgs(testIdentity+"000001")...)...)
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "outcome unknown")
	assert.Contains(t, r.stderr, "[Request-ID bigflip-")
	assert.Empty(t, r.stdout)

	// The same person again: Flip refuses the duplicate.
	r = cli(t, vars, "", append([]string{"agent", "create", "--json"}, personArgs(testIdentity+"000001")...)...)
	assert.Equal(t, exitFailure, r.code)
	e = decode[jsonError](t, r.stderr)
	assert.Equal(t, 422, e.HTTPStatus)
	assert.NotEmpty(t, e.RequestID)

	// Invalid input: every field and rule, exit 2, nothing sent.
	before := len(srv.Requests())
	r = cli(t, vars, "", "agent", "create", "--name", testName, "--phone", "12", "--email", "not-an-email")
	assert.Equal(t, exitUsage, r.code)
	for _, field := range []string{"identity_type", "identity_number", "birth_date", "address", "phone_number", "email"} {
		assert.Contains(t, r.stderr, field+": ")
	}
	assert.Contains(t, r.stderr, "(nothing was sent)")
	assert.NotContains(t, r.stderr, "Request-ID")
	assert.Equal(t, 1, strings.Count(r.stderr, "\n"))

	r = cli(t, vars, "", "agent", "create", "--json", "--name", testName)
	assert.Equal(t, exitUsage, r.code)
	e = decode[jsonError](t, r.stderr)
	assert.Equal(t, exitUsage, e.ExitStatus)
	var fields []string
	for _, f := range e.Fields {
		fields = append(fields, f.Field)
		assert.NotEmpty(t, f.Rule)
	}
	assert.Contains(t, fields, "identity_number")
	assert.Contains(t, fields, "phone_number")
	assert.NotContains(t, fields, "name")

	// An image that breaks Flip's rules is refused before sending.
	small := filepath.Join(t.TempDir(), "small.png")
	require.NoError(t, os.WriteFile(small, []byte("\x89PNG\r\n\x1a\nnot really"), 0o600))
	r = cli(t, vars, "", "upload", "identity", "1001", small)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "invalid input")
	assert.Equal(t, before, len(srv.Requests()))
}

// ping says in one line what is wrong with the key or either host.
func TestPing(t *testing.T) {
	srv, vars := fakeEnv(t)
	r := ok(t, vars, "ping")
	assert.Regexp(t, `^ok: sandbox key accepted by the agents API \(http://127\.0\.0\.1:\d+/big_sandbox_api/v2\) and the KYC service \(.*countries listed: 1\)\n$`, r.stdout)

	res := decode[pingResult](t, ok(t, vars, "ping", "--json").stdout)
	assert.True(t, res.OK)
	assert.Equal(t, "sandbox", res.Environment)
	assert.Equal(t, srv.AgentsURL, res.Agents.URL)
	assert.Equal(t, 404, res.Agents.HTTPStatus)
	assert.Equal(t, srv.KYCURL, res.KYC.URL)
	assert.Equal(t, 200, res.KYC.HTTPStatus)

	wrong := map[string]string{flipkyc.EnvSecretKey: "sk-wrong", flipkyc.EnvAPIBaseURL: srv.AgentsURL, flipkyc.EnvKYCBaseURL: srv.KYCURL}
	r = cli(t, wrong, "", "ping")
	assert.Equal(t, exitFailure, r.code)
	assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %s", r.stderr)
	assert.Contains(t, r.stderr, "agents API "+srv.AgentsURL+": HTTP 401: the secret key was refused")
	assert.Contains(t, r.stderr, "KYC service "+srv.KYCURL+": HTTP 401")
	assert.Contains(t, r.stderr, "[Request-ID bigflip-")

	r = cli(t, wrong, "", "ping", "--json", "--production")
	assert.Equal(t, exitFailure, r.code)
	res = decode[pingResult](t, r.stdout)
	assert.False(t, res.OK)
	assert.Equal(t, "production", res.Environment)
	assert.Contains(t, res.Agents.Problem, "not whitelisted")
	assert.Equal(t, 401, res.KYC.HTTPStatus)

	// One host down, the other a web server that is not Flip. The web
	// server starts first, so the closed port cannot be handed to it.
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, "<html>no such page</html>")
	}))
	defer web.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://" + l.Addr().String()
	require.NoError(t, l.Close())
	mixed := map[string]string{flipkyc.EnvSecretKey: testKey, flipkyc.EnvAPIBaseURL: web.URL, flipkyc.EnvKYCBaseURL: closed}
	r = cli(t, mixed, "", "ping")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "agents API "+web.URL+": HTTP 404 with a reply that is not Flip's")
	assert.Contains(t, r.stderr, "KYC service "+closed+": unreachable:")
	assert.Contains(t, r.stderr, "connection refused")
	assert.Equal(t, 1, strings.Count(r.stderr, "\n"))
}

func TestInterspersedFlags(t *testing.T) {
	_, vars := fakeEnv(t)
	a := decode[[]flipkyc.Location](t, ok(t, vars, "locations", "provinces", "--json", "1").stdout)
	b := decode[[]flipkyc.Location](t, ok(t, vars, "locations", "provinces", "1", "--json").stdout)
	assert.Equal(t, a, b)
	// "--" ends the flags.
	r := cli(t, vars, "", "agent", "get", "--", "--json")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "ID must be a positive whole number")
}

// A value that cannot be read (a malformed date, an id that is no number)
// is reported with every other broken field at once, as one validation
// error: exit 2, nothing sent, --json lists every field.
func TestAgentInputEveryFieldAtOnce(t *testing.T) {
	srv, vars := fakeEnv(t)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"create", []string{"agent", "create", "--name", testName, "--birth-date", "31-13-1990", "--phone", "12", "--city-id", "x1"},
			[]string{"birth_date", "city_id", "identity_type", "identity_number", "phone_number", "address"}},
		{"update", []string{"agent", "update", "7", "--birth-date", "1990/10/31", "--email", "not-an-email"},
			[]string{"birth_date", "email", "name", "identity_number"}},
		{"repair data", []string{"repair", "data", "7", "--birth-date", "tomorrow", "--phone", "12"},
			[]string{"birth_date", "phone_number"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cli(t, vars, "", append(tc.args, "--json")...)
			assert.Equal(t, exitUsage, r.code, r.stderr)
			e := decode[jsonError](t, r.stderr)
			var fields []string
			for _, f := range e.Fields {
				fields = append(fields, f.Field)
			}
			assert.Subset(t, fields, tc.want, r.stderr)
			assert.Equal(t, 1, countOf(fields, "birth_date"), "the date once, as unreadable: %v", e.Fields)
			assert.Contains(t, e.Error, "(nothing was sent)")

			r = cli(t, vars, "", tc.args...)
			assert.Equal(t, exitUsage, r.code)
			for _, f := range tc.want {
				assert.Contains(t, r.stderr, f+": ")
			}
			assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %s", r.stderr)
		})
	}
	assert.Empty(t, srv.Requests(), "nothing sent")
}

func countOf(list []string, v string) int {
	n := 0
	for _, s := range list {
		if s == v {
			n++
		}
	}
	return n
}

// An error line is one line a terminal shows as it is, whatever text it
// quotes (here a file name with an escape sequence).
func TestErrorLineEscaped(t *testing.T) {
	_, vars := fakeEnv(t)
	missing := filepath.Join(t.TempDir(), "agents\x1b]0;owned\x07.csv")
	r := cli(t, vars, "", "onboard", "--csv", missing)
	assert.Equal(t, exitUsage, r.code)
	assert.NotContains(t, r.stderr, "\x1b")
	assert.Contains(t, r.stderr, `agents\x1b]0;owned\a.csv`)
}
