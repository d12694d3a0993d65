package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// received is one request a test receiver got.
type received struct {
	method, contentType string
	form                url.Values
}

// receiver records what it receives and answers status.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	status atomic.Int32
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{}
	r.status.Store(http.StatusOK)
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		form, _ := url.ParseQuery(string(body))
		r.mu.Lock()
		r.got = append(r.got, received{req.Method, req.Header.Get("Content-Type"), form})
		r.mu.Unlock()
		w.WriteHeader(int(r.status.Load()))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) all() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// waitFor waits until the receiver has had n requests.
func (r *receiver) waitFor(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for len(r.all()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("the receiver got %d requests, not %d", len(r.all()), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (r *receiver) last(t *testing.T) received {
	t.Helper()
	all := r.all()
	require.NotEmpty(t, all)
	return all[len(all)-1]
}

// trigger sends every status and every rejection code in Flip's exact wire
// form: a form POST with data and token, data a JSON object with exactly
// Flip's nine fields, times in Flip's zone-less layout.
func TestTriggerWireForm(t *testing.T) {
	rec := newReceiver(t)
	parser, err := flipkyc.NewCallbackParser(testToken)
	require.NoError(t, err)
	vars := map[string]string{envCallbackToken: testToken}

	check := func(t *testing.T, args []string) flipkyc.Event {
		t.Helper()
		r := ok(t, vars, append(args, "--url", rec.URL+"/flip/kyc")...)
		assert.Contains(t, r.stdout, "HTTP 200 OK")
		got := rec.last(t)
		assert.Equal(t, http.MethodPost, got.method)
		assert.Equal(t, "application/x-www-form-urlencoded", got.contentType)
		keys := make([]string, 0, len(got.form))
		for k := range got.form {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		assert.Equal(t, []string{"data", "token"}, keys)

		var data map[string]json.RawMessage
		require.NoError(t, json.Unmarshal([]byte(got.form.Get("data")), &data))
		fields := make([]string, 0, len(data))
		for k := range data {
			fields = append(fields, k)
		}
		assert.ElementsMatch(t, []string{"agent_id", "agent_name", "kyc_status", "rejected_reason_code", "rejected_reason",
			"created_at", "updated_at", "submitted_at", "verified_at"}, fields)
		for _, k := range []string{"created_at", "updated_at"} {
			var s string
			require.NoError(t, json.Unmarshal(data[k], &s))
			_, err := time.Parse("2006-01-02 15:04:05", s)
			assert.NoError(t, err, "%s: %s", k, s)
		}

		ev, err := parser.ParseValues(got.form)
		require.NoError(t, err)
		assert.Empty(t, ev.Problems)
		return ev
	}

	for _, st := range allStatuses {
		ev := check(t, []string{"trigger", string(st), "--agent", "1001"})
		assert.Equal(t, st, ev.KYCStatus)
		assert.Equal(t, int64(1001), ev.AgentID)
		assert.Equal(t, flipkyc.RejectionCode(0), ev.RejectedReasonCode)
		assert.Equal(t, st == flipkyc.StatusApproved, !ev.VerifiedAt.IsZero(), "verified_at of %s", st)
	}
	for code := flipkyc.RejectionCode(10); code <= 33; code++ {
		ev := check(t, []string{"trigger", "REJECTED", "--agent", "7", "--reason", strconv.Itoa(int(code)), "--name", testName})
		assert.Equal(t, flipkyc.StatusRejected, ev.KYCStatus)
		assert.Equal(t, code, ev.RejectedReasonCode)
		assert.Equal(t, code.Message(), ev.RejectedReason)
		assert.Equal(t, testName, ev.AgentName)
		assert.False(t, ev.SubmittedAt.IsZero())
		assert.True(t, ev.VerifiedAt.IsZero())
	}

	// Statuses by code and in any case; an undocumented rejection code with
	// a text of one's own; the token from the flag.
	ev := check(t, []string{"trigger", "40", "--agent", "2"})
	assert.Equal(t, flipkyc.StatusApproved, ev.KYCStatus)
	ev = check(t, []string{"trigger", "upload_identity_selfie_failed", "--agent", "3", "--reason", "99", "--reason-text", "something new"})
	assert.Equal(t, flipkyc.StatusUploadIdentitySelfieFailed, ev.KYCStatus)
	assert.Equal(t, flipkyc.RejectionCode(99), ev.RejectedReasonCode)
	assert.Equal(t, "something new", ev.RejectedReason)
	r := ok(t, nil, "trigger", "APPROVED", "--agent", "4", "--token", testToken, "--url", rec.URL)
	assert.Contains(t, r.stdout, "APPROVED for agent 4")
	assert.Equal(t, testToken, rec.last(t).form.Get("token"))

	// --json: the receiver's status and the event sent, the name masked.
	r = ok(t, vars, "trigger", "REJECTED", "--agent", "5", "--reason", "17", "--name", testName, "--url", rec.URL, "--json")
	out := decode[struct {
		URL    string        `json:"url"`
		Status int           `json:"http_status"`
		Event  flipkyc.Event `json:"event"`
	}](t, r.stdout)
	assert.Equal(t, rec.URL, out.URL)
	assert.Equal(t, 200, out.Status)
	assert.Equal(t, flipkyc.RejectionCode(17), out.Event.RejectedReasonCode)
	assert.Equal(t, "[masked]", out.Event.AgentName)
	assert.NotContains(t, r.stdout, testName)
}

// trigger exits 1 unless the receiver answers 2xx; it never follows a
// redirect, so the token goes nowhere else.
func TestTriggerFailures(t *testing.T) {
	vars := map[string]string{envCallbackToken: testToken}
	rec := newReceiver(t)

	rec.status.Store(http.StatusInternalServerError)
	r := cli(t, vars, "", "trigger", "APPROVED", "--agent", "1", "--url", rec.URL)
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stdout, "HTTP 500")
	assert.Equal(t, "flipkyc trigger: the receiver answered HTTP 500 Internal Server Error\n", r.stderr)

	r = cli(t, vars, "", "trigger", "APPROVED", "--agent", "1", "--url", rec.URL, "--json")
	assert.Equal(t, exitFailure, r.code)
	assert.Equal(t, 500, decode[struct {
		Status int `json:"http_status"`
	}](t, r.stdout).Status)
	assert.Equal(t, exitFailure, decode[jsonError](t, r.stderr).ExitStatus)

	other := newReceiver(t)
	redirect := httptest.NewServer(http.RedirectHandler(other.URL, http.StatusTemporaryRedirect))
	defer redirect.Close()
	r = cli(t, vars, "", "trigger", "APPROVED", "--agent", "1", "--url", redirect.URL)
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "HTTP 307")
	assert.Empty(t, other.all(), "the redirect is not followed")

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://" + l.Addr().String()
	require.NoError(t, l.Close())
	r = cli(t, vars, "", "trigger", "APPROVED", "--agent", "1", "--url", closed)
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "connection refused")
	assert.Empty(t, r.stdout)

	// No token anywhere: a usage error, and nothing is sent.
	rec.status.Store(http.StatusOK)
	before := len(rec.all())
	r = cli(t, nil, "", "trigger", "APPROVED", "--agent", "1", "--url", rec.URL)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "set FLIP_CALLBACK_TOKEN")
	assert.Len(t, rec.all(), before)
}

// trigger --json prints the event it sent as listen does: its free text
// masked (Event.Masked); the receiver gets it as given.
func TestTriggerJSONMasked(t *testing.T) {
	rec := newReceiver(t)
	vars := map[string]string{envCallbackToken: testToken}
	reason := "call " + testPhone + "771234 or agent.elsewhere@example.org"
	r := ok(t, vars, "trigger", "REJECTED", "--agent", "8", "--reason", "10", "--reason-text", reason, "--name", testName, "--url", rec.URL, "--json")
	var got struct {
		Event flipkyc.Event `json:"event"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got))
	assert.Equal(t, "call [masked] or [masked]", got.Event.RejectedReason)
	assert.Equal(t, "[masked]", got.Event.AgentName)
	assert.Contains(t, rec.last(t).form.Get("data"), testPhone+"771234", "sent as given")
}
