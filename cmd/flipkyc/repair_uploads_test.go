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
