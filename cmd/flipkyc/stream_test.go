package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc/fleet"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// onboard reads the CSV a batch of 200 rows at a time, storing each batch
// in the run as it goes, and sends Flip nothing but location look-ups
// until it has read all of it. The CSV comes through a named pipe, written
// in two parts: while the second is held back, the run has the rows of the
// first and Flip has been sent nothing else. A line that cannot be parsed
// is a bad row; the rows after it are read. Interrupted, onboard says how
// to resume.
func TestOnboardStreamsCSVAndSendsNothingBeforeItIsRead(t *testing.T) {
	t.Parallel()
	srv, vars := fakeEnv(t)
	path := writeScaleCSV(t, 460)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.SplitAfter(string(data), "\n")
	lines[300] = strings.Replace(lines[300], "31-10-1990", "31-13-1990", 1) // line 301: a bad date
	pipe := filepath.Join(filepath.Dir(path), "stream.csv")
	require.NoError(t, syscall.Mkfifo(pipe, 0o600))

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	args := []string{"onboard", "--csv", pipe}
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, envFunc(vars), strings.NewReader(""), &stdout, &stderr) }()
	w, err := os.OpenFile(pipe, os.O_WRONLY, 0) // once onboard opens it
	require.NoError(t, err)
	defer w.Close()
	_, err = w.WriteString(strings.Join(lines[:451], "")) // the header and lines 2 to 451
	require.NoError(t, err)

	// The first two batches (lines 2 to 401) are stored while the rest is
	// still to come.
	stored := func() int {
		db, err := fleet.OpenRun(ctx, defaultDB(pipe))
		if err != nil {
			return 0
		}
		defer db.Close()
		c, err := db.Counts(ctx)
		if err != nil {
			return 0
		}
		return c.Total()
	}
	for stored() < 399 { // 400 rows, one of them bad
		select {
		case code := <-done:
			t.Fatalf("onboard ended (%d) before the CSV was written: %s", code, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	sentOnlyLookUps := func() bool {
		for _, req := range srv.Requests() {
			switch req.Route {
			case flipkyctest.RouteCountries, flipkyctest.RouteProvinces, flipkyctest.RouteCities, flipkyctest.RouteDistricts:
			default:
				return false
			}
		}
		return true
	}
	assert.True(t, sentOnlyLookUps(), "sent Flip more than look-ups before the CSV was read")

	// The rest, with a line that cannot be parsed (line 452).
	_, err = w.WriteString("Agent \"quoted\" badly,ktp\n" + strings.Join(lines[451:], ""))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	for sentOnlyLookUps() {
		select {
		case code := <-done:
			t.Fatalf("onboard ended (%d) without onboarding: %s", code, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel() // the run is under way: what is tested here is done; as Ctrl-C would
	assert.Equal(t, exitFailure, <-done)
	assert.True(t, strings.HasSuffix(stderr.String(), "flipkyc onboard: interrupted: run the same command again to resume the run; nothing that took effect is sent again\n"), stderr.String())
	checkNoLeak(t, args, stdout.String(), stderr.String())
	assert.Contains(t, stderr.String(), "line 301: birth_date: want DD-MM-YYYY or YYYY-MM-DD")
	assert.Contains(t, stderr.String(), "line 452: row: cannot be read as CSV (byte 7): bare \" in non-quoted-field\n")
	assert.Contains(t, stderr.String(), "461 rows: 459 new, 0 resumed, 2 bad")
}
