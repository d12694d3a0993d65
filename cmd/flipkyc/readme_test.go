package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc"
)

// shellBlock returns the first ```sh block after the heading in the
// Markdown file.
func shellBlock(t *testing.T, path, heading string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	text := string(b)
	i := strings.Index(text, heading)
	require.GreaterOrEqual(t, i, 0, "no %q in %s", heading, path)
	text = text[i:]
	start := strings.Index(text, "```sh\n")
	require.GreaterOrEqual(t, start, 0)
	text = text[start+len("```sh\n"):]
	return text[:strings.Index(text, "```\n")]
}

// freePort returns a loopback port nothing listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// The README's dev loop, run as written by bash from a directory with the
// repository's examples, on free ports, with a receiver standing in for
// "your service": every step succeeds, and the service gets the callbacks.
func TestReadmeDevLoop(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash on this machine")
	}
	var mu sync.Mutex
	var statuses []flipkyc.KYCStatus
	parser, err := flipkyc.NewCallbackParser("dev-token")
	require.NoError(t, err)
	service := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, err := parser.Parse(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		statuses = append(statuses, ev.KYCStatus)
		mu.Unlock()
	}))
	defer service.Close()
	_, servicePort, _ := net.SplitHostPort(strings.TrimPrefix(service.URL, "http://"))

	script := shellBlock(t, "README.md", "## Developing without a Flip account")
	script = strings.NewReplacer("127.0.0.1:8080", "127.0.0.1:"+freePort(t), "127.0.0.1:8090", "127.0.0.1:"+freePort(t),
		"127.0.0.1:3000", "127.0.0.1:"+servicePort).Replace(script)
	dir := t.TempDir()
	examples, err := filepath.Abs("../../examples")
	require.NoError(t, err)
	require.NoError(t, os.Symlink(examples, filepath.Join(dir, "examples")))
	out, err := runScript(t, bash, dir, script)
	require.NoError(t, err, out)
	assert.Regexp(t, `(?m)^KYC status +APPROVED$`, out)
	assert.Contains(t, out, "HTTP 200 OK", "the trigger reached the service through listen")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []flipkyc.KYCStatus{flipkyc.StatusUploadIdentitySelfieSuccess, flipkyc.StatusApproved, flipkyc.StatusRejected}, statuses)
	env, err := os.ReadFile(filepath.Join(dir, "fake.env"))
	require.NoError(t, err)
	assert.Contains(t, string(env), "export FLIP_SECRET_KEY=")
}

// runScript runs script with bash -e in dir, the built command first on
// PATH and nothing else of this machine's environment, and stops whatever
// it left running.
func runScript(t *testing.T, bash, dir, script string) (string, error) {
	t.Helper()
	bin := builtBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), fleetWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, bash, "-e", "-c", script)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + filepath.Dir(bin) + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + dir}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // so that what it left running can be stopped
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = wait
	err := cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	return out.String(), err
}

// The fleet README's example, run as written by bash on a copy of
// examples/fleet: onboard exits 1 for its bad row and two rejections, the
// repair approves both, and the run ends with every agent approved.
func TestReadmeFleetExample(t *testing.T) {
	t.Parallel()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash on this machine")
	}
	script := shellBlock(t, "../../fleet/README.md", "# fleet:")
	script = strings.NewReplacer("127.0.0.1:8080", "127.0.0.1:"+freePort(t), "127.0.0.1:8090", "127.0.0.1:"+freePort(t)).Replace(script)
	// onboard's exit status 1 (a bad row, rejections) is the example's
	// point; any other failure ends the script.
	onboard := regexp.MustCompile(`(?m)^flipkyc onboard [^#\n]*`)
	require.True(t, onboard.MatchString(script))
	script = onboard.ReplaceAllString(script, "$0 || [ $$? -eq 1 ] ")
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(filepath.Join(dir, "examples", "fleet"), os.DirFS("../../examples/fleet")))
	out, err := runScript(t, bash, dir, script)
	require.NoError(t, err, out)
	assert.Contains(t, out, "line 7: birth_date: ")
	assert.Contains(t, out, "2 corrections queued")
	assert.Regexp(t, `(?m)^approved +5$`, out)
	assert.NotRegexp(t, `(?m)^rejected`, out[strings.LastIndex(out, "STATE"):])
}

// The README's console walk-through, run as written by bash on a copy of
// examples/fleet, on free ports: onboard leaves two agents rejected, the
// console takes their corrections (as the browser would send them) and
// both are approved.
func TestReadmeConsole(t *testing.T) {
	t.Parallel()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash on this machine")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl on this machine")
	}
	script := shellBlock(t, "README.md", "## Console")
	script = strings.NewReplacer("127.0.0.1:8080", "127.0.0.1:"+freePort(t), "127.0.0.1:8090", "127.0.0.1:"+freePort(t),
		"127.0.0.1:8070", "127.0.0.1:"+freePort(t)).Replace(script)
	onboard := regexp.MustCompile(`(?m)^flipkyc onboard [^#\n]*`)
	require.True(t, onboard.MatchString(script))
	script = onboard.ReplaceAllString(script, "$0 || [ $$? -eq 1 ] ")
	// Every curl's arguments, as another local user sees them in the
	// process list.
	script = `curl() { printf '%s\n' "$*" >> curl.args; command curl "$@"; }` + "\n" + script
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(filepath.Join(dir, "examples", "fleet"), os.DirFS("../../examples/fleet")))
	out, err := runScript(t, bash, dir, script)
	require.NoError(t, err, out)
	token, err := os.ReadFile(filepath.Join(dir, "console.token"))
	require.NoError(t, err)
	args, err := os.ReadFile(filepath.Join(dir, "curl.args"))
	require.NoError(t, err)
	assert.NotContains(t, string(args), strings.TrimSpace(string(token)), "the console token is in a curl's arguments, which every local user can read")
	assert.Contains(t, out, "flipkyc console: serving examples/fleet/agents.fleet.db at http://127.0.0.1:")
	assert.Regexp(t, `(?m)^approved +5$`, out)
	assert.NotContains(t, out, "Rudi Hartono", "the console's output holds no personal value")
	for _, name := range []string{"console.token", "console.auth"} {
		st, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), name)
	}
}
