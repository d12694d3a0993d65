package dollarpe_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc/dollarpe"
	"github.com/flipkyc/flipkyc/dollarpe/dollarpetest"
	"github.com/flipkyc/flipkyc/internal/readmetest"
)

// TestReadmeExamplesAreTested: every Go example of README.md is the code of
// one of the tests below.
func TestReadmeExamplesAreTested(t *testing.T) {
	readmetest.CheckGoBlocks(t, "README.md", ".")
}

// TestReadmeClientExample runs the README's first example against the fake.
func TestReadmeClientExample(t *testing.T) {
	fake := dollarpetest.NewServer(t)
	apiKey, apiSecret, baseURL, hc := fake.APIKey(), fake.Secret(), fake.URL(), http.DefaultClient
	ctx := context.Background()

	client, err := dollarpe.New(apiKey, apiSecret, // Sandbox by default; or dollarpe.WithEnvironment(dollarpe.Production)
		dollarpe.WithBaseURL(baseURL), // only for a fake or a proxy
		dollarpe.WithHTTPClient(hc))   // optional; its Transport is read at every call
	if err != nil {
		t.Fatal(err)
	}
	cust, err := client.CreateCustomer(ctx, dollarpe.CreateCustomerParams{
		FullName: "Asha Verma", Email: "asha@example.com", Phone: "+919812345678", CountryCode: "IND"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := client.AddKYCData(ctx, dollarpe.AddKYCDataParams{
		CustomerID: cust.ID, FullName: "Asha Verma", Phone: "+919812345678",
		FullAddress: "12 MG Road, Bengaluru", DOB: dollarpe.Date{Year: 1990, Month: 4, Day: 15},
		TaxNumber: "ABCDE1234F", DocumentType: dollarpe.DocumentAadhaar,
		DocumentFrontImageURL: "https://files.example.com/front.jpg",
		DocumentDetails:       dollarpe.DocumentDetails{DocumentNumber: "123456123456"},
		SelfieURL:             "https://files.example.com/selfie.png"})
	if err != nil {
		t.Fatal(err)
	}
	assert.Equal(t, cust.ID, res.ID)
}

// TestReadmeWebhookAndFakeExamples runs the README's webhook handler and
// fake examples together: the fake's webhook reaches the handler.
func TestReadmeWebhookAndFakeExamples(t *testing.T) {
	var mu sync.Mutex
	var stored []dollarpe.Status
	store := func(_ context.Context, key, id string, status dollarpe.Status, reason dollarpe.FailureReason) error {
		mu.Lock()
		defer mu.Unlock()
		stored = append(stored, status)
		assert.NotEmpty(t, key)
		assert.Equal(t, dollarpe.FailureSelfie, reason)
		return nil
	}
	apiKey, apiSecret := "3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "test-secret-do-not-use"
	mux := http.NewServeMux()

	h, err := dollarpe.NewWebhookHandler(apiKey, apiSecret, func(ctx context.Context, ev dollarpe.Event) error {
		if ev.Type == dollarpe.EventCustomer {
			return store(ctx, ev.Key(), ev.ID, ev.Status(), ev.Metadata.FailureReason) // dedupe on ev.Key()
		}
		return nil
	})
	mux.Handle("/hooks/dollarpe", h)

	require.NoError(t, err)
	receiver := httptest.NewServer(mux)
	defer receiver.Close()
	ctx := context.Background()

	srv := dollarpetest.NewServer(t, dollarpetest.WithCredentials(apiKey, apiSecret),
		dollarpetest.WithWebhookURL(receiver.URL+"/hooks/dollarpe"))
	client, err := srv.Client()
	require.NoError(t, err)
	cust, err := client.CreateCustomer(ctx, dollarpe.CreateCustomerParams{
		FullName: "Asha Verma", Email: "asha@example.com", Phone: "+919812345678", CountryCode: "IND"})
	require.NoError(t, err)
	srv.FailNext(dollarpetest.RouteUpdateTaxInfo, 1, 500)                            // or DropNext, FailNextAfterApplying, DropNextAfterApplying
	err = srv.SetStatus(ctx, cust.ID, dollarpe.StatusFailed, dollarpe.FailureSelfie) // and send the webhook

	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []dollarpe.Status{dollarpe.StatusFailed}, stored)
}
