package dollarpe_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc/dollarpe"
	"github.com/flipkyc/flipkyc/dollarpe/dollarpetest"
)

// steppingClock is a fake clock that moves on by step at each reading
// (step 0: frozen).
type steppingClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *steppingClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.step)
	return c.t
}

// hookFixture is a fake with a webhook receiver that hands each accepted
// event to a channel; both read clock, with a day's tolerance.
func hookFixture(t *testing.T, clock *steppingClock) (*dollarpetest.Server, *dollarpe.Client, <-chan dollarpe.Event) {
	t.Helper()
	events := make(chan dollarpe.Event, 16)
	h, err := dollarpe.NewWebhookHandler(dollarpetest.DefaultAPIKey, dollarpetest.DefaultSecret,
		func(_ context.Context, ev dollarpe.Event) error { events <- ev; return nil },
		dollarpe.WithWebhookClock(clock.now), dollarpe.WithTolerance(24*time.Hour))
	require.NoError(t, err)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	srv := dollarpetest.NewServer(t, dollarpetest.WithWebhookURL(ts.URL), dollarpetest.WithClock(clock.now),
		dollarpetest.WithTolerance(24*time.Hour))
	client, err := srv.Client()
	require.NoError(t, err)
	return srv, client, events
}

func createWithKYC(t *testing.T, client *dollarpe.Client) string {
	t.Helper()
	cust, err := client.CreateCustomer(context.Background(), dollarpe.CreateCustomerParams{
		FullName: "Asha Verma", Email: "asha@example.com", Phone: "+919812345678", CountryCode: "IND"})
	require.NoError(t, err)
	addKYC(t, client, cust.ID)
	return cust.ID
}

func addKYC(t *testing.T, client *dollarpe.Client, id string) {
	t.Helper()
	_, err := client.AddKYCData(context.Background(), dollarpe.AddKYCDataParams{
		CustomerID: id, FullName: "Asha Verma", Phone: "+919812345678", FullAddress: "12 MG Road, Bengaluru 560001",
		DOB: dollarpe.Date{Year: 1990, Month: 4, Day: 15}, TaxNumber: "ABCDE1234F", DocumentType: dollarpe.DocumentAadhaar,
		DocumentFrontImageURL: "https://files.example.com/kyc/front.jpg", DocumentBackImageURL: "https://files.example.com/kyc/back.jpg",
		DocumentDetails: dollarpe.DocumentDetails{DocumentNumber: "123456123456"}, SelfieURL: "https://files.example.com/kyc/selfie.png"})
	require.NoError(t, err)
}

func TestEventKeyTellsTwoFailuresApart(t *testing.T) {
	// A frozen clock: both failures carry the same timestamp.
	srv, client, events := hookFixture(t, &steppingClock{t: time.Now()})
	ctx := context.Background()
	id := createWithKYC(t, client)

	_, err := client.MockKYCStatus(ctx, id, dollarpe.MockTaxFailed)
	require.NoError(t, err)
	first := <-events
	_, err = client.UpdateTaxInfo(ctx, dollarpe.UpdateTaxInfoParams{CustomerID: id, TaxNumber: "ABCDE5678F"})
	require.NoError(t, err)
	_, err = client.MockKYCStatus(ctx, id, dollarpe.MockDocumentFailed)
	require.NoError(t, err)
	second := <-events

	assert.Equal(t, dollarpe.FailureTax, first.Metadata.FailureReason)
	assert.Equal(t, dollarpe.FailureDocument, second.Metadata.FailureReason)
	assert.Equal(t, first.ID+first.Event, second.ID+second.Event)
	assert.NotEqual(t, first.Key(), second.Key(), "two events, two keys")

	// DollarPe delivers the same body again: the same key.
	srv.WaitForWebhooks()
	deliveries := srv.Deliveries()
	require.Len(t, deliveries, 2)
	code, err := srv.SendWebhook(ctx, deliveries[1].Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	again := <-events
	assert.Equal(t, second.Key(), again.Key(), "a redelivery, the same key")
}

func TestEventKeyVerifiedResetVerified(t *testing.T) {
	_, client, events := hookFixture(t, &steppingClock{t: time.Now(), step: time.Second})
	ctx := context.Background()
	id := createWithKYC(t, client)
	_, err := client.MockKYCStatus(ctx, id, dollarpe.MockVerified)
	require.NoError(t, err)
	first := <-events
	_, err = client.ResetKYC(ctx, id)
	require.NoError(t, err)
	addKYC(t, client, id)
	_, err = client.MockKYCStatus(ctx, id, dollarpe.MockVerified)
	require.NoError(t, err)
	second := <-events
	assert.Equal(t, dollarpe.StatusVerified, first.Status())
	assert.Equal(t, dollarpe.StatusVerified, second.Status())
	assert.NotEqual(t, first.Key(), second.Key(), "two verifications at two times, two keys")
}

func TestEventKeyIgnoresTheBodysForm(t *testing.T) {
	a := dollarpe.Event{ID: "x", Event: "FAILED", Raw: []byte(`{"id":"x","event":"FAILED","metadata":{"failure_reason":"SELFIE_VERIFICATION_FAILED"}}`)}
	b := dollarpe.Event{ID: "x", Event: "FAILED", Raw: []byte(`{ "metadata": {"failure_reason": "SELFIE_VERIFICATION_FAILED"}, "event": "FAILED", "id": "x" }`)}
	c := dollarpe.Event{ID: "x", Event: "FAILED", Raw: []byte(`{"id":"x","event":"FAILED","metadata":{"failure_reason":"TAX_VERIFICATION_FAILED"}}`)}
	assert.Equal(t, a.Key(), b.Key())
	assert.NotEqual(t, a.Key(), c.Key())
}
