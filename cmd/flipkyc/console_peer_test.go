package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/fleet"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// asConsoleUser serves h's requests as coming from the console's own user:
// a request made with httptest has no connection whose owner markPeer could
// look up.
func asConsoleUser(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), peerKey{}, true)))
	})
}

// The addresses /proc/net/tcp and tcp6 print, and finding a socket's owner
// in such a listing.
func TestFindSocketOwner(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the console finds a socket's owner on Linux only")
	}
	const listing = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F96 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100007F:D431 0100007F:1F96 01 00000000:00000000 00:00000000 00000000  1000        0 2 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:1F96 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 20 4 30 10 -1
   3: 0000000000000000FFFF00000100007F:D432 0000000000000000FFFF00000100007F:1F96 01 00000000:00000000 00:00000000 00000000  65534 0 4 1
   4: 00000000000000000000000001000000:D433 00000000000000000000000001000000:1F96 01 00000000:00000000 00:00000000 00000000  33 0 5 1
`
	server := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 0x1F96}
	cases := []struct {
		name string
		from *net.TCPAddr
		to   *net.TCPAddr
		uid  int
		ok   bool
	}{
		{"a client of the server", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 0xD431}, server, 1000, true},
		{"the server's own end", server, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 0xD431}, 0, true},
		{"IPv4-mapped in tcp6", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 0xD432}, server, 65534, true},
		{"::1", &net.TCPAddr{IP: net.IPv6loopback, Port: 0xD433}, &net.TCPAddr{IP: net.IPv6loopback, Port: 0x1F96}, 33, true},
		{"a port no socket has", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 0xD439}, server, 0, false},
		{"another server", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 0xD431}, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80}, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			uid, err := findSocketOwner(strings.NewReader(listing), c.from, c.to)
			if !c.ok {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.uid, uid)
		})
	}
}

// A console started without a token serves the user who started it, and
// answers another local user 403, whatever the page: the real binary, on
// loopback, and a client process running as nobody.
func TestConsoleServesItsUserOnly(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the command")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the console finds a socket's owner on Linux only; elsewhere it needs a token")
	}
	if os.Getuid() != 0 {
		t.Skip("a client of another user needs root to start it (CI runs as root)")
	}
	bin := builtBinary(t)
	// A directory user nobody can enter, for the client's copy of this
	// test binary (t.TempDir's parent is its owner's only).
	dir, err := os.MkdirTemp("", "console-peer-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	const key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	dk, err := fleet.ParseDataKey(key)
	require.NoError(t, err)
	dsn := filepath.Join(dir, "run.db")
	d, err := fleet.Open(context.Background(), dsn, fleet.WithDataKey(dk))
	require.NoError(t, err)
	require.NoError(t, d.Close())
	fake := flipkyctest.NewServer(t, flipkyctest.WithSecretKey(testKey))
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, fleet.EnvDataKey + "=" + key,
		flipkyc.EnvSecretKey + "=" + testKey, flipkyc.EnvAPIBaseURL + "=" + fake.AgentsURL, flipkyc.EnvKYCBaseURL + "=" + fake.KYCURL}
	base, stderr := startConsole(t, bin, env, "--db", dsn)
	assert.Contains(t, stderr.String(), "served to this user only")

	for _, path := range []string{"/", "/agents", "/agents/2"} {
		resp, err := http.Get(base + path)
		require.NoError(t, err)
		resp.Body.Close()
		assert.NotEqual(t, http.StatusForbidden, resp.StatusCode, "%s for the console's own user", path)

		// The same request from a process of user nobody (65534): a copy
		// of this test binary, which only fetches the page.
		self, err := os.Executable()
		require.NoError(t, err)
		client := filepath.Join(dir, "client.test")
		if _, err := os.Stat(client); err != nil {
			raw, err := os.ReadFile(self)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(client, raw, 0o755))
		}
		cmd := exec.Command(client, "-test.run=^TestConsoleClientHelper$")
		cmd.Env = []string{"FLIPKYC_CONSOLE_CLIENT_URL=" + base + path}
		cmd.Dir = dir
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		assert.Contains(t, string(out), "status 403", "%s for another user", path)
		assert.Contains(t, string(out), "serves only the user who started it")
	}
}

// TestConsoleClientHelper is the client TestConsoleServesItsUserOnly runs
// as another user: it fetches one page and prints its status and body.
func TestConsoleClientHelper(t *testing.T) {
	u := os.Getenv("FLIPKYC_CONSOLE_CLIENT_URL")
	if u == "" {
		t.Skip("run by TestConsoleServesItsUserOnly")
	}
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	os.Stdout.WriteString("status " + resp.Status[:3] + "\n" + string(body) + "\n")
}
