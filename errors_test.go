package flipkyc

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestErrorShapes(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		sentinels []error
		check     func(t *testing.T, e *APIError)
	}{
		{
			name: "v2 401", status: 401, body: string(fixture(t, "error_agents_401.json")),
			sentinels: []error{ErrUnauthorized},
			check: func(t *testing.T, e *APIError) {
				assert.Equal(t, "Unauthorized", e.Name)
				assert.Equal(t, "Your request was made with invalid credentials.", e.Message)
			},
		},
		{
			name: "v2 401 with trailing comma as printed in the legacy docs", status: 401,
			body: string(fixture(t, "error_agents_401_legacy.json")), sentinels: []error{ErrUnauthorized},
			check: func(t *testing.T, e *APIError) {
				assert.Equal(t, "You are requesting with an invalid credential.", e.Message)
			},
		},
		{
			name: "v2 404", status: 404, body: string(fixture(t, "error_agents_404.json")), sentinels: []error{ErrNotFound},
			check: func(t *testing.T, e *APIError) { assert.Equal(t, "Agent not found", e.Message) },
		},
		{
			name: "v2 422", status: 422, body: string(fixture(t, "error_agents_422.json")), sentinels: []error{ErrInvalidRequest},
			check: func(t *testing.T, e *APIError) {
				assert.Equal(t, "VALIDATION_ERROR", e.Code)
				assert.Equal(t, []ErrorDetail{{Attribute: "account_number", Code: 1025, Message: "The account number you're giving is invalid"}}, e.Errors)
				assert.Contains(t, e.Error(), "account_number: The account number you're giving is invalid (code 1025)")
			},
		},
		{
			name: "kyc 401", status: 401, body: string(fixture(t, "error_kyc_401.json")), sentinels: []error{ErrUnauthorized},
			check: func(t *testing.T, e *APIError) {
				assert.Equal(t, []ErrorDetail{{Code: 401, Message: "Invalid Auth"}}, e.Errors)
				assert.Contains(t, e.Error(), "Invalid Auth")
			},
		},
		{
			name: "duplicate identity number", status: 422,
			body:      `{"code":"VALIDATION_ERROR","errors":[{"attribute":"identity_number","code":2002,"message":"duplicated"}]}`,
			sentinels: []error{ErrInvalidRequest, ErrDuplicate},
		},
		{
			name: "kyc invalid status with string code", status: 400, body: `{"errors":[{"code":"4010","message":"Invalid agent status"}]}`,
			sentinels: []error{ErrInvalidAgentStatus, ErrInvalidRequest},
			check:     func(t *testing.T, e *APIError) { assert.True(t, e.HasCode(4010)) },
		},
		{name: "upload limit", status: 400, body: `{"errors":[{"code":4011,"message":"Maximum retry has been achieved"}]}`, sentinels: []error{ErrUploadLimitReached}},
		{name: "image too large", status: 400, body: `{"errors":[{"code":4007,"message":"Image file size is too large"}]}`, sentinels: []error{ErrImageRejected}},
		{name: "repair mismatch", status: 400, body: `{"errors":[{"code":4006,"message":"Rejected reason is not match"}]}`, sentinels: []error{ErrRejectedReasonMismatch}},
		{name: "agent not updatable", status: 422, body: `{"code":"VALIDATION_ERROR","errors":[{"code":1092,"message":"Agent is not allowed to update"}]}`, sentinels: []error{ErrAgentNotUpdatable}},
		{name: "rate limited", status: 429, body: `{"errors":[{"code":429,"message":"slow down"}]}`, sentinels: []error{ErrRateLimited}},
		{
			name: "gateway HTML page", status: 502, body: "<html><head><title>502 Bad Gateway</title></head><body>" + strings.Repeat("x", 2000) + "</body></html>",
			sentinels: []error{ErrServer},
			check: func(t *testing.T, e *APIError) {
				assert.True(t, strings.HasPrefix(e.Body, "<html><head><title>502 Bad Gateway"))
				assert.LessOrEqual(t, len(e.Body), excerptLimit+len("…"))
				assert.NotContains(t, e.Error(), "Bad Gateway", "bodies stay out of error text")
			},
		},
		{
			name: "empty 500", status: 500, body: "", sentinels: []error{ErrServer},
			check: func(t *testing.T, e *APIError) { assert.Contains(t, e.Error(), "HTTP 500") },
		},
		{
			name: "truncated JSON 503", status: 503, body: `{"errors":[{"code":503,"mess`, sentinels: []error{ErrServer},
			check: func(t *testing.T, e *APIError) { assert.Equal(t, `{"errors":[{"code":503,"mess`, e.Body) },
		},
		{
			name: "binary garbage 400", status: 400, body: "\x00\x01\xff\xfe", sentinels: []error{ErrInvalidRequest},
			check: func(t *testing.T, e *APIError) { assert.NotContains(t, e.Body, "\x00") },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(&recorder{replies: []reply{{status: tt.status, body: tt.body}}})
			defer srv.Close()
			c, _ := newTestClient(t, srv.URL, srv.URL, WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
			_, err := c.GetAgent(context.Background(), 497)
			recordErr(err)
			var e *APIError
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tt.status, e.StatusCode)
			assert.Regexp(t, requestIDShape, e.RequestID)
			assert.Contains(t, err.Error(), e.RequestID)
			assert.Equal(t, "GET", e.Method)
			assert.Equal(t, "/agents/497", e.Path)
			for _, s := range tt.sentinels {
				assert.ErrorIs(t, err, s)
			}
			for _, other := range []error{ErrUnauthorized, ErrNotFound, ErrRateLimited, ErrDuplicate, ErrServer} {
				if !containsErr(tt.sentinels, other) {
					assert.NotErrorIs(t, err, other)
				}
			}
			if tt.check != nil {
				tt.check(t, e)
			}
		})
	}
}

func containsErr(list []error, e error) bool {
	for _, x := range list {
		if x == e {
			return true
		}
	}
	return false
}

func TestSuccessfulRepliesThatCannotBeDecoded(t *testing.T) {
	tests := []struct {
		name, body string
		api        error // a *APIError instead of *DecodeError
		detail     string
	}{
		{name: "empty 200", body: "", detail: "empty body"},
		{name: "truncated JSON", body: `{"id": 1, "name": "Jo`, detail: "unexpected end"},
		{name: "HTML 200", body: "<html>maintenance</html>", detail: "invalid character"},
		{name: "id of the wrong type", body: `{"id": {"nested": true}}`, detail: "agent has no id"},
		{name: "no id", body: `{"name": "John"}`, detail: "agent has no id"},
		{name: "JSON error body with 200", body: `{"errors":[{"code":4003,"message":"Invalid user ID"}]}`, api: ErrInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(&recorder{replies: []reply{{status: 200, body: tt.body}}})
			defer srv.Close()
			c, _ := newTestClient(t, srv.URL, srv.URL)
			a, err := c.GetAgent(context.Background(), 1)
			recordErr(err)
			assert.Nil(t, a)
			if tt.api != nil {
				var e *APIError
				require.ErrorAs(t, err, &e)
				assert.ErrorIs(t, err, tt.api)
				assert.Equal(t, 200, e.StatusCode)
				return
			}
			var d *DecodeError
			require.ErrorAs(t, err, &d)
			assert.Equal(t, 200, d.StatusCode)
			assert.Contains(t, d.Error(), tt.detail)
			assert.Regexp(t, requestIDShape, d.RequestID)
		})
	}
}

func TestRepliesAreReadUpToABound(t *testing.T) {
	huge := `{"id": 1, "name": "` + strings.Repeat("a", 4<<20) + `"}`
	srv := httptest.NewServer(&recorder{replies: []reply{{status: 200, body: huge}}})
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL, srv.URL, WithMaxResponseBytes(64<<10))
	_, err := c.GetAgent(context.Background(), 1)
	recordErr(err)
	var d *DecodeError
	require.ErrorAs(t, err, &d)
	assert.Contains(t, d.Error(), "larger than 65536 bytes")
	assert.LessOrEqual(t, len(d.Body), excerptLimit+len("…"))
}

func TestRetryErrorSaysHowManyAttempts(t *testing.T) {
	err := &RetryError{Attempts: 3, Err: &APIError{StatusCode: 503, Method: "GET", Path: "/x"}}
	assert.Contains(t, err.Error(), "gave up after 3 attempts")
	assert.ErrorIs(t, err, ErrServer)
	var apiErr *APIError
	assert.True(t, errors.As(err, &apiErr))
}
