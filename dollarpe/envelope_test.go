package dollarpe

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEnvelopes decodes each of DollarPe's reply shapes into an *APIError
// and checks which sentinels it matches.
func TestEnvelopes(t *testing.T) {
	all := []error{ErrUnauthorized, ErrInvalidSignature, ErrInvalidRequest, ErrCustomerNotFound, ErrKYCExists,
		ErrKYCInUse, ErrUpdateLimit, ErrDuplicate, ErrRateLimited, ErrServer}
	cases := []struct {
		name    string
		status  int
		body    string
		code    string
		message string
		errs    map[string][]string
		matches []error
	}{
		{"400 field errors", 400, `{"status":false,"message":"Bad Request","data":null,"errors":{"full_name":["This field is required."],"dob":["Bad","Worse"]}}`,
			"", "Bad Request", map[string][]string{"full_name": {"This field is required."}, "dob": {"Bad", "Worse"}}, []error{ErrInvalidRequest}},
		{"invalid signature", 400, `{"status":false,"message":"Bad Request","data":null,"errors":{"signature":["Invalid Signature"]}}`,
			"", "Bad Request", map[string][]string{"signature": {"Invalid Signature"}}, []error{ErrInvalidRequest, ErrInvalidSignature}},
		{"not found", 400, `{"status":false,"message":"Customer not found or access denied","data":null}`,
			"", "Customer not found or access denied", nil, []error{ErrInvalidRequest, ErrCustomerNotFound}},
		{"kyc exists", 400, `{"status":false,"message":"KYC already exists","data":null}`, "", "KYC already exists", nil,
			[]error{ErrInvalidRequest, ErrKYCExists}},
		{"kyc in use", 400, `{"status":false,"message":"KYC already in use","data":null}`, "", "KYC already in use", nil,
			[]error{ErrInvalidRequest, ErrKYCInUse}},
		{"update limit", 400, `{"status":false,"message":"Bad Request","errors":{"customer_id":["Kyc update limit exceeded"]}}`,
			"", "Bad Request", map[string][]string{"customer_id": {"Kyc update limit exceeded"}}, []error{ErrInvalidRequest, ErrUpdateLimit}},
		{"duplicate email", 400, `{"status":false,"message":"Bad Request","errors":{"email":["customer with this email already exists."]}}`,
			"", "Bad Request", map[string][]string{"email": {"customer with this email already exists."}}, []error{ErrInvalidRequest, ErrDuplicate}},
		{"500 success/string", 500, `{"success":false,"message":"Internal Server Error","errors":"Internal Server Error"}`,
			"", "Internal Server Error", map[string][]string{"": {"Internal Server Error"}}, []error{ErrServer}},
		{"401 AUTH code", 401, `{"status":false,"message":"Signature mismatch","err_code":"AUTH_INVALID_SIGNATURE","data":null}`,
			"AUTH_INVALID_SIGNATURE", "Signature mismatch", nil, []error{ErrUnauthorized, ErrInvalidSignature}},
		{"AUTH code on 403", 403, `{"status":false,"message":"Expired","err_code":"AUTH_TIMESTAMP_EXPIRED"}`,
			"AUTH_TIMESTAMP_EXPIRED", "Expired", nil, []error{ErrUnauthorized}},
		{"odd types", 422, `{"status":"false","message":"x","err_code":1234,"errors":["a",2,{"k":1}]}`,
			"1234", "x", map[string][]string{"": {"a", "2", `{"k":1}`}}, []error{ErrInvalidRequest}},
		{"429", 429, `{"status":false,"message":"Too Many Requests"}`, "", "Too Many Requests", nil, []error{ErrRateLimited}},
		{"404 html", 404, `<html>not here</html>`, "", "", nil, []error{ErrCustomerNotFound}},
		{"BOM", 400, "\ufeff" + `{"status":false,"message":"KYC already in use"}`, "", "KYC already in use", nil,
			[]error{ErrInvalidRequest, ErrKYCInUse}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder(t, answer(tc.status, tc.body))
			c, _ := newTestClient(t, rec, WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
			_, err := c.GetCustomer(context.Background(), testID)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.status, apiErr.StatusCode)
			assert.Equal(t, "GetCustomer", apiErr.Op)
			assert.Equal(t, "GET", apiErr.Method)
			assert.Equal(t, "/customer/"+testID, apiErr.Path)
			assert.Equal(t, tc.code, apiErr.Code)
			assert.Equal(t, tc.message, apiErr.Message)
			assert.Equal(t, tc.errs, apiErr.Errors)
			for _, s := range all {
				want := false
				for _, m := range tc.matches {
					want = want || m == s
				}
				assert.Equal(t, want, errors.Is(err, s), "errors.Is(%v)", s)
			}
		})
	}
}

func TestAPIErrorText(t *testing.T) {
	e := &APIError{Op: "UpdateTaxInfo", Method: "PATCH", Path: "/kyc/update-tax-info", StatusCode: 400, Code: "E1",
		Message: "Bad Request", Errors: map[string][]string{"tax_number": {"Invalid"}, "": {"x"}}}
	assert.Equal(t, "dollarpe: UpdateTaxInfo: PATCH /kyc/update-tax-info: HTTP 400 E1: Bad Request; x; tax_number: Invalid", e.Error())
	assert.Equal(t, []string{"Invalid"}, e.Field("tax_number"))
	e = &APIError{Op: "GetCustomer", Method: "GET", Path: "/p", StatusCode: 502, Body: "<html>"}
	assert.Equal(t, "dollarpe: GetCustomer: GET /p: HTTP 502: unexpected 6-byte body (see APIError.Body)", e.Error())
}

func TestParseEnvelopeNotEnvelope(t *testing.T) {
	for _, body := range []string{``, `[]`, `"x"`, `{"foo":1}`, `{`, `null`} {
		_, ok := parseEnvelope([]byte(body))
		assert.False(t, ok, body)
	}
}

// When both flags are present, status decides, every time (map order must
// not matter).
func TestStatusFlagWinsOverSuccess(t *testing.T) {
	for range 50 {
		for _, tc := range []struct {
			body string
			want bool
		}{
			{`{"status":true,"success":false,"message":"Success"}`, true},
			{`{"success":false,"status":true,"message":"Success"}`, true},
			{`{"status":false,"success":true,"message":"Bad Request"}`, false},
			{`{"success":true,"status":false,"message":"Bad Request"}`, false},
			{`{"status":null,"success":false,"message":"x"}`, false},
			{`{"success":true,"status":null,"message":"x"}`, true},
		} {
			env, ok := parseEnvelope([]byte(tc.body))
			require.True(t, ok, tc.body)
			require.NotNil(t, env.ok, tc.body)
			require.Equal(t, tc.want, *env.ok, tc.body)
		}
	}
}

// A null flag is absent, not false.
func TestNullStatusIsAbsent(t *testing.T) {
	env, ok := parseEnvelope([]byte(`{"status":null,"message":"Success","data":{"id":"x"}}`))
	require.True(t, ok)
	assert.Nil(t, env.ok)

	rec := newRecorder(t, answer(200, `{"status":null,"message":"Success","data":{"id":"`+testID+`","status":"UNVERIFIED"}}`))
	c, _ := newTestClient(t, rec)
	cust, err := c.GetCustomer(context.Background(), testID)
	require.NoError(t, err)
	assert.Equal(t, testID, cust.ID)
}
