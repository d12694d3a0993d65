package flipkyc_test

import (
	"bytes"
	"context"
	"errors"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/flipkyctest"
	"github.com/flipkyc/flipkyc/internal/readmetest"
)

// TestReadmeExamplesAreTested: every Go example of README.md is the code of
// one of the tests in this package.
func TestReadmeExamplesAreTested(t *testing.T) {
	readmetest.CheckGoBlocks(t, "README.md", ".")
}

// readmeShortExample is the README's short example, word for word but for
// the error checks it leaves out.
func readmeShortExample(ctx context.Context) (*flipkyc.Agent, error) {
	client, err := flipkyc.NewFromEnv() // FLIP_SECRET_KEY; sandbox unless FLIP_API_BASE_URL and FLIP_KYC_BASE_URL say otherwise
	if err != nil {
		return nil, err
	}
	agent, err := client.CreateAgent(ctx, flipkyc.AgentParams{
		Name: "John Doe", IdentityType: flipkyc.IdentityKTP, IdentityNumber: "1234567890123456",
		BirthDate: flipkyc.NewDate(1990, time.October, 31), BirthPlace: "Kota Depok",
		CountryID: 1, ProvinceID: 12, CityID: 184, DistrictID: 1234,
		Address: "Jalan Margonda Raya", Gender: flipkyc.GenderMale,
		Occupation: flipkyc.OccupationEntrepreneur, PhoneNumber: "+628123456789",
	})
	if err != nil {
		return nil, err
	}
	f, err := os.Open("ktp.jpg")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	_, err = client.UploadIdentityImage(ctx, agent.ID, flipkyc.IdentityKTP, flipkyc.Image{Name: "ktp.jpg", Content: f})
	// then UploadSelfieWithIdentity, wait for the upload check, SubmitKYC, wait for the decision …
	return agent, err
}

func TestReadmeShortExample(t *testing.T) {
	fake := flipkyctest.NewServer(t)
	t.Setenv(flipkyc.EnvSecretKey, fake.SecretKey())
	t.Setenv(flipkyc.EnvAPIBaseURL, fake.AgentsURL)
	t.Setenv(flipkyc.EnvKYCBaseURL, fake.KYCURL)
	photo, err := os.ReadFile("examples/onboard/ktp.jpg")
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ktp.jpg"), photo, 0o600))
	t.Chdir(dir)
	agent, err := readmeShortExample(context.Background())
	require.NoError(t, err)
	got, ok := fake.Agent(agent.ID)
	require.True(t, ok)
	assert.Equal(t, flipkyc.StatusUploadIdentitySuccess, got.KYCStatus)
}

// The README's call options, errors and callback examples, against the fake.
func TestReadmeCallExamples(t *testing.T) {
	fake := flipkyctest.NewServer(t)
	client, err := fake.NewClient()
	require.NoError(t, err)
	ctx := context.Background()
	created, err := client.CreateAgent(ctx, validParams("3201012345670001", "081234567001"))
	require.NoError(t, err)
	id := created.ID
	log.SetOutput(t.Output())

	var resp flipkyc.Response
	agent, err := client.GetAgent(ctx, id, flipkyc.ResponseInto(&resp))
	log.Printf("%s: HTTP %d after %d attempts [%s]", resp.Operation, resp.StatusCode, resp.Attempts, resp.RequestID)

	require.NoError(t, err)
	assert.Equal(t, id, agent.ID)
	assert.Equal(t, "GetAgent", resp.Operation)
	_, err = client.CreateAgent(ctx, validParams("3201012345670001", "081234567001")) // a duplicate

	var apiErr *flipkyc.APIError
	switch {
	case errors.Is(err, flipkyc.ErrOutcomeUnknown): // may have taken effect: read before acting again
	case errors.Is(err, flipkyc.ErrDuplicate): // identity or phone number taken
	case errors.As(err, &apiErr): // quote apiErr.RequestID to Flip
	}

	assert.ErrorIs(t, err, flipkyc.ErrDuplicate)
	assert.False(t, errors.Is(err, flipkyc.ErrOutcomeUnknown))
}

// savedEvents is the README's store: it keeps each event once.
type savedEvents struct {
	mu     sync.Mutex
	events map[string]flipkyc.Event
}

func (s *savedEvents) SaveOnce(_ context.Context, key string, ev flipkyc.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events[key] = ev
	return nil
}

func TestReadmeCallbackExample(t *testing.T) {
	store := &savedEvents{events: map[string]flipkyc.Event{}}
	logger := slog.New(slog.NewTextHandler(t.Output(), nil))
	mux := http.NewServeMux()
	t.Setenv("FLIP_CALLBACK_TOKEN", flipkyctest.DefaultCallbackToken)

	handler, err := flipkyc.NewCallbackHandler(os.Getenv("FLIP_CALLBACK_TOKEN"),
		func(ctx context.Context, ev flipkyc.Event) error {
			return store.SaveOnce(ctx, ev.Key(), ev) // Flip gets 200 only if this returns nil
		}, flipkyc.WithCallbackLogger(logger))
	mux.Handle("/flip/kyc", handler)

	require.NoError(t, err)
	addr := "127.0.0.1:0"

	srv := &http.Server{Addr: addr, Handler: mux,
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 60 * time.Second}

	receiver := httptest.NewUnstartedServer(srv.Handler)
	receiver.Config = srv
	receiver.Start()
	defer receiver.Close()
	fake := flipkyctest.NewServer(t, flipkyctest.WithCallbacks(receiver.URL+"/flip/kyc", flipkyctest.DefaultCallbackToken))
	client, err := fake.NewClient()
	require.NoError(t, err)
	a, err := client.CreateAgent(context.Background(), validParams("3201012345670002", "081234567002"))
	require.NoError(t, err)
	jpeg, err := os.ReadFile("examples/onboard/ktp.jpg")
	require.NoError(t, err)
	for _, up := range []func(context.Context, int64, flipkyc.IdentityType, flipkyc.Image, ...flipkyc.CallOption) (*flipkyc.UploadResult, error){
		client.UploadIdentityImage, client.UploadSelfieWithIdentity} {
		_, err := up(context.Background(), a.ID, flipkyc.IdentityKTP, flipkyc.Image{Name: "k.jpg", Content: bytesReader(jpeg)})
		require.NoError(t, err)
	}
	fake.Close() // waits for the callbacks under way
	store.mu.Lock()
	defer store.mu.Unlock()
	assert.NotEmpty(t, store.events, "the upload check's callback was stored")
}

func TestReadmeFakeExample(t *testing.T) {
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer receiver.Close()

	srv := flipkyctest.NewServer(t, flipkyctest.WithCallbacks(receiver.URL, "token"))
	client, err := srv.NewClient() // or flipkyc.New(srv.SecretKey(), srv.ClientOptions()...)
	require.NoError(t, err)
	srv.FailNext(flipkyctest.RouteGetAgent, 2, 503)            // fails before the fake looks: nothing takes effect
	srv.FailNextAfterApplying(flipkyctest.RouteSubmit, 1, 504) // takes effect, then the reply is lost
	reqs := srv.RequestsTo(flipkyctest.RouteCreateAgent)

	assert.Empty(t, reqs)
	_, err = client.GetAgent(context.Background(), 1)
	assert.ErrorIs(t, err, flipkyc.ErrNotFound, "two 503s retried, then the fake's own answer")
}

// TestReadmeHttpmockExample is the README's httpmock example, word for word
// but for its name: a user's test of code that calls GetAgent.
func TestReadmeHttpmockExample(t *testing.T) {
	httpmock.Activate()
	defer httpmock.DeactivateAndReset()
	httpmock.RegisterResponder("GET", "https://bigflip.id/big_sandbox_api/v2/agents/1",
		httpmock.NewStringResponder(200, `{"id":1,"name":"John Doe","kyc_status":"APPROVED"}`))

	client, err := flipkyc.New("test-key")
	require.NoError(t, err)
	agent, err := client.GetAgent(context.Background(), 1)
	require.NoError(t, err)
	assert.Equal(t, flipkyc.StatusApproved, agent.KYCStatus)
}

// validParams returns a complete agent with the given identity and phone
// numbers.
func validParams(identity, phone string) flipkyc.AgentParams {
	return flipkyc.AgentParams{
		Name: "Siti Rahayu", IdentityType: flipkyc.IdentityKTP, IdentityNumber: identity,
		BirthDate: flipkyc.NewDate(1992, time.March, 14), BirthPlace: "Kota Depok",
		CountryID: 1, ProvinceID: 12, CityID: 184, DistrictID: 1234,
		Address: "Jalan Margonda Raya No. 100", Gender: flipkyc.GenderFemale,
		Occupation: flipkyc.OccupationEntrepreneur, PhoneNumber: phone, UseIdentityAddress: flipkyc.Ptr(true),
	}
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
