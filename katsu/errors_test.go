package katsu_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc/katsu"
)

func TestAPIErrors(t *testing.T) {
	all := []error{katsu.ErrUnauthorized, katsu.ErrForbidden, katsu.ErrNotFound, katsu.ErrInvalidRequest,
		katsu.ErrConflict, katsu.ErrRateLimited, katsu.ErrServer, katsu.ErrNotSucceeded, katsu.ErrOutcomeUnknown}
	tests := []struct {
		name    string
		status  int
		body    string
		matches []error
		text    string
	}{
		{"401 empty body", 401, ``, []error{katsu.ErrUnauthorized}, "katsu: Get: GET /api/v1/Kyc/" + kycID + "/get: HTTP 401"},
		{"403", 403, `{"succeeded":false,"message":"Forbidden"}`, []error{katsu.ErrForbidden}, "HTTP 403: Forbidden"},
		{"404 envelope", 404, `{"succeeded":false,"message":"KYC record not found","errors":["No KYC with that id"],"data":null}`,
			[]error{katsu.ErrNotFound}, "HTTP 404: KYC record not found; No KYC with that id"},
		{"400 problem details", 400, `{"title":"One or more validation errors occurred.","status":400,"errors":{"id":["The value is not valid."]}}`,
			[]error{katsu.ErrInvalidRequest}, "HTTP 400: One or more validation errors occurred.; id: The value is not valid."},
		{"422", 422, `{"succeeded":false,"message":"m"}`, []error{katsu.ErrInvalidRequest}, "HTTP 422: m"},
		{"409", 409, `{"succeeded":false,"message":"m"}`, []error{katsu.ErrConflict}, "HTTP 409: m"},
		{"200 succeeded false", 200, `{"succeeded":false,"message":"KYC already approved","errors":["already approved"],"data":null}`,
			[]error{katsu.ErrNotSucceeded}, "HTTP 200 with succeeded: false: KYC already approved; already approved"},
		{"html 418", 418, `<html>teapot</html>`, nil, "HTTP 418: unexpected 19-byte body (see APIError.Body)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newClient(t, reply(tt.status, tt.body))
			_, err := c.Get(context.Background(), kycID)
			var apiErr *katsu.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.status, apiErr.StatusCode)
			assert.Equal(t, "Get", apiErr.Op)
			assert.Equal(t, "GET", apiErr.Method)
			assert.Equal(t, "/api/v1/Kyc/"+kycID+"/get", apiErr.Path)
			assert.Contains(t, err.Error(), tt.text)
			for _, s := range all {
				assert.Equal(t, contains(tt.matches, s), errors.Is(err, s), "errors.Is(%v)", s)
			}
		})
	}
}

func contains(list []error, e error) bool {
	for _, x := range list {
		if x == e {
			return true
		}
	}
	return false
}

func TestDecodeErrors(t *testing.T) {
	for name, body := range map[string]string{
		"not json":              `<html>ok</html>`,
		"no envelope":           `{"id":"x"}`,
		"succeeded but no data": `{"succeeded":true,"data":null}`,
		"data not a record":     `{"succeeded":true,"data":[1]}`,
		"empty":                 ``,
	} {
		t.Run(name, func(t *testing.T) {
			c, _ := newClient(t, reply(200, body))
			_, err := c.Get(context.Background(), kycID)
			var de *katsu.DecodeError
			require.ErrorAs(t, err, &de, "%v", err)
			assert.Equal(t, 200, de.StatusCode)
			assert.NotErrorIs(t, err, katsu.ErrOutcomeUnknown)
		})
	}
}

func TestRetryAfterRecorded(t *testing.T) {
	c, _ := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		reply(429, `{"succeeded":false,"message":"slow down"}`)(w, r)
	}), katsu.WithRetryPolicy(katsu.RetryPolicy{MaxAttempts: 1}))
	_, err := c.Get(context.Background(), kycID)
	var apiErr *katsu.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 7*time.Second, apiErr.RetryAfter)
	assert.ErrorIs(t, err, katsu.ErrRateLimited)
}
