package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc/fleet"
)

// onboard creates the run's data key file beside a SQLite run, owner-only,
// says where and what losing it means, and uses it again; a run opened
// with another key is refused, and one without any key still reports.
func TestFleetDataKeyFile(t *testing.T) {
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
