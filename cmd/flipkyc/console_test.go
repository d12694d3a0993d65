package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// bearerGet fetches a console page with the token as a bearer header and
// returns its status and HTML.
func bearerGet(t *testing.T, base, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+consoleTestToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// waitForPage fetches a console page until it holds want, and returns it.
func waitForPage(t *testing.T, base, path, want string) string {
	t.Helper()
	deadline := time.Now().Add(fleetWait)
	for {
		_, body := bearerGet(t, base, path)
		if strings.Contains(body, want) {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never held %q: %s", path, want, body)
		}
		time.Sleep(100 * time.Millisecond) // between reads of a page that changes on its own
	}
}

// While onboard works a SQLite run, the console started on it shows the
// run live (the overview reloads itself) and names the process that works
// it, without taking the run's lock from it; once onboard is done, the
// console works the run itself.
func TestConsoleLiveRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	bin := builtBinary(t)
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(filepath.Join(dir, "fleet"), os.DirFS("../../examples/fleet")))
	cbAddr := "127.0.0.1:" + freePort(t)
	fake := flipkyctest.NewServer(t, flipkyctest.WithSecretKey(testKey), flipkyctest.WithCallbacks("http://"+cbAddr+"/", testToken),
		flipkyctest.WithDecisionDelay(3*time.Second))
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		flipkyc.EnvSecretKey + "=" + testKey, flipkyc.EnvAPIBaseURL + "=" + fake.AgentsURL, flipkyc.EnvKYCBaseURL + "=" + fake.KYCURL,
		envCallbackToken + "=" + testToken, envConsoleToken + "=" + consoleTestToken}

	onboard := exec.Command(bin, "onboard", "--csv", filepath.Join(dir, "fleet", "agents.csv"), "--listen", cbAddr)
	onboard.Env = env
	pr, err := onboard.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, onboard.Start())
	onboardErr := &syncBuffer{}
	working, scanned := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(scanned)
		var once sync.Once
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			_, _ = onboardErr.Write([]byte(sc.Text() + "\n"))
			if strings.HasPrefix(sc.Text(), "progress:") {
				once.Do(func() { close(working) }) // onboard's Run holds the run's lock
			}
		}
	}()
	select {
	case <-working:
	case <-time.After(wait):
		t.Fatal("onboard did not start working the run")
	}

	base, stderr := startConsole(t, bin, env, "--db", filepath.Join(dir, "fleet", "agents.fleet.db"))
	body := waitForPage(t, base, "/", "Another process works this run (")
	assert.Contains(t, body, `<meta http-equiv="refresh" content="5">`, "the overview of a live run reloads itself")
	<-scanned // onboard's stderr is read to its end before Wait
	var ee *exec.ExitError
	require.ErrorAs(t, onboard.Wait(), &ee, "onboard ends with a bad row and two rejections")
	assert.Equal(t, exitFailure, ee.ExitCode(), "onboard was not refused the run's lock: %s", onboardErr.String())
	assert.NotContains(t, onboardErr.String(), "another process is working this SQLite run")

	body = waitForPage(t, base, "/", "Nothing is under way")
	assert.NotContains(t, body, `http-equiv="refresh"`, "a run with nothing under way does not reload")
	assert.Regexp(t, `<a href="/agents\?state=approved">approved</a></td><td>3</td>`, body)
	assert.NotContains(t, stderr.String(), "warning")
}
