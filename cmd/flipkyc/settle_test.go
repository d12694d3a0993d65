package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/flipkyctest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// reviewCounter counts the KYC reviews the fake starts per agent, deciding
// them as the fake's default reviewer does.
type reviewCounter struct {
	mu      sync.Mutex
	reviews map[int64]int
}

func (rc *reviewCounter) review(a flipkyc.Agent, n int) flipkyctest.Decision {
	rc.mu.Lock()
	rc.reviews[a.ID]++
	rc.mu.Unlock()
	return flipkyctest.DefaultReviewer(a, n)
}

func (rc *reviewCounter) of(id string) int {
	n, _ := strconv.ParseInt(id, 10, 64)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.reviews[n]
}

// A submission or repair whose reply is lost finishes: one the fake never
// applied is sent again, one it applied is confirmed by reading; either way
// exactly one review starts and the command exits 0.
func TestSubmitAndRepairFinishAfterALostReply(t *testing.T) {
	t.Parallel()
	rc := &reviewCounter{reviews: map[int64]int{}}
	srv, vars := fakeEnv(t, flipkyctest.WithReviewer(rc.review))
	type result struct {
		Message         string `json:"message"`
		ConfirmedByRead bool   `json:"confirmed_by_read"`
	}
	for i, tc := range []struct {
		name      string
		fault     func()
		confirmed bool
	}{
		{"503 before Flip applied it", func() { srv.FailNext(flipkyctest.RouteSubmit, 1, 503) }, false},
		{"applied, then a 504 lost the reply", func() { srv.FailNextAfterApplying(flipkyctest.RouteSubmit, 1, 504) }, true},
		{"applied, then the connection dropped", func() { srv.DropNextAfterApplying(flipkyctest.RouteSubmit, 1) }, true},
	} {
		t.Run("submit/"+tc.name, func(t *testing.T) {
			id := uploaded(t, vars, testIdentity+"30000"+strconv.Itoa(i))
			tc.fault()
			got := decode[result](t, ok(t, vars, "submit", id, "--json").stdout)
			assert.Equal(t, tc.confirmed, got.ConfirmedByRead)
			if !tc.confirmed {
				assert.Equal(t, "KYC submission success", got.Message, "Flip's answer to the resend")
			}
			waitStatus(t, vars, id, flipkyc.StatusApproved)
			assert.Equal(t, 1, rc.of(id), "exactly one review")
		})
	}
	t.Run("repair data/503 before Flip applied it", func(t *testing.T) {
		id := onboard(t, vars, testIdentity+"309910")
		waitStatus(t, vars, id, flipkyc.StatusRejected)
		srv.FailNext(flipkyctest.RouteRepairData, 1, 503)
		ok(t, vars, "repair", "data", id, "--name", "Siti Testdata Nurhaliza Tiga")
		waitStatus(t, vars, id, flipkyc.StatusApproved)
		assert.Equal(t, 2, rc.of(id), "the submission's review and the repair's")
		assert.Len(t, srv.RequestsTo(flipkyctest.RouteRepairData), 2, "the repair was sent again")
	})
}

// The standalone fake fails the requests --fail names, once each: a user's
// own program (or the onboarding example) can be tried against a lost
// submission reply without writing a test.
func TestFakeFailFlag(t *testing.T) {
	t.Parallel()
	p, s := startFake(t, nil, "--fail", "submit:503", "--decision-delay", "1ms")
	defer p.stop(t)
	vars := envOf(s)
	id := uploaded(t, vars, testIdentity+"310001")
	got := decode[struct {
		Message         string `json:"message"`
		ConfirmedByRead bool   `json:"confirmed_by_read"`
	}](t, ok(t, vars, "submit", id, "--json").stdout)
	assert.Equal(t, "KYC submission success", got.Message)
	waitStatus(t, vars, id, flipkyc.StatusApproved)
	agents, _ := getJSON[[]fakeAgent](t, s.URL+"/_fake/agents")
	submits := -1
	for _, a := range agents {
		if strconv.FormatInt(a.ID, 10) == id {
			submits = a.Submits
		}
	}
	assert.Equal(t, 2, submits, "the first failed before Flip saw it, the second went through")
	for _, bad := range []string{"submit", "submit:200", "nowhere:503", "submit:503:later", "submit:drop:applied:x"} {
		r := cli(t, nil, "", "fake", "--fail", bad)
		assert.Equal(t, exitUsage, r.code, bad)
		assert.Contains(t, r.stderr, "--fail", bad)
	}
}

// --env-file hands the fake's settings to a shell without jq: a file of
// exports, owner-only, complete when it appears.
func TestFakeEnvFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "fake.env")
	p, s := startFake(t, nil, "--env-file", path)
	defer p.stop(t)
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		require.True(t, ok, line)
		got[k] = strings.Trim(v, "'")
	}
	assert.Equal(t, map[string]string{
		flipkyc.EnvSecretKey: s.SecretKey, flipkyc.EnvAPIBaseURL: s.AgentsURL, flipkyc.EnvKYCBaseURL: s.KYCURL,
		envCallbackToken: s.CallbackToken,
	}, got)
	// What the shell reads from it drives the command.
	ok(t, got, "locations", "countries")

	r := cli(t, nil, "", "fake", "--env-file", dir)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "--env-file: ")
	assert.Contains(t, r.stderr, "not a regular file")
}
