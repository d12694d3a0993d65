package dollarpe

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestValidation checks each rule on both sides: the input that passes and
// the one refused, with the field and rule named. Nothing is sent when
// input is refused.
func TestValidation(t *testing.T) {
	ctx := context.Background()
	type check struct {
		name  string
		run   func(c *Client) error
		field string // "" when the input passes
		rule  string
	}
	kyc := func(mod func(p *AddKYCDataParams)) func(c *Client) error {
		return func(c *Client) error {
			p := kycParams()
			mod(&p)
			_, err := c.AddKYCData(ctx, p)
			return err
		}
	}
	create := func(mod func(p *CreateCustomerParams)) func(c *Client) error {
		return func(c *Client) error {
			p := CreateCustomerParams{FullName: "A", Email: "a@b.co", Phone: "1", CountryCode: "IND"}
			mod(&p)
			_, err := c.CreateCustomer(ctx, p)
			return err
		}
	}
	cases := []check{
		{"create ok", create(func(*CreateCustomerParams) {}), "", ""},
		{"create no name", create(func(p *CreateCustomerParams) { p.FullName = "  " }), "full_name", ruleRequired},
		{"create no email", create(func(p *CreateCustomerParams) { p.Email = "" }), "email", ruleRequired},
		{"create no phone", create(func(p *CreateCustomerParams) { p.Phone = "" }), "phone", ruleRequired},
		{"create country lower", create(func(p *CreateCustomerParams) { p.CountryCode = "ind" }), "alpha_3_country_code", ruleAlpha3},
		{"create country alpha-2", create(func(p *CreateCustomerParams) { p.CountryCode = "IN" }), "alpha_3_country_code", ruleAlpha3},
		{"create residence ok", create(func(p *CreateCustomerParams) { p.ResidenceCountryCode = "ARE" }), "", ""},
		{"create residence bad", create(func(p *CreateCustomerParams) { p.ResidenceCountryCode = "UAE1" }), "residence_alpha_3_country_code", ruleAlpha3},
		{"create bad utf8", create(func(p *CreateCustomerParams) { p.FullName = "\xff" }), "full_name", ruleUTF8},
		{"kyc ok", kyc(func(*AddKYCDataParams) {}), "", ""},
		{"kyc uuid v4 ok", kyc(func(p *AddKYCDataParams) { p.CustomerID = "550E8400-E29B-41D4-A716-446655440000" }), "", ""},
		{"kyc id not uuid", kyc(func(p *AddKYCDataParams) { p.CustomerID = "12345" }), "customer_id", ruleUUID},
		{"kyc id braces", kyc(func(p *AddKYCDataParams) { p.CustomerID = "{" + testID[1:35] + "}" }), "customer_id", ruleUUID},
		{"kyc id missing", kyc(func(p *AddKYCDataParams) { p.CustomerID = "" }), "customer_id", ruleRequired},
		{"kyc dob missing", kyc(func(p *AddKYCDataParams) { p.DOB = Date{} }), "dob", ruleRequired},
		{"kyc dob 31 Feb", kyc(func(p *AddKYCDataParams) { p.DOB = Date{2000, 2, 31} }), "dob", ruleDate},
		{"kyc dob 29 Feb leap", kyc(func(p *AddKYCDataParams) { p.DOB = Date{2000, 2, 29} }), "", ""},
		{"kyc no tax", kyc(func(p *AddKYCDataParams) { p.TaxNumber = "" }), "tax_number", ruleRequired},
		{"kyc no address", kyc(func(p *AddKYCDataParams) { p.FullAddress = "" }), "full_address", ruleRequired},
		{"kyc no doc type", kyc(func(p *AddKYCDataParams) { p.DocumentType = "" }), "document_type", ruleRequired},
		{"kyc unknown doc type passes", kyc(func(p *AddKYCDataParams) { p.DocumentType = "NEW_ID" }), "", ""},
		{"kyc no doc number", kyc(func(p *AddKYCDataParams) { p.DocumentDetails.DocumentNumber = "" }), "document_details.document_number", ruleRequired},
		{"kyc front missing", kyc(func(p *AddKYCDataParams) { p.DocumentFrontImageURL = "" }), "document_front_image_url", ruleRequired},
		{"kyc front relative", kyc(func(p *AddKYCDataParams) { p.DocumentFrontImageURL = "/f.jpg" }), "document_front_image_url", ruleURL},
		{"kyc front ftp", kyc(func(p *AddKYCDataParams) { p.DocumentFrontImageURL = "ftp://x.example/f.jpg" }), "document_front_image_url", ruleURL},
		{"kyc front gif", kyc(func(p *AddKYCDataParams) { p.DocumentFrontImageURL = "https://x.example/f.gif" }), "document_front_image_url", ruleImageType},
		{"kyc front ext in query only", kyc(func(p *AddKYCDataParams) { p.DocumentFrontImageURL = "https://x.example/f?x=.jpg" }), "document_front_image_url", ruleImageType},
		{"kyc front PDF upper", kyc(func(p *AddKYCDataParams) { p.DocumentFrontImageURL = "https://x.example/f.PDF" }), "", ""},
		{"kyc back optional", kyc(func(p *AddKYCDataParams) { p.DocumentBackImageURL = "" }), "", ""},
		{"kyc back bad", kyc(func(p *AddKYCDataParams) { p.DocumentBackImageURL = "https://x.example/b.webp" }), "document_back_image_url", ruleImageType},
		{"kyc selfie missing", kyc(func(p *AddKYCDataParams) { p.SelfieURL = "" }), "selfie_url", ruleRequired},
		{"kyc selfie no host", kyc(func(p *AddKYCDataParams) { p.SelfieURL = "https:///s.png" }), "selfie_url", ruleURL},
		{"doc update ok", func(c *Client) error {
			_, err := c.UpdateDocumentInfo(ctx, UpdateDocumentInfoParams{CustomerID: testID, FullAddress: "A", DocumentType: DocumentPassport,
				DocumentFrontImageURL: "https://x.example/p.jpg", DocumentDetails: DocumentDetails{DocumentNumber: "1"}})
			return err
		}, "", ""},
		{"doc update no number", func(c *Client) error {
			_, err := c.UpdateDocumentInfo(ctx, UpdateDocumentInfoParams{CustomerID: testID, FullAddress: "A", DocumentType: DocumentPassport,
				DocumentFrontImageURL: "https://x.example/p.jpg"})
			return err
		}, "document_details.document_number", ruleRequired},
		{"tax update no tax", func(c *Client) error {
			_, err := c.UpdateTaxInfo(ctx, UpdateTaxInfoParams{CustomerID: testID})
			return err
		}, "tax_number", ruleRequired},
		{"additional empty", func(c *Client) error {
			_, err := c.UpdateAdditionalInfo(ctx, UpdateAdditionalInfoParams{CustomerID: testID})
			return err
		}, "additional_info", ruleRequired},
		{"selfie update png", func(c *Client) error {
			_, err := c.UpdateSelfieInfo(ctx, UpdateSelfieInfoParams{CustomerID: testID, SelfieURL: "https://x.example/s.png"})
			return err
		}, "", ""},
		{"selfie update bmp", func(c *Client) error {
			_, err := c.UpdateSelfieInfo(ctx, UpdateSelfieInfoParams{CustomerID: testID, SelfieURL: "https://x.example/s.bmp"})
			return err
		}, "selfie_url", ruleImageType},
		{"get bad id", func(c *Client) error { _, err := c.GetCustomer(ctx, "../etc"); return err }, "customer_id", ruleUUID},
		{"config bad id", func(c *Client) error { _, err := c.GetKYCConfiguration(ctx, ""); return err }, "customer_id", ruleRequired},
		{"reset bad id", func(c *Client) error { _, err := c.ResetKYC(ctx, "x"); return err }, "customer_id", ruleUUID},
		{"mock target ok", func(c *Client) error { _, err := c.MockKYCStatus(ctx, testID, MockDocumentFailed); return err }, "", ""},
		{"mock target bad", func(c *Client) error {
			_, err := c.MockKYCStatus(ctx, testID, "SELFIE_VERIFICATION_FAILED")
			return err
		}, "kyc_status", ruleMockTarget},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder(t, answer(200, okCustomer))
			c, _ := newTestClient(t, rec)
			err := tc.run(c)
			if tc.field == "" {
				require.NoError(t, err)
				require.Len(t, rec.requests(), 1)
				return
			}
			var verr *ValidationError
			require.ErrorAs(t, err, &verr)
			assert.Contains(t, verr.Fields, FieldError{Field: tc.field, Rule: tc.rule})
			assert.Contains(t, err.Error(), tc.field+": "+tc.rule)
			assert.Empty(t, rec.requests(), "nothing sent")
		})
	}
}

func TestMockTransitions(t *testing.T) {
	targets := []MockTarget{MockUnverified, MockVerified, MockTaxFailed, MockDocumentFailed}
	allowed := map[Status][]MockTarget{
		StatusFailed:     {MockUnverified},
		StatusVerified:   {MockUnverified},
		StatusProcessing: {MockUnverified, MockVerified, MockTaxFailed, MockDocumentFailed},
		StatusUnverified: nil,
	}
	for from, ok := range allowed {
		for _, to := range targets {
			assert.Equal(t, contains(ok, to), MockTransitionAllowed(from, to), "%s → %s", from, to)
		}
	}
}

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestDate(t *testing.T) {
	d, err := ParseDate("05-11-1987")
	require.NoError(t, err)
	assert.Equal(t, Date{1987, 11, 5}, d)
	assert.Equal(t, "05-11-1987", d.Text())
	for _, bad := range []string{"1987-11-05", "5-11-1987", "31-02-2000", "05/11/1987", ""} {
		_, err := ParseDate(bad)
		assert.Error(t, err, bad)
	}
	b, err := json.Marshal(struct{ D Date }{d})
	require.NoError(t, err)
	assert.Equal(t, `{"D":"05-11-1987"}`, string(b))
	var back struct{ D Date }
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, d, back.D)
	assert.Error(t, json.Unmarshal([]byte(`{"D":"1987-11-05"}`), &back))
	assert.Equal(t, "[masked]", d.String())
	assert.True(t, DateOf(d.Time()) == d)
}

func TestTypedValues(t *testing.T) {
	assert.True(t, StatusVerified.Known() && StatusVerified.Final())
	assert.False(t, StatusProcessing.Final())
	assert.False(t, FailureKYC.Fixable())
	assert.True(t, FailureKYC.Known())
	assert.True(t, DocumentDrivingLicense.Known())
	assert.False(t, DocumentType("PAN").Known())
}

// A value JSON cannot carry (NaN, infinity) is named as a field error, and
// nothing is sent.
func TestUnencodableAdditionalValues(t *testing.T) {
	rec := newRecorder(t, answer(200, okKYC))
	c, _ := newTestClient(t, rec)
	ctx := context.Background()
	check := func(err error, field string) {
		t.Helper()
		var verr *ValidationError
		require.ErrorAs(t, err, &verr)
		assert.True(t, verr.Has(field), "%v", err)
	}
	p := kycParams()
	p.AdditionalInfo = map[string]any{"income": math.NaN()}
	p.DocumentDetails.AdditionalData = map[string]any{"issued": math.Inf(1)}
	_, err := c.AddKYCData(ctx, p)
	check(err, "additional_info")
	check(err, "document_details.additional_data")

	_, err = c.UpdateDocumentInfo(ctx, UpdateDocumentInfoParams{CustomerID: testID, FullAddress: "x", DocumentType: DocumentAadhaar,
		DocumentFrontImageURL: "https://files.example.com/f.jpg",
		DocumentDetails:       DocumentDetails{DocumentNumber: "123456123456", AdditionalData: map[string]any{"x": []any{math.NaN()}}}})
	check(err, "document_details.additional_data")

	_, err = c.UpdateAdditionalInfo(ctx, UpdateAdditionalInfoParams{CustomerID: testID, AdditionalInfo: map[string]any{"f": func() {}}})
	check(err, "additional_info")
	assert.Empty(t, rec.requests(), "nothing sent")
}

func TestKYCConfigurationPrintsSchemaAsText(t *testing.T) {
	cfg := KYCConfiguration{SupportedDocumentTypes: []DocumentType{DocumentAadhaar},
		AdditionalInfoRequired: json.RawMessage(`{"occupation": {"type": "string", "required": true}}`),
		Raw:                    json.RawMessage(`{"name":"Asha"}`)}
	for _, verb := range []string{"%v", "%+v", "%s"} {
		out := fmt.Sprintf(verb, cfg)
		assert.Contains(t, out, `AdditionalInfoRequired: {"occupation":{"type":"string","required":true}}`, verb)
		assert.NotContains(t, out, "Asha", verb)
	}
	assert.Contains(t, fmt.Sprintf("%v", KYCConfiguration{}), "AdditionalInfoRequired: ,")
}
