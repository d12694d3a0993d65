package flipkyc

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestResponseIsFilledOnEveryOutcome(t *testing.T) {
	agent := string(fixture(t, "agent_get_response.json"))
	tests := []struct {
		name     string
		replies  []reply
		refused  bool
		agentID  int64
		want     Response // RequestID checked apart
		wantErr  bool
		wantHdr  string
		attempts int
	}{
		{name: "success", replies: []reply{{status: 200, body: agent, header: map[string]string{"X-Trace": "t1"}}},
			agentID: 1, want: Response{Operation: "GetAgent", StatusCode: 200, Attempts: 1}, wantHdr: "t1"},
		{name: "success after a retry", replies: []reply{{status: 503}, {status: 200, body: agent}},
			agentID: 1, want: Response{Operation: "GetAgent", StatusCode: 200, Attempts: 2}},
		{name: "refused by Flip", replies: []reply{{status: 404, body: `{"name":"Not Found","message":"Agent not found","status":404}`}},
			agentID: 1, want: Response{Operation: "GetAgent", StatusCode: 404, Attempts: 1}, wantErr: true},
		{name: "no reply at all", refused: true,
			agentID: 1, want: Response{Operation: "GetAgent", StatusCode: 0, Attempts: 3}, wantErr: true},
		{name: "invalid input: nothing sent", replies: []reply{{status: 200, body: agent}},
			agentID: -1, want: Response{}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := refusedAddr(t)
			if !tt.refused {
				srv := httptest.NewServer(&recorder{replies: tt.replies})
				defer srv.Close()
				base = srv.URL
			}
			c, _ := newTestClient(t, base, base)
			var resp Response
			_, err := c.GetAgent(context.Background(), tt.agentID, ResponseInto(&resp))
			recordErr(err)
			assert.Equal(t, tt.wantErr, err != nil, "%v", err)
			if tt.want.Operation == "" {
				assert.Equal(t, Response{}, resp, "invalid input is refused before a call exists")
				return
			}
			assert.Equal(t, tt.want.Operation, resp.Operation)
			assert.Equal(t, tt.want.StatusCode, resp.StatusCode)
			assert.Equal(t, tt.want.Attempts, resp.Attempts)
			assert.Regexp(t, requestIDShape, resp.RequestID)
			if err != nil {
				assert.Contains(t, err.Error(), resp.RequestID, "the error carries the same Request-ID")
			}
			if tt.wantHdr != "" {
				assert.Equal(t, tt.wantHdr, resp.Header.Get("X-Trace"))
			}
		})
	}
}

func TestConfirmedByReadShowsInTheResponse(t *testing.T) {
	srv := &agentServer{lost: lostReplies[0], status: StatusPending}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	c, _ := newTestClient(t, ts.URL, ts.URL)
	var resp Response
	_, err := c.SubmitKYC(context.Background(), 1, ResponseInto(&resp))
	require.NoError(t, err)
	assert.True(t, resp.ConfirmedByRead)
	assert.Equal(t, "SubmitKYC", resp.Operation)
	assert.Equal(t, 502, resp.StatusCode, "the status of the reply that was lost")
}

func TestCallOptionsApplyToOneCall(t *testing.T) {
	rec := &recorder{replies: []reply{{status: 503}}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL, srv.URL)
	const mine = "bigflip-47eb7f57-5565-4bf0-b9dd-46c6268cee71"
	_, err := c.GetAgent(context.Background(), 1, Retry(RetryPolicy{MaxAttempts: 1}), RequestID(mine))
	require.Error(t, err)
	assert.Len(t, rec.got(), 1, "one attempt, as the call asked")
	assert.Equal(t, mine, rec.got()[0].Header.Get("Request-ID"))

	_, err = c.GetAgent(context.Background(), 1)
	require.Error(t, err)
	reqs := rec.got()
	assert.Len(t, reqs, 1+3, "the next call has the client's policy again")
	assert.NotEqual(t, mine, reqs[1].Header.Get("Request-ID"), "and a Request-ID of its own")

	_, err = c.GetAgent(context.Background(), 1, Retry(RetryPolicy{MaxAttempts: -1}))
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.Has("Retry"))
	assert.Len(t, rec.got(), 4, "nothing sent")
}

func TestWaitForAgentUsesTheRequestIDOnceAndItsPollInterval(t *testing.T) {
	pending := strings.Replace(string(fixture(t, "agent_get_response.json")), `"APPROVED"`, `"PENDING"`, 1)
	rec := &recorder{replies: []reply{{status: 200, body: pending}, {status: 200, body: pending},
		{status: 200, body: string(fixture(t, "agent_get_response.json"))}}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c, clk := newTestClient(t, srv.URL, srv.URL)
	const mine = "bigflip-47eb7f57-5565-4bf0-b9dd-46c6268cee71"
	var resp Response
	a, err := c.WaitForAgent(context.Background(), 1, UntilFinal, RequestID(mine), PollInterval(10*time.Millisecond), ResponseInto(&resp))
	require.NoError(t, err)
	assert.Equal(t, StatusApproved, a.KYCStatus)
	reqs := rec.got()
	require.Len(t, reqs, 3)
	assert.Equal(t, mine, reqs[0].Header.Get("Request-ID"))
	assert.NotEqual(t, mine, reqs[1].Header.Get("Request-ID"), "each poll is a call of its own")
	assert.NotEqual(t, reqs[1].Header.Get("Request-ID"), reqs[2].Header.Get("Request-ID"))
	assert.Equal(t, reqs[2].Header.Get("Request-ID"), resp.RequestID, "the response is the last poll's")
	for _, w := range clk.waits() {
		assert.LessOrEqual(t, w, 300*time.Millisecond, "waits start at the interval given, backing off to 30 times it")
		assert.GreaterOrEqual(t, w, 5*time.Millisecond)
	}
}

func TestCallInfoAndAttemptHook(t *testing.T) {
	var seen []CallInfo
	transport := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		info, ok := CallInfoFrom(req.Context())
		require.True(t, ok)
		seen = append(seen, info)
		if info.Attempt == 1 {
			return &http.Response{StatusCode: 429, Body: http.NoBody, Header: http.Header{}, Request: req}, nil
		}
		return &http.Response{StatusCode: 200, Body: httpBody(`{"countries":[{"id":1,"name":"Indonesia"}]}`), Header: http.Header{}, Request: req}, nil
	})
	var attempts []Attempt
	c, _ := newTestClient(t, "https://x.test/v2", "https://x.test/kyc",
		WithHTTPClient(&http.Client{Transport: transport}),
		WithAttemptHook(func(_ context.Context, a Attempt) { attempts = append(attempts, a) }))
	_, err := c.ListCountries(context.Background())
	require.NoError(t, err)
	require.Len(t, seen, 2)
	assert.Equal(t, "ListCountries", seen[0].Operation)
	assert.Equal(t, []int{1, 2}, []int{seen[0].Attempt, seen[1].Attempt})
	assert.Equal(t, seen[0].RequestID, seen[1].RequestID)
	require.Len(t, attempts, 2)
	assert.Equal(t, 429, attempts[0].StatusCode)
	assert.ErrorIs(t, attempts[0].Err, ErrRateLimited)
	assert.Positive(t, attempts[0].RetryIn)
	assert.Equal(t, 200, attempts[1].StatusCode)
	assert.NoError(t, attempts[1].Err)
	assert.Zero(t, attempts[1].RetryIn)

	_, ok := CallInfoFrom(context.Background())
	assert.False(t, ok, "not a request of the SDK")
	_, err = New(testKey, WithAttemptHook(nil))
	assert.ErrorContains(t, err, "nil hook")
}

func TestNetworkErrorsCarryTheRequestID(t *testing.T) {
	base := refusedAddr(t)
	c, _ := newTestClient(t, base, base, WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
	var resp Response
	_, err := c.GetAgent(context.Background(), 1, ResponseInto(&resp))
	recordErr(err)
	var ne *NetworkError
	require.ErrorAs(t, err, &ne)
	assert.Equal(t, resp.RequestID, ne.RequestID)
	assert.Contains(t, err.Error(), "[Request-ID "+resp.RequestID+"]")
	assert.Equal(t, "GetAgent", ne.Op)
	var ue *url.Error
	assert.True(t, errors.As(err, &ue), "the *url.Error stays reachable")
	assert.NotContains(t, err.Error(), base+"/agents/1", "the path is said once, without the URL")
}

func TestErrorsNameTheMethodCalled(t *testing.T) {
	srv := httptest.NewServer(&recorder{replies: []reply{{status: 400, body: `{"errors":[{"code":4001,"message":"x"}]}`}}})
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL, srv.URL)
	for _, ec := range endpointCases(t) {
		_, err := ec.call(context.Background(), c)
		require.Error(t, err)
		assert.True(t, strings.HasPrefix(err.Error(), "flipkyc: "+ec.name+": "), "%s: %v", ec.name, err)
	}
	_, err := c.ListProvinces(context.Background(), -1)
	assert.True(t, strings.HasPrefix(err.Error(), "flipkyc: ListProvinces: "), err)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func httpBody(s string) *readCloser { return &readCloser{strings.NewReader(s)} }

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }

func TestWaitForAgentEndsWithTheLastRequestID(t *testing.T) {
	tests := []struct {
		name    string
		reply   reply
		wantErr error
	}{
		{"polls failing", reply{status: 503}, ErrServer},
		{"polls answering, condition not met", reply{status: 200, body: strings.Replace(string(fixture(t, "agent_get_response.json")), `"APPROVED"`, `"PENDING"`, 1)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(&recorder{replies: []reply{tt.reply}})
			defer srv.Close()
			c, err := New(testKey, WithBaseURLs(srv.URL, srv.URL), WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
			defer cancel()
			var resp Response
			_, err = c.WaitForAgent(ctx, 1, UntilFinal, PollInterval(5*time.Millisecond), ResponseInto(&resp))
			recordErr(err)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			require.NotEmpty(t, resp.RequestID)
			assert.Contains(t, err.Error(), "bigflip-", "the error names a Request-ID sent")
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr, "and matches the last poll's failure")
			}
		})
	}
}

// TestCallContextKeepsTheCallersValuesAndCancellation: the context a
// request carries is the caller's, with the call's state added: the
// caller's values reach the transport beside CallInfo, the hook sees them
// too, and a caller's cancellation ends the call.
func TestCallContextKeepsTheCallersValuesAndCancellation(t *testing.T) {
	type traceKey struct{}
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), traceKey{}, "trace-7"))
	defer cancel()
	var inTransport, inHook []any
	transport := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		info, ok := CallInfoFrom(req.Context())
		inTransport = append(inTransport, req.Context().Value(traceKey{}), ok, info.Operation)
		cancel()
		<-req.Context().Done()
		return nil, context.Cause(req.Context())
	})
	c, _ := newTestClient(t, "https://x.test/v2", "https://x.test/kyc",
		WithHTTPClient(&http.Client{Transport: transport}),
		WithAttemptHook(func(ctx context.Context, a Attempt) { inHook = append(inHook, ctx.Value(traceKey{})) }))
	_, err := c.GetAgent(ctx, 497)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, []any{"trace-7", true, "GetAgent"}, inTransport)
	assert.Equal(t, []any{"trace-7"}, inHook)
}
