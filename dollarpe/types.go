package dollarpe

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Status is a customer's KYC status. Values DollarPe adds later are kept as
// they came; Known tells them apart.
type Status string

// The documented customer statuses: UNVERIFIED → PROCESSING → VERIFIED or
// FAILED.
const (
	StatusUnverified Status = "UNVERIFIED" // created, or reset; no KYC data under review
	StatusProcessing Status = "PROCESSING" // KYC data submitted and under review (60 s to 2 h)
	StatusVerified   Status = "VERIFIED"   // KYC passed
	StatusFailed     Status = "FAILED"     // KYC failed; see FailureReason
)

// Known reports whether s is one of the documented statuses.
func (s Status) Known() bool {
	switch s {
	case StatusUnverified, StatusProcessing, StatusVerified, StatusFailed:
		return true
	}
	return false
}

// Final reports whether s is VERIFIED or FAILED, where a review ends.
func (s Status) Final() bool { return s == StatusVerified || s == StatusFailed }

// FailureReason says why a customer's KYC failed. Values DollarPe adds
// later are kept as they came.
type FailureReason string

// The documented failure reasons.
const (
	// FailureDocument is fixed with UpdateDocumentInfo.
	FailureDocument FailureReason = "DOCUMENT_VERIFICATION_FAILED"
	// FailureTax is fixed with UpdateTaxInfo.
	FailureTax FailureReason = "TAX_VERIFICATION_FAILED"
	// FailureSelfie is fixed with UpdateSelfieInfo.
	FailureSelfie FailureReason = "SELFIE_VERIFICATION_FAILED"
	// FailureKYC is terminal: only DollarPe's support can help.
	FailureKYC FailureReason = "KYC_FAILED"
)

// Known reports whether r is one of the documented failure reasons.
func (r FailureReason) Known() bool {
	switch r {
	case FailureDocument, FailureTax, FailureSelfie, FailureKYC:
		return true
	}
	return false
}

// Fixable reports whether an update can repair a failure for reason r:
// true for the document, tax and selfie failures, false for KYC_FAILED and
// for unknown reasons.
func (r FailureReason) Fixable() bool {
	return r == FailureDocument || r == FailureTax || r == FailureSelfie
}

// DocumentType is an identity document type, as listed by
// KYCConfiguration.SupportedDocumentTypes. Values DollarPe adds later are
// kept as they came.
type DocumentType string

// The documented document types.
const (
	DocumentAadhaar        DocumentType = "AADHAAR"         // Aadhaar card
	DocumentPassport       DocumentType = "PASSPORT"        // passport
	DocumentVoterID        DocumentType = "VOTER_ID"        // voter ID card
	DocumentDrivingLicense DocumentType = "DRIVING_LICENSE" // driving licence
)

// Known reports whether d is one of the documented document types.
func (d DocumentType) Known() bool {
	switch d {
	case DocumentAadhaar, DocumentPassport, DocumentVoterID, DocumentDrivingLicense:
		return true
	}
	return false
}

// MockTarget is a status the sandbox-only MockKYCStatus call can move a
// customer to: a Status or one of the fixable failure reasons.
type MockTarget string

// The targets of MockKYCStatus.
const (
	MockUnverified     MockTarget = "UNVERIFIED"                   // from PROCESSING, VERIFIED or FAILED
	MockVerified       MockTarget = "VERIFIED"                     // from PROCESSING
	MockTaxFailed      MockTarget = "TAX_VERIFICATION_FAILED"      // FAILED with FailureTax, from PROCESSING
	MockDocumentFailed MockTarget = "DOCUMENT_VERIFICATION_FAILED" // FAILED with FailureDocument, from PROCESSING
)

// MockTransitionAllowed reports whether DollarPe's sandbox allows moving a
// customer from status from to target: FAILED or VERIFIED to UNVERIFIED,
// and PROCESSING to TAX_VERIFICATION_FAILED, DOCUMENT_VERIFICATION_FAILED,
// VERIFIED or UNVERIFIED.
func MockTransitionAllowed(from Status, target MockTarget) bool {
	switch from {
	case StatusFailed, StatusVerified:
		return target == MockUnverified
	case StatusProcessing:
		switch target {
		case MockTaxFailed, MockDocumentFailed, MockVerified, MockUnverified:
			return true
		}
	}
	return false
}

// Date is a calendar date, sent and read as DD-MM-YYYY. The zero Date is
// "no date".
type Date struct {
	Year  int        // the year, such as 1990
	Month time.Month // the month, January (1) to December (12)
	Day   int        // the day of the month, from 1
}

// ParseDate reads a DD-MM-YYYY date and refuses any other form or a day
// that does not exist.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse("02-01-2006", s)
	if err != nil || len(s) != 10 {
		return Date{}, fmt.Errorf("dollarpe: date is not a valid DD-MM-YYYY date")
	}
	return Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}, nil
}

// DateOf returns the calendar date of t in t's location.
func DateOf(t time.Time) Date { return Date{Year: t.Year(), Month: t.Month(), Day: t.Day()} }

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// valid reports whether d names a day that exists, in years 1 to 9999.
func (d Date) valid() bool {
	if d.Year < 1 || d.Year > 9999 {
		return false
	}
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	return t.Year() == d.Year && t.Month() == d.Month && t.Day() == d.Day
}

// Time returns midnight UTC of d.
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// text returns d as DD-MM-YYYY.
func (d Date) text() string {
	return fmt.Sprintf("%02d-%02d-%04d", d.Day, int(d.Month), d.Year)
}

// String returns [masked] for a set date, since a birth date is personal
// data; use Text to get DD-MM-YYYY on purpose.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return masked
}

// Text returns d as DD-MM-YYYY, the form DollarPe uses.
func (d Date) Text() string { return d.text() }

// MarshalJSON writes d as "DD-MM-YYYY".
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte(`""`), nil
	}
	return []byte(strconv.Quote(d.text())), nil
}

// UnmarshalJSON reads "DD-MM-YYYY", and leaves d zero for "" or null.
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil || strings.TrimSpace(s) == "" {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(strings.TrimSpace(s))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// CreateCustomerParams is the input of CreateCustomer. It prints with its
// personal fields masked.
type CreateCustomerParams struct {
	// FullName is the customer's full name; required.
	FullName string `json:"full_name"`
	// Email is the customer's e-mail address; required, unique per
	// organisation.
	Email string `json:"email"`
	// Phone is the customer's phone number; required, unique.
	Phone string `json:"phone"`
	// CountryCode is the ISO 3166 alpha-3 code of the customer's country,
	// such as "IND"; required.
	CountryCode string `json:"alpha_3_country_code"`
	// ClientReferenceID is the caller's own id for the customer; optional,
	// unique when given.
	ClientReferenceID string `json:"client_reference_id,omitempty"`
	// NonResidenceStatus is sent when set (documented on the live page
	// only).
	NonResidenceStatus *bool `json:"non_residence_status,omitempty"`
	// ResidenceCountryCode is the alpha-3 code of the country of residence;
	// optional (live page only).
	ResidenceCountryCode string `json:"residence_alpha_3_country_code,omitempty"`
}

// Customer is a customer as DollarPe returns it. It prints with its
// personal fields masked.
type Customer struct {
	// ID is DollarPe's id of the customer, a UUID.
	ID string `json:"id"`
	// FullName, Email and Phone are the customer's, when the reply has them.
	FullName string `json:"full_name,omitempty"`
	Email    string `json:"email,omitempty"`
	Phone    string `json:"phone,omitempty"`
	// CountryCode is the alpha-3 country code.
	CountryCode string `json:"alpha_3_country_code,omitempty"`
	// ClientReferenceID is the caller's own id, when one was given.
	ClientReferenceID string `json:"client_reference_id,omitempty"`
	// Status is the KYC status.
	Status Status `json:"status"`
	// FailureReason says why KYC failed; empty unless Status is FAILED.
	FailureReason FailureReason `json:"failure_reason,omitempty"`
	// DocumentType is the document submitted, if any.
	DocumentType DocumentType `json:"document_type,omitempty"`
	// Raw is the whole data object of the reply, unknown fields included.
	Raw json.RawMessage `json:"-"`
}

// KYCConfiguration says which KYC data a customer needs
// (GetKYCConfiguration).
type KYCConfiguration struct {
	// SupportedDocumentTypes lists the document types accepted for the
	// customer.
	SupportedDocumentTypes []DocumentType `json:"supported_document_types"`
	// AdditionalInfoRequired is DollarPe's description of the additional
	// info fields (per-field type and required flag, anyOf/allOf groups
	// with min_required), kept as it came since its schema is not fixed.
	// KYCConfiguration prints it as JSON text (fmt would print a bare
	// json.RawMessage as byte values); use string(c.AdditionalInfoRequired)
	// for the text itself.
	AdditionalInfoRequired json.RawMessage `json:"additional_info_required,omitempty"`
	// Raw is the whole data object of the reply.
	Raw json.RawMessage `json:"-"`
}

// DocumentDetails describes the identity document. It prints with the
// document number masked.
type DocumentDetails struct {
	// DocumentNumber is the number on the document; required.
	DocumentNumber string `json:"document_number"`
	// AdditionalData holds extra document fields; optional.
	AdditionalData map[string]any `json:"additional_data"`
}

// MarshalJSON writes d with additional_data as {} when it is nil, as
// DollarPe's samples send it.
func (d DocumentDetails) MarshalJSON() ([]byte, error) {
	data := d.AdditionalData
	if data == nil {
		data = map[string]any{}
	}
	return json.Marshal(struct {
		DocumentNumber string         `json:"document_number"`
		AdditionalData map[string]any `json:"additional_data"`
	}{d.DocumentNumber, data})
}

// AddKYCDataParams is the input of AddKYCData. It prints with its personal
// fields masked.
type AddKYCDataParams struct {
	CustomerID string `json:"customer_id"` // DollarPe's customer id (a UUID); required
	FullName   string `json:"full_name"`   // required
	Phone      string `json:"phone"`       // required
	// FullAddress is the customer's address; required.
	FullAddress string `json:"full_address"`
	// DOB is the date of birth, sent as DD-MM-YYYY; required.
	DOB Date `json:"dob"`
	// TaxNumber is the customer's PAN; required.
	TaxNumber string `json:"tax_number"`
	// DocumentType is one of the configuration's supported types; required.
	DocumentType DocumentType `json:"document_type"`
	// DocumentFrontImageURL is an absolute http(s) link to a JPG, JPEG, PNG
	// or PDF; required.
	DocumentFrontImageURL string `json:"document_front_image_url"`
	// DocumentBackImageURL is the same for the back side; optional.
	DocumentBackImageURL string `json:"document_back_image_url,omitempty"`
	// DocumentDetails holds the document number; required.
	DocumentDetails DocumentDetails `json:"document_details"`
	// SelfieURL is an absolute http(s) link to a JPG, JPEG, PNG or PDF;
	// required.
	SelfieURL string `json:"selfie_url"`
	// AdditionalInfo holds the fields GetKYCConfiguration asks for;
	// optional.
	AdditionalInfo map[string]any `json:"additional_info,omitempty"`
}

// UpdateDocumentInfoParams is the input of UpdateDocumentInfo, after a
// DOCUMENT_VERIFICATION_FAILED. It prints with its personal fields masked.
type UpdateDocumentInfoParams struct {
	CustomerID            string          `json:"customer_id"`                       // required
	FullAddress           string          `json:"full_address"`                      // required
	DocumentType          DocumentType    `json:"document_type"`                     // required
	DocumentFrontImageURL string          `json:"document_front_image_url"`          // required; JPG, JPEG, PNG or PDF link
	DocumentBackImageURL  string          `json:"document_back_image_url,omitempty"` // optional; JPG, JPEG, PNG or PDF link
	DocumentDetails       DocumentDetails `json:"document_details"`                  // document number required
}

// UpdateTaxInfoParams is the input of UpdateTaxInfo, after a
// TAX_VERIFICATION_FAILED. It prints with the tax number masked.
type UpdateTaxInfoParams struct {
	CustomerID string `json:"customer_id"` // required
	TaxNumber  string `json:"tax_number"`  // the PAN; required
}

// UpdateAdditionalInfoParams is the input of UpdateAdditionalInfo. It
// prints with the additional info masked.
type UpdateAdditionalInfoParams struct {
	CustomerID     string         `json:"customer_id"`     // required
	AdditionalInfo map[string]any `json:"additional_info"` // required, not empty
}

// UpdateSelfieInfoParams is the input of UpdateSelfieInfo, after a
// SELFIE_VERIFICATION_FAILED. It prints with the URL masked.
type UpdateSelfieInfoParams struct {
	CustomerID string `json:"customer_id"` // required
	SelfieURL  string `json:"selfie_url"`  // required; JPG, JPEG, PNG or PDF link
}

// KYCResult is the reply of the KYC calls: the customer's id and status
// after the call.
type KYCResult struct {
	// ID is the customer's id as DollarPe returns it.
	ID string `json:"id"`
	// Status is the customer's status after the call.
	Status Status `json:"status"`
	// Raw is the whole data object of the reply.
	Raw json.RawMessage `json:"-"`
}
