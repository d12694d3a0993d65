package main

import (
	"encoding/json"
	"net"
	"net/http"
	neturl "net/url"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/flipkyc/flipkyc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// listenLine is a JSON line of listen, read back: the event (Flip's fields)
// and what listen adds.
type listenLine struct {
	flipkyc.Event
	ReceivedAt    string   `json:"-"`
	Problems      []string `json:"-"`
	ForwardStatus int      `json:"-"`
	ForwardError  string   `json:"-"`
}

// readLine decodes one JSON line of listen. (flipkyc.Event decodes itself,
// so its extra fields are read on their own.)
func readLine(t *testing.T, line string) listenLine {
	t.Helper()
	ev := decode[flipkyc.Event](t, line)
	extra := decode[struct {
		ReceivedAt    string   `json:"received_at"`
		Problems      []string `json:"problems"`
		ForwardStatus int      `json:"forward_status"`
		ForwardError  string   `json:"forward_error"`
	}](t, line)
	return listenLine{Event: ev, ReceivedAt: extra.ReceivedAt, Problems: extra.Problems,
		ForwardStatus: extra.ForwardStatus, ForwardError: extra.ForwardError}
}

// listen prints one JSON line per authentic callback, the name masked;
// refuses a wrong token (403) and logs it without the token; stops with 0.
func TestListenJSON(t *testing.T) {
	vars := map[string]string{envCallbackToken: testToken}
	p, url := startListen(t, vars, "--json")

	ok(t, vars, "trigger", "REJECTED", "--agent", "1001", "--reason", "17", "--name", testName, "--url", url+"flip/kyc")
	p.waitFor(t, "an event line", func(stdout, _ string) bool { return strings.Count(stdout, "\n") == 1 })
	line := readLine(t, p.stdout.String())
	assert.NotEmpty(t, line.ReceivedAt)
	assert.Equal(t, int64(1001), line.AgentID)
	assert.Equal(t, "[masked]", line.AgentName)
	assert.Equal(t, flipkyc.StatusRejected, line.KYCStatus)
	assert.Equal(t, flipkyc.RejectionCode(17), line.RejectedReasonCode)
	assert.Equal(t, flipkyc.RejectionCode(17).Message(), line.RejectedReason)
	assert.Zero(t, line.ForwardStatus)

	// A wrong token: 403, nothing printed, a log line without the token.
	r := cli(t, map[string]string{envCallbackToken: "not-" + testToken}, "", "trigger", "APPROVED", "--agent", "1", "--url", url)
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "HTTP 403")
	p.waitFor(t, "the refusal logged", func(_, stderr string) bool { return strings.Contains(stderr, "status=403") })

	// A malformed callback with the right token is printed with its
	// problems: Flip will not send it again.
	form := strings.NewReader("token=" + testToken + "&data=%7B%22agent_id%22%3A%22nine%22%2C%22agent_name%22%3A%22" + strings.ReplaceAll(testName, " ", "+") + "%22%7D")
	resp, err := http.Post(url, "application/x-www-form-urlencoded", form)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	p.waitFor(t, "the malformed event", func(stdout, _ string) bool { return strings.Count(stdout, "\n") == 2 })
	malformed := readLine(t, p.stdout.lines()[1])
	assert.NotEmpty(t, malformed.Problems)
	assert.Equal(t, "[masked]", malformed.AgentName)

	assert.Equal(t, exitOK, p.stop(t))
	checkNoLeak(t, p.args, p.stdout.String(), p.stderr.String())
	assert.NotContains(t, p.stdout.String(), testName)
}

// The table form: a header and one aligned row per event.
func TestListenTable(t *testing.T) {
	vars := map[string]string{envCallbackToken: testToken}
	p, url := startListen(t, vars)
	ok(t, vars, "trigger", "UPLOAD_IDENTITY_SELFIE_SUCCESS", "--agent", "1002", "--name", testName, "--url", url)
	ok(t, vars, "trigger", "REJECTED", "--agent", "1002", "--reason", "10", "--name", testName, "--url", url)
	p.waitFor(t, "two rows", func(stdout, _ string) bool { return strings.Count(stdout, "\n") == 3 })
	lines := p.stdout.lines()
	assert.Regexp(t, `^TIME +AGENT +KYC STATUS +CODE +FORWARD +REASON$`, lines[0])
	assert.Regexp(t, `^\d\d:\d\d:\d\d +1002 +UPLOAD_IDENTITY_SELFIE_SUCCESS +- +- +-$`, lines[1])
	assert.Regexp(t, `^\d\d:\d\d:\d\d +1002 +REJECTED +10 +- +The data that is filled in does not match with identity card$`, lines[2])
	assert.Equal(t, strings.Index(lines[0], "KYC STATUS"), strings.Index(lines[1], "UPLOAD_"), "aligned")
	assert.Equal(t, exitOK, p.stop(t))
	assert.NotContains(t, p.stdout.String(), testName)
}

// --forward-to re-posts each authentic callback in Flip's form; the sender
// gets 200 only when the forward was answered 2xx, 502 otherwise.
func TestListenForward(t *testing.T) {
	vars := map[string]string{envCallbackToken: testToken}
	target := newReceiver(t)
	p, url := startListen(t, vars, "--json", "--forward-to", target.URL+"/hooks/flip")

	rec := newReceiver(t) // to see what trigger sent
	ok(t, vars, "trigger", "APPROVED", "--agent", "1003", "--name", testName, "--url", rec.URL)
	sent := rec.last(t).form

	ok(t, vars, "trigger", "APPROVED", "--agent", "1003", "--name", testName, "--url", url)
	got := target.last(t)
	assert.Equal(t, http.MethodPost, got.method)
	assert.Equal(t, "application/x-www-form-urlencoded", got.contentType)
	assert.Equal(t, testToken, got.form.Get("token"))
	assert.JSONEq(t, sent.Get("data"), got.form.Get("data"))
	p.waitFor(t, "the event", func(stdout, _ string) bool { return strings.Count(stdout, "\n") == 1 })
	assert.Equal(t, http.StatusOK, readLine(t, p.stdout.lines()[0]).ForwardStatus)

	// The local service fails: Flip is answered 502, and may know.
	target.status.Store(http.StatusServiceUnavailable)
	r := cli(t, vars, "", "trigger", "REJECTED", "--agent", "1003", "--reason", "14", "--url", url)
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stdout, "HTTP 502 Bad Gateway")
	p.waitFor(t, "the second event", func(stdout, _ string) bool { return strings.Count(stdout, "\n") == 2 })
	assert.Equal(t, http.StatusServiceUnavailable, readLine(t, p.stdout.lines()[1]).ForwardStatus)
	assert.Len(t, target.all(), 2)

	// A wrong token is refused before anything is forwarded.
	r = cli(t, map[string]string{envCallbackToken: "wrong"}, "", "trigger", "APPROVED", "--agent", "1003", "--url", url)
	assert.Equal(t, exitFailure, r.code)
	assert.Len(t, target.all(), 2)

	assert.Equal(t, exitOK, p.stop(t))
	checkNoLeak(t, p.args, p.stdout.String(), p.stderr.String())
}

func TestListenForwardUnreachable(t *testing.T) {
	vars := map[string]string{envCallbackToken: testToken}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://" + l.Addr().String() + "/"
	require.NoError(t, l.Close())
	p, url := startListen(t, vars, "--forward-to", closed)

	r := cli(t, vars, "", "trigger", "APPROVED", "--agent", "1004", "--url", url)
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stdout, "HTTP 502")
	p.waitFor(t, "the row", func(stdout, _ string) bool { return strings.Count(stdout, "\n") == 2 })
	row := p.stdout.lines()[1]
	assert.Regexp(t, `1004 +APPROVED +- +error +- \(forward: .*connection refused\)$`, row)
	assert.Equal(t, exitOK, p.stop(t))
}

// A port in use is a failure to listen: exit 1.
func TestListenAddressInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	r := cli(t, map[string]string{envCallbackToken: testToken}, "", "listen", "--addr", l.Addr().String())
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "cannot listen")

	r = cli(t, nil, "", "fake", "--addr", l.Addr().String())
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "cannot listen")
}

// onboard --listen on a port in use stops before it creates a run: no
// database, no data key file.
func TestOnboardListenAddressInUse(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	_, vars := fakeEnv(t)
	vars[envCallbackToken] = testToken
	csvPath := writeFleetRun(t, []fleetAgent{{suffix: "750001"}})
	r := fleetCLI(t, vars, nil, "onboard", "--csv", csvPath, "--listen", l.Addr().String())
	assert.Equal(t, exitFailure, r.code, r.stderr)
	assert.Contains(t, r.stderr, "flipkyc onboard: --listen: cannot listen:")
	assert.NoFileExists(t, defaultDB(csvPath))
	assert.NoFileExists(t, defaultDB(csvPath)+".key")
}

// postRawCallback posts data (the callback's JSON) with the token, as Flip
// does, and returns the HTTP status.
func postRawCallback(t *testing.T, url, data, token string) int {
	t.Helper()
	form := neturl.Values{"token": {token}, "data": {data}}
	resp, err := http.Post(url, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// A callback's free text (status, reason, times) is printed masked as the
// SDK prints an Event, and on one line with its control characters
// escaped: a newline cannot forge a row, an escape sequence never reaches
// the terminal; in the table and in --json.
func TestListenHostileText(t *testing.T) {
	const (
		identity = testIdentity + "771234"
		phone    = testPhone + "771234"
		email    = "agent.elsewhere@example.org"
	)
	data, err := json.Marshal(map[string]any{
		"agent_id": 1005, "agent_name": testName,
		"kyc_status":           "REJECTED\x1b]0;owned\x07 " + identity,
		"rejected_reason_code": 10,
		"rejected_reason":      "blurry " + email + "\n12:00:00  1005  APPROVED  -  -  -\r\x1b[2J\u009b31m\u202e" + phone,
		"created_at":           "call " + phone,
		"updated_at":           "2030-01-02 10:00:00",
	})
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		json bool
	}{{"table", false}, {"json", true}} {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]string{envCallbackToken: testToken}
			args := []string{}
			if tc.json {
				args = append(args, "--json")
			}
			p, url := startListen(t, vars, args...)
			require.Equal(t, http.StatusOK, postRawCallback(t, url, string(data), testToken))
			want := 2 // the header and the row
			if tc.json {
				want = 1
			}
			p.waitFor(t, "the event", func(stdout, _ string) bool { return strings.Contains(stdout, "1005") })
			assert.Equal(t, exitOK, p.stop(t))
			out := p.stdout.String()
			require.Equal(t, want, strings.Count(out, "\n"), "one line per callback: %q", out)
			for _, c := range out {
				if c != '\n' {
					assert.False(t, unicode.IsControl(c), "control character %U in %q", c, out)
				}
				assert.NotEqual(t, '\u202e', c, "bidi override in %q", out)
			}
			for _, personal := range []string{testName, identity, phone, email, "771234"} {
				assert.NotContains(t, out, personal)
			}
			checkNoLeak(t, p.args, out, p.stderr.String())
			line := p.stdout.lines()[want-1]
			if tc.json {
				got := readLine(t, line)
				assert.Equal(t, int64(1005), got.AgentID)
				assert.Equal(t, "[masked]", got.AgentName)
				assert.Equal(t, flipkyc.KYCStatus("REJECTED\x1b]0;owned\x07 [masked]"), got.KYCStatus, "JSON keeps the text, escaped")
				assert.Contains(t, got.RejectedReason, "blurry [masked]\n12:00:00")
				assert.Equal(t, "call [masked]", got.CreatedAt.Raw)
				assert.Equal(t, "2030-01-02 10:00:00", got.UpdatedAt.Raw)
				return
			}
			assert.Regexp(t, `^\d\d:\d\d:\d\d +1005 +REJECTED\\x1b\]0;owned\\a \[masked\] +10 +- +blurry \[masked\]\\n12:00:00  1005  APPROVED  -  -  -\\r\\x1b\[2J\\u009b31m\\u202e\[masked\] \(problems: created_at: unknown timestamp layout\)$`, line)
		})
	}
}

// listen --db naming a SQLite file that does not exist (a receiver
// started before its run, or a mistyped path) makes the run and says so.
func TestListenDBMadeIsSaid(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "nothere.db")
	listen, _ := startListen(t, map[string]string{envCallbackToken: testToken}, "--db", missing)
	assert.Contains(t, listen.stderr.String(), "flipkyc listen: no run at "+missing+": made a new, empty one; its callbacks are for the agents 'flipkyc onboard --db "+missing+"' creates there (is the path right?)\n")
	assert.FileExists(t, missing)
	listen.stop(t)
}
