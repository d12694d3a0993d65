package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/flipkyc/flipkyc/flipkyctest"
)

// openPTY opens a pseudo-terminal of cols × rows and returns its two ends.
func openPTY(t *testing.T, cols, rows uint16) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal on this machine: %v", err)
	}
	fd := int(master.Fd())
	require.NoError(t, unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0))
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	require.NoError(t, err)
	slave, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|syscall.O_NOCTTY, 0)
	require.NoError(t, err)
	require.NoError(t, unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Col: cols, Row: rows}))
	return master, slave
}

// screen replays terminal output on a terminal cols wide and returns the
// row each progress redraw ("\r\x1b[K") started on and the widest column
// any redraw reached. A character written past the last column wraps to a
// new row, as a terminal does.
func screen(out string, cols int) (redrawRows map[int]bool, widest int) {
	redrawRows = map[int]bool{}
	row, col, inRedraw := 0, 0, false
	for i := 0; i < len(out); {
		switch {
		case strings.HasPrefix(out[i:], "\r\x1b[K"):
			col, inRedraw = 0, true
			redrawRows[row] = true
			i += 4
			continue
		case out[i] == '\r':
			col = 0
		case out[i] == '\n':
			row, col, inRedraw = row+1, 0, false
		default:
			r := []rune(out[i:])[0]
			if col == cols {
				row, col = row+1, 0
			}
			col++
			if inRedraw {
				widest = max(widest, col)
			}
			i += len(string(r))
			continue
		}
		i++
	}
	return redrawRows, widest
}

// The progress of a real run, drawn on an 80-column pseudo-terminal: every
// redraw lands on the same row and stays within 79 columns, however many
// states it lists, shows whole counts only (the left-out ones marked), and
// agents waiting for Flip's review are counted as waiting, not in an ETA.
func TestProgressOnA80ColumnTerminal(t *testing.T) {
	t.Parallel()
	master, slave := openPTY(t, 80, 24)
	defer master.Close()
	var agents []fleetAgent
	for i := range 26 {
		agents = append(agents, fleetAgent{suffix: fmt.Sprintf("7%05d", i)})
	}
	csvPath := writeFleetRun(t, agents)
	_, vars := fakeEnv(t, flipkyctest.WithDecisionDelay(1500*time.Millisecond))
	output := make(chan string, 1)
	go func() {
		b, err := io.ReadAll(master)
		var pathErr *os.PathError
		if err != nil && !errors.As(err, &pathErr) { // EIO once the slave closes
			t.Errorf("reading the terminal: %v", err)
		}
		output <- string(b)
	}()

	ctx, cancel := context.WithTimeout(context.Background(), fleetWait)
	defer cancel()
	var stdout strings.Builder
	code := run(ctx, append([]string{"onboard", "--csv", csvPath, "--db", defaultDB(csvPath)}, fast...),
		envFunc(vars), strings.NewReader(""), &stdout, slave)
	slave.Close()
	out := <-output
	require.Equal(t, exitOK, code, out)
	checkNoPersonalData(t, agents, nil, stdout.String(), out)

	rows, widest := screen(out, 80)
	assert.Len(t, rows, 1, "every redraw on one row:\n%q", out)
	assert.LessOrEqual(t, widest, 79)
	assert.Positive(t, widest)
	assert.Regexp(t, `waiting for \d+ decisions?`, out, "agents in review are shown as waiting for decisions")
	assert.Contains(t, out, "26/26 final")
	item := regexp.MustCompile(`^[a-z_ ]+ \d+$`)
	for _, redraw := range strings.Split(out, "\r\x1b[K")[1:] {
		redraw, _, _ = strings.Cut(redraw, "\r\n")
		_, shown, ok := strings.Cut(redraw, " | ")
		if !assert.True(t, ok, "counts in %q", redraw) {
			continue
		}
		for _, count := range strings.Split(strings.TrimSuffix(shown, " "+cutMark), ", ") {
			assert.Regexp(t, item, count, "whole counts only: %q", redraw)
		}
	}
}
