package dollarpe

import (
	"net/url"
	"path"
	"strings"
	"unicode/utf8"
)

// Validation rules, as FieldError.Rule says them.
const (
	ruleRequired    = "is required"
	ruleUUID        = "must be a UUID (8-4-4-4-12 hexadecimal digits)"
	ruleURL         = "must be an absolute http or https URL"
	ruleImageType   = "must link to a JPG, JPEG, PNG or PDF file"
	ruleDate        = "must be a valid date (sent as DD-MM-YYYY)"
	ruleAlpha3      = "must be an ISO 3166 alpha-3 country code (three letters A-Z)"
	ruleUTF8        = "must be valid UTF-8"
	ruleMockTarget  = "must be UNVERIFIED, VERIFIED, TAX_VERIFICATION_FAILED or DOCUMENT_VERIFICATION_FAILED"
	ruleSandboxOnly = "is only available in the sandbox"
	ruleEncodable   = "must be encodable as JSON (no NaN, infinity, channel or function)"
)

// validator collects the problems of one call's input.
type validator struct{ fields []FieldError }

func (v *validator) add(field, rule string) {
	v.fields = append(v.fields, FieldError{Field: field, Rule: rule})
}

func (v *validator) err(op string) error {
	if len(v.fields) == 0 {
		return nil
	}
	return &ValidationError{Op: op, Fields: v.fields}
}

// required checks that s is not blank and is UTF-8.
func (v *validator) required(field, s string) bool {
	switch {
	case strings.TrimSpace(s) == "":
		v.add(field, ruleRequired)
		return false
	case !utf8.ValidString(s):
		v.add(field, ruleUTF8)
		return false
	}
	return true
}

// encodable checks that a free-form value can be sent: JSON cannot carry
// NaN, infinities, channels or functions, and the body must have a
// canonical form to be signed.
func (v *validator) encodable(field string, value map[string]any) {
	if value == nil {
		return
	}
	raw, err := marshal(value)
	if err == nil {
		_, err = Canonicalize(raw)
	}
	if err != nil {
		v.add(field, ruleEncodable)
	}
}

// uuid checks a customer id.
func (v *validator) uuid(field, s string) {
	if v.required(field, s) && !isUUID(s) {
		v.add(field, ruleUUID)
	}
}

// isUUID reports whether s is a UUID in its 36-character text form, of
// any version (DollarPe's own samples use version 1 and 4).
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// imageURL checks a document or selfie link: absolute http(s) with a host,
// whose path ends in .jpg, .jpeg, .png or .pdf (any case; the query, as in
// a pre-signed link, is not looked at).
func (v *validator) imageURL(field, s string, required bool) {
	if s == "" && !required {
		return
	}
	if !v.required(field, s) {
		return
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		v.add(field, ruleURL)
		return
	}
	switch strings.ToLower(path.Ext(u.Path)) {
	case ".jpg", ".jpeg", ".png", ".pdf":
	default:
		v.add(field, ruleImageType)
	}
}

// alpha3 checks an ISO alpha-3 country code.
func (v *validator) alpha3(field, s string, required bool) {
	if s == "" && !required {
		return
	}
	if !v.required(field, s) {
		return
	}
	if len(s) != 3 || strings.IndexFunc(s, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0 {
		v.add(field, ruleAlpha3)
	}
}

func (v *validator) date(field string, d Date) {
	switch {
	case d.IsZero():
		v.add(field, ruleRequired)
	case !d.valid():
		v.add(field, ruleDate)
	}
}

// validate checks the documented rules of CreateCustomer.
func (p *CreateCustomerParams) validate() error {
	var v validator
	v.required("full_name", p.FullName)
	v.required("email", p.Email)
	v.required("phone", p.Phone)
	v.alpha3("alpha_3_country_code", p.CountryCode, true)
	v.alpha3("residence_alpha_3_country_code", p.ResidenceCountryCode, false)
	if p.ClientReferenceID != "" {
		v.required("client_reference_id", p.ClientReferenceID)
	}
	return v.err("CreateCustomer")
}

// validate checks the documented rules of AddKYCData.
func (p *AddKYCDataParams) validate() error {
	var v validator
	v.uuid("customer_id", p.CustomerID)
	v.required("full_name", p.FullName)
	v.required("phone", p.Phone)
	v.required("full_address", p.FullAddress)
	v.date("dob", p.DOB)
	v.required("tax_number", p.TaxNumber)
	v.required("document_type", string(p.DocumentType))
	v.imageURL("document_front_image_url", p.DocumentFrontImageURL, true)
	v.imageURL("document_back_image_url", p.DocumentBackImageURL, false)
	v.required("document_details.document_number", p.DocumentDetails.DocumentNumber)
	v.imageURL("selfie_url", p.SelfieURL, true)
	v.encodable("additional_info", p.AdditionalInfo)
	v.encodable("document_details.additional_data", p.DocumentDetails.AdditionalData)
	return v.err("AddKYCData")
}

// validate checks the documented rules of UpdateDocumentInfo.
func (p *UpdateDocumentInfoParams) validate() error {
	var v validator
	v.uuid("customer_id", p.CustomerID)
	v.required("full_address", p.FullAddress)
	v.required("document_type", string(p.DocumentType))
	v.imageURL("document_front_image_url", p.DocumentFrontImageURL, true)
	v.imageURL("document_back_image_url", p.DocumentBackImageURL, false)
	v.required("document_details.document_number", p.DocumentDetails.DocumentNumber)
	v.encodable("document_details.additional_data", p.DocumentDetails.AdditionalData)
	return v.err("UpdateDocumentInfo")
}

// validate checks the documented rules of UpdateTaxInfo.
func (p *UpdateTaxInfoParams) validate() error {
	var v validator
	v.uuid("customer_id", p.CustomerID)
	v.required("tax_number", p.TaxNumber)
	return v.err("UpdateTaxInfo")
}

// validate checks the documented rules of UpdateAdditionalInfo.
func (p *UpdateAdditionalInfoParams) validate() error {
	var v validator
	v.uuid("customer_id", p.CustomerID)
	if len(p.AdditionalInfo) == 0 {
		v.add("additional_info", ruleRequired)
	}
	v.encodable("additional_info", p.AdditionalInfo)
	return v.err("UpdateAdditionalInfo")
}

// validate checks the documented rules of UpdateSelfieInfo.
func (p *UpdateSelfieInfoParams) validate() error {
	var v validator
	v.uuid("customer_id", p.CustomerID)
	v.imageURL("selfie_url", p.SelfieURL, true)
	return v.err("UpdateSelfieInfo")
}

// validateCustomerID checks the customer id argument of op.
func validateCustomerID(op, id string) error {
	var v validator
	v.uuid("customer_id", id)
	return v.err(op)
}
