package dollarpe_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/flipkyc/flipkyc/dollarpe"
	"github.com/flipkyc/flipkyc/dollarpe/dollarpetest"
)

// Canonicalize writes a body as DollarPe signs it: keys sorted, no
// spaces, non-ASCII escaped, HTML characters left alone.
func ExampleCanonicalize() {
	canon, err := dollarpe.Canonicalize([]byte(`{"note": "Café & <b>", "amount": "100.50", "a": {"z": 1, "y": 2.50}}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(string(canon))
	// Output: {"a":{"y":2.5,"z":1},"amount":"100.50","note":"Caf\u00e9 & <b>"}
}

// Sign computes X-SIGNATURE; this is DollarPe's published vector for a
// GET (which signs "{}").
func ExampleSign() {
	fmt.Println(dollarpe.Sign("3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "test-secret-do-not-use", 1735689600, []byte("{}")))
	// Output: 6sCtVSRQjU9+2/af8gdwUAvY1l6Ii6ENcbRfanPkhY0=
}

// ParseWebhook verifies a delivery inside a handler of one's own.
func ExampleParseWebhook() {
	body := `{"type":"CUSTOMER","id":"550e8400-e29b-41d4-a716-446655440000","event":"FAILED","timestamp":"2025-01-01T00:00:00Z","metadata":{"failure_reason":"SELFIE_VERIFICATION_FAILED"}}`
	now := time.Now().Unix()
	canon, _ := dollarpe.Canonicalize([]byte(body))
	r := httptest.NewRequest(http.MethodPost, "/hooks/dollarpe", strings.NewReader(body))
	r.Header.Set("X-TIMESTAMP", strconv.FormatInt(now, 10))
	r.Header.Set("X-SIGNATURE", dollarpe.Sign("key", "secret", now, canon))

	ev, err := dollarpe.ParseWebhook(r, "key", "secret")
	if err != nil {
		panic(err)
	}
	fmt.Println(ev.Type, ev.Status(), ev.Metadata.FailureReason, ev.Metadata.FailureReason.Fixable())
	fmt.Println(ev.Key())

	r.Header.Set("X-SIGNATURE", dollarpe.Sign("key", "wrong", now, canon))
	_, err = dollarpe.ParseWebhook(r, "key", "secret")
	fmt.Println(errors.Is(err, dollarpe.ErrWebhookSignature))
	// Output:
	// CUSTOMER FAILED SELFIE_VERIFICATION_FAILED true
	// 550e8400-e29b-41d4-a716-446655440000:FAILED:f28b5386ed886a12c723860653bc29dd5908bee9274a008686f5ccba2dca7baa
	// true
}

// Errors match sentinels; the 3-update limit is ErrUpdateLimit, and a
// write whose reply was lost is ErrOutcomeUnknown.
func Example_errors() {
	srv := dollarpetest.NewServer(nil, dollarpetest.WithUpdateLimit(0))
	defer srv.Close()
	client, _ := srv.Client()
	ctx := context.Background()
	cust, _ := client.CreateCustomer(ctx, dollarpe.CreateCustomerParams{
		FullName: "Asha Verma", Email: "asha@example.com", Phone: "+919812345678", CountryCode: "IND"})

	_, err := client.UpdateTaxInfo(ctx, dollarpe.UpdateTaxInfoParams{CustomerID: cust.ID, TaxNumber: "ABCDE1234F"})
	switch {
	case errors.Is(err, dollarpe.ErrUpdateLimit):
		fmt.Println("no updates left: contact DollarPe")
	case errors.Is(err, dollarpe.ErrOutcomeUnknown):
		fmt.Println("read the customer before trying again")
	case err != nil:
		fmt.Println("other:", err)
	}
	_, err = client.GetCustomer(ctx, "not-a-uuid")
	fmt.Println(err)
	// Output:
	// no updates left: contact DollarPe
	// dollarpe: GetCustomer: invalid input: customer_id: must be a UUID (8-4-4-4-12 hexadecimal digits)
}

// Params and results print with personal data masked, so logging them by
// mistake gives nothing away.
func ExampleCustomer_Format() {
	c := dollarpe.Customer{ID: "550e8400-e29b-41d4-a716-446655440000", FullName: "Asha Verma", Email: "asha@example.com",
		Status: dollarpe.StatusVerified}
	fmt.Printf("%+v\n", c)
	// Output: dollarpe.Customer{ID: 550e8400-e29b-41d4-a716-446655440000, FullName: [masked], Email: [masked], Phone: , CountryCode: , ClientReferenceID: , Status: VERIFIED, FailureReason: , DocumentType: , Raw: []}
}
