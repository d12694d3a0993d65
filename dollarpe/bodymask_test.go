package dollarpe

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// personalUnlisted holds personal data under keys no fixed list names.
const personalUnlisted = `{"customer_name":"Asha Verma","PAN_number":"ABCDE1234F","residential_address":"12 MG Road, Bengaluru",` +
	`"first_name":"Asha","taxNumber":"FGHIJ5678K","fullAddress":"7 Park Street, Kolkata","document_no":"X12-34",` +
	`"selfie":"https://files.example.com/kyc/selfie.png","nick":"Ashu","status":"UNVERIFIED","document_type":"AADHAAR",` +
	`"failure_reason":"TAX_VERIFICATION_FAILED","attempt":2,"ok":true}`

var unlistedValues = []string{"Asha", "Verma", "ABCDE1234F", "MG Road", "Bengaluru", "FGHIJ5678K", "Park Street",
	"Kolkata", "X12-34", "files.example.com", "selfie.png", "Ashu"}

func assertNoUnlisted(t *testing.T, text string) {
	t.Helper()
	for _, v := range unlistedValues {
		assert.NotContains(t, text, v)
	}
}

func TestDecodeErrorBodyMasksEveryPersonalValue(t *testing.T) {
	rec := newRecorder(t, answer(200, `{"status":true,"message":"Success","data":`+personalUnlisted+`}`))
	c, _ := newTestClient(t, rec)
	_, err := c.GetCustomer(context.Background(), testID)
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assertNoUnlisted(t, de.Body)
	// Structure and non-personal values stay, so the error is still useful.
	for _, keep := range []string{`"customer_name"`, `"PAN_number"`, `"status":"UNVERIFIED"`, `"document_type":"AADHAAR"`,
		`"failure_reason":"TAX_VERIFICATION_FAILED"`, `"attempt":2`, `"ok":true`} {
		assert.Contains(t, de.Body, keep)
	}
}

func TestAPIErrorBodyMasksEveryPersonalValue(t *testing.T) {
	rec := newRecorder(t, answer(502, `{"detail":`+personalUnlisted+`}`))
	c, _ := newTestClient(t, rec, WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
	_, err := c.GetCustomer(context.Background(), testID)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assertNoUnlisted(t, apiErr.Body)
	assert.Contains(t, apiErr.Body, `"status":"UNVERIFIED"`)

	// JSON cut short by the size limit, and text that is not JSON.
	for _, body := range []string{`{"detail":` + personalUnlisted[:len(personalUnlisted)-60], `<html>` + personalUnlisted + `</html>`} {
		rec = newRecorder(t, answer(502, body))
		c, _ = newTestClient(t, rec, WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
		_, err = c.GetCustomer(context.Background(), testID)
		require.ErrorAs(t, err, &apiErr)
		assertNoUnlisted(t, apiErr.Body)
		assert.Contains(t, apiErr.Body, `"status":"UNVERIFIED"`)
	}
}

func TestPANRecognisedInFreeText(t *testing.T) {
	rec := newRecorder(t, answer(400, `{"status":false,"message":"PAN FGHIJ5678K does not match","errors":{"tax_number":["pan fghij5678k is invalid"]}}`))
	c, _ := newTestClient(t, rec)
	_, err := c.GetCustomer(context.Background(), testID)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.NotContains(t, err.Error(), "FGHIJ5678K")
	assert.NotContains(t, err.Error(), "fghij5678k")
	assert.Contains(t, apiErr.Message, "does not match")

	rec = newRecorder(t, answer(502, `<html>PAN FGHIJ5678K rejected</html>`))
	c, _ = newTestClient(t, rec, WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
	_, err = c.GetCustomer(context.Background(), testID)
	require.ErrorAs(t, err, &apiErr)
	assert.NotContains(t, apiErr.Body, "FGHIJ5678K")
	assert.Contains(t, apiErr.Body, "rejected")
}
