package flipkyc_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

func ExampleNew() {
	client, err := flipkyc.New(os.Getenv("FLIP_SECRET_KEY"),
		flipkyc.WithEnvironment(flipkyc.Production),
		flipkyc.WithHTTPClient(&http.Client{Timeout: 30 * time.Second}),
		flipkyc.WithLogger(slog.Default()),
		flipkyc.WithUserAgent("acme-backend/2.3"),
	)
	if err != nil {
		log.Fatal(err)
	}
	_ = client
}

func ExampleNewFromEnv() {
	// Reads FLIP_SECRET_KEY and, where set, FLIP_API_BASE_URL and FLIP_KYC_BASE_URL.
	client, err := flipkyc.NewFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	_ = client
}

// newAgentParams returns the documented example agent with a given identity
// and phone number.
func newAgentParams(nik, phone string) flipkyc.AgentParams {
	return flipkyc.AgentParams{
		Name:           "John Doe",
		IdentityType:   flipkyc.IdentityKTP,
		IdentityNumber: nik,
		BirthDate:      flipkyc.NewDate(1990, time.October, 31),
		BirthPlace:     "Kota Depok",
		CountryID:      1,
		ProvinceID:     12,
		CityID:         184,
		DistrictID:     1234,
		Address:        "Jalan Margonda Raya",
		Gender:         flipkyc.GenderMale,
		Occupation:     flipkyc.OccupationEntrepreneur,
		PhoneNumber:    phone,
	}
}

func ExampleClient_CreateAgent() {
	fake := flipkyctest.NewServer(nil) // in production: flipkyc.New(os.Getenv("FLIP_SECRET_KEY"), …)
	defer fake.Close()
	client, err := fake.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	agent, err := client.CreateAgent(ctx, newAgentParams("1234567890123456", "08123456789"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(agent.KYCStatus, agent.PhoneNumber, agent.DistrictName)

	// A second agent with the same identity number is refused.
	_, err = client.CreateAgent(ctx, newAgentParams("1234567890123456", "08123456780"))
	fmt.Println(errors.Is(err, flipkyc.ErrDuplicate))
	// Output:
	// BASIC_DATA +628123456789 Sukmajaya
	// true
}

func ExampleClient_UploadIdentityImage() {
	fake := flipkyctest.NewServer(nil)
	defer fake.Close()
	client, err := fake.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	agent, err := client.CreateAgent(ctx, newAgentParams("1234567890123456", "08123456789"))
	if err != nil {
		log.Fatal(err)
	}

	f, err := os.Open("examples/onboard/ktp.jpg")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	// The file is streamed, and checked (PNG or JPEG, under 2 MB, 256 to
	// 4096 pixels a side) before anything is sent.
	if _, err := client.UploadIdentityImage(ctx, agent.ID, flipkyc.IdentityKTP, flipkyc.Image{Name: "ktp.jpg", Content: f}); err != nil {
		log.Fatal(err)
	}
	got, err := client.GetAgent(ctx, agent.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.KYCStatus)

	// Text is not an image: refused before any request.
	_, err = client.UploadSelfieWithIdentity(ctx, agent.ID, flipkyc.IdentityKTP, flipkyc.Image{Name: "selfie.jpg", Content: strings.NewReader("hello")})
	fmt.Println(err)
	// Output:
	// UPLOAD_IDENTITY_SUCCESS
	// flipkyc: UploadSelfieWithIdentity: invalid input: image: must be a PNG or JPEG image
}

func ExampleClient_WaitForAgent() {
	fake := flipkyctest.NewServer(nil)
	defer fake.Close()
	client, err := fake.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	agent, err := client.CreateAgent(ctx, newAgentParams("1234567890123456", "08123456789"))
	if err != nil {
		log.Fatal(err)
	}
	for _, upload := range []func(context.Context, int64, flipkyc.IdentityType, flipkyc.Image, ...flipkyc.CallOption) (*flipkyc.UploadResult, error){
		client.UploadIdentityImage, client.UploadSelfieWithIdentity,
	} {
		f, err := os.Open("examples/onboard/ktp.jpg")
		if err != nil {
			log.Fatal(err)
		}
		_, err = upload(ctx, agent.ID, flipkyc.IdentityKTP, flipkyc.Image{Name: "photo.jpg", Content: f})
		f.Close()
		if err != nil {
			log.Fatal(err)
		}
	}
	// Without a callback receiver, poll until Flip's upload check is done.
	a, err := client.WaitForAgent(ctx, agent.ID, flipkyc.UntilStatus(
		flipkyc.StatusUploadIdentitySelfieSuccess, flipkyc.StatusUploadIdentitySelfieFailed))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(a.KYCStatus)
	if _, err := client.SubmitKYC(ctx, agent.ID); err != nil {
		log.Fatal(err)
	}
	a, err = client.WaitForAgent(ctx, agent.ID, flipkyc.UntilFinal)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(a.KYCStatus)
	// Output:
	// UPLOAD_IDENTITY_SELFIE_SUCCESS
	// APPROVED
}

func ExampleClient_ListProvinces() {
	fake := flipkyctest.NewServer(nil)
	defer fake.Close()
	client, err := fake.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	provinces, err := client.ListProvinces(context.Background(), 1) // Indonesia
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range provinces {
		fmt.Println(p.ID, p.Name)
	}
	// Output:
	// 1 Aceh
	// 6 DKI Jakarta
	// 12 Jawa Barat
}

func ExampleClient_GetAgent() {
	fake := flipkyctest.NewServer(nil)
	defer fake.Close()
	client, err := fake.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	_, err = client.GetAgent(context.Background(), 404404)
	var apiErr *flipkyc.APIError
	if errors.Is(err, flipkyc.ErrNotFound) && errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Message)
	}
	// Output:
	// 404 Agent not found
}

func ExampleNewCallbackHandler() {
	handler, err := flipkyc.NewCallbackHandler("token-from-flip-dashboard", func(ctx context.Context, ev flipkyc.Event) error {
		// Store the event before Flip gets its 200: Flip sends it only once.
		fmt.Println("stored", ev.Key(), ev.RejectedReasonCode.Fixes())
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// In a real server: mux.Handle("/flip/kyc", handler).

	// What Flip would send, as a test of the receiver.
	ev := flipkyc.Event{AgentID: 497, AgentName: "John Doe", KYCStatus: flipkyc.StatusRejected, RejectedReasonCode: 17}
	ev.UpdatedAt, _ = flipkyc.ParseTimestamp("2022-02-18 09:48:58")
	for _, token := range []string{"token-from-flip-dashboard", "forged"} {
		req, err := flipkyctest.NewCallbackRequest(context.Background(), "http://receiver.example/flip/kyc", ev, token)
		if err != nil {
			log.Fatal(err)
		}
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, req)
		fmt.Println(w.Code)
	}
	// Output:
	// stored 497/REJECTED/2022-02-18 09:48:58 [repair_identity_image supporting_documents]
	// 200
	// 403
}

func ExampleRequestID() {
	fake := flipkyctest.NewServer(nil)
	defer fake.Close()
	client, err := fake.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	// Send a Request-ID of your own for one call, for example one stored
	// before the call so that a crash cannot lose it.
	const id = "bigflip-47eb7f57-5565-4bf0-b9dd-46c6268cee71"
	_, err = client.ListCountries(context.Background(), flipkyc.RequestID(id))
	if err != nil {
		log.Fatal(err)
	}
	reqs := fake.RequestsTo(flipkyctest.RouteCountries)
	fmt.Println(reqs[0].Header.Get("Request-ID"))
	// Output: bigflip-47eb7f57-5565-4bf0-b9dd-46c6268cee71
}

func ExampleResponseInto() {
	fake := flipkyctest.NewServer(nil)
	defer fake.Close()
	client, err := fake.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	fake.FailNext(flipkyctest.RouteCountries, 1, http.StatusServiceUnavailable)
	var resp flipkyc.Response
	if _, err := client.ListCountries(context.Background(), flipkyc.ResponseInto(&resp)); err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Operation, resp.StatusCode, resp.Attempts, strings.HasPrefix(resp.RequestID, "bigflip-"))
	// Output: ListCountries 200 2 true
}

// metricsTransport counts requests by the SDK operation they belong to.
type metricsTransport struct {
	next   http.RoundTripper
	counts map[string]int
}

func (m *metricsTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if call, ok := flipkyc.CallInfoFrom(req.Context()); ok {
		m.counts[fmt.Sprintf("%s attempt %d", call.Operation, call.Attempt)]++
	}
	return m.next.RoundTrip(req)
}

func ExampleCallInfoFrom() {
	fake := flipkyctest.NewServer(nil)
	defer fake.Close()
	metrics := &metricsTransport{next: http.DefaultTransport, counts: map[string]int{}}
	client, err := fake.NewClient(flipkyc.WithHTTPClient(&http.Client{Transport: metrics}))
	if err != nil {
		log.Fatal(err)
	}
	fake.FailNext(flipkyctest.RouteProvinces, 1, http.StatusBadGateway)
	ctx := context.Background()
	if _, err := client.ListCountries(ctx); err != nil {
		log.Fatal(err)
	}
	if _, err := client.ListProvinces(ctx, 1); err != nil {
		log.Fatal(err)
	}
	fmt.Println(metrics.counts)
	// Output: map[ListCountries attempt 1:1 ListProvinces attempt 1:1 ListProvinces attempt 2:1]
}

func ExampleWithAttemptHook() {
	fake := flipkyctest.NewServer(nil)
	defer fake.Close()
	hook := func(_ context.Context, a flipkyc.Attempt) {
		fmt.Printf("%s attempt %d: HTTP %d, retry: %t\n", a.Operation, a.Number, a.StatusCode, a.RetryIn > 0)
	}
	client, err := fake.NewClient(flipkyc.WithAttemptHook(hook), flipkyc.WithRetryPolicy(flipkyc.RetryPolicy{BaseDelay: time.Millisecond}))
	if err != nil {
		log.Fatal(err)
	}
	fake.FailNext(flipkyctest.RouteCountries, 1, http.StatusTooManyRequests)
	if _, err := client.ListCountries(context.Background()); err != nil {
		log.Fatal(err)
	}
	// Output:
	// ListCountries attempt 1: HTTP 429, retry: true
	// ListCountries attempt 2: HTTP 200, retry: false
}

func ExampleValidationError() {
	client, err := flipkyc.New("sk_test_example")
	if err != nil {
		log.Fatal(err)
	}
	// Input that breaks Flip's documented rules fails before any request.
	_, err = client.CreateAgent(context.Background(), flipkyc.AgentParams{
		Name:         "John Doe",
		IdentityType: flipkyc.IdentityKTP,
		Address:      "Jl. 1",
		PhoneNumber:  "62812",
	})
	var ve *flipkyc.ValidationError
	if errors.As(err, &ve) {
		for _, f := range ve.Fields {
			fmt.Println(f.Field+":", f.Rule)
		}
	}
	// Output:
	// identity_number: is required
	// birth_date: is required
	// birth_place: is required
	// country_id: is required
	// province_id: is required
	// city_id: is required
	// district_id: is required
	// address: must be 10 to 300 characters, is 5
	// gender: is required
	// occupation: is required
	// phone_number: must start with 0 or +
}

func ExampleRejectionCode_Fixes() {
	for _, code := range []flipkyc.RejectionCode{10, 17, 25, 29} {
		fmt.Println(code, code.Fixes())
	}
	// Output:
	// 10 [repair_data]
	// 17 [repair_identity_image supporting_documents]
	// 25 [repair_selfie]
	// 29 [none]
}

func ExampleKYCStatus() {
	for _, s := range []flipkyc.KYCStatus{flipkyc.StatusUploadIdentitySelfieSuccess, flipkyc.StatusPending, flipkyc.StatusRejected} {
		fmt.Printf("%s final=%t submit=%t repair=%t\n", s, s.IsFinal(), s.CanSubmit(), s.NeedsRepair())
	}
	// Output:
	// UPLOAD_IDENTITY_SELFIE_SUCCESS final=false submit=true repair=false
	// PENDING final=false submit=false repair=false
	// REJECTED final=true submit=false repair=true
}
