package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc"
)

// writeScaleCSV writes an onboarding CSV of n good agents, all with the
// same two images, in a new directory, and returns its path. Identity
// numbers end in 0000: the fake approves every agent.
func writeScaleCSV(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"ktp.png", "selfie.png"} {
		require.NoError(t, os.Rename(writePNG(t, name), filepath.Join(dir, name)))
	}
	path := filepath.Join(dir, "agents.csv")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	require.NoError(t, err)
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "name,identity_type,identity_number,birth_date,birth_place,gender,occupation,country_id,province_id,city_id,district_id,address,phone_number,email,identity_image,selfie_image")
	for i := range n {
		fmt.Fprintf(w, "Agent Number %d,ktp,3201%08d0000,31-10-1990,Kota Depok,female,private_employee,1,12,184,1234,Jalan Margonda Raya %d,08%010d,,ktp.png,selfie.png\n", i, i, i, i)
	}
	require.NoError(t, w.Flush())
	require.NoError(t, f.Close())
	return path
}

// childEnv is the environment of a child command pointed at a fake: only
// what the test sets, never a real key from the machine's environment.
func childEnv(t *testing.T, vars map[string]string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// peakRSS is the largest resident set of the child that ran, in bytes.
func peakRSS(t *testing.T, c *exec.Cmd) int64 {
	t.Helper()
	ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage)
	require.True(t, ok)
	return ru.Maxrss * 1024 // kilobytes on Linux
}

// onboard --check reads the CSV a batch at a time: the peak resident set
// of the command (the real binary; the fake is in the test's process) at
// 20,000 rows is at most 1.5 times that at 2,000.
func TestOnboardCheckMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	t.Parallel()
	bin := builtBinary(t)
	_, vars := fakeEnv(t)
	rss := map[int]int64{}
	for _, n := range []int{2_000, 20_000} {
		csv := writeScaleCSV(t, n)
		c := exec.Command(bin, "onboard", "--check", "--csv", csv)
		c.Env = childEnv(t, vars)
		var stdout, stderr bytes.Buffer
		c.Stdout, c.Stderr = &stdout, &stderr
		require.NoError(t, c.Run(), stderr.String())
		require.Contains(t, stdout.String(), fmt.Sprintf("%d rows: %d new, 0 in the run (onboard resumes them), 0 bad", n, n))
		rss[n] = peakRSS(t, c)
		t.Logf("onboard --check, %d rows: peak RSS %.1f MB", n, float64(rss[n])/1e6)
	}
	require.LessOrEqual(t, float64(rss[20_000]), 1.5*float64(rss[2_000]), "peak RSS grows with the CSV")
}

// TestOnboardMemoryScale measures the peak resident set of 'flipkyc
// onboard' (the real binary, the fake in a process of its own) onboarding
// 10,000 and 100,000 agents: at most 1.5 times as much at 100,000. The
// run is interrupted once the import's counts line is printed, after the
// first steps were sent; with FLIPKYC_SCALE_TEST=full it runs until every
// agent is final, receiving the fake's callbacks (--listen) with no rate
// limit to speak of. Run it with
// FLIPKYC_SCALE_TEST=1 go test -run TestOnboardMemoryScale -v ./cmd/flipkyc
func TestOnboardMemoryScale(t *testing.T) {
	mode := os.Getenv("FLIPKYC_SCALE_TEST")
	if mode == "" {
		t.Skip("takes minutes: set FLIPKYC_SCALE_TEST=1 (import) or full (whole runs)")
	}
	full := mode == "full"
	bin := builtBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Hour)
	defer cancel()
	// The port onboard --listen receives the callbacks on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	callbacks := l.Addr().String()
	require.NoError(t, l.Close())
	rss := map[int]int64{}
	for _, n := range []int{10_000, 100_000} {
		// A fake of its own: it has none of the other run's agents.
		vars := startFakeProcess(t, ctx, bin, callbacks)
		csv := writeScaleCSV(t, n)
		args := []string{"onboard", "--csv", csv}
		if full {
			args = append(args, "--listen", callbacks, "--rate", "1e6", "--workers", "32")
		}
		c := exec.CommandContext(ctx, bin, args...)
		c.Env = childEnv(t, vars)
		stderr, err := c.StderrPipe()
		require.NoError(t, err)
		began := time.Now()
		require.NoError(t, c.Start())
		lines := bufio.NewScanner(stderr)
		counts := ""
		for lines.Scan() {
			if strings.Contains(lines.Text(), " new, ") {
				counts = lines.Text()
				if !full {
					require.NoError(t, c.Process.Signal(syscall.SIGINT))
				}
				break
			}
		}
		tail := make(chan []string)
		go func() {
			var last []string // the output's last lines, until it exits
			for lines.Scan() {
				last = append(last[max(0, len(last)-9):], lines.Text())
			}
			tail <- last
		}()
		err = c.Wait()
		last := <-tail
		rss[n] = peakRSS(t, c)
		require.Contains(t, counts, fmt.Sprintf("%d rows: %d new, 0 resumed, 0 bad", n, n))
		if full {
			require.NoError(t, err, "the run ends with every agent final; peak RSS %.1f MB; it ended with:\n%s", float64(rss[n])/1e6, strings.Join(last, "\n"))
		}
		t.Logf("onboard (%s), %d agents: peak RSS %.1f MB (%s)", map[bool]string{false: "import", true: "whole run"}[full], n, float64(rss[n])/1e6, time.Since(began).Round(time.Second))
	}
	t.Logf("ratio 100,000 / 10,000: %.2f", float64(rss[100_000])/float64(rss[10_000]))
	require.LessOrEqual(t, float64(rss[100_000]), 1.5*float64(rss[10_000]), "peak RSS grows with the CSV")
}

// startFakeProcess runs 'flipkyc fake' as a process of its own, sending its
// callbacks to callbacks, until the test ends, and returns the variables
// that point the command at it.
func startFakeProcess(t *testing.T, ctx context.Context, bin, callbacks string) map[string]string {
	t.Helper()
	fake := exec.CommandContext(ctx, bin, "fake", "--addr", "127.0.0.1:0", "--callback-url", "http://"+callbacks+"/")
	fake.Env = childEnv(t, map[string]string{envCallbackToken: testToken})
	stdout, err := fake.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, fake.Start())
	t.Cleanup(func() {
		_ = fake.Process.Signal(syscall.SIGINT)
		_ = fake.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	s := decode[fakeStart](t, line)
	return map[string]string{flipkyc.EnvSecretKey: s.SecretKey, flipkyc.EnvAPIBaseURL: s.AgentsURL, flipkyc.EnvKYCBaseURL: s.KYCURL,
		envCallbackToken: testToken}
}
