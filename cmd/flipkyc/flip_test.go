package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/flipkyctest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLocations(t *testing.T) {
	_, vars := fakeEnv(t)
	for _, tc := range []struct {
		args []string
		want flipkyc.Location
	}{
		{[]string{"locations", "countries"}, flipkyc.Location{ID: 1, Name: "Indonesia"}},
		{[]string{"locations", "provinces", "1"}, flipkyc.Location{ID: 12, Name: "Jawa Barat"}},
		{[]string{"locations", "provinces"}, flipkyc.Location{ID: 12, Name: "Jawa Barat"}},
		{[]string{"locations", "cities", "12"}, flipkyc.Location{ID: 184, Name: "Kota Depok"}},
		{[]string{"locations", "districts", "184"}, flipkyc.Location{ID: 1234, Name: "Sukmajaya"}},
	} {
		got := decode[[]flipkyc.Location](t, ok(t, vars, append(tc.args, "--json")...).stdout)
		assert.Contains(t, got, tc.want, "%v", tc.args)

		table := ok(t, vars, tc.args...).stdout
		lines := strings.Split(strings.TrimSuffix(table, "\n"), "\n")
		assert.Regexp(t, `^ID +NAME$`, lines[0])
		assert.Len(t, lines, len(got)+1)
		assert.Regexp(t, `(?m)^`+strconv.FormatInt(tc.want.ID, 10)+` +`+tc.want.Name+`$`, table)
	}
	// A parent without children lists nothing: an empty JSON array.
	assert.Equal(t, "[]\n", ok(t, vars, "locations", "cities", "999", "--json").stdout)
}

// The agent commands: create from flags, from stdin and from a file, get
// as a table and as JSON, update from the JSON that create printed.
func TestAgentCommands(t *testing.T) {
	srv, vars := fakeEnv(t)

	created := decode[flipkyc.Agent](t, ok(t, vars, append([]string{"agent", "create", "--json"}, personArgs(testIdentity+"100001")...)...).stdout)
	assert.Positive(t, created.ID)
	assert.Equal(t, flipkyc.StatusBasicData, created.KYCStatus)
	assert.Equal(t, testName, created.Name)
	assert.Equal(t, testIdentity+"100001", created.IdentityNumber)
	assert.Equal(t, flipkyc.NewDate(1990, 10, 31), created.BirthDate)
	assert.Equal(t, flipkyc.GenderFemale, created.Gender)
	assert.Equal(t, int64(1234), created.DistrictID)
	assert.Equal(t, testEmail, created.Email)
	id := strconv.FormatInt(created.ID, 10)

	// get: the operator asked for the agent, so the table shows its data.
	table := ok(t, vars, "agent", "get", id).stdout
	assert.Regexp(t, `(?m)^ID +`+id+`$`, table)
	assert.Regexp(t, `(?m)^KYC status +BASIC_DATA$`, table)
	assert.Regexp(t, `(?m)^Name +`+testName+`$`, table)
	assert.Regexp(t, `(?m)^Request-ID +bigflip-`, table)
	got := getAgent(t, vars, id)
	assert.Equal(t, created.ID, got.ID)
	assert.Equal(t, flipkyc.AgentActive, got.Status)

	// create's table shows the full record, locations with their names.
	second := ok(t, vars, append([]string{"agent", "create"}, personArgs(testIdentity+"100002")...)...).stdout
	assert.Regexp(t, `(?m)^Location +Sukmajaya \(1234\), Kota Depok \(184\), Jawa Barat \(12\), Indonesia \(1\)$`, second)
	assert.Regexp(t, `(?m)^Born +31-10-1990 Kota Testdata$`, second)

	// The JSON printed by create is a complete input for update; a flag
	// given too wins.
	file := filepath.Join(t.TempDir(), "agent.json")
	raw, err := json.Marshal(created)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, raw, 0o600))
	updated := decode[flipkyc.Agent](t, ok(t, vars, "agent", "update", id, "--from-json", file, "--address", "Jalan Testdata Raya 2", "--json").stdout)
	assert.Equal(t, "Jalan Testdata Raya 2", updated.Address)
	assert.Equal(t, testName, updated.Name)
	assert.Equal(t, flipkyc.NewDate(1990, 10, 31), updated.BirthDate)
	last := srv.RequestsTo(flipkyctest.RouteUpdateAgent)
	require.Len(t, last, 1)
	assert.Equal(t, "Jalan Testdata Raya 2", last[0].Fields["address"])

	// create from stdin, with KYC-service spellings of the enums and ids as
	// strings.
	in := `{"name":"` + testName + `","identity_type":"1","identity_number":"` + testIdentity + `100003",
		"birth_date":"1990-10-31","birth_place":"Kota Testdata","gender":"2","occupation":"OTHERS",
		"country_id":"1","province_id":12,"city_id":184,"district_id":1234,"address":"Jalan Testdata Raya 3",
		"phone_number":"` + testPhone + `100003","use_identity_address":true,"kyc_status":"ignored"}`
	r := cli(t, vars, in, "agent", "create", "--from-json", "-", "--json")
	require.Equal(t, exitOK, r.code, r.stderr)
	fromStdin := decode[flipkyc.Agent](t, r.stdout)
	assert.Equal(t, flipkyc.IdentityKTP, fromStdin.IdentityType)
	assert.Equal(t, flipkyc.OccupationOthers, fromStdin.Occupation)
	reqs := srv.RequestsTo(flipkyctest.RouteCreateAgent)
	assert.Equal(t, "1", reqs[len(reqs)-1].Fields["use_identity_address"])
	assert.Equal(t, "31-10-1990", reqs[len(reqs)-1].Fields["birth_date"])
}

// onboard takes a new agent through create, both uploads and submit, with
// the command, and returns its id.
func onboard(t *testing.T, vars map[string]string, identityNumber string) string {
	t.Helper()
	id := uploaded(t, vars, identityNumber)
	sub := decode[struct {
		AgentID         int64  `json:"agent_id"`
		Message         string `json:"message"`
		ConfirmedByRead bool   `json:"confirmed_by_read"`
	}](t, ok(t, vars, "submit", id, "--json").stdout)
	assert.Equal(t, "KYC submission success", sub.Message)
	assert.False(t, sub.ConfirmedByRead)
	return id
}

// uploaded creates an agent and uploads both images, with the command, and
// returns its id once the upload check passed.
func uploaded(t *testing.T, vars map[string]string, identityNumber string) string {
	t.Helper()
	a := decode[flipkyc.Agent](t, ok(t, vars, append([]string{"agent", "create", "--json"}, personArgs(identityNumber)...)...).stdout)
	id := strconv.FormatInt(a.ID, 10)

	up := decode[struct {
		AgentID   int64  `json:"agent_id"`
		ImageURL  string `json:"image_url"`
		RequestID string `json:"request_id"`
	}](t, ok(t, vars, "upload", "identity", id, writePNG(t, "ktp.png"), "--json").stdout)
	assert.Equal(t, a.ID, up.AgentID)
	assert.NotEmpty(t, up.ImageURL)
	assert.Regexp(t, `^bigflip-`, up.RequestID)

	line := ok(t, vars, "upload", "selfie", id, writePNG(t, "selfie.png"), "--type", "ktp").stdout
	assert.Regexp(t, `^agent `+id+`: image stored at http://\S+ \[Request-ID bigflip-[0-9a-f-]+\]\n$`, line)
	waitStatus(t, vars, id, flipkyc.StatusUploadIdentitySelfieSuccess)
	return id
}

// Every single step of the KYC flow, and every repair, through the command.
func TestKYCFlowAndRepairs(t *testing.T) {
	t.Parallel()
	srv, vars := fakeEnv(t)

	t.Run("approved", func(t *testing.T) {
		id := onboard(t, vars, testIdentity+"200001")
		waitStatus(t, vars, id, flipkyc.StatusApproved)
	})

	t.Run("repair data", func(t *testing.T) {
		id := onboard(t, vars, testIdentity+"209910")
		waitStatus(t, vars, id, flipkyc.StatusRejected)
		table := ok(t, vars, "agent", "get", id).stdout
		assert.Regexp(t, `(?m)^Rejected +10 The data that is filled in does not match with identity card$`, table)
		assert.Regexp(t, `(?m)^Fix +flipkyc repair data `+id+` --FIELD VALUE$`, table)

		out := ok(t, vars, "repair", "data", id, "--name", "Siti Testdata Nurhaliza Dua", "--json").stdout
		u := decode[flipkyc.KYCUser](t, out)
		assert.Equal(t, flipkyc.StatusPending, u.Status)
		assert.Equal(t, "Siti Testdata Nurhaliza Dua", u.Name)
		extra := decode[struct {
			ConfirmedByRead *bool  `json:"confirmed_by_read"`
			RequestID       string `json:"request_id"`
		}](t, out)
		require.NotNil(t, extra.ConfirmedByRead)
		assert.False(t, *extra.ConfirmedByRead)
		assert.Regexp(t, `^bigflip-`, extra.RequestID)
		waitStatus(t, vars, id, flipkyc.StatusApproved)
	})

	t.Run("repair data from stdin", func(t *testing.T) {
		id := onboard(t, vars, testIdentity+"219910")
		waitStatus(t, vars, id, flipkyc.StatusRejected)
		r := cli(t, vars, `{"birth_place":"Kota Testdata Baru"}`, "repair", "data", id, "--from-json", "-")
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Regexp(t, `(?m)^KYC status +PENDING$`, r.stdout)
		waitStatus(t, vars, id, flipkyc.StatusApproved)
	})

	t.Run("repair photo", func(t *testing.T) {
		id := onboard(t, vars, testIdentity+"209914")
		a := waitStatus(t, vars, id, flipkyc.StatusRejected)
		assert.Equal(t, flipkyc.RejectionCode(14), a.RejectedReasonCode)
		out := ok(t, vars, "repair", "photo", id, writePNG(t, "ktp-again.png")).stdout
		assert.Contains(t, out, "image stored at")
		waitStatus(t, vars, id, flipkyc.StatusApproved)
	})

	t.Run("repair selfie", func(t *testing.T) {
		id := onboard(t, vars, testIdentity+"209923")
		waitStatus(t, vars, id, flipkyc.StatusRejected)
		assert.Regexp(t, `(?m)^Fix +flipkyc repair selfie `+id+` FILE$`, ok(t, vars, "agent", "get", id).stdout)
		res := decode[struct {
			ImageURL string `json:"image_url"`
		}](t, ok(t, vars, "repair", "selfie", id, writePNG(t, "selfie-again.png"), "--json").stdout)
		assert.NotEmpty(t, res.ImageURL)
		waitStatus(t, vars, id, flipkyc.StatusApproved)
	})

	t.Run("documents", func(t *testing.T) {
		id := onboard(t, vars, testIdentity+"209911")
		waitStatus(t, vars, id, flipkyc.StatusRejected)
		docs := decode[[]flipkyc.UploadedDocument](t, ok(t, vars, "documents", id,
			"--doc", "family_card="+writePNG(t, "kk.png"), "--selfie", "family_card="+writePNG(t, "kk-selfie.png"), "--json").stdout)
		require.Len(t, docs, 2)
		assert.ElementsMatch(t, []bool{false, true}, []bool{docs[0].Selfie, docs[1].Selfie})
		waitStatus(t, vars, id, flipkyc.StatusApproved)
	})

	t.Run("documents as a table", func(t *testing.T) {
		id := onboard(t, vars, testIdentity+"219911")
		waitStatus(t, vars, id, flipkyc.StatusRejected)
		out := ok(t, vars, "documents", id, "--doc", "npwp="+writePNG(t, "npwp.png")).stdout
		assert.Regexp(t, `^ID +TYPE +SELFIE +PATH\n1 +1 +false +documents/`+id+`/npwp\.jpg\nuploaded 1 documents for agent `+id+` \[Request-ID bigflip-`, out)
	})

	// A submission or repair whose reply is lost after Flip acted is
	// confirmed by reading the agent, and says so.
	t.Run("lost replies", func(t *testing.T) {
		id := uploaded(t, vars, testIdentity+"500001")
		srv.FailNextAfterApplying(flipkyctest.RouteSubmit, 1, 504)
		out := ok(t, vars, "submit", id).stdout
		assert.Regexp(t, `^submitted agent `+id+`: the reply was lost; reading the agent confirmed it is under review \[Request-ID bigflip-`, out)
		waitStatus(t, vars, id, flipkyc.StatusApproved)

		id = onboard(t, vars, testIdentity+"509914")
		waitStatus(t, vars, id, flipkyc.StatusRejected)

		srv.FailNextAfterApplying(flipkyctest.RouteRepairPhoto, 1, 502)
		res := decode[struct {
			ImageURL        string `json:"image_url"`
			ConfirmedByRead bool   `json:"confirmed_by_read"`
		}](t, ok(t, vars, "repair", "photo", id, writePNG(t, "again.png"), "--json").stdout)
		assert.True(t, res.ConfirmedByRead)
		assert.Empty(t, res.ImageURL)
		waitStatus(t, vars, id, flipkyc.StatusApproved)
	})

	t.Run("refused steps", func(t *testing.T) {
		id := onboard(t, vars, testIdentity+"200002")
		waitStatus(t, vars, id, flipkyc.StatusApproved)
		for _, args := range [][]string{
			{"submit", id},
			{"repair", "data", id, "--name", "Siti Testdata Lain"},
			{"repair", "photo", id, writePNG(t, "x.png")},
			{"upload", "identity", id, writePNG(t, "y.png")},
			{"documents", id, "--doc", "npwp=" + writePNG(t, "z.png")},
		} {
			r := cli(t, vars, "", args...)
			assert.Equal(t, exitFailure, r.code, "%v", args)
			assert.Contains(t, r.stderr, "code 4010", "%v", args)
			assert.Contains(t, r.stderr, "[Request-ID bigflip-", "%v", args)
		}
	})
}
