package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/fleet"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// binCLI runs the built command with args and the variables as its whole
// environment (never the machine's), bounded by fleetWait, and checks its
// outputs for secrets and the agents' personal data.
func binCLI(t *testing.T, vars map[string]string, agents []fleetAgent, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fleetWait)
	defer cancel()
	c := exec.CommandContext(ctx, builtBinary(t), args...)
	c.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range vars {
		c.Env = append(c.Env, k+"="+v)
	}
	var out, errOut bytes.Buffer
	c.Stdout, c.Stderr = &out, &errOut
	err := c.Run()
	r := result{stdout: out.String(), stderr: errOut.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("%v: %v", args, err)
	}
	checkNoPersonalData(t, agents, args, r.stdout, r.stderr)
	return r
}

// River's own warnings and errors reach stderr at the default level, through
// the logger the command gives the fleet: a job of a kind no worker
// handles (River logs "Unhandled job kind" at level ERROR) is reported on
// stderr by 'flipkyc resume' without -v, with no personal value, and no
// informational line is.
func TestRiverWarningsOnStderr(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the command")
	}
	_, vars := fakeEnv(t)
	agents := sampleRun[:1]
	csvPath := writeFleetRun(t, agents)
	db := defaultDB(csvPath)
	r := fleetCLI(t, vars, agents, append([]string{"onboard", "--csv", csvPath}, fast...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	// A job River fetches and has no worker for; one attempt, then River
	// discards it and the run ends.
	execDB(t, db, "INSERT INTO river_job (kind, max_attempts, args) VALUES ('flipkyc_test_unknown', 1, '{}')")

	r = binCLI(t, vars, agents, append([]string{"resume", "--db", db}, fast...)...)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Regexp(t, regexp.MustCompile(`(?m)^time=\S+ level=ERROR msg=".*Unhandled job kind" kind=flipkyc_test_unknown job_id=\d+$`), r.stderr)
	assert.NotContains(t, r.stderr, "level=INFO")
	assert.NotContains(t, r.stderr, "level=DEBUG")
}

// refuseCreates answers a create whose address is one of addresses with
// Flip's 422 VALIDATION_ERROR on the address (code 1041), a rule of Flip's
// the SDK does not check, and counts those creates in refused.
func refuseCreates(refused *atomic.Int64, addresses ...string) flipkyctest.Option {
	return flipkyctest.WithMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/agents") {
				body, err := io.ReadAll(r.Body)
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				r.Body = io.NopCloser(bytes.NewReader(body))
				form, _ := url.ParseQuery(string(body))
				for _, a := range addresses {
					if form.Get("address") == a {
						refused.Add(1)
						w.Header().Set("Content-Type", "application/json")
						w.WriteHeader(http.StatusUnprocessableEntity)
						_, _ = io.WriteString(w, `{"code":"VALIDATION_ERROR","errors":[{"attribute":"address","code":1041,"message":"Invalid attribute"}]}`)
						return
					}
				}
			}
			next.ServeHTTP(w, r)
		})
	})
}

// Two creates Flip refused for the address: status shows both agents with
// the way out "repair" and the field and rule; resume sends nothing again;
// onboard again with the first agent's row corrected creates it, and a
// repair CSV with the second's corrected address creates that one, each
// once, to approved (the real binary).
func TestFleetCreateRefusedCorrected(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the command")
	}
	agents := []fleetAgent{{suffix: "450001"}, {suffix: "450002"}}
	var refused atomic.Int64
	srv, vars := fakeEnv(t, refuseCreates(&refused, "Jalan Testdata Raya 450001", "Jalan Testdata Raya 450002"))
	csvPath := writeFleetRun(t, agents)
	dir := filepath.Dir(csvPath)
	db := defaultDB(csvPath)
	r := binCLI(t, vars, agents, append([]string{"onboard", "--csv", csvPath}, fast...)...)
	require.Equal(t, exitFailure, r.code, r.stderr)
	assert.Contains(t, r.stderr, "flipkyc onboard: 0 of 2 agents final (0 approved, 0 rejected, 0 failed their upload check); 2 need attention\n")
	st := binCLI(t, vars, agents, "status", "--db", db)
	for line := 2; line <= 3; line++ {
		assert.Regexp(t, regexp.MustCompile(fmt.Sprintf(`(?m)^%d +- +repair +Flip refused the create: .*address: Invalid attribute \(code 1041\)`, line)), st.stdout)
	}
	assert.Contains(t, st.stdout, "repair: give a new image or corrected data, then run: flipkyc repair --db "+db+" --csv FILE")

	r = binCLI(t, vars, agents, append([]string{"resume", "--db", db}, fast...)...)
	assert.Contains(t, r.stderr, "flipkyc resume: 0 parked agents put back\n")
	assert.Empty(t, srv.RequestsTo(flipkyctest.RouteCreateAgent), "no create reached the fake")
	assert.Equal(t, int64(2), refused.Load(), "the refused data was not sent again")

	b, err := os.ReadFile(csvPath)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(csvPath, bytes.Replace(b, []byte(",Jalan Testdata Raya 450001,"), []byte(",Jalan Testdata Raya Nomor 12,"), 1), 0o600))
	r = binCLI(t, vars, agents, append([]string{"onboard", "--csv", csvPath}, fast...)...)
	assert.Equal(t, exitFailure, r.code, r.stderr)
	assert.Contains(t, r.stderr, "flipkyc onboard: 1 changed row taken as corrections of parked agents (way out repair)\n")
	assert.Equal(t, fleet.Counts{"approved": 1, "attention": 1}, statusCounts(t, vars, agents, db))

	fixes := filepath.Join(dir, "fixes.csv")
	require.NoError(t, os.WriteFile(fixes, []byte("identity_number,address\n"+agents[1].identity()+",Jalan Testdata Raya Nomor 14\n"), 0o600))
	r = binCLI(t, vars, agents, append([]string{"repair", "--csv", fixes, "--db", db}, fast...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "flipkyc repair: 1 correction queued\n")
	assert.Equal(t, fleet.Counts{"approved": 2}, statusCounts(t, vars, agents, db))

	addresses := map[string]string{}
	for _, req := range srv.RequestsTo(flipkyctest.RouteCreateAgent) {
		addresses[req.Fields["identity_number"]] += req.Fields["address"] + ";"
	}
	assert.Equal(t, map[string]string{agents[0].identity(): "Jalan Testdata Raya Nomor 12;", agents[1].identity(): "Jalan Testdata Raya Nomor 14;"}, addresses,
		"one create of each agent reached Flip, with its corrected address")
	var ids []string
	for _, a := range srv.Agents() {
		ids = append(ids, a.IdentityNumber)
		assert.Equal(t, flipkyc.StatusApproved, a.KYCStatus)
	}
	assert.ElementsMatch(t, []string{agents[0].identity(), agents[1].identity()}, ids)
	assert.Equal(t, int64(2), refused.Load(), "creates refused in all")
}

// status shows an agent erased while parked with the way out "new run",
// and what to do; resume leaves it.
func TestFleetStatusErasedWayOut(t *testing.T) {
	t.Parallel()
	agents := []fleetAgent{{suffix: "460001"}}
	var refused atomic.Int64
	_, vars := fakeEnv(t, refuseCreates(&refused, "Jalan Testdata Raya 460001"))
	csvPath := writeFleetRun(t, agents)
	db := defaultDB(csvPath)
	r := fleetCLI(t, vars, agents, append([]string{"onboard", "--csv", csvPath}, fast...)...)
	require.Equal(t, exitFailure, r.code, r.stderr)
	r = fleetCLI(t, vars, agents, "forget", "--db", db, "--line", "2")
	require.Equal(t, exitOK, r.code, r.stderr)
	st := fleetCLI(t, vars, agents, "status", "--db", db)
	assert.Regexp(t, regexp.MustCompile(`(?m)^2 +- +new run +Flip refused the create: `), st.stdout)
	assert.Contains(t, st.stdout, "new run: the agent's personal data was erased from this run, which cannot take it on: onboard it again in a new run")
	r = fleetCLI(t, vars, agents, append([]string{"resume", "--db", db}, fast...)...)
	assert.Contains(t, r.stderr, "flipkyc resume: 0 parked agents put back\n")
}
