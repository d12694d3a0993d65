package katsu_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc/katsu"
)

// Test values: a distinctive token and person, to be found nowhere they
// must not be.
const (
	testToken = "tok-Zq8Vw3Lr9Xk2Pn7M"
	kycID     = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
	approver  = "9b2f1c3e-8d4a-4f6b-a1c2-3d4e5f6a7b8c"
	ownerID   = "1c0ffee0-1234-4abc-8def-0123456789ab"
	tenantID  = "2dec0de0-5678-4abc-8def-0123456789ab"
	testBVN   = "22298765431"
	testName  = "Chiamaka Oluwaseun Adebayo-Nwosu"
)

// recordJSON is a documented record, with the tier as a string as Katsu's
// replies write it.
const recordJSON = `{"id":"` + kycID + `","tier":"1","name":"` + testName + `","tenantId":"` + tenantID +
	`","ownerId":"` + ownerID + `","approved":true,"isTenant":false,"isAddressVerified":true,` +
	`"approvedOn":"2024-08-06T22:14:12.185Z","bvn":"` + testBVN + `","status":"Approved"}`

// okRecord is a successful envelope around recordJSON.
const okRecord = `{"succeeded":true,"message":"KYC updated","errors":[],"data":` + recordJSON + `}`

// newClient starts an httptest server with h and returns a client of it
// with a fake clock, and the clock.
func newClient(t *testing.T, h http.Handler, opts ...katsu.Option) (*katsu.Client, *katsu.FakeClock) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	clk := katsu.NewFakeClock()
	c, err := katsu.New(testToken, append([]katsu.Option{katsu.WithBaseURL(srv.URL), katsu.WithClock(clk),
		katsu.WithHTTPClient(srv.Client())}, opts...)...)
	require.NoError(t, err)
	return c, clk
}

// reply returns a handler that answers status and body as JSON.
func reply(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}
