package flipkyctest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

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

// cameraPhoto returns a 300x300 JPEG to upload as name.
func cameraPhoto(name string) flipkyc.Image {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 300, 300)), nil); err != nil {
		log.Fatal(err)
	}
	return flipkyc.Image{Name: name, Content: bytes.NewReader(buf.Bytes())}
}

// fast makes WaitForAgent poll every few milliseconds, as suits the fake.
var fast = flipkyc.PollInterval(time.Millisecond)

// uploadImages uploads an agent's identity image and selfie.
func uploadImages(ctx context.Context, client *flipkyc.Client, id int64) {
	if _, err := client.UploadIdentityImage(ctx, id, flipkyc.IdentityKTP, cameraPhoto("ktp.jpg")); err != nil {
		log.Fatal(err)
	}
	if _, err := client.UploadSelfieWithIdentity(ctx, id, flipkyc.IdentityKTP, cameraPhoto("selfie.jpg")); err != nil {
		log.Fatal(err)
	}
}

// readyToSubmit creates an agent with identity number nik, uploads its
// images, waits until their check has passed, and returns the agent's id.
func readyToSubmit(ctx context.Context, client *flipkyc.Client, nik string) int64 {
	agent, err := client.CreateAgent(ctx, newAgentParams(nik, "08"+nik[len(nik)-10:]))
	if err != nil {
		log.Fatal(err)
	}
	uploadImages(ctx, client, agent.ID)
	if _, err := client.WaitForAgent(ctx, agent.ID, flipkyc.UntilStatus(flipkyc.StatusUploadIdentitySelfieSuccess), fast); err != nil {
		log.Fatal(err)
	}
	return agent.ID
}

// This example is the core of a test of code that uses flipkyc: start the
// fake, point a client at it, call it, and check what the fake received
// and holds. In a test, pass t to NewServer, which then closes the fake
// when the test ends.
func Example() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	agent, err := client.CreateAgent(ctx, newAgentParams("3276010101900001", "08123456789"))
	if err != nil {
		log.Fatal(err)
	}
	uploadImages(ctx, client, agent.ID)

	for _, r := range srv.Requests() {
		fmt.Println(r.Route, r.Status)
	}
	for _, r := range srv.RequestsTo(flipkyctest.RouteUploadImage) {
		fmt.Println("selfie:", r.Fields["selfie"], "image sent:", r.Files["image"] > 0)
	}
	stored, _ := srv.Agent(agent.ID)
	fmt.Println(stored.ID, stored.PhoneNumber)
	// Output:
	// POST /agents 200
	// PUT /users/{id}/identities 200
	// PUT /users/{id}/identities 200
	// selfie: 0 image sent: true
	// selfie: 1 image sent: true
	// 1001 +628123456789
}

func ExampleNewServer() {
	srv := flipkyctest.NewServer(nil, flipkyctest.WithDecisionDelay(time.Hour))
	defer srv.Close()
	fmt.Println(strings.TrimPrefix(srv.AgentsURL, srv.URL))
	fmt.Println(strings.TrimPrefix(srv.KYCURL, srv.URL))
	fmt.Println(len(srv.Agents()), "agents")
	// Output:
	// /big_sandbox_api/v2
	// /kyc-sandbox/api/v1
	// 0 agents
}

func ExampleServer_SecretKey() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	for _, key := range []string{srv.SecretKey(), "another-key"} {
		client, err := flipkyc.New(key, srv.ClientOptions()...)
		if err != nil {
			log.Fatal(err)
		}
		_, err = client.ListCountries(context.Background())
		fmt.Println(errors.Is(err, flipkyc.ErrUnauthorized))
	}
	// Output:
	// false
	// true
}

func ExampleServer_CallbackToken() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	// The receiver under test accepts the fake's token.
	handler, err := flipkyc.NewCallbackHandler(srv.CallbackToken(), func(context.Context, flipkyc.Event) error { return nil })
	if err != nil {
		log.Fatal(err)
	}
	ev := flipkyc.Event{AgentID: 1001, KYCStatus: flipkyc.StatusApproved}
	req, err := flipkyctest.NewCallbackRequest(context.Background(), "http://receiver.example/flip/kyc", ev, srv.CallbackToken())
	if err != nil {
		log.Fatal(err)
	}
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, req)
	fmt.Println(srv.CallbackToken() == flipkyctest.DefaultCallbackToken, w.Code)
	// Output: true 200
}

func ExampleServer_ClientOptions() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	// The fake's options, and the caller's own after them.
	opts := append(srv.ClientOptions(), flipkyc.WithUserAgent("acme-tests/1.0"))
	client, err := flipkyc.New(srv.SecretKey(), opts...)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := client.ListCountries(context.Background()); err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.HasSuffix(srv.Requests()[0].Header.Get("User-Agent"), " acme-tests/1.0"))
	// Output: true
}

func ExampleServer_NewClient() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	// Options given here come after the fake's own.
	client, err := srv.NewClient(flipkyc.WithRetryPolicy(flipkyc.RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		log.Fatal(err)
	}
	srv.FailNext(flipkyctest.RouteCountries, 1, http.StatusServiceUnavailable)
	_, err = client.ListCountries(context.Background())
	fmt.Println(errors.Is(err, flipkyc.ErrServer), len(srv.Requests()))
	// Output: true 1
}

func ExampleServer_Requests() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	agent, err := client.CreateAgent(ctx, newAgentParams("3276010101900001", "08123456789"))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := client.SubmitKYC(ctx, agent.ID); !errors.Is(err, flipkyc.ErrInvalidAgentStatus) {
		log.Fatal(err)
	}
	for _, r := range srv.Requests() {
		fmt.Println(r.Method, r.Path, r.Status, r.Header.Get("Authorization"))
	}
	// Output:
	// POST /big_sandbox_api/v2/agents 200 [redacted]
	// PUT /kyc-sandbox/api/v1/users/1001/submit 400 [redacted]
}

func ExampleServer_RequestsTo() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	for _, province := range []int64{12, 6} {
		if _, err := client.ListCities(ctx, province); err != nil {
			log.Fatal(err)
		}
	}
	if _, err := client.ListCountries(ctx); err != nil {
		log.Fatal(err)
	}
	for _, r := range srv.RequestsTo(flipkyctest.RouteCities) {
		fmt.Println(r.Fields["province_id"], r.Fields["user_type"])
	}
	// Output:
	// 12 1
	// 6 1
}

func ExampleServer_FailNext() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient(flipkyc.WithRetryPolicy(flipkyc.RetryPolicy{BaseDelay: time.Millisecond}))
	if err != nil {
		log.Fatal(err)
	}
	srv.FailNext(flipkyctest.RouteCountries, 2, http.StatusServiceUnavailable)
	// A read is retried: the third attempt gets through.
	if _, err := client.ListCountries(context.Background()); err != nil {
		log.Fatal(err)
	}
	for _, r := range srv.Requests() {
		fmt.Println(r.Status, r.Handled)
	}
	// Output:
	// 503 0
	// 503 0
	// 200 200
}

func ExampleServer_DropNext() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	srv.DropNext(flipkyctest.RouteCreateAgent, 1)
	// The fake dropped the create before acting on it, but the SDK cannot
	// know that: it reports an unknown outcome and does not send it again.
	_, err = client.CreateAgent(context.Background(), newAgentParams("3276010101900001", "08123456789"))
	fmt.Println(errors.Is(err, flipkyc.ErrOutcomeUnknown), len(srv.Agents()), len(srv.Requests()))
	// Output: true 0 1
}

func ExampleServer_FailNextAfterApplying() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	id := readyToSubmit(ctx, client, "3276010101900001") // created, its images uploaded and checked

	// The submission takes effect, and its reply is lost at a gateway.
	srv.FailNextAfterApplying(flipkyctest.RouteSubmit, 1, http.StatusGatewayTimeout)
	res, err := client.SubmitKYC(ctx, id)
	if err != nil {
		log.Fatal(err)
	}
	submit := srv.RequestsTo(flipkyctest.RouteSubmit)
	fmt.Println(res.ConfirmedByRead, len(submit), submit[0].Status, submit[0].Handled)
	// Output: true 1 504 200
}

func ExampleServer_DropNextAfterApplying() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	srv.DropNextAfterApplying(flipkyctest.RouteCreateAgent, 1)
	_, err = client.CreateAgent(context.Background(), newAgentParams("3276010101900001", "08123456789"))
	// The agent exists, though the caller never learnt its id.
	create := srv.RequestsTo(flipkyctest.RouteCreateAgent)[0]
	fmt.Println(errors.Is(err, flipkyc.ErrOutcomeUnknown), len(srv.Agents()), create.Status, create.Handled)
	// Output: true 1 0 200
}

func ExampleServer_SetLatency() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	srv.SetLatency(time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = client.ListCountries(ctx)
	fmt.Println(errors.Is(err, context.DeadlineExceeded))

	srv.SetLatency(0)
	if _, err := client.ListCountries(context.Background()); err != nil {
		log.Fatal(err)
	}
	// The request given up on was neither handled nor recorded.
	fmt.Println(len(srv.Requests()))
	// Output:
	// true
	// 1
}

func ExampleServer_Agent() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	if _, err := client.CreateAgent(context.Background(), newAgentParams("3276010101900001", "08123456789")); err != nil {
		log.Fatal(err)
	}
	// The fake's full record, with the fields GetAgent leaves out.
	agent, ok := srv.Agent(1001)
	fmt.Println(ok, agent.KYCStatus, agent.Occupation, agent.CityName)
	_, ok = srv.Agent(1002)
	fmt.Println(ok)
	// Output:
	// true BASIC_DATA entrepreneur Kota Depok
	// false
}

func ExampleServer_Agents() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	readyToSubmit(ctx, client, "3276010101900001") // created, its images uploaded and checked
	if _, err := client.CreateAgent(ctx, newAgentParams("3276010101900002", "08123456780")); err != nil {
		log.Fatal(err)
	}
	for _, a := range srv.Agents() {
		fmt.Println(a.ID, a.KYCStatus)
	}
	// Output:
	// 1001 UPLOAD_IDENTITY_SELFIE_SUCCESS
	// 1002 BASIC_DATA
}

func ExampleServer_Callbacks() {
	srv := flipkyctest.NewServer(nil)
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
	if _, err := client.WaitForAgent(ctx, id, flipkyc.UntilFinal, fast); err != nil {
		log.Fatal(err)
	}
	srv.Close() // waits for the callbacks under way

	// Without WithCallbacks, each callback is recorded but not sent.
	for _, cb := range srv.Callbacks() {
		fmt.Println(cb.Event.AgentID, cb.Event.KYCStatus, cb.Status, cb.Err)
	}
	// Output:
	// 1001 UPLOAD_IDENTITY_SELFIE_SUCCESS 0 <nil>
	// 1001 APPROVED 0 <nil>
}

func ExampleServer_Close() {
	srv := flipkyctest.NewServer(nil)
	client, err := srv.NewClient(flipkyc.WithRetryPolicy(flipkyc.RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		log.Fatal(err)
	}
	srv.Close()
	srv.Close() // closing again does nothing

	_, err = client.ListCountries(context.Background())
	var netErr *flipkyc.NetworkError
	fmt.Println(errors.As(err, &netErr))
	// Output: true
}

func ExampleServer_Format() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	printed := fmt.Sprintf("%+v", srv)
	fmt.Println(strings.Replace(printed, srv.URL, "http://127.0.0.1:<port>", 1))
	// Output: flipkyctest.Server{URL: http://127.0.0.1:<port>, key: [redacted], callbackToken: [redacted]}
}

func ExampleNewCallbackRequest() {
	ev := flipkyc.Event{AgentID: 1001, AgentName: "John Doe", KYCStatus: flipkyc.StatusRejected, RejectedReasonCode: 14}
	req, err := flipkyctest.NewCallbackRequest(context.Background(), "http://receiver.example/flip/kyc", ev, "test-token")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(req.Method, req.URL.Path, req.Header.Get("Content-Type"))

	// The receiver under test reads it as it would read Flip's.
	parser, err := flipkyc.NewCallbackParser("test-token")
	if err != nil {
		log.Fatal(err)
	}
	got, err := parser.Parse(req)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.AgentID, got.KYCStatus, got.RejectedReasonCode, got.AgentName == ev.AgentName)
	// Output:
	// POST /flip/kyc application/x-www-form-urlencoded
	// 1001 REJECTED 14 true
}

func ExampleDefaultReviewer() {
	ordinary := flipkyc.Agent{IdentityNumber: "3276010101900001"}
	rejectMe := flipkyc.Agent{IdentityNumber: "3276010101999914"} // ends in 99 and code 14
	for _, a := range []flipkyc.Agent{ordinary, rejectMe} {
		first, second := flipkyctest.DefaultReviewer(a, 1), flipkyctest.DefaultReviewer(a, 2)
		fmt.Printf("first review: code %d, after a fix: code %d\n", first.Code, second.Code)
	}
	// Output:
	// first review: code 0, after a fix: code 0
	// first review: code 14, after a fix: code 0
}

func ExampleWithSecretKey() {
	srv := flipkyctest.NewServer(nil, flipkyctest.WithSecretKey("sk-sandbox-for-tests"))
	defer srv.Close()
	client, err := srv.NewClient() // uses the key set
	if err != nil {
		log.Fatal(err)
	}
	_, err = client.ListCountries(context.Background())
	fmt.Println(srv.SecretKey(), err)
	// Output: sk-sandbox-for-tests <nil>
}

func ExampleWithCallbacks() {
	received := make(chan flipkyc.Event, 4)
	handler, err := flipkyc.NewCallbackHandler("test-token", func(_ context.Context, ev flipkyc.Event) error {
		received <- ev
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	receiver := httptest.NewServer(handler)
	defer receiver.Close()

	srv := flipkyctest.NewServer(nil, flipkyctest.WithCallbacks(receiver.URL, "test-token"))
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	readyToSubmit(context.Background(), client, "3276010101900001") // created, its images uploaded and checked
	ev := <-received
	fmt.Println(ev.AgentID, ev.KYCStatus)
	srv.Close()
	for _, cb := range srv.Callbacks() {
		fmt.Println(cb.Status, cb.Err)
	}
	// Output:
	// 1001 UPLOAD_IDENTITY_SELFIE_SUCCESS
	// 200 <nil>
}

func ExampleWithReviewer() {
	// Reject every passport holder's first review with code 21.
	reviewer := func(a flipkyc.Agent, review int) flipkyctest.Decision {
		if a.IdentityType == flipkyc.IdentityPassport && review == 1 {
			return flipkyctest.Decision{Code: 21}
		}
		return flipkyctest.Decision{}
	}
	srv := flipkyctest.NewServer(nil, flipkyctest.WithReviewer(reviewer))
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	p := newAgentParams("A1234567", "08123456789")
	p.IdentityType = flipkyc.IdentityPassport
	agent, err := client.CreateAgent(ctx, p)
	if err != nil {
		log.Fatal(err)
	}
	for _, upload := range []func(context.Context, int64, flipkyc.IdentityType, flipkyc.Image, ...flipkyc.CallOption) (*flipkyc.UploadResult, error){
		client.UploadIdentityImage, client.UploadSelfieWithIdentity,
	} {
		if _, err := upload(ctx, agent.ID, flipkyc.IdentityPassport, cameraPhoto("passport.jpg")); err != nil {
			log.Fatal(err)
		}
	}
	if _, err := client.WaitForAgent(ctx, agent.ID, flipkyc.UntilStatus(flipkyc.StatusUploadIdentitySelfieSuccess), fast); err != nil {
		log.Fatal(err)
	}
	if _, err := client.SubmitKYC(ctx, agent.ID); err != nil {
		log.Fatal(err)
	}
	reviewed, err := client.WaitForAgent(ctx, agent.ID, flipkyc.UntilFinal, fast)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(reviewed.KYCStatus, reviewed.RejectedReasonCode, reviewed.RejectedReasonCode.Fixes())
	// Output: REJECTED 21 [repair_identity_image supporting_documents]
}

func ExampleWithUploadCheck() {
	// Every selfie fails Flip's check with code 24: a face only.
	check := func(flipkyc.Agent) flipkyctest.Decision { return flipkyctest.Decision{Code: 24} }
	srv := flipkyctest.NewServer(nil, flipkyctest.WithUploadCheck(check))
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	agent, err := client.CreateAgent(ctx, newAgentParams("3276010101900001", "08123456789"))
	if err != nil {
		log.Fatal(err)
	}
	uploadImages(ctx, client, agent.ID)
	checked, err := client.WaitForAgent(ctx, agent.ID, flipkyc.UntilStatus(
		flipkyc.StatusUploadIdentitySelfieSuccess, flipkyc.StatusUploadIdentitySelfieFailed), fast)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(checked.KYCStatus, checked.RejectedReasonCode, checked.KYCStatus.CanUploadDocuments())
	// Output: UPLOAD_IDENTITY_SELFIE_FAILED 24 true
}

func ExampleWithDecisionDelay() {
	// An hour: the agent stays in UPLOAD_IDENTITY_SELFIE_PROGRESS for the
	// whole test, to test what a caller does meanwhile.
	srv := flipkyctest.NewServer(nil, flipkyctest.WithDecisionDelay(time.Hour))
	defer srv.Close() // drops the decisions still waiting
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	agent, err := client.CreateAgent(ctx, newAgentParams("3276010101900001", "08123456789"))
	if err != nil {
		log.Fatal(err)
	}
	uploadImages(ctx, client, agent.ID)
	got, err := client.GetAgent(ctx, agent.ID)
	if err != nil {
		log.Fatal(err)
	}
	_, err = client.SubmitKYC(ctx, agent.ID)
	fmt.Println(got.KYCStatus, errors.Is(err, flipkyc.ErrInvalidAgentStatus))
	// Output: UPLOAD_IDENTITY_SELFIE_PROGRESS true
}

func ExampleWithMaxUploads() {
	srv := flipkyctest.NewServer(nil, flipkyctest.WithMaxUploads(1))
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	agent, err := client.CreateAgent(ctx, newAgentParams("3276010101900001", "08123456789"))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := client.UploadIdentityImage(ctx, agent.ID, flipkyc.IdentityKTP, cameraPhoto("ktp.jpg")); err != nil {
		log.Fatal(err)
	}
	_, err = client.UploadSelfieWithIdentity(ctx, agent.ID, flipkyc.IdentityKTP, cameraPhoto("selfie.jpg"))
	fmt.Println(errors.Is(err, flipkyc.ErrUploadLimitReached))
	// Output: true
}

func ExampleRequest_Format() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	if _, err := client.CreateAgent(context.Background(), newAgentParams("3276010101900001", "08123456789")); err != nil {
		log.Fatal(err)
	}
	r := srv.Requests()[0]
	r.Header = nil // left out here: it holds a random Request-ID and the SDK's version
	// Printed into a test's log, a request gives no personal data away.
	fmt.Println(r)
	fmt.Println(r.Fields["name"]) // read as a field
	// Output:
	// flipkyctest.Request{Route: POST /agents, Method: POST, Path: /big_sandbox_api/v2/agents, Header: map[], Fields: map[address:[masked] birth_date:[masked] birth_place:[masked] city_id:184 country_id:1 district_id:1234 gender:[masked] identity_number:[masked] identity_type:ktp name:[masked] occupation:[masked] phone_number:[masked] province_id:12], Files: map[], Status: 200, Handled: 200}
	// John Doe
}

func ExampleRequest_MarshalJSON() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	_, err = client.CreateAgent(context.Background(), newAgentParams("3276010101900001", "08123456789"))
	if err != nil {
		log.Fatal(err)
	}
	r := srv.Requests()[0]
	r.Header = nil // left out here: it holds a random Request-ID and the SDK's version
	// Written to a JSON log, a request gives no personal data away.
	b, err := json.Marshal(r)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(b))
	// Output: {"Route":"POST /agents","Method":"POST","Path":"/big_sandbox_api/v2/agents","Header":null,"Fields":{"address":"[masked]","birth_date":"[masked]","birth_place":"[masked]","city_id":"184","country_id":"1","district_id":"1234","gender":"[masked]","identity_number":"[masked]","identity_type":"ktp","name":"[masked]","occupation":"[masked]","phone_number":"[masked]","province_id":"12"},"Files":{},"Status":200,"Handled":200}
}

// sentCallback is a callback as the fake records it, with fixed times.
func sentCallback() flipkyctest.SentCallback {
	ev := flipkyc.Event{AgentID: 1001, AgentName: "John Doe", KYCStatus: flipkyc.StatusApproved}
	ev.CreatedAt, _ = flipkyc.ParseTimestamp("2022-02-18 05:03:32")
	ev.UpdatedAt, _ = flipkyc.ParseTimestamp("2022-03-17 09:48:58")
	return flipkyctest.SentCallback{Event: ev, Status: http.StatusOK}
}

func ExampleSentCallback_Format() {
	fmt.Println(sentCallback())
	// Output: flipkyctest.SentCallback{Event: {AgentID: 1001, AgentName: [masked], KYCStatus: APPROVED, RejectedReasonCode: 0, RejectedReason: "", CreatedAt: 2022-02-18 05:03:32, UpdatedAt: 2022-03-17 09:48:58, SubmittedAt: , VerifiedAt: }, Status: 200, Err: <nil>}
}

func ExampleSentCallback_MarshalJSON() {
	b, err := json.Marshal(sentCallback())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(b))
	// Output: {"Event":{"agent_id":1001,"agent_name":"[masked]","kyc_status":"APPROVED","rejected_reason_code":null,"rejected_reason":"","created_at":"2022-02-18 05:03:32","updated_at":"2022-03-17 09:48:58","submitted_at":null,"verified_at":null},"Status":200,"Err":""}
}

func ExampleWithListener() {
	// Serve the fake at an address of your choice, such as a fixed port
	// that a mobile app or another team's service is configured with.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := flipkyctest.NewServer(nil, flipkyctest.WithListener(l))
	defer srv.Close()
	fmt.Println(srv.URL == "http://"+l.Addr().String())
	// Output: true
}

func ExampleWithMiddleware() {
	// Add paths of your own beside the fake's.
	health := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/healthz" {
				fmt.Fprint(w, "ok")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	srv := flipkyctest.NewServer(nil, flipkyctest.WithMiddleware(health))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body), len(srv.Requests()))
	// Output: 200 ok 0
}
