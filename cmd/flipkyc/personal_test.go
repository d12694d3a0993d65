package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc/fleet"
)

// onboard creates the run's data key file beside a SQLite run, owner-only,
// says where and what losing it means, and uses it again; a run opened
// with another key is refused, and one without any key still reports.
func TestFleetDataKeyFile(t *testing.T) {
	t.Parallel()
	_, vars := fakeEnv(t)
	agents := []fleetAgent{{suffix: "500001"}, {suffix: "500002"}}
	csvPath := writeFleetRun(t, agents)
	db := filepath.Join(filepath.Dir(csvPath), "agents.fleet.db")
	keyFile := db + ".key"

	r := fleetCLI(t, vars, agents, append([]string{"onboard", "--csv", csvPath}, fast...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "flipkyc: created the data key file "+keyFile+" (owner-only): it encrypts this run's personal data; keep it apart from copies of the database, and do not lose it: without it the run's personal data cannot be read\n")
	st, err := os.Stat(keyFile)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	key, err := os.ReadFile(keyFile)
	require.NoError(t, err)
	assert.NotContains(t, r.stderr, strings.TrimSpace(string(key)), "the key itself is never printed")

	r = fleetCLI(t, vars, agents, append([]string{"onboard", "--csv", csvPath}, fast...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.NotContains(t, r.stderr, "created the data key file")

	other := map[string]string{fleet.EnvDataKey: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}
	for k, v := range vars {
		other[k] = v
	}
	r = fleetCLI(t, other, agents, append([]string{"onboard", "--csv", csvPath}, fast...)...)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "the data key given is not this run's")

	// status needs no key for counts; an explicit key file that is not
	// there is an error, not a silent run without one.
	require.NoError(t, os.Rename(keyFile, keyFile+".moved"))
	assert.Equal(t, 2, statusCounts(t, vars, agents, db)[fleet.StateApproved])
	r = fleetCLI(t, vars, agents, "status", "--db", db, "--key-file", keyFile)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "the run's data key: reading the data key file")
}

// forget erases agents named by line, agent id or identity numbers read
// from standard input (never from the arguments), says what it erased
// without a value, and status and exports go on; status --inventory says
// what the run holds and where without a value; rekey moves the run to a
// new key file, after which the old one is refused.
func TestFleetForgetInventoryRekey(t *testing.T) {
	t.Parallel()
	srv, vars := fakeEnv(t)
	agents := []fleetAgent{{suffix: "600001"}, {suffix: "600002"}, {suffix: "600003"}}
	csvPath := writeFleetRun(t, agents)
	dir := filepath.Dir(csvPath)
	db := filepath.Join(dir, "agents.fleet.db")
	r := fleetCLI(t, vars, agents, append([]string{"onboard", "--csv", csvPath}, fast...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	export := filepath.Join(t.TempDir(), "export.csv")
	r = fleetCLI(t, vars, agents, "status", "--db", db, "--export", export)
	require.Equal(t, exitOK, r.code, r.stderr)

	r = fleetCLI(t, vars, agents, "status", "--db", db, "--inventory")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "agents: 3, holding personal data: 3, erased: 0\n")
	assert.Regexp(t, `(?m)^identity_number\s+3\s+\d{4}-\d\d-\d\d \d\d:\d\d UTC$`, r.stdout)
	assert.Regexp(t, `(?m)^email\s+1\s`, r.stdout)
	assert.Contains(t, r.stdout, "photo directories referenced (the run reads the photos there; it keeps no copy):\n  "+dir+"\n")
	assert.Contains(t, r.stdout, "  "+export+": ")
	assert.Contains(t, r.stdout, ", 3 agents, identity numbers masked\n")

	var id2 int64
	for _, a := range srv.Agents() {
		if a.IdentityNumber == agents[1].identity() {
			id2 = a.ID
		}
	}
	var in bytes.Buffer
	in.WriteString(agents[0].identity() + "\n")
	code := run(context.Background(), []string{"forget", "--db", db, "--identity-numbers", "-"}, envFunc(vars), &in, &bytes.Buffer{}, &bytes.Buffer{})
	require.Equal(t, exitOK, code)
	r = fleetCLI(t, vars, agents, "forget", "--db", db, "--agent-id", fmt.Sprint(id2))
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, fmt.Sprintf("line 3 (agent %d): erased name, identity_number, birth_date, birth_place, gender, occupation, address, phone_number, image_paths (request, state approved)\n", id2), r.stdout)
	r = fleetCLI(t, vars, agents, "forget", "--db", db, "--line", "9")
	assert.Equal(t, exitFailure, r.code)
	assert.Equal(t, "line 9: no agent of this run\n", r.stderr)
	r = fleetCLI(t, vars, agents, "forget", "--db", db, "--identity-numbers", "-", "--line", "2")
	assert.Equal(t, exitUsage, r.code)

	r = fleetCLI(t, vars, agents, "status", "--db", db, "--inventory", "--json")
	require.Equal(t, exitOK, r.code, r.stderr)
	inv := decode[fleet.Inventory](t, r.stdout)
	assert.Equal(t, 1, inv.Holding)
	assert.Equal(t, 2, inv.Erased)
	assert.Equal(t, 3, statusCounts(t, vars, agents, db)[fleet.StateApproved], "status counts erased agents")
	revealed := filepath.Join(t.TempDir(), "revealed.csv")
	r = fleetCLI(t, vars, agents, "status", "--db", db, "--export", revealed, "--reveal")
	require.Equal(t, exitOK, r.code, r.stderr)
	recs := readCSVFile(t, revealed)
	require.Len(t, recs, 4)
	assert.Equal(t, []string{"[erased]", "[erased]", agents[2].identity()}, []string{recs[1][1], recs[2][1], recs[3][1]})

	newKey := filepath.Join(t.TempDir(), "new.key")
	r = fleetCLI(t, vars, agents, "rekey", "--db", db, "--new-key-file", newKey)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "created the data key file "+newKey)
	assert.Contains(t, r.stderr, "give --key-file "+newKey+" from now on, and destroy the old key")
	r = fleetCLI(t, vars, agents, "status", "--db", db, "--export", revealed+"2", "--reveal")
	assert.Equal(t, exitUsage, r.code, "the old key file beside the run")
	assert.Contains(t, r.stderr, "not this run's")
	r = fleetCLI(t, vars, agents, "status", "--db", db, "--export", revealed+"2", "--reveal", "--key-file", newKey)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, agents[2].identity(), readCSVFile(t, revealed+"2")[3][1])
}

func TestParseRetain(t *testing.T) {
	for in, want := range map[string]time.Duration{"30d": 30 * 24 * time.Hour, "72h": 72 * time.Hour, "0": time.Millisecond, "1d": 24 * time.Hour, "36500d": 36500 * 24 * time.Hour} {
		got, err := parseRetain(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "-1d", "thirty days", "5x", "36501d", "300000d", "876600000h"} {
		_, err := parseRetain(in)
		assert.Error(t, err, in)
	}
}

// A run made by an earlier flipkyc (personal data in clear) is converted
// by the first command that opens it: status creates the key file it
// needs, says so, and reports the run.
func TestFleetStatusConvertsOldRun(t *testing.T) {
	_, vars := fakeEnv(t)
	db := filepath.Join(t.TempDir(), "old.fleet.db")
	b, err := os.ReadFile("../../fleet/testdata/main-v0.fleet.db")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(db, b, 0o600))
	r := fleetCLI(t, vars, nil, "status", "--db", db)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "created the data key file "+db+".key")
	assert.Contains(t, r.stdout, "approved  2\n")
	converted, err := os.ReadFile(db)
	require.NoError(t, err)
	assert.NotContains(t, string(converted), "Agent Number", "the run was converted")
}

// status writes nothing to a run it reads: one of an earlier schema
// version (1, before the journal) is read as it is, not upgraded, in either
// journal mode, and leaves no file beside it; the next writing command
// upgrades it.
func TestFleetStatusLeavesRunAsItWas(t *testing.T) {
	t.Parallel()
	_, vars := fakeEnv(t)
	orig, err := os.ReadFile("../../fleet/testdata/main-v1.fleet.db")
	require.NoError(t, err)
	for _, mode := range []string{"delete", "wal"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			db := filepath.Join(dir, "old.fleet.db")
			require.NoError(t, os.WriteFile(db, orig, 0o600))
			// The fleet tests' data key, which sealed the run.
			require.NoError(t, os.WriteFile(db+".key", []byte("dGVzdCBkYXRhIGtleSBvZiB0aGUgZmxlZXQgdGVzdHM=\n"), 0o600))
			sqlDB, err := sql.Open("sqlite", db)
			require.NoError(t, err)
			_, err = sqlDB.Exec("PRAGMA journal_mode=" + mode)
			require.NoError(t, err)
			require.NoError(t, sqlDB.Close())
			before, err := os.ReadFile(db)
			require.NoError(t, err)
			for _, args := range [][]string{nil, {"--inventory"}, {"--erasures"}, {"--json"}} {
				r := fleetCLI(t, vars, nil, append([]string{"status", "--db", db}, args...)...)
				require.Equal(t, exitOK, r.code, "%v: %s", args, r.stderr)
				after, err := os.ReadFile(db)
				require.NoError(t, err)
				require.True(t, bytes.Equal(before, after), "status %v changed the run's file", args)
				entries, err := os.ReadDir(dir)
				require.NoError(t, err)
				require.Len(t, entries, 2, "status %v left files beside the run and its key: %v", args, entries)
			}
			r := fleetCLI(t, vars, nil, "status", "--db", db)
			assert.Contains(t, r.stdout, "approved  2\n")
			assert.Contains(t, r.stdout, "rejected  2\n")
			version := func() (v int) {
				sqlDB, err := sql.Open("sqlite", "file:"+db+"?mode=ro")
				require.NoError(t, err)
				defer sqlDB.Close()
				require.NoError(t, sqlDB.QueryRow("SELECT MAX(version) FROM fleet_schema").Scan(&v))
				return v
			}
			assert.Equal(t, 1, version(), "status upgraded the run")
			r = fleetCLI(t, vars, nil, "forget", "--line", "5", "--db", db)
			require.Equal(t, exitOK, r.code, r.stderr)
			assert.Equal(t, 3, version(), "a writing command upgrades the run")
		})
	}
}

// --key-file naming the run's database or one of its files is refused
// before anything is written: onboard of a new run would otherwise write
// the key where its database goes and then fail to open it.
func TestFleetKeyFileIsNotTheRunsDatabase(t *testing.T) {
	t.Parallel()
	_, vars := fakeEnv(t)
	agents := []fleetAgent{{suffix: "500011"}}
	csvPath := writeFleetRun(t, agents)
	db := filepath.Join(filepath.Dir(csvPath), "agents.fleet.db")
	for _, keyFile := range []string{db, db + "-wal", db + ".lock"} {
		r := fleetCLI(t, vars, agents, append([]string{"onboard", "--csv", csvPath, "--key-file", keyFile}, fast...)...)
		assert.Equal(t, exitUsage, r.code, keyFile)
		assert.Contains(t, r.stderr, filepath.Base(keyFile)+" is the run's database or one of its files", keyFile)
		assert.NotContains(t, r.stderr, "created the data key file", keyFile)
		_, err := os.Stat(keyFile)
		assert.ErrorIs(t, err, os.ErrNotExist, "nothing written at %s", keyFile)
	}
	r := fleetCLI(t, vars, agents, append([]string{"onboard", "--csv", csvPath, "--key-file", db + ".key"}, fast...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	r = fleetCLI(t, vars, agents, "status", "--db", db, "--key-file", db)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "agents.fleet.db is the run's database or one of its files")
}

// A key file other users can read is used, with a warning saying so and
// what to do; an owner-only one is used without a word.
func TestFleetKeyFileReadableByOthersIsWarnedOf(t *testing.T) {
	t.Parallel()
	_, vars := fakeEnv(t)
	agents := []fleetAgent{{suffix: "500021"}}
	csvPath := writeFleetRun(t, agents)
	db := filepath.Join(filepath.Dir(csvPath), "agents.fleet.db")
	r := fleetCLI(t, vars, agents, append([]string{"onboard", "--csv", csvPath}, fast...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	const warning = "can be read by other users"
	for _, mode := range []os.FileMode{0o600, 0o640, 0o644} {
		require.NoError(t, os.Chmod(db+".key", mode))
		r = fleetCLI(t, vars, agents, "status", "--db", db, "--export", filepath.Join(t.TempDir(), "x.csv"), "--reveal")
		require.Equal(t, exitOK, r.code, r.stderr)
		if mode == 0o600 {
			assert.NotContains(t, r.stderr, warning)
			continue
		}
		assert.Contains(t, r.stderr, filepath.Base(db)+".key "+warning, mode)
		assert.Contains(t, r.stderr, "chmod 600", mode)
	}
}

// status --erasures lists the erasures the run recorded (line, agent id,
// state, kinds of data, why and when; no value), so a company can show
// that an erasure it was asked for happened.
func TestFleetStatusErasures(t *testing.T) {
	t.Parallel()
	_, vars := fakeEnv(t)
	agents := []fleetAgent{{suffix: "600031"}, {suffix: "600032"}}
	csvPath := writeFleetRun(t, agents)
	db := filepath.Join(filepath.Dir(csvPath), "agents.fleet.db")
	r := fleetCLI(t, vars, agents, append([]string{"onboard", "--csv", csvPath}, fast...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	r = fleetCLI(t, vars, agents, "status", "--db", db, "--erasures")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "no erasure recorded\n", r.stdout)

	r = fleetCLI(t, vars, agents, "forget", "--db", db, "--line", "3")
	require.Equal(t, exitOK, r.code, r.stderr)
	r = fleetCLI(t, vars, agents, "status", "--db", db, "--erasures")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Regexp(t, `(?m)^LINE\s+AGENT\s+STATE\s+REASON\s+ERASED\s+FIELDS$`, r.stdout)
	assert.Regexp(t, `(?m)^3\s+\d+\s+approved\s+request\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+name, identity_number, .*image_paths$`, r.stdout)

	r = fleetCLI(t, vars, agents, "status", "--db", db, "--erasures", "--json")
	require.Equal(t, exitOK, r.code, r.stderr)
	erasures := decode[[]fleet.Erasure](t, r.stdout)
	require.Len(t, erasures, 1)
	assert.Equal(t, 3, erasures[0].Line)
	assert.Equal(t, fleet.ReasonRequest, erasures[0].Reason)
	assert.Contains(t, erasures[0].Fields, string(fleet.FieldIdentityNumber))

	r = fleetCLI(t, vars, agents, "status", "--db", db, "--erasures", "--inventory")
	assert.Equal(t, exitUsage, r.code)
}

// A key made for a run that then does not open (--db names a file that is
// not a SQLite database, or another program's SQLite database) is removed,
// the command does not say it created one, and the file is untouched.
func TestFleetKeyNotToldForARunThatDidNotOpen(t *testing.T) {
	t.Parallel()
	_, vars := fakeEnv(t)
	agents := []fleetAgent{{suffix: "500021"}}
	csvPath := writeFleetRun(t, agents)
	other := filepath.Join(filepath.Dir(csvPath), "other.db")
	sqlDB, err := sql.Open("sqlite", other)
	require.NoError(t, err)
	_, err = sqlDB.Exec("CREATE TABLE foo (x)")
	require.NoError(t, err)
	require.NoError(t, sqlDB.Close())
	for _, tc := range []struct {
		db, says string
		code     int
	}{
		{csvPath, "is not a SQLite database", exitFailure},
		{other, "the SQLite database holds another program's tables, not a run's (other.db)", exitUsage},
	} {
		before, err := os.ReadFile(tc.db)
		require.NoError(t, err)
		r := fleetCLI(t, vars, agents, append([]string{"onboard", "--csv", csvPath, "--db", tc.db}, fast...)...)
		assert.Equal(t, tc.code, r.code, r.stderr)
		assert.Contains(t, r.stderr, tc.says)
		assert.NotContains(t, r.stderr, "created the data key file")
		_, err = os.Stat(tc.db + ".key")
		assert.ErrorIs(t, err, os.ErrNotExist, "the key made for it is removed")
		after, err := os.ReadFile(tc.db)
		require.NoError(t, err)
		assert.Equal(t, before, after, "%s is untouched", tc.db)
	}
}
