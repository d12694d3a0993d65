package dollarpe

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func kycParams() AddKYCDataParams {
	return AddKYCDataParams{
		CustomerID: testID, FullName: "Zoë Ñandú-Kapoor", Phone: "+919812345678",
		FullAddress: "Flat 4 <B> & Co, MG Road/Bengaluru", DOB: Date{1990, 4, 15}, TaxNumber: "ABCDE1234F",
		DocumentType: DocumentAadhaar, DocumentFrontImageURL: "https://files.example.com/f.JPG",
		DocumentBackImageURL: "https://files.example.com/b.jpeg?sig=x",
		DocumentDetails:      DocumentDetails{DocumentNumber: "123456123456", AdditionalData: map[string]any{"issued": "2015", "n": 3}},
		SelfieURL:            "http://files.example.com/s.png",
		AdditionalInfo:       map[string]any{"occupation": "Engineer 👩‍💻", "z": []any{1, 2.5}},
	}
}

// TestWire checks every call on the wire: method, path, headers and the
// exact bytes of the body, which are the bytes signed.
func TestWire(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name, method, path, body string
		reply                    string
		run                      func(c *Client) error
	}{
		{"CreateCustomer", "POST", "/cms/api/v1/customer/create",
			`{"alpha_3_country_code":"IND","client_reference_id":"ref-1","email":"zoe@example.com","full_name":"Zo\u00eb","phone":"+91 98"}`,
			okCustomer, func(c *Client) error {
				_, err := c.CreateCustomer(ctx, CreateCustomerParams{FullName: "Zoë", Email: "zoe@example.com", Phone: "+91 98",
					CountryCode: "IND", ClientReferenceID: "ref-1"})
				return err
			}},
		{"GetCustomer", "GET", "/cms/api/v1/customer/" + testID, "", okCustomer,
			func(c *Client) error { _, err := c.GetCustomer(ctx, testID); return err }},
		{"GetKYCConfiguration", "GET", "/cms/api/v1/kyc/configuration/" + testID, "",
			`{"status":true,"message":"Success","data":{"supported_document_types":["AADHAAR","PASSPORT"]}}`,
			func(c *Client) error { _, err := c.GetKYCConfiguration(ctx, testID); return err }},
		{"AddKYCData", "POST", "/cms/api/v1/kyc/add-kyc-data",
			`{"additional_info":{"occupation":"Engineer \ud83d\udc69\u200d\ud83d\udcbb","z":[1,2.5]},"customer_id":"` + testID +
				`","dob":"15-04-1990","document_back_image_url":"https://files.example.com/b.jpeg?sig=x","document_details":{"additional_data":{"issued":"2015","n":3},"document_number":"123456123456"},"document_front_image_url":"https://files.example.com/f.JPG","document_type":"AADHAAR","full_address":"Flat 4 <B> & Co, MG Road/Bengaluru","full_name":"Zo\u00eb \u00d1and\u00fa-Kapoor","phone":"+919812345678","selfie_url":"http://files.example.com/s.png","tax_number":"ABCDE1234F"}`,
			okKYC, func(c *Client) error { _, err := c.AddKYCData(ctx, kycParams()); return err }},
		{"UpdateDocumentInfo", "PATCH", "/cms/api/v1/kyc/update-document-info",
			`{"customer_id":"` + testID + `","document_details":{"additional_data":{},"document_number":"K1"},"document_front_image_url":"https://x.example/p.pdf","document_type":"PASSPORT","full_address":"A"}`,
			okKYC, func(c *Client) error {
				_, err := c.UpdateDocumentInfo(ctx, UpdateDocumentInfoParams{CustomerID: testID, FullAddress: "A",
					DocumentType: DocumentPassport, DocumentFrontImageURL: "https://x.example/p.pdf",
					DocumentDetails: DocumentDetails{DocumentNumber: "K1"}})
				return err
			}},
		{"UpdateTaxInfo", "PATCH", "/cms/api/v1/kyc/update-tax-info", `{"customer_id":"` + testID + `","tax_number":"ABCDE1234F"}`,
			okKYC, func(c *Client) error {
				_, err := c.UpdateTaxInfo(ctx, UpdateTaxInfoParams{CustomerID: testID, TaxNumber: "ABCDE1234F"})
				return err
			}},
		{"UpdateAdditionalInfo", "PATCH", "/cms/api/v1/kyc/update-additional-info",
			`{"additional_info":{"a":"\u20b9100.50","b":{"x":[true,null],"y":1}},"customer_id":"` + testID + `"}`,
			okKYC, func(c *Client) error {
				_, err := c.UpdateAdditionalInfo(ctx, UpdateAdditionalInfoParams{CustomerID: testID,
					AdditionalInfo: map[string]any{"b": map[string]any{"y": 1, "x": []any{true, nil}}, "a": "₹100.50"}})
				return err
			}},
		{"UpdateSelfieInfo", "PATCH", "/cms/api/v1/kyc/update-selfie-info",
			`{"customer_id":"` + testID + `","selfie_url":"https://x.example/s.jpg"}`,
			okKYC, func(c *Client) error {
				_, err := c.UpdateSelfieInfo(ctx, UpdateSelfieInfoParams{CustomerID: testID, SelfieURL: "https://x.example/s.jpg"})
				return err
			}},
		{"ResetKYC", "POST", "/cms/api/v1/kyc/reset-kyc", `{"customer_id":"` + testID + `"}`,
			okKYC, func(c *Client) error { _, err := c.ResetKYC(ctx, testID); return err }},
		{"MockKYCStatus", "PATCH", "/cms/api/v1/kyc/mock-kyc-status",
			`{"customer_id":"` + testID + `","kyc_status":"TAX_VERIFICATION_FAILED"}`,
			okKYC, func(c *Client) error { _, err := c.MockKYCStatus(ctx, testID, MockTaxFailed); return err }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder(t, answer(200, tc.reply))
			c, clock := newTestClient(t, rec)
			require.NoError(t, tc.run(c))
			reqs := rec.requests()
			require.Len(t, reqs, 1)
			r := reqs[0]
			assert.Equal(t, tc.method, r.Method)
			assert.Equal(t, tc.path, r.Path)
			assert.Empty(t, r.RawQuery)
			assert.Equal(t, tc.body, string(r.Body), "exact body bytes")
			assert.Equal(t, strconv.FormatInt(clock.Now().Unix(), 10), r.Header.Get("X-TIMESTAMP"))
			assert.Equal(t, "application/json", r.Header.Get("Accept"))
			assert.Contains(t, r.Header.Get("User-Agent"), "dollarpe-go/")
			if tc.method == http.MethodGet {
				assert.Empty(t, r.Header.Get("Content-Type"))
			} else {
				assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
			}
			verifySignature(t, r)
		})
	}
}

func TestDecodesReplies(t *testing.T) {
	ctx := context.Background()
	rec := newRecorder(t, answer(200, `{"status":true,"message":"Success","data":{"id":"`+testID+
		`","full_name":"A B","email":"a@b.co","status":"FAILED","failure_reason":"SELFIE_VERIFICATION_FAILED","document_type":"VOTER_ID","new_field":{"x":1}}}`))
	c, _ := newTestClient(t, rec)
	var meta Response
	cust, err := c.GetCustomer(ctx, testID, ResponseInto(&meta))
	require.NoError(t, err)
	assert.Equal(t, StatusFailed, cust.Status)
	assert.Equal(t, FailureSelfie, cust.FailureReason)
	assert.True(t, cust.FailureReason.Fixable())
	assert.Equal(t, DocumentVoterID, cust.DocumentType)
	assert.Contains(t, string(cust.Raw), "new_field")
	assert.Equal(t, Response{Operation: "GetCustomer", Attempts: 1, StatusCode: 200, Header: meta.Header, Message: "Success"}, meta)

	rec = newRecorder(t, answer(200, `{"status":true,"message":"Success","data":{"id":"`+testID+`","status":"ON_HOLD","failure_reason":"NEW_REASON"}}`))
	c, _ = newTestClient(t, rec)
	cust, err = c.GetCustomer(ctx, testID)
	require.NoError(t, err)
	assert.Equal(t, Status("ON_HOLD"), cust.Status, "unknown values kept as they came")
	assert.False(t, cust.Status.Known())
	assert.False(t, cust.FailureReason.Fixable())

	rec = newRecorder(t, answer(200, `{"status":true,"message":"Success","data":{"supported_document_types":["AADHAAR","PAN_CARD"],"additional_info_required":{"fields":{"occupation":{"type":"string","required":true}}}}}`))
	c, _ = newTestClient(t, rec)
	cfg, err := c.GetKYCConfiguration(ctx, testID)
	require.NoError(t, err)
	assert.Equal(t, []DocumentType{DocumentAadhaar, "PAN_CARD"}, cfg.SupportedDocumentTypes)
	assert.JSONEq(t, `{"fields":{"occupation":{"type":"string","required":true}}}`, string(cfg.AdditionalInfoRequired))
}

// TestHTTPMock checks that the caller's *http.Client's Transport is read at
// every call, so httpmock sees the requests.
func TestHTTPMock(t *testing.T) {
	hc := &http.Client{}
	c, err := New(testKey, testSecret, WithHTTPClient(hc), WithClock(newFakeClock()))
	require.NoError(t, err)
	mock := httpmock.NewMockTransport()
	hc.Transport = mock // after New: read per call
	mock.RegisterResponder("GET", "https://sandbox.dollarpe.xyz/cms/api/v1/customer/"+testID,
		httpmock.NewStringResponder(200, okCustomer))
	cust, err := c.GetCustomer(context.Background(), testID)
	require.NoError(t, err)
	assert.Equal(t, StatusUnverified, cust.Status)
	assert.Equal(t, 1, mock.GetTotalCallCount())

	prod, err := New(testKey, testSecret, WithHTTPClient(hc), WithEnvironment(Production))
	require.NoError(t, err)
	mock.RegisterResponder("GET", "https://production.dollarpe.xyz/cms/api/v1/customer/"+testID,
		httpmock.NewStringResponder(200, okCustomer))
	_, err = prod.GetCustomer(context.Background(), testID)
	require.NoError(t, err)
}

func TestNew(t *testing.T) {
	_, err := New("", "", WithHTTPClient(nil), WithRetryPolicy(RetryPolicy{MaxAttempts: -1}), WithBaseURL("ftp://x"))
	require.Error(t, err)
	for _, want := range []string{"API key is empty", "API secret is empty", "WithHTTPClient", "WithRetryPolicy", "scheme"} {
		assert.Contains(t, err.Error(), want)
	}
	_, err = New("a key 1234", "s")
	assert.ErrorContains(t, err, "spaces")
	_, err = New(testKey, testSecret, WithBaseURL("https://user:pw@x.example"))
	assert.ErrorContains(t, err, "credentials")
	c, err := New(testKey, testSecret, WithBaseURL("https://x.example/"), nil)
	require.NoError(t, err)
	assert.Equal(t, "https://x.example/cms/api/v1", c.base)
	assert.Equal(t, Sandbox, c.Environment())
}

// TestLogLines checks that log lines carry op, method, path, status and
// attempt only.
func TestLogLines(t *testing.T) {
	rec := newRecorder(t, answer(503, err500), answer(200, okCustomer))
	var lines []map[string]any
	h := &captureHandler{lines: &lines}
	c, _ := newTestClient(t, rec, WithLogger(slog.New(h)))
	_, err := c.GetCustomer(context.Background(), testID)
	require.NoError(t, err)
	require.Len(t, lines, 3) // attempt 1, retry, attempt 2
	for _, l := range lines {
		keys := make([]string, 0, len(l))
		for k := range l {
			keys = append(keys, k)
		}
		assert.ElementsMatch(t, []string{"op", "method", "path", "status", "attempt"}, keys)
	}
	assert.Equal(t, int64(503), lines[0]["status"])
	assert.Equal(t, int64(2), lines[2]["attempt"])
}

type captureHandler struct{ lines *[]map[string]any }

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	m := map[string]any{}
	r.Attrs(func(a slog.Attr) bool {
		m[a.Key] = a.Value.Any()
		return true
	})
	*h.lines = append(*h.lines, m)
	return nil
}

func (h *captureHandler) WithAttrs([]slog.Attr) slog.Handler { return h }

func (h *captureHandler) WithGroup(string) slog.Handler { return h }

// TestHTTPMockDefaultTransport: without WithHTTPClient the client uses
// http.DefaultTransport as it is at each call, so httpmock.Activate works
// before or after New.
func TestHTTPMockDefaultTransport(t *testing.T) {
	c, err := New(testKey, testSecret)
	require.NoError(t, err)
	httpmock.Activate()
	defer httpmock.DeactivateAndReset()
	httpmock.RegisterResponder("PATCH", "https://sandbox.dollarpe.xyz/cms/api/v1/kyc/update-selfie-info",
		httpmock.NewStringResponder(200, okKYC))
	res, err := c.UpdateSelfieInfo(context.Background(), UpdateSelfieInfoParams{CustomerID: testID, SelfieURL: "https://x.example/s.jpg"})
	require.NoError(t, err)
	assert.Equal(t, StatusProcessing, res.Status)
	assert.Equal(t, 1, httpmock.GetTotalCallCount())
}

func TestOptionsRefused(t *testing.T) {
	for name, opt := range map[string]Option{
		"env":        WithEnvironment(Environment(7)),
		"logger":     WithLogger(nil),
		"clock":      WithClock(nil),
		"max bytes":  WithMaxResponseBytes(0),
		"user agent": WithUserAgent("x\n"),
		"retry":      WithRetryPolicy(RetryPolicy{BaseDelay: -1}),
	} {
		_, err := New(testKey, testSecret, opt)
		assert.Error(t, err, name)
	}
	rec := newRecorder(t, answer(200, okCustomer))
	c, _ := newTestClient(t, rec, WithUserAgent(" acme/1.0 "))
	_, err := c.GetCustomer(context.Background(), testID)
	require.NoError(t, err)
	assert.Equal(t, "dollarpe-go/"+Version+" acme/1.0", rec.requests()[0].Header.Get("User-Agent"))
	assert.Equal(t, "sandbox", Sandbox.String())
	assert.Equal(t, "production", Production.String())
}

// A credential so short that scrubbing it would garble error texts is
// refused at New.
func TestShortCredentialsRefused(t *testing.T) {
	_, err := New("k", testSecret)
	assert.ErrorContains(t, err, "API key is shorter than 8 characters")
	_, err = New(testKey, "s3cret")
	assert.ErrorContains(t, err, "API secret is shorter than 8 characters")
	_, err = New("12345678", "abcdefgh")
	assert.NoError(t, err)
}

// A Client not made by New fails every call with ErrNotConfigured instead
// of panicking.
func TestZeroClientFails(t *testing.T) {
	ctx := context.Background()
	for _, c := range []*Client{{}, nil} {
		calls := map[string]func() error{
			"CreateCustomer": func() error {
				_, err := c.CreateCustomer(ctx, CreateCustomerParams{FullName: "A", Email: "a@b.co", Phone: "1", CountryCode: "IND"})
				return err
			},
			"GetCustomer":         func() error { _, err := c.GetCustomer(ctx, testID); return err },
			"GetKYCConfiguration": func() error { _, err := c.GetKYCConfiguration(ctx, testID); return err },
			"AddKYCData":          func() error { _, err := c.AddKYCData(ctx, kycParams()); return err },
			"UpdateTaxInfo":       func() error { return updateTax(c) },
			"ResetKYC":            func() error { _, err := c.ResetKYC(ctx, testID); return err },
			"MockKYCStatus":       func() error { _, err := c.MockKYCStatus(ctx, testID, MockVerified); return err },
		}
		for name, call := range calls {
			assert.ErrorIs(t, call(), ErrNotConfigured, name)
		}
		assert.NotPanics(t, func() { _ = fmt.Sprint(c); _ = c.LogValue(); _ = c.Environment() })
	}
}

// Plain http would send the key, each signature and the customer's
// personal data in clear: New refuses it to a host that is not loopback
// unless WithInsecureHTTP says so.
func TestPlainHTTPOnlyToLoopbackUnlessInsecure(t *testing.T) {
	for _, base := range []string{"http://dollarpe.example", "http://10.0.0.7:8080", "http://127.0.0.1.example.com", "http://[2001:db8::1]"} {
		_, err := New(testKey, testSecret, WithBaseURL(base))
		require.Error(t, err, base)
		assert.ErrorContains(t, err, "WithInsecureHTTP", base)
		c, err := New(testKey, testSecret, WithBaseURL(base), WithInsecureHTTP())
		require.NoError(t, err, base)
		assert.Equal(t, strings.TrimRight(base, "/")+APIPrefix, c.base)
	}
	for _, base := range []string{"http://127.0.0.1:8080", "http://localhost", "http://LocalHost:1", "http://[::1]:9", "http://127.8.9.10",
		"https://dollarpe.example"} {
		_, err := New(testKey, testSecret, WithBaseURL(base))
		assert.NoError(t, err, base)
	}
}
