package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/flipkyc/flipkyc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// binary is the command built once for the package's tests.
var binary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// builtBinary returns the path of the command built from this package,
// building it on first use; TestMain removes it.
func builtBinary(t *testing.T) string {
	t.Helper()
	binary.once.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			binary.err = err
			return
		}
		if binary.dir, err = os.MkdirTemp("", "flipkyc-bin-"); err != nil {
			binary.err = err
			return
		}
		binary.path = filepath.Join(binary.dir, "flipkyc")
		if out, err := exec.Command(goTool, "build", "-o", binary.path, ".").CombinedOutput(); err != nil {
			binary.err = fmt.Errorf("%v: %s", err, out)
		}
	})
	if binary.err != nil {
		t.Fatalf("building the command: %v", binary.err)
	}
	return binary.path
}

// removeBuiltBinary removes what builtBinary built.
func removeBuiltBinary() {
	if binary.dir != "" {
		_ = os.RemoveAll(binary.dir)
	}
}

// The built binary: main reads the process environment, exits with run's
// status, and stops fake and listen cleanly on SIGINT and SIGTERM.
func TestBinary(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the command")
	}
	bin := builtBinary(t)

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	// Only what the test sets: never a real key from the machine's
	// environment.
	baseEnv := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	command := func(env []string, args ...string) *exec.Cmd {
		c := exec.CommandContext(ctx, bin, args...)
		c.Env = append(append([]string(nil), baseEnv...), env...)
		return c
	}
	exitCode := func(err error) int {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		require.NoError(t, err)
		return 0
	}

	// fake, stopped by SIGINT; commands against it read the environment.
	fake := command([]string{envCallbackToken + "=" + testToken}, "fake", "--addr", "127.0.0.1:0")
	stdout, err := fake.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, fake.Start())
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	s := decode[fakeStart](t, line)
	env := []string{flipkyc.EnvSecretKey + "=" + s.SecretKey, flipkyc.EnvAPIBaseURL + "=" + s.AgentsURL, flipkyc.EnvKYCBaseURL + "=" + s.KYCURL}

	got, err := command(env, "locations", "provinces", "1").Output()
	require.NoError(t, err)
	assert.Contains(t, string(got), "Jawa Barat")
	assert.Equal(t, exitFailure, exitCode(command(env, "agent", "get", "5").Run()))
	assert.Equal(t, exitUsage, exitCode(command(env, "agent", "get").Run()))
	assert.Equal(t, exitUsage, exitCode(command(nil, "agent", "get", "5").Run()), "no FLIP_SECRET_KEY")

	require.NoError(t, fake.Process.Signal(syscall.SIGINT))
	assert.Equal(t, exitOK, exitCode(fake.Wait()))

	// listen, stopped by SIGTERM.
	listen := command([]string{envCallbackToken + "=" + testToken}, "listen", "--addr", "127.0.0.1:0")
	stderr, err := listen.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, listen.Start())
	first, err := bufio.NewReader(stderr).ReadString('\n')
	require.NoError(t, err)
	m := listenAddr.FindStringSubmatch(first)
	require.NotNil(t, m, first)
	got, err = command([]string{envCallbackToken + "=" + testToken}, "trigger", "APPROVED", "--agent", "1", "--url", m[1]).Output()
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(string(got), "HTTP 200 OK\n"), "%s", got)
	require.NoError(t, listen.Process.Signal(syscall.SIGTERM))
	assert.Equal(t, exitOK, exitCode(listen.Wait()))
}
