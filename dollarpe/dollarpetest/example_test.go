package dollarpetest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/flipkyc/flipkyc/dollarpe"
	"github.com/flipkyc/flipkyc/dollarpe/dollarpetest"
)

// kycData is the sample KYC submission of the examples.
func kycData(customerID string) dollarpe.AddKYCDataParams {
	return dollarpe.AddKYCDataParams{
		CustomerID:            customerID,
		FullName:              "Asha Verma",
		Phone:                 "+919812345678",
		FullAddress:           "12 MG Road, Bengaluru 560001",
		DOB:                   dollarpe.Date{Year: 1990, Month: 4, Day: 15},
		TaxNumber:             "ABCDE1234F",
		DocumentType:          dollarpe.DocumentAadhaar,
		DocumentFrontImageURL: "https://files.example.com/kyc/front.jpg",
		DocumentBackImageURL:  "https://files.example.com/kyc/back.jpg",
		DocumentDetails:       dollarpe.DocumentDetails{DocumentNumber: "123456123456"},
		SelfieURL:             "https://files.example.com/kyc/selfie.png",
	}
}

// The whole KYC flow against the fake: create a customer, submit KYC,
// fail the document check with the sandbox's mock call, repair it.
func Example() {
	srv := dollarpetest.NewServer(nil)
	defer srv.Close()
	client, err := srv.Client()
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	cust, err := client.CreateCustomer(ctx, dollarpe.CreateCustomerParams{
		FullName: "Asha Verma", Email: "asha@example.com", Phone: "+919812345678", CountryCode: "IND",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("created:", cust.Status)

	res, err := client.AddKYCData(ctx, kycData(cust.ID))
	if err != nil {
		panic(err)
	}
	fmt.Println("submitted:", res.Status)

	if _, err := client.MockKYCStatus(ctx, cust.ID, dollarpe.MockDocumentFailed); err != nil {
		panic(err)
	}
	got, err := client.GetCustomer(ctx, cust.ID)
	if err != nil {
		panic(err)
	}
	fmt.Println("now:", got.Status, got.FailureReason, "fixable:", got.FailureReason.Fixable())

	res, err = client.UpdateDocumentInfo(ctx, dollarpe.UpdateDocumentInfoParams{
		CustomerID:            cust.ID,
		FullAddress:           "12 MG Road, Bengaluru 560001",
		DocumentType:          dollarpe.DocumentPassport,
		DocumentFrontImageURL: "https://files.example.com/kyc/passport.pdf",
		DocumentDetails:       dollarpe.DocumentDetails{DocumentNumber: "K1234567"},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("after update:", res.Status, "updates used:", srv.UpdatesUsed(cust.ID))
	// Output:
	// created: UNVERIFIED
	// submitted: PROCESSING
	// now: FAILED DOCUMENT_VERIFICATION_FAILED fixable: true
	// after update: UNVERIFIED updates used: 1
}

// Errors are typed: a duplicate e-mail, a second KYC submission and a
// refused input each match a sentinel.
func Example_errors() {
	srv := dollarpetest.NewServer(nil)
	defer srv.Close()
	client, _ := srv.Client()
	ctx := context.Background()
	p := dollarpe.CreateCustomerParams{FullName: "Asha Verma", Email: "asha@example.com", Phone: "+919812345678", CountryCode: "IND"}
	cust, _ := client.CreateCustomer(ctx, p)

	p.Phone = "+919800000000"
	_, err := client.CreateCustomer(ctx, p)
	fmt.Println("duplicate:", errors.Is(err, dollarpe.ErrDuplicate))

	_, _ = client.AddKYCData(ctx, kycData(cust.ID))
	_, err = client.AddKYCData(ctx, kycData(cust.ID))
	fmt.Println("KYC exists:", errors.Is(err, dollarpe.ErrKYCExists))

	bad := kycData(cust.ID)
	bad.SelfieURL = "https://files.example.com/selfie.gif"
	_, err = client.AddKYCData(ctx, bad)
	var verr *dollarpe.ValidationError
	fmt.Println("refused before sending:", errors.As(err, &verr), verr.Fields[0])
	// Output:
	// duplicate: true
	// KYC exists: true
	// refused before sending: true selfie_url: must link to a JPG, JPEG, PNG or PDF file
}

// The fake sends signed webhooks to a loopback URL; NewWebhookHandler
// verifies them.
func ExampleWithWebhookURL() {
	events := make(chan dollarpe.Event, 1)
	handler, err := dollarpe.NewWebhookHandler(dollarpetest.DefaultAPIKey, dollarpetest.DefaultSecret,
		func(_ context.Context, ev dollarpe.Event) error {
			events <- ev
			return nil
		})
	if err != nil {
		panic(err)
	}
	receiver := httptest.NewServer(handler)
	defer receiver.Close()

	srv := dollarpetest.NewServer(nil, dollarpetest.WithWebhookURL(receiver.URL))
	defer srv.Close()
	client, _ := srv.Client()
	ctx := context.Background()
	cust, _ := client.CreateCustomer(ctx, dollarpe.CreateCustomerParams{
		FullName: "Asha Verma", Email: "asha@example.com", Phone: "+919812345678", CountryCode: "IND"})
	_, _ = client.AddKYCData(ctx, kycData(cust.ID))
	_, _ = client.MockKYCStatus(ctx, cust.ID, dollarpe.MockVerified)

	ev := <-events
	srv.WaitForWebhooks() // the webhook is sent after the reply; wait for its outcome
	fmt.Println(ev.Type, ev.Event, ev.ID == cust.ID, srv.Deliveries()[0].Status == http.StatusOK)
	// Output:
	// CUSTOMER VERIFIED true true
}

// FailNext makes the fake answer a 500 in DollarPe's 500 shape; a PATCH is
// then never repeated, and the error says the outcome is unknown.
func ExampleServer_FailNext() {
	srv := dollarpetest.NewServer(nil)
	defer srv.Close()
	client, _ := srv.Client()
	ctx := context.Background()
	cust, _ := client.CreateCustomer(ctx, dollarpe.CreateCustomerParams{
		FullName: "Asha Verma", Email: "asha@example.com", Phone: "+919812345678", CountryCode: "IND"})

	srv.FailNext(dollarpetest.RouteUpdateTaxInfo, 1, http.StatusInternalServerError)
	_, err := client.UpdateTaxInfo(ctx, dollarpe.UpdateTaxInfoParams{CustomerID: cust.ID, TaxNumber: "ABCDE1234F"})
	fmt.Println(errors.Is(err, dollarpe.ErrOutcomeUnknown), errors.Is(err, dollarpe.ErrServer),
		len(srv.RequestsTo(dollarpetest.RouteUpdateTaxInfo)))
	// Output:
	// true true 1
}
