package flipkyc_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"log"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// This file holds the helpers the examples share, the package example, and
// the examples of building a client and of the per-call options.

// newAgentParams returns the documented example agent with a given identity
// and phone number.
func newAgentParams(nik, phone string) flipkyc.AgentParams {
	return flipkyc.AgentParams{
		Name:           "John Doe",
		IdentityType:   flipkyc.IdentityKTP,
		IdentityNumber: nik,
		BirthDate:      flipkyc.NewDate(1990, time.October, 31),
		BirthPlace:     "Kota Depok",
		CountryID:      1,    // Indonesia
		ProvinceID:     12,   // Jawa Barat
		CityID:         184,  // Kota Depok
		DistrictID:     1234, // Sukmajaya
		Address:        "Jalan Margonda Raya",
		Gender:         flipkyc.GenderMale,
		Occupation:     flipkyc.OccupationEntrepreneur,
		PhoneNumber:    phone,
	}
}

// cameraPhoto returns a 300x300 JPEG to upload as name, standing in for a photo
// taken with the camera.
func cameraPhoto(name string) flipkyc.Image {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 300, 300)), nil); err != nil {
		log.Fatal(err)
	}
	return flipkyc.Image{Name: name, Content: bytes.NewReader(buf.Bytes())}
}

// fast makes WaitForAgent poll every few milliseconds, as suits the fake,
// whose decisions take no time; against Flip, keep the default.
var fast = flipkyc.PollInterval(time.Millisecond)

// readyToSubmit creates an agent with identity number nik, uploads its
// identity image and selfie, waits until Flip's check of them has passed,
// and returns the agent's id.
func readyToSubmit(ctx context.Context, client *flipkyc.Client, nik string) int64 {
	agent, err := client.CreateAgent(ctx, newAgentParams(nik, "08"+nik[len(nik)-10:]))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := client.UploadIdentityImage(ctx, agent.ID, flipkyc.IdentityKTP, cameraPhoto("ktp.jpg")); err != nil {
		log.Fatal(err)
	}
	if _, err := client.UploadSelfieWithIdentity(ctx, agent.ID, flipkyc.IdentityKTP, cameraPhoto("selfie.jpg")); err != nil {
		log.Fatal(err)
	}
	if _, err := client.WaitForAgent(ctx, agent.ID, flipkyc.UntilStatus(flipkyc.StatusUploadIdentitySelfieSuccess), fast); err != nil {
		log.Fatal(err)
	}
	return agent.ID
}

// rejectedAgent returns the id of an agent that the fake's review rejected
// with code: the fake's DefaultReviewer rejects an identity number ending in
// 99 and a rejection code at the first review.
func rejectedAgent(ctx context.Context, client *flipkyc.Client, code flipkyc.RejectionCode) int64 {
	id := readyToSubmit(ctx, client, fmt.Sprintf("32760199010199%02d", int(code)))
	if _, err := client.SubmitKYC(ctx, id); err != nil {
		log.Fatal(err)
	}
	if _, err := client.WaitForAgent(ctx, id, flipkyc.UntilFinal, fast); err != nil {
		log.Fatal(err)
	}
	return id
}

// This example onboards an agent from start to finish against the fake Flip
// of flipkyctest: create the agent, upload the identity card and the selfie
// holding it, wait for Flip's check of the images, submit, and wait for the
// review. A real receiver learns of both results from Flip's callbacks (see
// NewCallbackHandler); WaitForAgent is the fallback that polls.
func Example() {
	srv := flipkyctest.NewServer(nil) // in production: flipkyc.New(secretKey, flipkyc.WithEnvironment(flipkyc.Production))
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	// The fake decides at once: poll it often. Against Flip, keep the default.
	poll := flipkyc.PollInterval(10 * time.Millisecond)

	agent, err := client.CreateAgent(ctx, newAgentParams("3276010101900001", "08123456789"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("created agent", agent.ID, agent.KYCStatus)

	if _, err := client.UploadIdentityImage(ctx, agent.ID, flipkyc.IdentityKTP, cameraPhoto("ktp.jpg")); err != nil {
		log.Fatal(err)
	}
	if _, err := client.UploadSelfieWithIdentity(ctx, agent.ID, flipkyc.IdentityKTP, cameraPhoto("selfie.jpg")); err != nil {
		log.Fatal(err)
	}
	checked, err := client.WaitForAgent(ctx, agent.ID, flipkyc.UntilStatus(
		flipkyc.StatusUploadIdentitySelfieSuccess, flipkyc.StatusUploadIdentitySelfieFailed), poll)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("images checked:", checked.KYCStatus)
	if !checked.KYCStatus.CanSubmit() {
		return // repair the images or send supporting documents first
	}

	if _, err := client.SubmitKYC(ctx, agent.ID); err != nil {
		log.Fatal(err)
	}
	reviewed, err := client.WaitForAgent(ctx, agent.ID, flipkyc.UntilFinal, poll)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("reviewed:", reviewed.KYCStatus)
	// Output:
	// created agent 1001 BASIC_DATA
	// images checked: UPLOAD_IDENTITY_SELFIE_SUCCESS
	// reviewed: APPROVED
}

func ExampleNew() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()

	// Against Flip: flipkyc.New(os.Getenv("FLIP_SECRET_KEY"),
	// flipkyc.WithEnvironment(flipkyc.Production)). Here the base URLs are
	// the fake's.
	client, err := flipkyc.New(srv.SecretKey(), flipkyc.WithBaseURLs(srv.AgentsURL, srv.KYCURL))
	if err != nil {
		log.Fatal(err)
	}
	countries, err := client.ListCountries(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(countries)

	// Every problem of the configuration is reported at once, by New.
	_, err = flipkyc.New("", flipkyc.WithBaseURLs("ftp://example.com", ""))
	fmt.Println(err)
	// Output:
	// [{1 Indonesia}]
	// flipkyc.New: secret key is empty
	// agents API base URL: scheme must be https or http
}

func ExampleNewFromEnv() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	// Usually the deployment sets these; only FLIP_SECRET_KEY is required.
	os.Setenv(flipkyc.EnvSecretKey, srv.SecretKey())
	os.Setenv(flipkyc.EnvAPIBaseURL, srv.AgentsURL)
	os.Setenv(flipkyc.EnvKYCBaseURL, srv.KYCURL)
	defer func() {
		for _, v := range []string{flipkyc.EnvSecretKey, flipkyc.EnvAPIBaseURL, flipkyc.EnvKYCBaseURL} {
			os.Unsetenv(v)
		}
	}()

	client, err := flipkyc.NewFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	provinces, err := client.ListProvinces(context.Background(), 1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(provinces), "provinces")

	os.Unsetenv(flipkyc.EnvSecretKey)
	_, err = flipkyc.NewFromEnv()
	fmt.Println(err)
	// Output:
	// 3 provinces
	// flipkyc.New: FLIP_SECRET_KEY (the secret key) is empty
}

func ExampleWithEnvironment() {
	client, err := flipkyc.New("secret-key-from-the-dashboard", flipkyc.WithEnvironment(flipkyc.Production))
	if err != nil {
		log.Fatal(err)
	}
	// A client prints its base URLs, never its key.
	fmt.Println(client)
	// Output:
	// flipkyc.Client{agents: https://bigflip.id/api/v2, kyc: https://api.flip.id/kyc/api/v1, key: [redacted]}
}

func ExampleEnvironment_String() {
	fmt.Println(flipkyc.Sandbox, flipkyc.Production)
	// Output: sandbox production
}

func ExampleClient_Format() {
	client, err := flipkyc.New("secret-key-from-the-dashboard")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%v\n%#v\n", client, client)
	// Output:
	// flipkyc.Client{agents: https://bigflip.id/big_sandbox_api/v2, kyc: https://api.flip.id/kyc-sandbox/api/v1, key: [redacted]}
	// flipkyc.Client{agents: https://bigflip.id/big_sandbox_api/v2, kyc: https://api.flip.id/kyc-sandbox/api/v1, key: [redacted]}
}

func ExampleWithBaseURLs() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := flipkyc.New(srv.SecretKey(), flipkyc.WithBaseURLs(srv.AgentsURL+"/", srv.KYCURL))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := client.GetAgent(context.Background(), 1001); !errors.Is(err, flipkyc.ErrNotFound) {
		log.Fatal(err)
	}
	// The trailing slash is dropped: the path is the base URL's and the call's.
	fmt.Println(srv.Requests()[0].Path)
	// Output: /big_sandbox_api/v2/agents/1001
}

// countingTransport counts the requests that go through it.
type countingTransport struct {
	next http.RoundTripper
	n    int
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.n++
	return t.next.RoundTrip(req)
}

func ExampleWithHTTPClient() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	counter := &countingTransport{next: http.DefaultTransport}
	client, err := srv.NewClient(flipkyc.WithHTTPClient(&http.Client{Transport: counter, Timeout: 30 * time.Second}))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	if _, err := client.ListCountries(ctx); err != nil {
		log.Fatal(err)
	}
	if _, err := client.ListProvinces(ctx, 1); err != nil {
		log.Fatal(err)
	}
	fmt.Println(counter.n, "requests through the caller's transport")
	// Output: 2 requests through the caller's transport
}

func ExampleWithRequestIDGenerator() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	// For example to take Request-IDs from the caller's own tracing.
	ids := []string{"bigflip-00000000-0000-4000-8000-000000000001", "bigflip-00000000-0000-4000-8000-000000000002"}
	next := func() string { id := ids[0]; ids = ids[1:]; return id }
	client, err := srv.NewClient(flipkyc.WithRequestIDGenerator(next))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	if _, err := client.ListCountries(ctx); err != nil {
		log.Fatal(err)
	}
	if _, err := client.ListCities(ctx, 12); err != nil {
		log.Fatal(err)
	}
	for _, r := range srv.Requests() {
		fmt.Println(r.Route, r.Header.Get("Request-ID"))
	}
	// Output:
	// GET /countries bigflip-00000000-0000-4000-8000-000000000001
	// GET /cities bigflip-00000000-0000-4000-8000-000000000002
}

func ExampleWithUserAgent() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient(flipkyc.WithUserAgent("acme-backend/2.3"))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := client.ListCountries(context.Background()); err != nil {
		log.Fatal(err)
	}
	ua := srv.Requests()[0].Header.Get("User-Agent")
	fmt.Println(strings.Replace(ua, flipkyc.Version, "<version>", 1))
	// Output: flipkyc-go/<version> acme-backend/2.3
}

func ExampleWithLogger() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	// A text log without the parts that change from run to run.
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			switch a.Key {
			case slog.TimeKey, "elapsed", "wait":
				return slog.Attr{}
			}
			return a
		},
	}))
	client, err := srv.NewClient(flipkyc.WithLogger(logger))
	if err != nil {
		log.Fatal(err)
	}
	srv.FailNext(flipkyctest.RouteGetAgent, 1, http.StatusServiceUnavailable)
	_, err = client.GetAgent(context.Background(), 1001,
		flipkyc.RequestID("bigflip-5f0c1d2e-0000-4000-8000-000000000001"),
		flipkyc.Retry(flipkyc.RetryPolicy{BaseDelay: time.Millisecond}))
	if !errors.Is(err, flipkyc.ErrNotFound) {
		log.Fatal(err)
	}
	// Output:
	// level=DEBUG msg="flipkyc: request" op=GetAgent method=GET path=/agents/1001 request_id=bigflip-5f0c1d2e-0000-4000-8000-000000000001 attempt=1 status=503 error="HTTP 503 from Flip"
	// level=INFO msg="flipkyc: retrying" op=GetAgent method=GET path=/agents/1001 request_id=bigflip-5f0c1d2e-0000-4000-8000-000000000001 attempt=1 error="HTTP 503 from Flip"
	// level=DEBUG msg="flipkyc: request" op=GetAgent method=GET path=/agents/1001 request_id=bigflip-5f0c1d2e-0000-4000-8000-000000000001 attempt=2 status=404 error="HTTP 404 from Flip"
}

func ExampleWithRetryPolicy() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient(flipkyc.WithRetryPolicy(flipkyc.RetryPolicy{
		MaxAttempts: 2,
		BaseDelay:   10 * time.Millisecond,
	}))
	if err != nil {
		log.Fatal(err)
	}
	srv.FailNext(flipkyctest.RouteCountries, 2, http.StatusServiceUnavailable)
	_, err = client.ListCountries(context.Background())
	var retryErr *flipkyc.RetryError
	fmt.Println(errors.As(err, &retryErr), retryErr.Attempts, errors.Is(err, flipkyc.ErrServer))
	// Output: true 2 true
}

func ExampleWithMaxResponseBytes() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient(flipkyc.WithMaxResponseBytes(64))
	if err != nil {
		log.Fatal(err)
	}
	_, err = client.ListDistricts(context.Background(), 0) // every district: more than 64 bytes
	var de *flipkyc.DecodeError
	if errors.As(err, &de) {
		fmt.Println(de.Err)
	}
	// Output: reply larger than 64 bytes
}

func ExampleWithIdleTimeout() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient(flipkyc.WithIdleTimeout(50 * time.Millisecond))
	if err != nil {
		log.Fatal(err)
	}
	srv.SetLatency(time.Minute) // a peer that accepts the request and never answers
	_, err = client.ListCountries(context.Background(), flipkyc.Retry(flipkyc.RetryPolicy{MaxAttempts: 1}))
	var netErr *flipkyc.NetworkError
	fmt.Println(errors.Is(err, flipkyc.ErrStalled), errors.As(err, &netErr))
	// Output: true true
}

func ExampleWithAttemptHook() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	hook := func(_ context.Context, a flipkyc.Attempt) {
		fmt.Printf("%s attempt %d: HTTP %d, retry: %t\n", a.Operation, a.Number, a.StatusCode, a.RetryIn > 0)
	}
	client, err := srv.NewClient(flipkyc.WithAttemptHook(hook), flipkyc.WithRetryPolicy(flipkyc.RetryPolicy{BaseDelay: time.Millisecond}))
	if err != nil {
		log.Fatal(err)
	}
	srv.FailNext(flipkyctest.RouteCountries, 1, http.StatusTooManyRequests)
	if _, err := client.ListCountries(context.Background()); err != nil {
		log.Fatal(err)
	}
	// Output:
	// ListCountries attempt 1: HTTP 429, retry: true
	// ListCountries attempt 2: HTTP 200, retry: false
}

func ExampleRequestID() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	// Send a Request-ID of your own for one call, for example one stored
	// before the call so that a crash cannot lose it.
	const id = "bigflip-47eb7f57-5565-4bf0-b9dd-46c6268cee71"
	if _, err := client.ListCountries(context.Background(), flipkyc.RequestID(id)); err != nil {
		log.Fatal(err)
	}
	fmt.Println(srv.RequestsTo(flipkyctest.RouteCountries)[0].Header.Get("Request-ID"))

	// A Request-ID of another form is refused before anything is sent.
	_, err = client.ListCountries(context.Background(), flipkyc.RequestID("order-42"))
	fmt.Println(err)
	// Output:
	// bigflip-47eb7f57-5565-4bf0-b9dd-46c6268cee71
	// flipkyc: ListCountries: invalid input: Request-ID: must start with "bigflip-"
}

func ExampleRetry() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	srv.FailNext(flipkyctest.RouteCountries, 1, http.StatusServiceUnavailable)
	// No retries for this one call, say in a health check that must answer fast.
	_, err = client.ListCountries(context.Background(), flipkyc.Retry(flipkyc.RetryPolicy{MaxAttempts: 1}))
	fmt.Println(errors.Is(err, flipkyc.ErrServer), len(srv.Requests()))
	// Output: true 1
}

func ExampleResponseInto() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	srv.FailNext(flipkyctest.RouteCountries, 1, http.StatusServiceUnavailable)
	var resp flipkyc.Response
	if _, err := client.ListCountries(context.Background(), flipkyc.ResponseInto(&resp)); err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Operation, resp.StatusCode, resp.Attempts, strings.HasPrefix(resp.RequestID, "bigflip-"))
	// Output: ListCountries 200 2 true
}

func ExamplePollInterval() {
	srv := flipkyctest.NewServer(nil, flipkyctest.WithDecisionDelay(50*time.Millisecond))
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	id := readyToSubmit(ctx, client, "3276010101900001") // created, its images uploaded and checked
	if _, err := client.SubmitKYC(ctx, id); err != nil {
		log.Fatal(err)
	}
	// Poll up to 10ms apart at first, backing off to at most 300ms, rather
	// than up to 2s and then up to a minute.
	start := time.Now()
	agent, err := client.WaitForAgent(ctx, id, flipkyc.UntilFinal, flipkyc.PollInterval(10*time.Millisecond))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(agent.KYCStatus, time.Since(start) < time.Second)

	_, err = client.WaitForAgent(ctx, id, flipkyc.UntilFinal, flipkyc.PollInterval(-time.Second))
	fmt.Println(err)
	// Output:
	// APPROVED true
	// flipkyc: WaitForAgent: invalid input: PollInterval: must not be negative
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
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	metrics := &metricsTransport{next: http.DefaultTransport, counts: map[string]int{}}
	client, err := srv.NewClient(flipkyc.WithHTTPClient(&http.Client{Transport: metrics}))
	if err != nil {
		log.Fatal(err)
	}
	srv.FailNext(flipkyctest.RouteProvinces, 1, http.StatusBadGateway)
	ctx := context.Background()
	if _, err := client.ListCountries(ctx); err != nil {
		log.Fatal(err)
	}
	if _, err := client.ListProvinces(ctx, 1); err != nil {
		log.Fatal(err)
	}
	fmt.Println(metrics.counts) // fmt prints a map sorted by key
	// Output: map[ListCountries attempt 1:1 ListProvinces attempt 1:1 ListProvinces attempt 2:1]
}
