package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/flipkyc/flipkyc/flipkyctest"
)

// The command gives the fleet a logger on stderr: warnings always, and
// with -v River's and the fleet's other lines, none with personal data
// (fleetCLI checks).
func TestOnboardLogs(t *testing.T) {
	t.Parallel()
	_, vars := fakeEnv(t)
	agents := sampleRun[:2]
	csvPath := writeFleetRun(t, agents)
	db := filepath.Join(filepath.Dir(csvPath), "agents.fleet.db")
	r := fleetCLI(t, vars, agents, append([]string{"onboard", "--csv", csvPath, "--db", db, "-v"}, fast...)...)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "level=INFO")
	quiet := fleetCLI(t, vars, agents, append([]string{"onboard", "--csv", csvPath, "--db", db}, fast...)...)
	assert.False(t, strings.Contains(quiet.stderr, "level=INFO") || strings.Contains(quiet.stderr, "level=DEBUG"), quiet.stderr)
}

// A submission Flip refused parks the agent with the way out "resume";
// 'flipkyc resume --db' puts it back, and the run ends with every agent
// final.
func TestResumeCommand(t *testing.T) {
	t.Parallel()
	srv, vars := fakeEnv(t)
	agents := sampleRun[:2]
	csvPath := writeFleetRun(t, agents)
	db := filepath.Join(filepath.Dir(csvPath), "agents.fleet.db")
	srv.FailNext(flipkyctest.RouteSubmit, 2, 400)
	r := fleetCLI(t, vars, agents, append([]string{"onboard", "--csv", csvPath}, fast...)...)
	assert.Equal(t, exitFailure, r.code, r.stderr)
	assert.Contains(t, r.stderr, "flipkyc onboard: 0 of 2 agents final (0 approved, 0 rejected, 0 failed their upload check); 2 need attention\n")
	st := fleetCLI(t, vars, agents, "status", "--db", db)
	assert.Contains(t, st.stdout, "resume: fix what WHY names (Flip reachable again), then run: flipkyc resume --db "+db+"\n")

	r = fleetCLI(t, vars, agents, append([]string{"resume", "--db", db}, fast...)...)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "flipkyc resume: 2 parked agents put back\n")
	assert.True(t, strings.HasSuffix(r.stderr, "flipkyc resume: 2 of 2 agents final (2 approved, 0 rejected, 0 failed their upload check); 0 need attention\n"), r.stderr)
	accepted := 0
	for _, req := range srv.RequestsTo(flipkyctest.RouteSubmit) {
		if req.Status == 200 {
			accepted++
		}
	}
	assert.Equal(t, 2, accepted, "each agent submitted once with effect")
}
