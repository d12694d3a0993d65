package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/fleet"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// fleetAgent is one row of a test run's CSV. Every personal value carries a
// marker of personalData (or is listed by personal), so that a leak is seen.
type fleetAgent struct {
	suffix string // the identity number's last six digits
	date   string // birth date
	image  string // identity image file
}

func (a fleetAgent) identity() string { return testIdentity + a.suffix }

// fleetName is the name of the agent with the identity suffix.
func fleetName(suffix string) string { return testName + " " + suffix }

// writeFleetRun writes a run's CSV, with its images, in a new directory and
// returns the CSV's path. Lines are numbered from 2 in the order of agents.
func writeFleetRun(t *testing.T, agents []fleetAgent) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"ktp.png", "selfie.png", "ktp-new.png", "kk.png"} {
		require.NoError(t, os.Rename(writePNG(t, name), filepath.Join(dir, name)))
	}
	// A file that exists but is not an image: a bad row.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "broken.png"), []byte("not an image at all"), 0o600))
	var b strings.Builder
	b.WriteString("name,identity_type,identity_number,birth_date,birth_place,gender,occupation,country_id,province_id,city_id,district_id,address,phone_number,email,identity_image,selfie_image\n")
	for i, a := range agents {
		email := ""
		if i == 0 {
			email = testEmail
		}
		date, image := a.date, a.image
		if date == "" {
			date = "31-10-1990"
		}
		if image == "" {
			image = "ktp.png"
		}
		fmt.Fprintf(&b, "%s,ktp,%s,%s,Kota Testdata,female,private_employee,1,12,184,1234,Jalan Testdata Raya %s,%s,%s,%s,selfie.png\n",
			fleetName(a.suffix), a.identity(), date, a.suffix, testPhone+a.suffix, email, image)
	}
	path := filepath.Join(dir, "agents.csv")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o600))
	return path
}

// personal lists the personal values of the agents that personalData does
// not already cover.
func personal(agents []fleetAgent) []string {
	var out []string
	for _, a := range agents {
		out = append(out, a.identity(), a.suffix+",", "Raya "+a.suffix)
		if a.date != "" {
			out = append(out, a.date)
		}
	}
	return append(out, "31-10-1990")
}

// checkNoPersonalData checks both outputs of a command for every personal
// value of the run: status, progress and errors name agents by line and id.
func checkNoPersonalData(t *testing.T, agents []fleetAgent, args []string, stdout, stderr string) {
	t.Helper()
	checkNoLeak(t, args, stdout, stderr)
	for _, p := range append(personal(agents), personalData...) {
		assert.NotContains(t, stdout, p, "stdout of %v", args)
		assert.NotContains(t, stderr, p, "stderr of %v", args)
	}
}

// fleetWait bounds a fleet command of the tests. Without callbacks a run
// waits for River's periodic reconciler, which starts only once the
// process is elected leader: a few seconds, more on a loaded machine. It is
// an upper bound, never a measurement.
const fleetWait = 2 * time.Minute

// fleetCLI runs a fleet command in-process, as cli does but bounded by
// fleetWait, and checks its outputs for secrets and personal data.
func fleetCLI(t *testing.T, vars map[string]string, agents []fleetAgent, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fleetWait)
	defer cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, args, envFunc(vars), strings.NewReader(""), &out, &errOut)
	r := result{code: code, stdout: out.String(), stderr: errOut.String()}
	checkNoPersonalData(t, agents, args, r.stdout, r.stderr)
	return r
}

// fast are the onboard and repair flags of the tests: no rate limit to
// speak of, and late callbacks read from Flip almost at once.
var fast = []string{"--workers", "4", "--rate", "1000", "--stale-after", "100ms", "--reconcile-every", "200ms"}

// The sample-like run of the tests, by line: two approved, three rejected
// by the review (codes 14, 10 and 23), one bad row, one whose upload check
// fails (code 15), one whose identity image Flip refuses (attention).
var sampleRun = []fleetAgent{
	{suffix: "300001"},                      // line 2: approved
	{suffix: "300002"},                      // line 3: approved
	{suffix: "309914"},                      // line 4: rejected 14, repair_identity_image
	{suffix: "309910"},                      // line 5: rejected 10, repair_data
	{suffix: "300006", date: "31-02-1990"},  // line 6: bad birth_date
	{suffix: "308815"},                      // line 7: upload check fails with 15
	{suffix: "300008", image: "broken.png"}, // line 8: not an image: a bad row
	{suffix: "309923"},                      // line 9: rejected 23, repair_selfie
}

// failCheck88 fails the upload check of identity numbers ending in 88NN
// with code NN.
func failCheck88(a flipkyc.Agent) flipkyctest.Decision {
	n := a.IdentityNumber
	if strings.HasSuffix(n[:len(n)-2], "88") {
		var code int
		_, _ = fmt.Sscan(n[len(n)-2:], &code)
		return flipkyctest.Decision{Code: flipkyc.RejectionCode(code)}
	}
	return flipkyctest.Decision{}
}

// fakeByIdentity returns the fake's agents (as /_fake/agents shows them)
// by identity number.
func fakeByIdentity(t *testing.T, srv *flipkyctest.Server) map[string]fakeAgent {
	t.Helper()
	ids := map[int64]string{}
	for _, a := range srv.Agents() {
		ids[a.ID] = a.IdentityNumber
	}
	out := map[string]fakeAgent{}
	for _, a := range fakeAgents(srv) {
		out[ids[a.ID]] = a
	}
	return out
}

// readCSVFile reads a whole CSV file: a run's CSV, a status --export file.
func readCSVFile(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	return recs
}

// onboard, status (table, JSON, export) and repair of a sample-like run,
// against the fake, with the run in a SQLite file.
func TestFleetOnboardStatusRepair(t *testing.T) {
	t.Parallel()
	srv, vars := fakeEnv(t, flipkyctest.WithUploadCheck(failCheck88))
	csvPath := writeFleetRun(t, sampleRun)
	dir := filepath.Dir(csvPath)
	db := filepath.Join(dir, "agents.fleet.db")
	agents := sampleRun

	// onboard: the bad rows reported by line, field and rule (a file that
	// is not an image is found before anything is sent); the others go
	// on; exit 1 since rows were bad.
	args := append([]string{"onboard", "--csv", csvPath}, fast...)
	r := fleetCLI(t, vars, agents, args...)
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "line 6: birth_date: want DD-MM-YYYY or YYYY-MM-DD, a real calendar day\n")
	assert.Contains(t, r.stderr, "line 8: identity_image: Flip's image rules: must be a PNG or JPEG image\n")
	assert.Contains(t, r.stderr, "flipkyc onboard: 8 rows: 6 new, 0 resumed, 2 bad; state in "+db+"\n")
	// The last lines: agents final, needing attention, and where to see them.
	assert.True(t, strings.HasSuffix(r.stderr, "flipkyc onboard: 6 of 6 agents final (2 approved, 3 rejected, 1 failed their upload check); 0 need attention\n"+
		"see them and their way out: flipkyc status --db "+db+"\n"), r.stderr)
	// Not a terminal: plain progress lines, no bar, no escape codes; the
	// last one when every agent is final.
	assert.NotContains(t, r.stderr, "\x1b")
	assert.NotContains(t, r.stderr, "\r")
	assert.NotContains(t, r.stderr, "[#")
	progress := regexp.MustCompile(`(?m)^progress: (\d+)/6 final, \d+\.\d requests/s(, ETA \S+)?(, waiting for \d+ decisions)? \| .*$`).FindAllString(r.stderr, -1)
	require.GreaterOrEqual(t, len(progress), 2, r.stderr)
	// The first line counts all six agents by state (how far they got
	// by then depends on the machine).
	counted := 0
	for _, m := range regexp.MustCompile(`[a-z_]+ (\d+)`).FindAllStringSubmatch(progress[0][strings.Index(progress[0], "|"):], -1) {
		n, _ := strconv.Atoi(m[1])
		counted += n
	}
	assert.Equal(t, 6, counted, progress[0])
	assert.Regexp(t, `^progress: 6/6 final, \d+\.\d requests/s \| approved 2, rejected 3, upload_failed 1$`, progress[len(progress)-1])
	assert.Equal(t, r.stdout, fleetCLI(t, vars, agents, "status", "--db", db).stdout, "onboard ends with the status")

	fake := fakeByIdentity(t, srv)
	require.Len(t, fake, 6, "the bad rows were not sent")
	for _, a := range agents {
		if a.suffix == "300006" || a.suffix == "300008" {
			assert.NotContains(t, fake, a.identity())
			continue
		}
		assert.Equal(t, 1, fake[a.identity()].Creates, "line of %s", a.suffix)
	}

	// Re-running resumes: nothing new, nothing sent again.
	r = fleetCLI(t, vars, agents, args...)
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "flipkyc onboard: 8 rows: 0 new, 6 resumed, 2 bad; state in "+db+"\n")
	for id, a := range fakeByIdentity(t, srv) {
		assert.Equal(t, fake[id], a, "nothing sent again for %s", id)
	}

	// --json: the bad row and the summary as JSON, agents by line and id.
	r = fleetCLI(t, vars, agents, append(args, "--json")...)
	assert.Equal(t, exitFailure, r.code)
	first, _, _ := strings.Cut(r.stderr, "\n")
	assert.JSONEq(t, `{"line":6,"field":"birth_date","rule":"want DD-MM-YYYY or YYYY-MM-DD, a real calendar day"}`, first)
	onboardSum := decode[fleet.Summary](t, r.stdout)
	assert.Equal(t, fleet.Counts{"approved": 2, "rejected": 3, "upload_failed": 1}, onboardSum.Counts)
	assert.NotContains(t, r.stdout, "identity_number")

	// status: counts per state, rejections by code with their fix.
	wantStatus := `STATE          AGENTS
approved       2
rejected       3
upload_failed  1
total          6

Rejections (fix with 'flipkyc repair'):
CODE      AGENTS  FIX                    REASON
10        1       repair_data            The data that is filled in does not match with identity card
14        1       repair_identity_image  Identity card blurry or got spotlight or cannot be read
check 15  1       supporting_documents   The Identity card uploaded is not (KTP/Passport/KITAS)
23        1       repair_selfie          Combination photos are not clearly visible or partially covered
`
	r = fleetCLI(t, vars, agents, "status", "--db", db)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, wantStatus, r.stdout)
	assert.Empty(t, r.stderr)
	// --csv finds the database beside the CSV.
	assert.Equal(t, wantStatus, fleetCLI(t, vars, agents, "status", "--csv", csvPath).stdout)

	// --json: the same, as one JSON value.
	r = fleetCLI(t, vars, agents, "status", "--db", db, "--json")
	assert.Equal(t, exitOK, r.code, r.stderr)
	sum := decode[fleet.Summary](t, r.stdout)
	assert.Equal(t, fleet.Counts{"approved": 2, "rejected": 3, "upload_failed": 1}, sum.Counts)
	assert.Equal(t, 6, sum.Total)
	assert.Equal(t, 0, sum.Active)
	msg := func(c flipkyc.RejectionCode) string { return c.Message() }
	assert.Equal(t, []fleet.RejectionLine{
		{State: "rejected", Code: 10, Message: msg(10), Fix: []flipkyc.Fix{flipkyc.FixRepairData}, Agents: 1},
		{State: "rejected", Code: 14, Message: msg(14), Fix: []flipkyc.Fix{flipkyc.FixRepairIdentityImage}, Agents: 1},
		{State: "upload_failed", Code: 15, Message: msg(15), Fix: []flipkyc.Fix{flipkyc.FixSupportingDocuments}, Agents: 1},
		{State: "rejected", Code: 23, Message: msg(23), Fix: []flipkyc.Fix{flipkyc.FixRepairSelfie}, Agents: 1},
	}, sum.Rejections)
	assert.Empty(t, sum.Attention)
	assert.NotContains(t, r.stdout, "identity_number")

	// --export: every agent, one line each, identity numbers included (the
	// user asked for the file); nothing personal on the terminal.
	// The file exists, readable by all, from an earlier export: it is
	// made the owner's only.
	export := filepath.Join(t.TempDir(), "export.csv")
	require.NoError(t, os.WriteFile(export, []byte("old"), 0o644))
	require.NoError(t, os.Chmod(export, 0o644))
	r = fleetCLI(t, vars, agents, "status", "--db", db, "--export", export, "--reveal")
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, wantStatus, r.stdout)
	st, err := os.Stat(export)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "personal data: the owner's only")
	recs := readCSVFile(t, export)
	require.Len(t, recs, 7, "%q", recs)
	assert.Equal(t, []string{"line", "identity_number", "agent_id", "state", "kyc_status", "rejection_code", "fix", "reason", "create_request_id"}, recs[0])
	type row struct{ line, suffix, state, kyc, code, fix, reason string }
	want := []row{
		{"2", "300001", "approved", "APPROVED", "", "", ""},
		{"3", "300002", "approved", "APPROVED", "", "", ""},
		{"4", "309914", "rejected", "REJECTED", "14", "repair_identity_image", msg(14)},
		{"5", "309910", "rejected", "REJECTED", "10", "repair_data", msg(10)},
		{"7", "308815", "upload_failed", "UPLOAD_IDENTITY_SELFIE_FAILED", "15", "supporting_documents", msg(15)},
		{"9", "309923", "rejected", "REJECTED", "23", "repair_selfie", msg(23)},
	}
	for i, w := range want {
		got := recs[i+1]
		require.Len(t, got, 9)
		id := testIdentity + w.suffix
		assert.Equal(t, []string{w.line, id, fmt.Sprint(fake[id].ID), w.state, w.kyc, w.code, w.fix, w.reason},
			got[:8], "export line %d", i+1)
		assert.Regexp(t, `^bigflip-[0-9a-f-]{36}$`, got[8], "the create's Request-ID")
	}
	// Without --reveal the identity numbers are masked, and the header
	// says so.
	masked := filepath.Join(t.TempDir(), "masked.csv")
	r = fleetCLI(t, vars, agents, "status", "--db", db, "--export", masked)
	assert.Equal(t, exitOK, r.code, r.stderr)
	recs = readCSVFile(t, masked)
	require.Len(t, recs, 7, "%q", recs)
	assert.Equal(t, "identity_number_masked", recs[0][1])
	for _, got := range recs[1:] {
		assert.Equal(t, "[masked]", got[1], "line %s", got[0])
	}

	// repair: the three corrections that match their rejection's fix are
	// sent once and those agents are approved; a correction of the wrong
	// kind, an unknown identity number, agents not waiting for one and a
	// bad row are reported by line, field and rule, and stop nothing.
	repairCSV := filepath.Join(dir, "repair.csv")
	require.NoError(t, os.WriteFile(repairCSV, []byte(strings.Join([]string{
		"identity_number,name,identity_image,selfie_image,documents",
		testIdentity + "309914,,ktp-new.png,,",                       // line 2: code 14, a new photo
		testIdentity + "309910," + fleetName("309910") + " Putra,,,", // line 3: code 10, corrected data
		testIdentity + "309923,,ktp-new.png,,",                       // line 4: code 23 wants a selfie
		testIdentity + "999999,,ktp-new.png,,",                       // line 5: not in the run
		testIdentity + "308815,,,,family_card=kk.png",                // line 6: failed check, documents
		testIdentity + "300001,,ktp-new.png,,",                       // line 7: approved already
		testIdentity + "300008,,ktp-new.png,,",                       // line 8: a bad row of the run
		testIdentity + "309923,,,,passport_photo=kk.png",             // line 9: no such document type
	}, "\n")+"\n"), 0o600))
	repairArgs := append([]string{"repair", "--csv", repairCSV, "--db", db}, fast...)
	r = fleetCLI(t, vars, agents, repairArgs...)
	assert.Equal(t, exitFailure, r.code, "bad rows: exit 1")
	var refused []string
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.HasPrefix(l, "line ") {
			refused = append(refused, l)
		}
	}
	assert.Equal(t, []string{
		"line 9: documents: want TYPE=FILE pairs separated by ';', TYPE one of Flip's document types (family_card, npwp, bpjs_kesehatan, …, or TYPE_selfie)",
		"line 4: row: rejection code 23 calls for [repair_selfie], not repair_identity_image",
		"line 5: identity_number: no agent of this run has it",
		"line 7: identity_number: the agent is approved, not waiting for a correction",
		"line 8: identity_number: no agent of this run has it",
	}, refused)
	assert.Contains(t, r.stderr, "flipkyc repair: 3 corrections queued\n")
	assert.Regexp(t, `(?m)^progress: 6/6 final, .* \| approved 5, rejected 1$`, r.stderr)

	after := fakeByIdentity(t, srv)
	require.Len(t, after, 6, "no agent created by repair")
	for id, a := range after {
		assert.Equal(t, 1, a.Creates, id)
	}
	type counts struct {
		status                               flipkyc.KYCStatus
		uploads, documents, submits, repairs int
	}
	seen := func(id string) counts {
		a := after[testIdentity+id]
		return counts{a.KYCStatus, a.Uploads, a.Documents, a.Submits, a.Repairs}
	}
	assert.Equal(t, counts{flipkyc.StatusApproved, 3, 0, 1, 1}, seen("309914"), "a new photo, once")
	assert.Equal(t, counts{flipkyc.StatusApproved, 2, 0, 1, 1}, seen("309910"), "corrected data, once")
	assert.Equal(t, counts{flipkyc.StatusApproved, 2, 1, 0, 0}, seen("308815"), "documents, once")
	assert.Equal(t, counts{flipkyc.StatusRejected, 2, 0, 1, 0}, seen("309923"), "the wrong correction was not sent")
	assert.Equal(t, counts{flipkyc.StatusApproved, 2, 0, 1, 0}, seen("300001"))
	assert.NotContains(t, after, testIdentity+"300008", "the row with no image was never sent")
	repaired, ok := srv.Agent(after[testIdentity+"309910"].ID)
	require.True(t, ok)
	assert.Equal(t, fleetName("309910")+" Putra", repaired.Name, "the corrected data reached Flip")

	sum = decode[fleet.Summary](t, fleetCLI(t, vars, agents, "status", "--db", db, "--json").stdout)
	assert.Equal(t, fleet.Counts{"approved": 5, "rejected": 1}, sum.Counts)
	assert.Equal(t, []fleet.RejectionLine{
		{State: "rejected", Code: 23, Message: msg(23), Fix: []flipkyc.Fix{flipkyc.FixRepairSelfie}, Agents: 1},
	}, sum.Rejections)

	// The same corrections again: every agent they name is decided, so
	// nothing is sent twice.
	r = fleetCLI(t, vars, agents, repairArgs...)
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "line 2: identity_number: the agent is approved, not waiting for a correction\n")
	assert.Contains(t, r.stderr, "line 3: identity_number: the agent is approved, not waiting for a correction\n")
	assert.Contains(t, r.stderr, "line 6: identity_number: the agent is approved, not waiting for a correction\n")
	assert.Contains(t, r.stderr, "flipkyc repair: 0 corrections queued\n")
	assert.Equal(t, after, fakeByIdentity(t, srv), "nothing sent again")
}

// storedEvent is one row of a run's fleet_events.
type storedEvent struct {
	Key     string
	AgentID int64
	Status  string
	Code    int
	Applied bool
}

// storedEvents reads the callbacks a run's database holds, in the order
// received.
func storedEvents(t *testing.T, db string) []storedEvent {
	t.Helper()
	d, err := fleet.Open(context.Background(), db)
	require.NoError(t, err)
	defer d.Close()
	rows, err := d.SQL().Query("SELECT key, agent_id, kyc_status, rejection_code, applied FROM fleet_events ORDER BY received_at, key")
	require.NoError(t, err)
	defer rows.Close()
	var out []storedEvent
	for rows.Next() {
		var e storedEvent
		require.NoError(t, rows.Scan(&e.Key, &e.AgentID, &e.Status, &e.Code, &e.Applied))
		out = append(out, e)
	}
	require.NoError(t, rows.Err())
	return out
}

// execDB runs a statement on a run's SQLite file from a connection of its
// own (not fleet.Open, which would create missing tables).
func execDB(t *testing.T, db, stmt string) {
	t.Helper()
	d, err := sql.Open("sqlite", "file:"+db+"?_pragma=busy_timeout(20000)")
	require.NoError(t, err)
	defer d.Close()
	_, err = d.Exec(stmt)
	require.NoError(t, err)
}

// postCallback sends ev as Flip does and returns the HTTP status.
func postCallback(t *testing.T, url string, ev flipkyc.Event, token string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	req, err := flipkyctest.NewCallbackRequest(ctx, url, ev, token)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	require.NoError(t, resp.Body.Close())
	return resp.StatusCode
}

// statusCounts reads a run's counts through status --json.
func statusCounts(t *testing.T, vars map[string]string, agents []fleetAgent, db string) fleet.Counts {
	t.Helper()
	r := fleetCLI(t, vars, agents, "status", "--db", db, "--json")
	require.Equal(t, exitOK, r.code, r.stderr)
	return decode[fleet.Summary](t, r.stdout).Counts
}

// listen --db stores each callback before answering 200, once, and the run
// moves on by callbacks alone; a wrong token is refused and a store that
// fails is not acknowledged; the events outlive the listener.
func TestFleetListenDB(t *testing.T) {
	t.Parallel()
	agents := []fleetAgent{{suffix: "400001"}, {suffix: "409914"}}
	csvPath := writeFleetRun(t, agents)
	db := defaultDB(csvPath)
	lvars := map[string]string{envCallbackToken: testToken}
	listen, url := startListen(t, lvars, "--db", db, "--json")
	srv, vars := fakeEnv(t, flipkyctest.WithCallbacks(url+"flip/kyc", testToken))

	// Flip's callbacks, stored by listen, are the only way past the upload
	// check and the review: late ones would be read after an hour.
	r := fleetCLI(t, vars, agents, "onboard", "--csv", csvPath, "--workers", "4", "--rate", "1000", "--stale-after", "1h", "--reconcile-every", "1h")
	require.Equal(t, exitOK, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	assert.Equal(t, fleet.Counts{"approved": 1, "rejected": 1}, statusCounts(t, vars, agents, db))

	fake := fakeByIdentity(t, srv)
	approved, rejected := fake[agents[0].identity()].ID, fake[agents[1].identity()].ID
	deadline := time.Now().Add(wait)
	for len(srv.Callbacks()) < 4 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	sent := srv.Callbacks()
	require.Len(t, sent, 4)
	for _, c := range sent {
		assert.Equal(t, http.StatusOK, c.Status, "%v", c)
		assert.NoError(t, c.Err)
	}
	type ev struct {
		id     int64
		status string
		code   int
		ok     bool
	}
	summary := func(es []storedEvent) []ev {
		out := make([]ev, len(es))
		for i, e := range es {
			out[i] = ev{e.AgentID, e.Status, e.Code, e.Applied}
		}
		return out
	}
	stored := storedEvents(t, db)
	assert.ElementsMatch(t, []ev{
		{approved, "UPLOAD_IDENTITY_SELFIE_SUCCESS", 0, true},
		{rejected, "UPLOAD_IDENTITY_SELFIE_SUCCESS", 0, true},
		{approved, "APPROVED", 0, true},
		{rejected, "REJECTED", 14, true},
	}, summary(stored))
	listen.waitFor(t, "four event lines", func(stdout, _ string) bool { return strings.Count(stdout, "\n") == 4 })

	updated, err := flipkyc.ParseTimestamp("2030-01-02 10:00:00")
	require.NoError(t, err)
	approve := flipkyc.Event{AgentID: rejected, AgentName: fleetName(agents[1].suffix), KYCStatus: flipkyc.StatusApproved, UpdatedAt: updated}

	// A wrong token: refused, nothing stored, nothing moves.
	assert.Equal(t, http.StatusForbidden, postCallback(t, url, approve, "not-"+testToken))
	assert.Equal(t, stored, storedEvents(t, db))
	assert.Equal(t, fleet.Counts{"approved": 1, "rejected": 1}, statusCounts(t, vars, agents, db))

	// The right token: stored (and applied) by the time the 200 arrives;
	// status shows the agent moved.
	assert.Equal(t, http.StatusOK, postCallback(t, url, approve, testToken))
	withApproval := storedEvents(t, db)
	require.Len(t, withApproval, 5)
	assert.Equal(t, ev{rejected, "APPROVED", 0, true}, summary(withApproval)[4])
	assert.Equal(t, fleet.Counts{"approved": 2}, statusCounts(t, vars, agents, db))

	// The same callback again: acknowledged, not stored or applied twice.
	assert.Equal(t, http.StatusOK, postCallback(t, url, approve, testToken))
	assert.Equal(t, withApproval, storedEvents(t, db))

	// A store that fails is not acknowledged: Flip must not count it
	// delivered. (The events table is moved away under listen.)
	foreign := flipkyc.Event{AgentID: 987654, AgentName: testName, KYCStatus: flipkyc.StatusPending, UpdatedAt: updated}
	execDB(t, db, "ALTER TABLE fleet_events RENAME TO fleet_events_away")
	assert.Equal(t, http.StatusInternalServerError, postCallback(t, url, foreign, testToken))
	execDB(t, db, "ALTER TABLE fleet_events_away RENAME TO fleet_events")
	assert.Equal(t, withApproval, storedEvents(t, db))
	listen.waitFor(t, "the failure logged", func(_, stderr string) bool { return strings.Contains(stderr, "storing the callback failed") })
	// Sent again, it is stored: an event of no agent of the run is kept,
	// and applied to nothing.
	assert.Equal(t, http.StatusOK, postCallback(t, url, foreign, testToken))
	withForeign := storedEvents(t, db)
	require.Len(t, withForeign, 6)
	assert.Equal(t, ev{987654, "PENDING", 0, false}, summary(withForeign)[5])
	// and said on stderr by agent id: another run's callback is never
	// lost silently.
	listen.waitFor(t, "the unknown agent reported", func(_, stderr string) bool {
		return regexp.MustCompile(`(?m)^.*level=WARN msg=".*does not have.*" agent_id=987654$`).MatchString(stderr)
	})

	// One line per callback acknowledged (the duplicate too), none for the
	// refused ones; names masked, no personal data.
	listen.waitFor(t, "seven event lines", func(stdout, _ string) bool { return strings.Count(stdout, "\n") == 7 })
	assert.Equal(t, exitOK, listen.stop(t))
	checkNoPersonalData(t, agents, listen.args, listen.stdout.String(), listen.stderr.String())

	// A new listener on the same run: the events are still there, and a
	// repeat of one stored before the restart is still recognised.
	listen, url = startListen(t, lvars, "--db", db)
	assert.Equal(t, withForeign, storedEvents(t, db))
	assert.Equal(t, http.StatusOK, postCallback(t, url, approve, testToken))
	assert.Equal(t, withForeign, storedEvents(t, db))
	assert.Equal(t, fleet.Counts{"approved": 2}, statusCounts(t, vars, agents, db))

	assert.Equal(t, exitOK, listen.stop(t))
	checkNoPersonalData(t, agents, listen.args, listen.stdout.String(), listen.stderr.String())
}

// onboard --listen receives the run's own callbacks: with late callbacks
// read only after an hour, the run ends because its callbacks moved it.
func TestFleetOnboardListensForItsCallbacks(t *testing.T) {
	t.Parallel()
	agents := []fleetAgent{{suffix: "410001"}, {suffix: "419914"}}
	csvPath := writeFleetRun(t, agents)
	db := defaultDB(csvPath)
	// Flip's callbacks go to a relay that passes them to the address
	// onboard announces once it listens.
	target := make(chan string, 1)
	var once sync.Once
	var addr string
	relay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { addr = <-target })
		req, err := http.NewRequestWithContext(r.Context(), r.Method, addr, r.Body)
		require.NoError(t, err)
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
	}))
	t.Cleanup(relay.Close)
	srv, vars := fakeEnv(t, flipkyctest.WithCallbacks(relay.URL+"/flip/kyc", testToken))
	vars[envCallbackToken] = testToken
	p := start(t, vars, "onboard", "--csv", csvPath, "--listen", "127.0.0.1:0", "--workers", "4", "--rate", "1000", "--stale-after", "1h", "--reconcile-every", "1h")
	p.waitFor(t, "listening line", func(_, stderr string) bool { return listenAddr.MatchString(stderr) })
	target <- listenAddr.FindStringSubmatch(p.stderr.String())[1]
	select {
	case code := <-p.done:
		require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", p.stdout, p.stderr)
	case <-time.After(fleetWait):
		t.Fatalf("onboard did not end; stderr: %s", p.stderr)
	}
	p.done <- exitOK // for the cleanup
	assert.Equal(t, fleet.Counts{"approved": 1, "rejected": 1}, statusCounts(t, vars, agents, db))
	assert.Len(t, storedEvents(t, db), 4, "both agents' upload check and decision, received by onboard")
	for _, c := range srv.Callbacks() {
		assert.Equal(t, http.StatusOK, c.Status, "%v", c)
	}
	checkNoPersonalData(t, agents, p.args, p.stdout.String(), p.stderr.String())
}

// Both ways out for agents parked at their create, through the command:
// agent_id for one Flip created (its reply was lost), not_created for one
// Flip never created, which is then created again under a new Request-ID.
func TestFleetRepairParkedAtCreate(t *testing.T) {
	t.Parallel()
	agents := []fleetAgent{{suffix: "420001"}, {suffix: "420002"}, {suffix: "420003"}}
	csvPath := writeFleetRun(t, agents)
	db := defaultDB(csvPath)
	srv, vars := fakeEnv(t)
	// One worker: creates go in line order. Line 2's create fails before
	// Flip acts on it; line 3's takes effect and its reply is lost.
	srv.FailNext(flipkyctest.RouteCreateAgent, 1, http.StatusBadGateway)
	srv.FailNextAfterApplying(flipkyctest.RouteCreateAgent, 1, http.StatusBadGateway)
	r := fleetCLI(t, vars, agents, append([]string{"onboard", "--csv", csvPath, "--workers", "1"}, fast[2:]...)...)
	require.Equal(t, exitFailure, r.code, r.stderr)
	assert.Equal(t, fleet.Counts{"approved": 1, "attention": 2}, statusCounts(t, vars, agents, db))
	export := filepath.Join(t.TempDir(), "export.csv")
	require.Equal(t, exitOK, fleetCLI(t, vars, agents, "status", "--db", db, "--export", export).code)
	recs := readCSVFile(t, export)
	require.Len(t, recs, 4)
	lost := recs[1][8]
	require.Equal(t, "attention", recs[1][3])
	require.Regexp(t, `^bigflip-`, lost)
	created := fakeByIdentity(t, srv)[agents[1].identity()].ID
	require.NotZero(t, created)

	fixes := filepath.Join(filepath.Dir(csvPath), "fixes.csv")
	require.NoError(t, os.WriteFile(fixes, []byte(fmt.Sprintf("identity_number,agent_id,not_created\n%s,,%s\n%s,%d,\n",
		agents[0].identity(), lost, agents[1].identity(), created)), 0o600))
	r = fleetCLI(t, vars, agents, append([]string{"repair", "--csv", fixes, "--db", db}, fast...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "flipkyc repair: 2 corrections queued\n")
	assert.Equal(t, fleet.Counts{"approved": 3}, statusCounts(t, vars, agents, db))

	sent := map[string][]string{}
	for _, req := range srv.RequestsTo(flipkyctest.RouteCreateAgent) {
		id := req.Fields["identity_number"]
		sent[id] = append(sent[id], req.Header.Get("Request-ID"))
	}
	require.Len(t, sent[agents[0].identity()], 2, "line 2: the failed create and the one confirmed")
	assert.Equal(t, lost, sent[agents[0].identity()][0])
	assert.NotEqual(t, lost, sent[agents[0].identity()][1], "created again under a new Request-ID")
	assert.Len(t, sent[agents[1].identity()], 1, "line 3 resumed with its id, not created again")
	assert.Len(t, sent[agents[2].identity()], 1)

	// The same rows again: nothing is parked, nothing is created.
	r = fleetCLI(t, vars, agents, append([]string{"repair", "--csv", fixes, "--db", db}, fast...)...)
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "line 2: not_created: the agent is approved, not parked")
	assert.Len(t, srv.RequestsTo(flipkyctest.RouteCreateAgent), 4)
}

// Mistakes in the command line or its files: exit 2 with why, and no
// database created where there was no run.
func TestFleetUsageErrors(t *testing.T) {
	_, vars := fakeEnv(t)
	csvPath := writeFleetRun(t, []fleetAgent{{suffix: "500001"}})
	dir := filepath.Dir(csvPath)
	repairCSV := filepath.Join(dir, "fixes.csv")
	require.NoError(t, os.WriteFile(repairCSV, []byte("identity_number,identity_image\n"+testIdentity+"500001,ktp-new.png\n"), 0o600))
	noColumn := filepath.Join(dir, "nocolumn.csv")
	require.NoError(t, os.WriteFile(noColumn, []byte("name,identity_type\n"+testName+",ktp\n"), 0o600))
	missing := filepath.Join(dir, "missing.fleet.db")
	noKey := map[string]string{flipkyc.EnvAPIBaseURL: vars[flipkyc.EnvAPIBaseURL], flipkyc.EnvKYCBaseURL: vars[flipkyc.EnvKYCBaseURL]}
	for _, tc := range []struct {
		name string
		vars map[string]string
		args []string
		want string
	}{
		{"status without a run", vars, []string{"status"}, "give --db or --csv"},
		{"status of no database", vars, []string{"status", "--db", missing}, "no run at " + missing},
		{"status beside a CSV never run", vars, []string{"status", "--csv", csvPath}, "no run at " + defaultDB(csvPath)},
		{"onboard without --csv", vars, []string{"onboard"}, "--csv is required"},
		{"onboard of no file", vars, []string{"onboard", "--csv", filepath.Join(dir, "none.csv")}, "cannot read --csv"},
		{"onboard with no workers", vars, []string{"onboard", "--csv", csvPath, "--workers", "0"}, "must be positive"},
		{"onboard with no rate", vars, []string{"onboard", "--csv", csvPath, "--rate", "0"}, "--rate: want"},
		{"onboard without the key", noKey, []string{"onboard", "--csv", csvPath}, flipkyc.EnvSecretKey},
		{"onboard of a CSV without a column", vars, []string{"onboard", "--csv", noColumn}, `the CSV has none of the columns identity_number, birth_date`},
		{"repair of no run", vars, []string{"repair", "--csv", repairCSV}, "no run at " + defaultDB(repairCSV)},
		{"repair of a run never started", vars, []string{"repair", "--csv", repairCSV, "--db", missing}, "no run at " + missing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := fleetCLI(t, tc.vars, nil, tc.args...)
			assert.Equal(t, exitUsage, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
			assert.Contains(t, r.stderr, tc.want)
			assert.Empty(t, r.stdout)
		})
	}
	for _, db := range []string{missing, defaultDB(csvPath), defaultDB(repairCSV), defaultDB(noColumn)} {
		assert.NoFileExists(t, db, "no run was started")
	}
}

// A callback older than what the run knows (Flip's own order, or one that
// crossed a read of the agent) must not undo the agent's KYC status: an
// approved agent stays APPROVED in status and its export.
func TestFleetStaleCallbackKeepsStatus(t *testing.T) {
	t.Parallel()
	agents := []fleetAgent{{suffix: "600001"}}
	csvPath := writeFleetRun(t, agents)
	db := defaultDB(csvPath)
	_, url := startListen(t, map[string]string{envCallbackToken: testToken}, "--db", db)
	srv, vars := fakeEnv(t, flipkyctest.WithCallbacks(url, testToken))
	r := fleetCLI(t, vars, agents, "onboard", "--csv", csvPath, "--rate", "1000", "--stale-after", "1h", "--reconcile-every", "1h")
	require.Equal(t, exitOK, r.code, r.stderr)
	id := fakeByIdentity(t, srv)[agents[0].identity()].ID
	older, err := flipkyc.ParseTimestamp("2000-01-02 10:00:00")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, postCallback(t, url, flipkyc.Event{AgentID: id, KYCStatus: flipkyc.StatusPending, UpdatedAt: older}, testToken))

	export := filepath.Join(t.TempDir(), "export.csv")
	require.Equal(t, exitOK, fleetCLI(t, vars, agents, "status", "--db", db, "--export", export).code)
	recs := readCSVFile(t, export)
	require.Len(t, recs, 2)
	assert.Equal(t, []string{"approved", "APPROVED"}, recs[1][3:5], "state and KYC status")
}

// A reason stored in the run can quote a file path named after the agent,
// a reply, an e-mail address: status (table, --json, --export) and onboard
// print it masked as any text that can carry personal data, keeping the
// Request-ID the operator needs.
func TestFleetStoredReasonMasked(t *testing.T) {
	t.Parallel()
	agents := []fleetAgent{{suffix: "700001"}}
	csvPath := writeFleetRun(t, agents)
	db := defaultDB(csvPath)
	_, vars := fakeEnv(t)
	args := append([]string{"onboard", "--csv", csvPath}, fast...)
	require.Equal(t, exitOK, fleetCLI(t, vars, agents, args...).code)

	identity := agents[0].identity()
	const rid = "bigflip-0a1b2c3d-1234-4567-8901-234567890123"
	reason := "cannot read the image: open " + filepath.Join(filepath.Dir(csvPath), identity+"_ktp.png") +
		": permission denied; ask " + testEmail + " or 081299887766 (Request-ID " + rid + ")"
	execDB(t, db, "UPDATE fleet_agents SET state = 'attention', attention = '"+reason+"'")

	r := fleetCLI(t, vars, agents, "status", "--db", db)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "cannot read the image: open ")
	assert.Contains(t, r.stdout, "[masked]_ktp.png: permission denied")
	assert.Contains(t, r.stdout, rid, "the Request-ID is kept")
	assert.NotContains(t, r.stdout, "081299887766")

	r = fleetCLI(t, vars, agents, "status", "--db", db, "--json")
	require.Equal(t, exitOK, r.code, r.stderr)
	sum := decode[fleet.Summary](t, r.stdout)
	require.Len(t, sum.Attention, 1)
	assert.Contains(t, sum.Attention[0].Attention, "[masked]_ktp.png")
	assert.Contains(t, sum.Attention[0].Attention, rid)

	r = fleetCLI(t, vars, agents, args...)
	assert.Equal(t, exitFailure, r.code, "an agent needs attention")
	assert.Contains(t, r.stdout, "[masked]_ktp.png: permission denied")

	export := filepath.Join(t.TempDir(), "export.csv")
	require.Equal(t, exitOK, fleetCLI(t, vars, agents, "status", "--db", db, "--export", export, "--reveal").code)
	recs := readCSVFile(t, export)
	require.Len(t, recs, 2)
	assert.Equal(t, identity, recs[1][1], "the export names the agent: the user asked for it")
	assert.NotContains(t, recs[1][7], identity, "the reason is masked like everywhere else")
	assert.Contains(t, recs[1][7], "[masked]_ktp.png")
	assert.NotContains(t, recs[1][7], testEmail)
}

// --rate is a number of requests per second the limiter can keep: NaN,
// infinities, zero, negatives and rates too small or too large to space
// requests are usage errors, before anything is opened or sent.
func TestFleetRateRefused(t *testing.T) {
	t.Parallel()
	srv, vars := fakeEnv(t)
	agents := []fleetAgent{{suffix: "900001"}}
	csvPath := writeFleetRun(t, agents)
	for _, rate := range []string{"NaN", "nan", "Inf", "+Inf", "-Inf", "1e-300", "0", "-5", "0.01", "2e6", "1e300"} {
		for _, command := range []string{"onboard", "repair"} {
			r := fleetCLI(t, vars, agents, command, "--csv", csvPath, "--rate", rate)
			assert.Equal(t, exitUsage, r.code, "%s --rate %s: %s", command, rate, r.stderr)
			assert.Contains(t, r.stderr, "--rate: want", "%s --rate %s", command, rate)
		}
	}
	assert.NoFileExists(t, defaultDB(csvPath), "no run was started")
	assert.Empty(t, srv.Requests(), "nothing sent")
}
