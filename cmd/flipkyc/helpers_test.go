package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/flipkyctest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wait bounds every wait of the tests; it is an upper bound, never a
// measurement.
const wait = 15 * time.Second

// Secrets and personal data that must never appear where they do not
// belong. The key and token are checked in every output of every command
// run by cli or start; the personal data in every error output.
const (
	testKey   = "sk-cli-test-Zq9XkQ3"
	testToken = "cb-token-cli-Wt7Lp2"
	// The person the tests register (and variants of the identity number).
	testName = "Siti Testdata Nurhaliza"
	// Every phone number of the tests starts so; the identity number's
	// last six digits follow.
	testPhone = "08129988"
	testEmail = "siti.testdata@example.com"
	// Every identity number of the tests starts so.
	testIdentity = "3201987654"
)

var personalData = []string{testName, testPhone, "+628129988", testEmail, "Jalan Testdata Raya", "Kota Testdata", testIdentity}

// result is what one run of the command gave.
type result struct {
	code           int
	stdout, stderr string
}

// envFunc turns a map into run's getenv.
func envFunc(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// cli runs the command in-process with args, the variables and stdin, and
// checks that neither output carries the secret key or the callback token,
// and that the error output carries no personal data.
func cli(t *testing.T, vars map[string]string, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, args, envFunc(vars), strings.NewReader(stdin), &out, &errOut)
	r := result{code: code, stdout: out.String(), stderr: errOut.String()}
	checkNoLeak(t, args, r.stdout, r.stderr)
	return r
}

func checkNoLeak(t *testing.T, args []string, stdout, stderr string) {
	t.Helper()
	for _, secret := range []string{testKey, testToken} {
		assert.NotContains(t, stdout, secret, "stdout of %v", args)
		assert.NotContains(t, stderr, secret, "stderr of %v", args)
	}
	for _, p := range personalData {
		assert.NotContains(t, stderr, p, "stderr of %v", args)
	}
}

// ok runs the command and requires exit status 0.
func ok(t *testing.T, vars map[string]string, args ...string) result {
	t.Helper()
	r := cli(t, vars, "", args...)
	require.Equal(t, exitOK, r.code, "%v: stderr %s", args, r.stderr)
	return r
}

// decode decodes one line of JSON output into v.
func decode[T any](t *testing.T, out string) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal([]byte(out), &v), "output: %s", out)
	require.Equal(t, 1, strings.Count(strings.TrimSpace(out), "\n")+1, "one line of JSON: %s", out)
	return v
}

// syncBuffer collects the output of a command that runs in the background.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines returns the complete lines written so far.
func (b *syncBuffer) lines() []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// proc is a long-running command (fake, listen) run in-process.
type proc struct {
	args           []string
	cancel         context.CancelFunc
	done           chan int
	stdout, stderr *syncBuffer
}

// start runs a long-running command until stop.
func start(t *testing.T, vars map[string]string, args ...string) *proc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &proc{args: args, cancel: cancel, done: make(chan int, 1), stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	go func() { p.done <- run(ctx, args, envFunc(vars), strings.NewReader(""), p.stdout, p.stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-p.done:
		case <-time.After(wait):
		}
	})
	return p
}

// waitFor waits until cond holds for the outputs, or fails.
func (p *proc) waitFor(t *testing.T, what string, cond func(stdout, stderr string) bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond(p.stdout.String(), p.stderr.String()) {
		select {
		case code := <-p.done:
			t.Fatalf("%v exited with %d while waiting for %s; stderr: %s", p.args, code, what, p.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v: no %s; stdout: %s; stderr: %s", p.args, what, p.stdout, p.stderr)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stop interrupts the command, as Ctrl-C does, and returns its exit status.
func (p *proc) stop(t *testing.T) int {
	t.Helper()
	p.cancel()
	select {
	case code := <-p.done:
		p.done <- code // for the cleanup
		return code
	case <-time.After(wait):
		t.Fatalf("%v did not stop", p.args)
		return -1
	}
}

var listenAddr = regexp.MustCompile(`receiving callbacks at (http://\S+/)`)

// startListen runs "listen" on a free port and returns it with its URL.
func startListen(t *testing.T, vars map[string]string, args ...string) (*proc, string) {
	t.Helper()
	p := start(t, vars, append([]string{"listen", "--addr", "127.0.0.1:0"}, args...)...)
	p.waitFor(t, "listening line", func(_, stderr string) bool { return listenAddr.MatchString(stderr) })
	return p, listenAddr.FindStringSubmatch(p.stderr.String())[1]
}

// fakeEnv runs an in-process fake with the test key and returns the
// variables that point the command at it.
func fakeEnv(t *testing.T, opts ...flipkyctest.Option) (*flipkyctest.Server, map[string]string) {
	t.Helper()
	srv := flipkyctest.NewServer(t, append([]flipkyctest.Option{flipkyctest.WithSecretKey(testKey)}, opts...)...)
	return srv, map[string]string{
		flipkyc.EnvSecretKey: testKey, flipkyc.EnvAPIBaseURL: srv.AgentsURL, flipkyc.EnvKYCBaseURL: srv.KYCURL,
	}
}

// writePNG writes a PNG that meets Flip's image rules and returns its path.
func writePNG(t *testing.T, name string) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 300, 300))
	for i := range img.Pix {
		img.Pix[i] = byte(i)
	}
	img.Set(0, 0, color.RGBA{R: 1, A: 255})
	path := filepath.Join(t.TempDir(), name)
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, png.Encode(f, img))
	require.NoError(t, f.Close())
	return path
}

// personArgs are the flags of a complete agent with the given identity
// number; the phone number varies with it, since Flip refuses duplicates.
func personArgs(identityNumber string) []string {
	return []string{
		"--name", testName, "--identity-type", "ktp", "--identity-number", identityNumber,
		"--birth-date", "31-10-1990", "--birth-place", "Kota Testdata", "--gender", "female",
		"--occupation", "private_employee", "--country-id", "1", "--province-id", "12", "--city-id", "184",
		"--district-id", "1234", "--address", "Jalan Testdata Raya 1", "--phone", testPhone + identityNumber[len(identityNumber)-6:],
		"--email", testEmail,
	}
}

// getAgent reads an agent through the command.
func getAgent(t *testing.T, vars map[string]string, id string) flipkyc.Agent {
	t.Helper()
	return decode[flipkyc.Agent](t, ok(t, vars, "agent", "get", id, "--json").stdout)
}

// waitStatus polls the agent through the command until it has status.
func waitStatus(t *testing.T, vars map[string]string, id string, status flipkyc.KYCStatus) flipkyc.Agent {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		a := getAgent(t, vars, id)
		if a.KYCStatus == status {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent %s is %s, not %s", id, a.KYCStatus, status)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
