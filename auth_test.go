package flipkyc

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The auth test vector printed in Flip's integration guide.
const (
	guideKey    = "JDJ5JDEzJDBkRTB6T2tBdk8uQWcvRDU2TTY0TmVQd0NrNC5POVF5elZuQnpJUTJvdWc4a2t0Tm44RnlT"
	guideHeader = "Basic SkRKNUpERXpKREJrUlRCNlQydEJkazh1UVdjdlJEVTJUVFkwVG1WUWQwTnJOQzVQT1ZGNWVsWnVRbnBKVVRKdmRXYzRhMnQwVG00NFJubFQ6"
)

func TestBasicAuthMatchesFlipsTestVector(t *testing.T) {
	mock := httpmock.NewMockTransport()
	var got string
	mock.RegisterResponder(http.MethodGet, "https://bigflip.id/big_sandbox_api/v2/agents/1",
		func(r *http.Request) (*http.Response, error) {
			got = r.Header.Get("Authorization")
			return httpmock.NewBytesResponse(200, fixture(t, "agent_get_response.json")), nil
		})
	c, err := New(guideKey, WithHTTPClient(&http.Client{Transport: mock}))
	require.NoError(t, err)
	_, err = c.GetAgent(context.Background(), 1)
	require.NoError(t, err)
	assert.Equal(t, guideHeader, got)
}

func TestRequestIDs(t *testing.T) {
	rec := &recorder{replies: []reply{{status: 200, body: string(fixture(t, "submit_response.json"))}}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL, srv.URL)

	// A fresh one per call.
	for range 3 {
		_, err := c.SubmitKYC(context.Background(), 1)
		require.NoError(t, err)
	}
	seen := map[string]bool{}
	for _, r := range rec.got() {
		id := r.Header.Get("Request-ID")
		assert.Regexp(t, requestIDShape, id)
		seen[id] = true
	}
	assert.Len(t, seen, 3)

	// The caller's own, for one call.
	const mine = "bigflip-47EB7F57-5565-4BF0-B9DD-46C6268CEE71"
	_, err := c.SubmitKYC(context.Background(), 1, RequestID(mine))
	require.NoError(t, err)
	reqs := rec.got()
	assert.Equal(t, mine, reqs[len(reqs)-1].Header.Get("Request-ID"))

	// One that is not "bigflip-<uuid>" fails before anything is sent.
	for _, bad := range []string{"bigflip-32487iweurwer44534", "47EB7F57-5565-4BF0-B9DD-46C6268CEE71", "bigflip-"} {
		_, err = c.SubmitKYC(context.Background(), 1, RequestID(bad))
		var ve *ValidationError
		require.ErrorAs(t, err, &ve, bad)
		assert.True(t, ve.Has("Request-ID"))
	}
	assert.Len(t, rec.got(), 4)
}

func TestRequestIDGenerator(t *testing.T) {
	rec := &recorder{replies: []reply{{status: 200, body: string(fixture(t, "submit_response.json"))}}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	const fixed = "bigflip-00000000-0000-4000-8000-000000000001"
	c, _ := newTestClient(t, srv.URL, srv.URL, WithRequestIDGenerator(func() string { return fixed }))
	_, err := c.SubmitKYC(context.Background(), 1)
	require.NoError(t, err)
	assert.Equal(t, fixed, rec.got()[0].Header.Get("Request-ID"))

	bad, _ := newTestClient(t, srv.URL, srv.URL, WithRequestIDGenerator(func() string { return "nope" }))
	_, err = bad.SubmitKYC(context.Background(), 1)
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Len(t, rec.got(), 1)
}

func TestTransportDoesNotModifyTheCallersRequest(t *testing.T) {
	mock := httpmock.NewMockTransport()
	mock.RegisterResponder(http.MethodGet, "https://x.test/a", httpmock.NewStringResponder(200, "{}"))
	tr := &authTransport{key: newSecretKey(testKey), userAgent: []string{"ua"}, base: &http.Client{Transport: mock}}
	req, err := http.NewRequest(http.MethodGet, "https://x.test/a", nil)
	require.NoError(t, err)
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Empty(t, req.Header.Get("Authorization"))
	assert.True(t, strings.HasPrefix(tr.key.basicAuth(), "Basic "))
}
