package dollarpetest_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc/dollarpe"
	"github.com/flipkyc/flipkyc/dollarpe/dollarpetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixedClock is a dollarpe.Clock that never sleeps.
type fixedClock struct{ now time.Time }

func (c *fixedClock) Now() time.Time { return c.now }

func (c *fixedClock) Sleep(_ context.Context, d time.Duration) error {
	c.now = c.now.Add(d)
	return nil
}

func setup(t *testing.T, opts ...dollarpetest.Option) (*dollarpetest.Server, *dollarpe.Client) {
	t.Helper()
	srv := dollarpetest.NewServer(t, opts...)
	c, err := srv.Client(dollarpe.WithClock(&fixedClock{now: time.Now()}))
	require.NoError(t, err)
	return srv, c
}

func newCustomer(t *testing.T, c *dollarpe.Client, n int) *dollarpe.Customer {
	t.Helper()
	cust, err := c.CreateCustomer(context.Background(), dollarpe.CreateCustomerParams{FullName: "Person " + strconv.Itoa(n),
		Email: fmt.Sprintf("p%d@example.com", n), Phone: fmt.Sprintf("+9198000000%02d", n), CountryCode: "IND",
		ClientReferenceID: "ref-" + strconv.Itoa(n)})
	require.NoError(t, err)
	return cust
}

func submit(t *testing.T, c *dollarpe.Client, id string, n int) {
	t.Helper()
	p := kycData(id)
	p.DocumentDetails.DocumentNumber = fmt.Sprintf("1234561234%02d", n)
	p.TaxNumber = fmt.Sprintf("ABCDE12%02dF", n)
	_, err := c.AddKYCData(context.Background(), p)
	require.NoError(t, err)
}

func TestUniqueness(t *testing.T) {
	_, c := setup(t)
	ctx := context.Background()
	newCustomer(t, c, 1)
	for name, p := range map[string]dollarpe.CreateCustomerParams{
		"email": {FullName: "X", Email: "P1@example.com", Phone: "+1", CountryCode: "IND"},
		"phone": {FullName: "X", Email: "x@example.com", Phone: "+919800000001", CountryCode: "IND"},
		"ref":   {FullName: "X", Email: "y@example.com", Phone: "+2", CountryCode: "IND", ClientReferenceID: "ref-1"},
	} {
		_, err := c.CreateCustomer(ctx, p)
		assert.ErrorIs(t, err, dollarpe.ErrDuplicate, name)
	}
	_, err := c.CreateCustomer(ctx, dollarpe.CreateCustomerParams{FullName: "X", Email: "z@example.com", Phone: "+3", CountryCode: "IND"})
	assert.NoError(t, err)
}

func TestStatusMachineAndUpdateLimit(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	cust := newCustomer(t, c, 1)
	other := newCustomer(t, c, 2)

	// Updates need a matching failure.
	_, err := c.UpdateTaxInfo(ctx, dollarpe.UpdateTaxInfoParams{CustomerID: cust.ID, TaxNumber: "ABCDE9999F"})
	assert.ErrorIs(t, err, dollarpe.ErrInvalidRequest)

	submit(t, c, cust.ID, 1)
	_, err = c.AddKYCData(ctx, kycData(cust.ID))
	assert.ErrorIs(t, err, dollarpe.ErrKYCExists)
	p := kycData(other.ID)
	p.DocumentDetails.DocumentNumber = "123456123401" // customer 1's
	_, err = c.AddKYCData(ctx, p)
	assert.ErrorIs(t, err, dollarpe.ErrKYCInUse)

	for i := range dollarpetest.DefaultUpdateLimit {
		_, err = c.MockKYCStatus(ctx, cust.ID, dollarpe.MockTaxFailed)
		require.NoError(t, err)
		res, err := c.UpdateTaxInfo(ctx, dollarpe.UpdateTaxInfoParams{CustomerID: cust.ID, TaxNumber: fmt.Sprintf("ABCDE55%02dF", i)})
		require.NoError(t, err)
		assert.Equal(t, dollarpe.StatusProcessing, res.Status)
	}
	assert.Equal(t, 3, srv.UpdatesUsed(cust.ID))
	_, err = c.MockKYCStatus(ctx, cust.ID, dollarpe.MockTaxFailed)
	require.NoError(t, err)
	_, err = c.UpdateTaxInfo(ctx, dollarpe.UpdateTaxInfoParams{CustomerID: cust.ID, TaxNumber: "ABCDE7777F"})
	assert.ErrorIs(t, err, dollarpe.ErrUpdateLimit)

	// Selfie update after a document failure is refused.
	submit(t, c, other.ID, 2)
	_, err = c.MockKYCStatus(ctx, other.ID, dollarpe.MockDocumentFailed)
	require.NoError(t, err)
	_, err = c.UpdateSelfieInfo(ctx, dollarpe.UpdateSelfieInfoParams{CustomerID: other.ID, SelfieURL: "https://x.example/s.jpg"})
	assert.ErrorIs(t, err, dollarpe.ErrInvalidRequest)
	assert.NotErrorIs(t, err, dollarpe.ErrUpdateLimit)

	// Reset only from VERIFIED.
	_, err = c.ResetKYC(ctx, other.ID)
	assert.ErrorIs(t, err, dollarpe.ErrInvalidRequest)
	require.NoError(t, srv.SetStatus(ctx, other.ID, dollarpe.StatusVerified, ""))
	res, err := c.ResetKYC(ctx, other.ID)
	require.NoError(t, err)
	assert.Equal(t, dollarpe.StatusUnverified, res.Status)

	// Unknown customer.
	_, err = c.GetCustomer(ctx, "00000000-0000-4000-8000-000000000000")
	assert.ErrorIs(t, err, dollarpe.ErrCustomerNotFound)
}

func TestMockTransitionsOnTheFake(t *testing.T) {
	_, c := setup(t)
	ctx := context.Background()
	cust := newCustomer(t, c, 1)
	_, err := c.MockKYCStatus(ctx, cust.ID, dollarpe.MockVerified)
	assert.ErrorIs(t, err, dollarpe.ErrInvalidRequest, "UNVERIFIED → VERIFIED is not allowed")
	submit(t, c, cust.ID, 1)
	_, err = c.MockKYCStatus(ctx, cust.ID, dollarpe.MockVerified)
	require.NoError(t, err)
	_, err = c.MockKYCStatus(ctx, cust.ID, dollarpe.MockTaxFailed)
	assert.ErrorIs(t, err, dollarpe.ErrInvalidRequest, "VERIFIED → TAX failed is not allowed")
	_, err = c.MockKYCStatus(ctx, cust.ID, dollarpe.MockUnverified)
	require.NoError(t, err)
	got, err := c.GetCustomer(ctx, cust.ID)
	require.NoError(t, err)
	assert.Equal(t, dollarpe.StatusUnverified, got.Status)

	// Production: not served, and the client refuses first.
	prodSrv := dollarpetest.NewServer(t, dollarpetest.WithProduction())
	prod, err := prodSrv.Client()
	require.NoError(t, err)
	_, err = prod.MockKYCStatus(ctx, cust.ID, dollarpe.MockVerified)
	assert.ErrorIs(t, err, dollarpe.ErrSandboxOnly)
	assert.Empty(t, prodSrv.Requests())
}

// TestAuthentication checks the fake refuses what DollarPe refuses.
func TestAuthentication(t *testing.T) {
	now := time.Unix(1735689600, 0)
	srv := dollarpetest.NewServer(t, dollarpetest.WithClock(func() time.Time { return now }))
	ctx := context.Background()
	stale, err := srv.Client(dollarpe.WithClock(&fixedClock{now: now.Add(-301 * time.Second)}))
	require.NoError(t, err)
	_, err = stale.GetCustomer(ctx, "00000000-0000-4000-8000-000000000000")
	assert.ErrorIs(t, err, dollarpe.ErrUnauthorized)

	wrong, err := dollarpe.New(srv.APIKey(), "not-the-secret", append(srv.ClientOptions(), dollarpe.WithClock(&fixedClock{now: now}))...)
	require.NoError(t, err)
	_, err = wrong.CreateCustomer(ctx, dollarpe.CreateCustomerParams{FullName: "A", Email: "a@b.co", Phone: "1", CountryCode: "IND"})
	assert.ErrorIs(t, err, dollarpe.ErrInvalidSignature)
	assert.NotErrorIs(t, err, dollarpe.ErrUnauthorized)

	badKey, err := dollarpe.New("other-key", srv.Secret(), append(srv.ClientOptions(), dollarpe.WithClock(&fixedClock{now: now}))...)
	require.NoError(t, err)
	_, err = badKey.GetCustomer(ctx, "00000000-0000-4000-8000-000000000000")
	assert.ErrorIs(t, err, dollarpe.ErrUnauthorized)

	// A hand-made request: the signature covers exactly the body bytes'
	// canonical form, so re-ordered JSON with spaces is fine, a changed
	// value is not.
	body := []byte(`{ "phone":"1", "full_name":"A", "email":"a@b.co", "alpha_3_country_code":"IND" }`)
	canon, err := dollarpe.Canonicalize(body)
	require.NoError(t, err)
	send := func(b []byte) int {
		req, _ := http.NewRequest("POST", srv.URL()+"/cms/api/v1/customer/create", bytes.NewReader(b))
		req.Header.Set("X-API-KEY", srv.APIKey())
		req.Header.Set("X-TIMESTAMP", strconv.FormatInt(now.Unix(), 10))
		req.Header.Set("X-SIGNATURE", dollarpe.Sign(srv.APIKey(), srv.Secret(), now.Unix(), canon))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, 200, send(body))
	assert.Equal(t, 400, send(bytes.Replace(body, []byte(`"A"`), []byte(`"B"`), 1)))
}

func TestFaults(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	cust := newCustomer(t, c, 1)
	submit(t, c, cust.ID, 1)
	_, err := c.MockKYCStatus(ctx, cust.ID, dollarpe.MockTaxFailed)
	require.NoError(t, err)

	// A read survives dropped connections and 5xx.
	srv.DropNext(dollarpetest.RouteGetCustomer, 1)
	srv.FailNext(dollarpetest.RouteGetCustomer, 1, 502)
	got, err := c.GetCustomer(ctx, cust.ID)
	require.NoError(t, err)
	assert.Equal(t, dollarpe.FailureTax, got.FailureReason)
	assert.Len(t, srv.RequestsTo(dollarpetest.RouteGetCustomer), 3)

	// An update whose reply is lost is not repeated: one update used.
	srv.DropNextAfterApplying(dollarpetest.RouteUpdateTaxInfo, 1)
	_, err = c.UpdateTaxInfo(ctx, dollarpe.UpdateTaxInfoParams{CustomerID: cust.ID, TaxNumber: "ABCDE4321F"})
	assert.ErrorIs(t, err, dollarpe.ErrOutcomeUnknown)
	assert.Equal(t, 1, srv.UpdatesUsed(cust.ID))
	assert.Len(t, srv.RequestsTo(dollarpetest.RouteUpdateTaxInfo), 1)

	srv.FailNextAfterApplying(dollarpetest.RouteMockKYCStatus, 1, 500)
	_, err = c.MockKYCStatus(ctx, cust.ID, dollarpe.MockTaxFailed)
	assert.ErrorIs(t, err, dollarpe.ErrOutcomeUnknown)
	got, err = c.GetCustomer(ctx, cust.ID)
	require.NoError(t, err)
	assert.Equal(t, dollarpe.StatusFailed, got.Status, "applied before the reply was lost")

	// 429 is retried even for a write, and then succeeds once.
	srv.FailNext(dollarpetest.RouteUpdateTaxInfo, 2, 429)
	_, err = c.UpdateTaxInfo(ctx, dollarpe.UpdateTaxInfoParams{CustomerID: cust.ID, TaxNumber: "ABCDE4322F"})
	require.NoError(t, err)
	assert.Equal(t, 2, srv.UpdatesUsed(cust.ID))
	reqs := srv.RequestsTo(dollarpetest.RouteUpdateTaxInfo)
	assert.Equal(t, []int{0, 429, 429, 200}, []int{reqs[0].Status, reqs[1].Status, reqs[2].Status, reqs[3].Status})
	var last map[string]any
	require.NoError(t, json.Unmarshal(reqs[3].Body, &last))
	assert.Equal(t, "ABCDE4322F", last["tax_number"])
}

func TestWebhookURLMustBeLoopback(t *testing.T) {
	assert.Panics(t, func() { dollarpetest.NewServer(nil, dollarpetest.WithWebhookURL("https://example.com/hook")) })
	srv := dollarpetest.NewServer(nil, dollarpetest.WithWebhookURL("http://localhost:1/hook"))
	defer srv.Close()
	_, err := srv.SendWebhook(context.Background(), []byte(`{}`))
	assert.Error(t, err, "nothing listens there")
	assert.Contains(t, fmt.Sprint(srv), "[redacted]")
	assert.NotContains(t, fmt.Sprint(srv), srv.Secret())
}

// TestConcurrentClients runs many customers through one client at once
// (run with -race).
func TestConcurrentClients(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			cust, err := c.CreateCustomer(ctx, dollarpe.CreateCustomerParams{FullName: "P", Email: fmt.Sprintf("c%d@example.com", i),
				Phone: fmt.Sprintf("+91700000%04d", i), CountryCode: "IND"})
			if err == nil {
				p := kycData(cust.ID)
				p.DocumentDetails.DocumentNumber = fmt.Sprintf("doc-%d", i)
				p.TaxNumber = fmt.Sprintf("ABCDE%04dF", i)
				_, err = c.AddKYCData(ctx, p)
			}
			if err == nil {
				_, err = c.GetCustomer(ctx, cust.ID)
			}
			errs <- err
		}()
	}
	for range 8 {
		assert.NoError(t, <-errs)
	}
	assert.Len(t, srv.RequestsTo(dollarpetest.RouteAddKYCData), 8)
	req := srv.RequestsTo(dollarpetest.RouteAddKYCData)[0]
	assert.NotContains(t, fmt.Sprintf("%+v", req), "Asha")
}

// MockKYCStatus answers before its webhook is delivered: a receiver that
// has not answered yet does not hold the call up. Deliveries keep their
// order, and Close waits for the one under way.
func TestMockAnswersBeforeItsWebhook(t *testing.T) {
	entered := make(chan struct{}, 4)
	release := make(chan struct{})
	var mu sync.Mutex
	var got []string
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev struct{ Event string }
		_ = json.Unmarshal(body, &ev)
		mu.Lock()
		got = append(got, ev.Event)
		mu.Unlock()
		entered <- struct{}{}
		<-release
	}))
	defer receiver.Close()
	srv, c := setup(t, dollarpetest.WithWebhookURL(receiver.URL))
	ctx := context.Background()
	cust := newCustomer(t, c, 1)
	_, err := c.AddKYCData(ctx, kycData(cust.ID))
	require.NoError(t, err)

	_, err = c.MockKYCStatus(ctx, cust.ID, dollarpe.MockVerified)
	require.NoError(t, err, "answered while the receiver holds the webhook")
	<-entered
	assert.Empty(t, srv.Deliveries(), "the webhook is still under way")
	_, err = c.MockKYCStatus(ctx, cust.ID, dollarpe.MockUnverified)
	require.NoError(t, err)
	_, err = c.AddKYCData(ctx, kycData(cust.ID))
	require.NoError(t, err)
	_, err = c.MockKYCStatus(ctx, cust.ID, dollarpe.MockTaxFailed)
	require.NoError(t, err)

	close(release)
	srv.WaitForWebhooks()
	deliveries := srv.Deliveries()
	require.Len(t, deliveries, 2)
	for _, d := range deliveries {
		assert.NoError(t, d.Err)
		assert.Equal(t, http.StatusOK, d.Status)
	}
	mu.Lock()
	assert.Equal(t, []string{"VERIFIED", "FAILED"}, got, "in the order the changes were made")
	mu.Unlock()
}

// signedCall sends body to path as a client of srv would, signed at the
// fake's current time, and returns the reply's status and body.
func signedCall(t *testing.T, srv *dollarpetest.Server, method, path string, body []byte) (int, map[string]any) {
	t.Helper()
	return signedCallAt(t, srv, method, path, body, strconv.FormatInt(time.Now().Unix(), 10))
}

// signedCallAt is signedCall with X-TIMESTAMP tsText as it is, the
// signature over apiKey|tsText|canonical(body).
func signedCallAt(t *testing.T, srv *dollarpetest.Server, method, path string, body []byte, tsText string) (int, map[string]any) {
	t.Helper()
	canon, err := dollarpe.Canonicalize(body)
	require.NoError(t, err)
	mac := hmac.New(sha256.New, []byte(srv.Secret()))
	mac.Write([]byte(srv.APIKey() + "|" + tsText + "|"))
	mac.Write(canon)
	req, err := http.NewRequest(method, srv.URL()+"/cms/api/v1"+path, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("X-API-KEY", srv.APIKey())
	req.Header.Set("X-TIMESTAMP", tsText)
	req.Header.Set("X-SIGNATURE", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out
}

// The sandbox's mock-status call names its field kyc_status, as DollarPe's
// OpenAPI does: the client sends it, and the fake reads it and refuses a
// body that names it status.
func TestMockStatusFieldIsKYCStatus(t *testing.T) {
	srv, c := setup(t)
	cust := newCustomer(t, c, 1)
	submit(t, c, cust.ID, 1)

	status, reply := signedCall(t, srv, "PATCH", "/kyc/mock-kyc-status",
		[]byte(`{"customer_id":"`+cust.ID+`","status":"VERIFIED"}`))
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, reply["errors"], "kyc_status")
	got, _ := srv.Customer(cust.ID)
	assert.Equal(t, dollarpe.StatusProcessing, got.Status, "nothing changed")

	status, reply = signedCall(t, srv, "PATCH", "/kyc/mock-kyc-status",
		[]byte(`{"customer_id":"`+cust.ID+`","kyc_status":"VERIFIED"}`))
	assert.Equal(t, http.StatusOK, status, "%v", reply)
	got, _ = srv.Customer(cust.ID)
	assert.Equal(t, dollarpe.StatusVerified, got.Status)

	_, err := c.MockKYCStatus(context.Background(), cust.ID, dollarpe.MockUnverified)
	require.NoError(t, err)
	reqs := srv.RequestsTo(dollarpetest.RouteMockKYCStatus)
	var sent map[string]any
	require.NoError(t, json.Unmarshal(reqs[len(reqs)-1].Body, &sent))
	assert.Equal(t, map[string]any{"customer_id": cust.ID, "kyc_status": "UNVERIFIED"}, sent)
}

// update-document-info answers {id, status: UNVERIFIED}, as DollarPe's page
// shows, and the customer reads back as that status.
func TestUpdateDocumentInfoAnswersUnverified(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	cust := newCustomer(t, c, 1)
	submit(t, c, cust.ID, 1)
	_, err := c.MockKYCStatus(ctx, cust.ID, dollarpe.MockDocumentFailed)
	require.NoError(t, err)
	res, err := c.UpdateDocumentInfo(ctx, dollarpe.UpdateDocumentInfoParams{CustomerID: cust.ID, FullAddress: "12 MG Road, Bengaluru 560001",
		DocumentType: dollarpe.DocumentPassport, DocumentFrontImageURL: "https://files.example.com/kyc/passport.pdf",
		DocumentDetails: dollarpe.DocumentDetails{DocumentNumber: "K1234567"}})
	require.NoError(t, err)
	assert.Equal(t, dollarpe.StatusUnverified, res.Status)
	assert.Equal(t, cust.ID, res.ID)
	got, err := c.GetCustomer(ctx, cust.ID)
	require.NoError(t, err)
	assert.Equal(t, dollarpe.StatusUnverified, got.Status)
	assert.Empty(t, got.FailureReason)
	assert.Equal(t, 1, srv.UpdatesUsed(cust.ID))
	_, err = c.AddKYCData(ctx, kycData(cust.ID))
	assert.ErrorIs(t, err, dollarpe.ErrKYCExists, "the KYC data is kept")
}

// The fake reads X-TIMESTAMP as DollarPe's contract states it, integer
// Unix seconds in plain digits: a sign, a fraction, an exponent or
// milliseconds are refused as an invalid timestamp, however signed.
func TestRequestTimestampIntegerSecondsOnly(t *testing.T) {
	srv, c := setup(t)
	cust := newCustomer(t, c, 1)
	now := strconv.FormatInt(time.Now().Unix(), 10)
	body := []byte(`{"customer_id":"` + cust.ID + `"}`)
	for _, ts := range []string{"+" + now, now + ".0", now + "000", "1.8e9", now + "e0"} {
		status, reply := signedCallAt(t, srv, "POST", "/kyc/reset-kyc", body, ts)
		assert.Equal(t, http.StatusUnauthorized, status, ts)
		assert.Equal(t, "AUTH_INVALID_TIMESTAMP", reply["err_code"], ts)
	}
	status, reply := signedCallAt(t, srv, "POST", "/kyc/reset-kyc", body, now)
	assert.Equal(t, http.StatusBadRequest, status, "signed and on time: refused only for the customer's status")
	assert.Contains(t, reply["message"], "VERIFIED")
}
