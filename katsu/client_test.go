package katsu_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc/katsu"
)

func TestNewRefuses(t *testing.T) {
	tests := []struct {
		name string
		tok  string
		opts []katsu.Option
		want string
	}{
		{"no base URL", testToken, nil, "base URL missing"},
		{"empty token", "", []katsu.Option{katsu.WithBaseURL("https://k.example")}, "token is empty"},
		{"bearer prefix", "Bearer " + testToken, []katsu.Option{katsu.WithBaseURL("https://k.example")}, `starts with "Bearer "`},
		{"token with newline", "a\nb", []katsu.Option{katsu.WithBaseURL("https://k.example")}, "control characters"},
		{"relative URL", testToken, []katsu.Option{katsu.WithBaseURL("/api")}, "scheme"},
		{"ftp", testToken, []katsu.Option{katsu.WithBaseURL("ftp://k.example")}, "scheme"},
		{"no host", testToken, []katsu.Option{katsu.WithBaseURL("https://")}, "no host"},
		{"credentials", testToken, []katsu.Option{katsu.WithBaseURL("https://u:p@k.example")}, "credentials"},
		{"query", testToken, []katsu.Option{katsu.WithBaseURL("https://k.example?x=1")}, "query"},
		{"version in URL", testToken, []katsu.Option{katsu.WithBaseURL("https://k.example/api/v1")}, "without /api/v"},
		{"bad version", testToken, []katsu.Option{katsu.WithBaseURL("https://k.example"), katsu.WithVersion("v1")}, "without the v"},
		{"empty version", testToken, []katsu.Option{katsu.WithBaseURL("https://k.example"), katsu.WithVersion("")}, "WithVersion"},
		{"bad language", testToken, []katsu.Option{katsu.WithBaseURL("https://k.example"), katsu.WithLanguage("EN")}, "WithLanguage"},
		{"nil http client", testToken, []katsu.Option{katsu.WithBaseURL("https://k.example"), katsu.WithHTTPClient(nil)}, "nil *http.Client"},
		{"nil logger", testToken, []katsu.Option{katsu.WithBaseURL("https://k.example"), katsu.WithLogger(nil)}, "nil logger"},
		{"negative retry", testToken, []katsu.Option{katsu.WithBaseURL("https://k.example"), katsu.WithRetryPolicy(katsu.RetryPolicy{MaxDelay: -1})}, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := katsu.New(tt.tok, tt.opts...)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), testToken)
		})
	}
}

func TestNewListsEveryProblem(t *testing.T) {
	_, err := katsu.New("", katsu.WithVersion("x"))
	require.Error(t, err)
	for _, want := range []string{"token is empty", "base URL missing", "WithVersion"} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestNewDefaults(t *testing.T) {
	c, err := katsu.New(testToken, katsu.WithBaseURL("https://katsu.example.ng/"), nil)
	require.NoError(t, err)
	assert.Equal(t, "https://katsu.example.ng", c.BaseURL())
	assert.Equal(t, katsu.DefaultVersion, c.Version())
	c, err = katsu.New(testToken, katsu.WithBaseURL("https://gw.example.ng/api/vendors/katsu"))
	require.NoError(t, err, "a path that only looks like /api/v is fine")
	assert.Equal(t, "https://gw.example.ng/api/vendors/katsu", c.BaseURL())
	c, err = katsu.New(testToken, katsu.WithBaseURL("https://katsu.example.ng"), katsu.WithVersion("1.0"))
	require.NoError(t, err)
	assert.Equal(t, "1.0", c.Version())
}

func TestClientPrintsWithoutToken(t *testing.T) {
	c, err := katsu.New(testToken, katsu.WithBaseURL("https://katsu.example.ng"), katsu.WithLanguage(katsu.French))
	require.NoError(t, err)
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("client", "c", c)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		for _, v := range []any{c, *c} {
			got := fmt.Sprintf(verb, v)
			assert.NotContains(t, got, testToken, verb)
			assert.Contains(t, got, "katsu.Client{base: https://katsu.example.ng, version: 1, language: fr, token: [redacted]}", verb)
		}
	}
	assert.NotContains(t, logged.String(), testToken)
	assert.Contains(t, logged.String(), "[redacted]")
}

// The caller's *http.Client is read at every call: httpmock activated on it
// after New still sees the calls.
func TestHTTPMockOnCallersClient(t *testing.T) {
	hc := &http.Client{}
	c, err := katsu.New(testToken, katsu.WithBaseURL("https://katsu.example.ng"), katsu.WithHTTPClient(hc))
	require.NoError(t, err)
	httpmock.ActivateNonDefault(hc)
	defer httpmock.DeactivateAndReset()
	httpmock.RegisterResponder("GET", "https://katsu.example.ng/api/v1/Kyc/"+kycID+"/get",
		func(r *http.Request) (*http.Response, error) {
			if r.Header.Get("Authorization") != "Bearer "+testToken {
				return httpmock.NewStringResponse(401, ""), nil
			}
			return httpmock.NewStringResponse(200, okRecord), nil
		})
	rec, err := c.Get(context.Background(), kycID)
	require.NoError(t, err)
	assert.Equal(t, katsu.Tier1, rec.Tier)
	assert.Equal(t, 1, httpmock.GetTotalCallCount())
}

// Without WithHTTPClient the client uses http.DefaultTransport as it is at
// each call, so httpmock.Activate works after New.
func TestHTTPMockDefaultTransport(t *testing.T) {
	c, err := katsu.New(testToken, katsu.WithBaseURL("https://katsu.example.ng"))
	require.NoError(t, err)
	httpmock.Activate()
	defer httpmock.DeactivateAndReset()
	httpmock.RegisterResponder("GET", `=~^https://katsu\.example\.ng/api/v1/Kyc/get-all`,
		httpmock.NewStringResponder(200, `{"succeeded":true,"data":{"items":[],"totalCount":0}}`))
	page, err := c.List(context.Background(), katsu.ListParams{})
	require.NoError(t, err)
	assert.Empty(t, page.Records)
	assert.False(t, page.HasNext)
}

func TestRedirectNotFollowed(t *testing.T) {
	var other int
	target, _ := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { other++ }))
	c, _ := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.BaseURL()+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	_, err := c.Get(context.Background(), kycID)
	var apiErr *katsu.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusTemporaryRedirect, apiErr.StatusCode)
	assert.Zero(t, other)
}

// Plain http would carry the Bearer token in clear: New refuses it for a
// host that is not loopback unless WithInsecureHTTP says so.
func TestPlainHTTPOnlyOnLoopbackOrOnPurpose(t *testing.T) {
	for _, u := range []string{"http://katsu.example.ng", "http://10.0.0.7:8080", "HTTP://katsu.example.ng/"} {
		_, err := katsu.New(testToken, katsu.WithBaseURL(u))
		require.Error(t, err, u)
		assert.Contains(t, err.Error(), "WithInsecureHTTP")
		_, err = katsu.New(testToken, katsu.WithBaseURL(u), katsu.WithInsecureHTTP())
		assert.NoError(t, err, u)
	}
	for _, u := range []string{"http://127.0.0.1:8080", "http://localhost", "http://[::1]:9000", "http://127.3.4.5", "https://katsu.example.ng"} {
		_, err := katsu.New(testToken, katsu.WithBaseURL(u))
		assert.NoError(t, err, u)
	}
}

// The header a call hands back is masked like every text from a reply.
func TestResponseHeaderIsMasked(t *testing.T) {
	c, _ := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Customer", testName+" "+testBVN)
		w.Header().Set("X-Token", testToken)
		w.Header().Set("X-Plain", "kept")
		reply(200, okRecord)(w, r)
	}))
	var meta katsu.Response
	_, err := c.Get(context.Background(), kycID, katsu.ResponseInto(&meta))
	require.NoError(t, err)
	for _, s := range secrets {
		assert.NotContains(t, fmt.Sprint(meta.Header), s)
	}
	assert.Equal(t, "[masked] [masked]", meta.Header.Get("X-Customer"))
	assert.Equal(t, "kept", meta.Header.Get("X-Plain"))
}

// The package documentation is for users: no list of the package's files.
func TestPackageDocHasNoFileList(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	doc, _, _ := strings.Cut(string(src), "package katsu")
	assert.NotContains(t, doc, "client.go")
}
