package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc/fleet"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// An agent parked after its create because its selfie vanished after the
// CSV was checked: status shows the way out "repair", resume leaves it,
// and 'flipkyc repair --csv' with a new selfie and a corrected name takes
// it on from its selfie to approved: the name is sent by UpdateAgent, no
// create is sent twice and no upload repeated after it succeeded.
func TestFleetRepairParkedAtUploads(t *testing.T) {
	t.Parallel()
	agents := []fleetAgent{{suffix: "430001"}, {suffix: "430002"}}
	csvPath := writeFleetRun(t, agents)
	dir := filepath.Dir(csvPath)
	db := defaultDB(csvPath)
	selfie := filepath.Join(dir, "selfie.png")
	// The selfie vanishes once an identity image reaches Flip.
	srv, vars := fakeEnv(t, flipkyctest.WithMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/identities") {
				_ = os.Remove(selfie)
			}
			next.ServeHTTP(w, r)
		})
	}))
	// One worker: each agent's uploads run after the other's.
	r := fleetCLI(t, vars, agents, append([]string{"onboard", "--csv", csvPath, "--workers", "1"}, fast[2:]...)...)
	require.Equal(t, exitFailure, r.code, r.stderr)
	assert.Equal(t, fleet.Counts{"attention": 2}, statusCounts(t, vars, agents, db))
	st := fleetCLI(t, vars, agents, "status", "--db", db)
	assert.Contains(t, st.stdout, "repair: give a new image or corrected data, then run: flipkyc repair --db "+db+" --csv FILE")
	r = fleetCLI(t, vars, agents, append([]string{"resume", "--db", db}, fast...)...)
	assert.Contains(t, r.stderr, "flipkyc resume: 0 parked agents put back\n")

	require.NoError(t, os.Rename(writePNG(t, "selfie-new.png"), filepath.Join(dir, "selfie-new.png")))
	fixes := filepath.Join(dir, "fixes.csv")
	var b strings.Builder
	b.WriteString("identity_number,selfie_image,name\n")
	for _, a := range agents {
		fmt.Fprintf(&b, "%s,selfie-new.png,%s\n", a.identity(), fleetName(a.suffix+" Corrected"))
	}
	require.NoError(t, os.WriteFile(fixes, []byte(b.String()), 0o600))
	r = fleetCLI(t, vars, agents, append([]string{"repair", "--csv", fixes, "--db", db}, fast...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "flipkyc repair: 2 corrections queued\n")
	assert.Equal(t, fleet.Counts{"approved": 2}, statusCounts(t, vars, agents, db))

	creates := map[string]int{}
	for _, req := range srv.RequestsTo(flipkyctest.RouteCreateAgent) {
		creates[req.Fields["identity_number"]]++
	}
	for _, a := range agents {
		assert.Equal(t, 1, creates[a.identity()], "creates of %s", a.suffix)
	}
	uploads := map[string]int{}
	for _, req := range srv.RequestsTo(flipkyctest.RouteUploadImage) {
		if req.Handled == http.StatusOK {
			uploads[req.Path+" selfie="+req.Fields["selfie"]]++
		}
	}
	assert.Len(t, uploads, 4, "an identity image and a selfie per agent")
	for k, n := range uploads {
		assert.Equal(t, 1, n, "successful uploads of %s", k)
	}
	names := map[string]bool{}
	for _, req := range srv.RequestsTo(flipkyctest.RouteUpdateAgent) {
		names[req.Fields["name"]] = req.Handled == http.StatusOK
	}
	for _, a := range agents {
		assert.True(t, names[fleetName(a.suffix+" Corrected")], "the corrected name of %s sent", a.suffix)
	}
}

// 'flipkyc onboard' again with a corrected CSV: the changed row of an
// agent parked at its uploads (its identity image vanished) is taken as its
// correction, and the agent goes on to approved; the changed row of an
// approved agent is reported as unchanged and not used.
func TestFleetOnboardAgainTakesChanges(t *testing.T) {
	t.Parallel()
	agents := []fleetAgent{{suffix: "440001", image: "kk.png"}, {suffix: "440002"}}
	csvPath := writeFleetRun(t, agents)
	dir := filepath.Dir(csvPath)
	db := defaultDB(csvPath)
	gone := filepath.Join(dir, "kk.png")
	// kk.png vanishes once the CSV was checked: at the first create.
	srv, vars := fakeEnv(t, flipkyctest.WithMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/agents") {
				_ = os.Remove(gone)
			}
			next.ServeHTTP(w, r)
		})
	}))
	r := fleetCLI(t, vars, agents, append([]string{"onboard", "--csv", csvPath}, fast...)...)
	require.Equal(t, exitFailure, r.code, r.stderr)
	assert.Equal(t, fleet.Counts{"approved": 1, "attention": 1}, statusCounts(t, vars, agents, db))

	b, err := os.ReadFile(csvPath)
	require.NoError(t, err)
	text := strings.Replace(string(b), ",kk.png,", ",ktp-new.png,", 1)
	text = strings.Replace(text, fleetName(agents[1].suffix)+",", fleetName(agents[1].suffix+" Renamed")+",", 1)
	require.NoError(t, os.WriteFile(csvPath, []byte(text), 0o600))
	r = fleetCLI(t, vars, agents, append([]string{"onboard", "--csv", csvPath}, fast...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "note: line 3: row: unchanged: in the run (line 3 of its CSV, state approved), and this row's changes are not used")
	assert.Contains(t, r.stderr, "flipkyc onboard: 1 changed row taken as corrections of parked agents (way out repair)\n")
	assert.Equal(t, fleet.Counts{"approved": 2}, statusCounts(t, vars, agents, db))
	creates := map[string]int{}
	for _, req := range srv.RequestsTo(flipkyctest.RouteCreateAgent) {
		creates[req.Fields["identity_number"]]++
	}
	assert.Equal(t, map[string]int{agents[0].identity(): 1, agents[1].identity(): 1}, creates)
	assert.Empty(t, srv.RequestsTo(flipkyctest.RouteUpdateAgent), "no data changed for the parked agent")
}
