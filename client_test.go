package flipkyc

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewRejectsBadConfiguration(t *testing.T) {
	tests := []struct {
		name string
		key  string
		opts []Option
		want string
	}{
		{"empty key", "", nil, "secret key is empty"},
		{"key with space", "sk test", nil, "spaces or control characters"},
		{"key with newline", "sk\ntest", nil, "spaces or control characters"},
		{"relative URL", testKey, []Option{WithBaseURLs("/v2", "https://x.test/kyc")}, "agents API base URL: scheme"},
		{"no host", testKey, []Option{WithBaseURLs("https://x.test/v2", "https:///kyc")}, "KYC API base URL: no host"},
		{"ftp scheme", testKey, []Option{WithBaseURLs("ftp://x.test", "https://x.test")}, "scheme must be https or http"},
		{"credentials in URL", testKey, []Option{WithBaseURLs("https://u:p@x.test", "https://x.test")}, "must not carry credentials"},
		{"query in URL", testKey, []Option{WithBaseURLs("https://x.test?a=1", "https://x.test")}, "query"},
		{"negative retries", testKey, []Option{WithRetryPolicy(RetryPolicy{MaxAttempts: -1})}, "MaxAttempts is -1"},
		{"negative delay", testKey, []Option{WithRetryPolicy(RetryPolicy{BaseDelay: -1})}, "negative delay"},
		{"nil http client", testKey, []Option{WithHTTPClient(nil)}, "nil *http.Client"},
		{"nil generator", testKey, []Option{WithRequestIDGenerator(nil)}, "nil generator"},
		{"nil logger", testKey, []Option{WithLogger(nil)}, "nil logger"},
		{"user agent with newline", testKey, []Option{WithUserAgent("a\r\nX-Evil: 1")}, "control characters"},
		{"unknown environment", testKey, []Option{WithEnvironment(Environment(7))}, "unknown environment"},
		{"zero response limit", testKey, []Option{WithMaxResponseBytes(0)}, "WithMaxResponseBytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.key, tt.opts...)
			recordErr(err)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestNewReportsEveryProblemAtOnce(t *testing.T) {
	_, err := New("", WithBaseURLs("nope", "https://x.test"), WithRetryPolicy(RetryPolicy{MaxAttempts: -2}))
	require.Error(t, err)
	for _, want := range []string{"secret key is empty", "agents API base URL", "MaxAttempts"} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestEnvironmentsPickBothBaseURLs(t *testing.T) {
	tests := []struct {
		env              Environment
		agents, kycPrefx string
	}{
		{Sandbox, "https://bigflip.id/big_sandbox_api/v2/agents/497", "https://api.flip.id/kyc-sandbox/api/v1/users/497/submit"},
		{Production, "https://bigflip.id/api/v2/agents/497", "https://api.flip.id/kyc/api/v1/users/497/submit"},
	}
	for _, tt := range tests {
		t.Run(tt.env.String(), func(t *testing.T) {
			hc := &http.Client{}
			mock := httpmock.NewMockTransport()
			hc.Transport = mock
			mock.RegisterResponder(http.MethodGet, tt.agents, httpmock.NewBytesResponder(200, fixture(t, "agent_get_response.json")))
			mock.RegisterResponder(http.MethodPut, tt.kycPrefx, httpmock.NewBytesResponder(200, fixture(t, "submit_response.json")))
			c, err := New(testKey, WithEnvironment(tt.env), WithHTTPClient(hc), WithLogger(testLogger()))
			require.NoError(t, err)
			_, err = c.GetAgent(context.Background(), 497)
			require.NoError(t, err)
			_, err = c.SubmitKYC(context.Background(), 497)
			require.NoError(t, err)
			assert.Equal(t, 2, mock.GetTotalCallCount())
		})
	}
}

func TestNewFromEnv(t *testing.T) {
	t.Setenv(EnvSecretKey, testKey)
	t.Setenv(EnvAPIBaseURL, "https://agents.example.test/base/v2/")
	t.Setenv(EnvKYCBaseURL, "")
	c, err := NewFromEnv()
	require.NoError(t, err)
	assert.Equal(t, "https://agents.example.test/base/v2", c.agentsBase)
	assert.Equal(t, "https://api.flip.id/kyc-sandbox/api/v1", c.kycBase, "unset variable keeps the sandbox default")

	t.Setenv(EnvSecretKey, "")
	_, err = NewFromEnv()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "FLIP_SECRET_KEY (the secret key) is empty", "the error names the variable")
}

func TestClientNeverPrintsItsKey(t *testing.T) {
	c, err := New(testKey, WithEnvironment(Production))
	require.NoError(t, err)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		out := fmt.Sprintf(verb, c)
		assert.NotContains(t, out, testKey, verb)
		_, _ = sinkWriter{}.Write([]byte(out + "\n"))
	}
	tr := c.http.Transport.(*authTransport)
	for _, verb := range []string{"%v", "%+v", "%#v"} {
		out := fmt.Sprintf(verb, tr)
		assert.NotContains(t, out, testKey, verb)
		assert.NotContains(t, out, tr.key.header[0], verb)
	}
	assert.Contains(t, fmt.Sprintf("%v", c), "https://bigflip.id/api/v2")
}

func TestCallerHTTPClientIsUsedAsGiven(t *testing.T) {
	hc := &http.Client{}
	c, err := New(testKey, WithHTTPClient(hc), WithLogger(testLogger()))
	require.NoError(t, err)

	// httpmock activated after New still sees the requests: the transport is
	// looked up at call time.
	httpmock.ActivateNonDefault(hc)
	defer httpmock.DeactivateAndReset()
	httpmock.RegisterResponder(http.MethodGet, "https://bigflip.id/big_sandbox_api/v2/agents/1",
		httpmock.NewBytesResponder(200, fixture(t, "agent_get_response.json")))
	a, err := c.GetAgent(context.Background(), 1)
	require.NoError(t, err)
	assert.Equal(t, int64(1), a.ID)
	assert.Same(t, httpmock.DefaultTransport, hc.Transport, "the caller's transport was not replaced")
}

func TestDefaultTransportActivatedBeforeNew(t *testing.T) {
	httpmock.Activate()
	defer httpmock.DeactivateAndReset()
	httpmock.RegisterResponder(http.MethodGet, "https://bigflip.id/big_sandbox_api/v2/agents/1",
		httpmock.NewBytesResponder(200, fixture(t, "agent_get_response.json")))
	c, err := New(testKey, WithHTTPClient(&http.Client{}), WithLogger(testLogger()))
	require.NoError(t, err)
	_, err = c.GetAgent(context.Background(), 1)
	require.NoError(t, err)
	assert.Equal(t, 1, httpmock.GetTotalCallCount())
}

// TestHttpmockActivateWorksWithDefaults: the form of httpmock most Go
// developers know intercepts a client built with no options at all,
// activated before or after New.
func TestHttpmockActivateWorksWithDefaults(t *testing.T) {
	for _, activateFirst := range []bool{true, false} {
		var c *Client
		if !activateFirst {
			c, _ = New(testKey)
		}
		httpmock.Activate()
		if activateFirst {
			c, _ = New(testKey)
		}
		httpmock.RegisterResponder(http.MethodGet, "https://bigflip.id/big_sandbox_api/v2/agents/1",
			httpmock.NewBytesResponder(200, fixture(t, "agent_get_response.json")))
		a, err := c.GetAgent(context.Background(), 1)
		require.NoError(t, err)
		assert.Equal(t, int64(1), a.ID)
		assert.Equal(t, 1, httpmock.GetTotalCallCount(), "no request went past the mock")
		httpmock.DeactivateAndReset()
	}
}

func TestDefaultHTTPClientIsNeverTheSharedOne(t *testing.T) {
	c, err := New(testKey)
	require.NoError(t, err)
	base := c.http.Transport.(*authTransport).base
	assert.NotSame(t, http.DefaultClient, base)
	assert.Nil(t, base.Transport, "http.DefaultTransport, as it is at each call")
	assert.Equal(t, DefaultIdleTimeout, c.idleTimeout, "stuck peers are bounded by the idle timeout")
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	mock := httpmock.NewMockTransport()
	mock.RegisterResponder(http.MethodGet, "https://bigflip.id/big_sandbox_api/v2/agents/1",
		httpmock.NewStringResponder(302, "").HeaderSet(http.Header{"Location": {"https://elsewhere.test/steal"}}))
	c, err := New(testKey, WithHTTPClient(&http.Client{Transport: mock}), WithLogger(testLogger()))
	require.NoError(t, err)
	_, err = c.GetAgent(context.Background(), 1)
	recordErr(err)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 302, apiErr.StatusCode)
	assert.Equal(t, 1, mock.GetTotalCallCount())
	assert.False(t, strings.Contains(err.Error(), "elsewhere"))
}

func TestResponseLimitsNearMaxInt64Work(t *testing.T) {
	for _, n := range []int64{math.MaxInt64, math.MaxInt64 - 1} {
		srv := httptest.NewServer(&recorder{replies: []reply{{status: 200, body: string(fixture(t, "agent_get_response.json"))}}})
		c, _ := newTestClient(t, srv.URL, srv.URL, WithMaxResponseBytes(n))
		a, err := c.GetAgent(context.Background(), 1)
		srv.Close()
		require.NoError(t, err, "limit %d", n)
		assert.Equal(t, int64(1), a.ID)
	}
	// A small limit still refuses a reply one byte over it.
	body := `{"id":1}`
	for _, tt := range []struct {
		limit int64
		ok    bool
	}{{int64(len(body)), true}, {int64(len(body)) - 1, false}} {
		srv := httptest.NewServer(&recorder{replies: []reply{{status: 200, body: body}}})
		c, _ := newTestClient(t, srv.URL, srv.URL, WithMaxResponseBytes(tt.limit))
		_, err := c.GetAgent(context.Background(), 1)
		srv.Close()
		if tt.ok {
			assert.NoError(t, err)
		} else {
			assert.ErrorContains(t, err, "reply larger than")
		}
	}
}

func TestClientValueNeverPrintsItsKey(t *testing.T) {
	c, err := New(testKey)
	require.NoError(t, err)
	values := []any{*c, c, []Client{*c}, struct{ C Client }{*c}}
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, testKey, "%T %s", v, verb)
			assert.NotContains(t, out, c.key.header[0][len("Basic "):], "%T %s", v, verb)
		}
	}
}
