package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/flipkyctest"
	"github.com/flipkyc/flipkyc/internal/redact"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startFake runs "fake" on a free port and returns it with its start line.
func startFake(t *testing.T, vars map[string]string, args ...string) (*proc, fakeStart) {
	t.Helper()
	p := start(t, vars, append([]string{"fake", "--addr", "127.0.0.1:0"}, args...)...)
	p.waitFor(t, "the start line", func(stdout, _ string) bool { return strings.Contains(stdout, "\n") })
	return p, decode[fakeStart](t, p.stdout.String())
}

// envOf returns the variables that point the command at a fake.
func envOf(s fakeStart) map[string]string {
	return map[string]string{flipkyc.EnvSecretKey: s.SecretKey, flipkyc.EnvAPIBaseURL: s.AgentsURL, flipkyc.EnvKYCBaseURL: s.KYCURL}
}

// getJSON reads one of the fake's state endpoints.
func getJSON[T any](t *testing.T, url string) (T, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", url, body)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var v T
	require.NoError(t, json.Unmarshal(body, &v), "%s", body)
	return v, string(body)
}

// The loop a team without Go runs: the fake sends its callbacks to listen,
// which forwards them to the team's service; the command drives the flow.
func TestFakeListenLoop(t *testing.T) {
	service := newReceiver(t)
	lvars := map[string]string{envCallbackToken: testToken}
	listen, listenURL := startListen(t, lvars, "--json", "--forward-to", service.URL+"/flip/kyc")

	fake, s := startFake(t, lvars, "--callback-url", listenURL+"flip/kyc", "--reviewer", "reject-once:14",
		"--upload-check", "pass", "--latency", "1ms", "--decision-delay", "1ms", "--max-uploads", "4")
	assert.Regexp(t, `^http://127\.0\.0\.1:\d+$`, s.URL)
	assert.Equal(t, s.URL+flipkyctest.AgentsPrefix, s.AgentsURL)
	assert.Equal(t, s.URL+flipkyctest.KYCPrefix, s.KYCURL)
	assert.Equal(t, flipkyctest.DefaultSecretKey, s.SecretKey)
	assert.Equal(t, redact.Redacted, s.CallbackToken, "the token from FLIP_CALLBACK_TOKEN is a secret, not printed")
	assert.NotContains(t, fake.stdout.String()+fake.stderr.String(), testToken)
	assert.Equal(t, listenURL+"flip/kyc", s.CallbackURL)
	assert.Equal(t, s.URL+"/_fake/", s.StateURL)
	assert.Contains(t, fake.stderr.String(), s.URL+"/_fake/agents")

	vars := envOf(s)
	ok(t, vars, "ping")
	a := decode[flipkyc.Agent](t, ok(t, vars, append([]string{"agent", "create", "--json"}, personArgs(testIdentity+"300001")...)...).stdout)
	id := strconv.FormatInt(a.ID, 10)
	// The same person again: refused, and counted.
	assert.Equal(t, exitFailure, cli(t, vars, "", append([]string{"agent", "create"}, personArgs(testIdentity+"300001")...)...).code)
	ok(t, vars, "upload", "identity", id, writePNG(t, "ktp.png"))
	ok(t, vars, "upload", "selfie", id, writePNG(t, "selfie.png"))
	waitStatus(t, vars, id, flipkyc.StatusUploadIdentitySelfieSuccess)
	ok(t, vars, "submit", id)
	rejected := waitStatus(t, vars, id, flipkyc.StatusRejected)
	assert.Equal(t, flipkyc.RejectionCode(14), rejected.RejectedReasonCode)
	ok(t, vars, "repair", "photo", id, writePNG(t, "ktp-again.png"))
	waitStatus(t, vars, id, flipkyc.StatusApproved)

	// listen printed the three callbacks and forwarded each.
	listen.waitFor(t, "three events", func(stdout, _ string) bool { return strings.Count(stdout, "\n") == 3 })
	var statuses []flipkyc.KYCStatus
	for _, line := range listen.stdout.lines() {
		ev := readLine(t, line)
		assert.Equal(t, a.ID, ev.AgentID)
		assert.Equal(t, "[masked]", ev.AgentName)
		assert.Equal(t, http.StatusOK, ev.ForwardStatus)
		statuses = append(statuses, ev.KYCStatus)
	}
	assert.Equal(t, []flipkyc.KYCStatus{flipkyc.StatusUploadIdentitySelfieSuccess, flipkyc.StatusRejected, flipkyc.StatusApproved}, statuses)
	forwarded := service.all()
	require.Len(t, forwarded, 3)
	for _, f := range forwarded {
		assert.Equal(t, testToken, f.form.Get("token"))
		assert.Contains(t, f.form.Get("data"), testName, "the forward carries the data as Flip sent it")
	}

	// The fake's state, once it has recorded the third callback's answer.
	deadline := time.Now().Add(wait)
	for {
		sent, _ := getJSON[[]json.RawMessage](t, s.URL+"/_fake/callbacks")
		if len(sent) == 3 {
			break
		}
		require.False(t, time.Now().After(deadline), "the fake recorded %d callbacks", len(sent))
		time.Sleep(5 * time.Millisecond)
	}
	agents, _ := getJSON[[]fakeAgent](t, s.URL+"/_fake/agents")
	require.Len(t, agents, 1)
	assert.Equal(t, fakeAgent{ID: a.ID, KYCStatus: flipkyc.StatusApproved, Status: flipkyc.AgentActive, CreatedAt: agents[0].CreatedAt,
		Creates: 2, Uploads: 3, Submits: 1, Repairs: 1, Callbacks: 3}, agents[0])

	reqs, body := getJSON[[]map[string]any](t, s.URL+"/_fake/requests")
	assert.NotEmpty(t, reqs)
	assert.NotContains(t, body, flipkyctest.DefaultSecretKey)
	assert.NotContains(t, body, testToken)
	for _, p := range personalData {
		assert.NotContains(t, body, p)
	}
	assert.Contains(t, body, `"Authorization":["[redacted]"]`)
	assert.Contains(t, body, `"Route":"POST /agents"`)

	callbacks, body := getJSON[[]struct {
		Event  map[string]any
		Status int
	}](t, s.URL+"/_fake/callbacks")
	require.Len(t, callbacks, 3)
	for _, c := range callbacks {
		assert.Equal(t, http.StatusOK, c.Status)
	}
	assert.NotContains(t, body, testName)

	resp, err := http.Get(s.URL + "/_fake/nothing")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)

	// Interrupted, both stop cleanly.
	assert.Equal(t, exitOK, fake.stop(t))
	assert.Equal(t, exitOK, listen.stop(t))
	checkNoLeak(t, listen.args, listen.stdout.String(), listen.stderr.String())
	assert.NotContains(t, listen.stdout.String(), testName)
	assert.NotContains(t, fake.stderr.String(), flipkyctest.DefaultSecretKey)
}

// The upload check can fail with a code; the reviewer can approve or reject
// every time; the secret key is the fake's own, never FLIP_SECRET_KEY.
func TestFakeOutcomes(t *testing.T) {
	receiver := newReceiver(t)
	fake, s := startFake(t, map[string]string{flipkyc.EnvSecretKey: testKey}, "--callback-url", receiver.URL,
		"--upload-check", "fail:23", "--callback-token", "flag-token")
	assert.Equal(t, flipkyctest.DefaultSecretKey, s.SecretKey)
	assert.NotContains(t, fake.stdout.String()+fake.stderr.String(), testKey)
	assert.Equal(t, redact.Redacted, s.CallbackToken, "the flag's token is a secret, not printed")
	vars := envOf(s)
	a := decode[flipkyc.Agent](t, ok(t, vars, append([]string{"agent", "create", "--json"}, personArgs(testIdentity+"400001")...)...).stdout)
	id := strconv.FormatInt(a.ID, 10)
	ok(t, vars, "upload", "identity", id, writePNG(t, "ktp.png"))
	ok(t, vars, "upload", "selfie", id, writePNG(t, "selfie.png"))
	failed := waitStatus(t, vars, id, flipkyc.StatusUploadIdentitySelfieFailed)
	assert.Equal(t, flipkyc.RejectionCode(23), failed.RejectedReasonCode)
	receiver.waitFor(t, 1) // the callback follows the change of status
	got := receiver.last(t)
	assert.Equal(t, "flag-token", got.form.Get("token"))
	assert.Contains(t, got.form.Get("data"), `"kyc_status":"UPLOAD_IDENTITY_SELFIE_FAILED"`)
	assert.Equal(t, exitOK, fake.stop(t))

	for _, tc := range []struct {
		reviewer string
		want     []flipkyctest.Decision
	}{
		{"approve", []flipkyctest.Decision{{}, {}}},
		{"default", []flipkyctest.Decision{{Code: 10}, {}}}, // for …9910
		{"reject:29", []flipkyctest.Decision{{Code: 29}, {Code: 29}}},
		{"reject-once:17", []flipkyctest.Decision{{Code: 17}, {}}},
	} {
		r, err := parseReviewer(tc.reviewer)
		require.NoError(t, err)
		agent := flipkyc.Agent{IdentityNumber: testIdentity + "009910"}
		assert.Equal(t, tc.want, []flipkyctest.Decision{r(agent, 1), r(agent, 2)}, tc.reviewer)
	}
}
