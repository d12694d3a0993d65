package flipkyc_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// The examples of the error types. Most give the call a fixed Request-ID,
// so that the error texts they print do not change from run to run.

// exampleID is the Request-ID of the examples' failing calls.
const exampleID = "bigflip-0b7c4b5e-8d1a-4c1e-9f3a-2e6d5c4b3a21"

func ExampleAPIError() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	if _, err := client.CreateAgent(ctx, newAgentParams("3276010101900001", "08123456789")); err != nil {
		log.Fatal(err)
	}

	_, err = client.CreateAgent(ctx, newAgentParams("3276010101900001", "08123456780"))
	// Test the specific sentinels first: a duplicate is an invalid request too.
	switch {
	case errors.Is(err, flipkyc.ErrDuplicate):
		fmt.Println("already registered")
	case errors.Is(err, flipkyc.ErrInvalidRequest):
		fmt.Println("invalid")
	}
	var apiErr *flipkyc.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Code, apiErr.Errors[0].Attribute, apiErr.Errors[0].Code)
	}
	// Output:
	// already registered
	// 422 VALIDATION_ERROR identity_number 2002
}

func ExampleAPIError_Error() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	_, err = client.SubmitKYC(context.Background(), 1001, flipkyc.RequestID(exampleID))
	fmt.Println(err)
	// Output: flipkyc: SubmitKYC: PUT /users/1001/submit: HTTP 404: Agent ID is not found (code 1011) [Request-ID bigflip-0b7c4b5e-8d1a-4c1e-9f3a-2e6d5c4b3a21]
}

func ExampleAPIError_Is() {
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
	// Submitting an agent whose images are missing: HTTP 400, code 4010.
	_, err = client.SubmitKYC(ctx, agent.ID)
	for _, target := range []error{flipkyc.ErrInvalidAgentStatus, flipkyc.ErrInvalidRequest, flipkyc.ErrNotFound} {
		fmt.Println(errors.Is(err, target), target)
	}
	// Output:
	// true flipkyc: agent's KYC status does not allow this
	// true flipkyc: request rejected as invalid
	// false flipkyc: not found
}

func ExampleAPIError_HasCode() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	if _, err := client.CreateAgent(ctx, newAgentParams("3276010101900001", "08123456789")); err != nil {
		log.Fatal(err)
	}
	_, err = client.CreateAgent(ctx, newAgentParams("3276010101900002", "08123456789")) // the same phone number
	var apiErr *flipkyc.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.HasCode(2002), apiErr.HasCode(4012), apiErr.Errors[0].Attribute)
	}
	// Output: true false phone_number
}

func ExampleDecodeError() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient(flipkyc.WithMaxResponseBytes(100))
	if err != nil {
		log.Fatal(err)
	}
	_, err = client.ListCities(context.Background(), 0)
	var de *flipkyc.DecodeError
	if errors.As(err, &de) {
		// Body is for a person to read on purpose; Error never prints it.
		fmt.Println(de.Op, de.StatusCode, len(de.Body) <= 100)
	}
	// Output: ListCities 200 true
}

func ExampleDecodeError_Error() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient(flipkyc.WithMaxResponseBytes(100))
	if err != nil {
		log.Fatal(err)
	}
	_, err = client.ListCities(context.Background(), 0, flipkyc.RequestID(exampleID))
	fmt.Println(err)
	// Output: flipkyc: ListCities: GET /cities: HTTP 200: cannot decode reply: reply larger than 100 bytes [Request-ID bigflip-0b7c4b5e-8d1a-4c1e-9f3a-2e6d5c4b3a21]
}

func ExampleDecodeError_Unwrap() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient(flipkyc.WithMaxResponseBytes(100))
	if err != nil {
		log.Fatal(err)
	}
	_, err = client.ListCities(context.Background(), 0)
	var de *flipkyc.DecodeError
	if errors.As(err, &de) {
		fmt.Println(de.Unwrap())
	}
	// Output: reply larger than 100 bytes
}

// This example loses the reply to a create after the fake has created the
// agent, as when a gateway times out after Flip acted.
func ExampleOutcomeUnknownError() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	srv.FailNextAfterApplying(flipkyctest.RouteCreateAgent, 1, http.StatusGatewayTimeout)

	_, err = client.CreateAgent(context.Background(), newAgentParams("3276010101900001", "08123456789"), flipkyc.RequestID(exampleID))
	var oe *flipkyc.OutcomeUnknownError
	if errors.As(err, &oe) {
		// Never create the agent again: ask Flip about this Request-ID.
		fmt.Println(oe.Op, oe.RequestID)
	}
	fmt.Println(len(srv.Agents()), "agent at the fake")
	// Output:
	// CreateAgent bigflip-0b7c4b5e-8d1a-4c1e-9f3a-2e6d5c4b3a21
	// 1 agent at the fake
}

func ExampleOutcomeUnknownError_Error() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	srv.FailNextAfterApplying(flipkyctest.RouteCreateAgent, 1, http.StatusBadGateway)
	_, err = client.CreateAgent(context.Background(), newAgentParams("3276010101900001", "08123456789"), flipkyc.RequestID(exampleID))
	fmt.Println(err)
	// Output: flipkyc: CreateAgent: outcome unknown: flipkyc: CreateAgent: POST /agents: HTTP 502: Bad Gateway [Request-ID bigflip-0b7c4b5e-8d1a-4c1e-9f3a-2e6d5c4b3a21]; the agent may exist at Flip, which cannot look agents up by identity number: do not create it again; keep the Request-ID and ask Flip which agent it created
}

func ExampleOutcomeUnknownError_Is() {
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
	srv.DropNextAfterApplying(flipkyctest.RouteUploadImage, 1)
	_, err = client.UploadIdentityImage(ctx, agent.ID, flipkyc.IdentityKTP, cameraPhoto("ktp.jpg"))
	// Flip counts uploads: read the agent before uploading again.
	fmt.Println(errors.Is(err, flipkyc.ErrOutcomeUnknown))
	if errors.Is(err, flipkyc.ErrOutcomeUnknown) {
		agent, err := client.GetAgent(ctx, agent.ID)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(agent.KYCStatus)
	}
	// Output:
	// true
	// UPLOAD_IDENTITY_SUCCESS
}

func ExampleOutcomeUnknownError_Unwrap() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	srv.FailNextAfterApplying(flipkyctest.RouteCreateAgent, 1, http.StatusBadGateway)
	_, err = client.CreateAgent(context.Background(), newAgentParams("3276010101900001", "08123456789"))
	var oe *flipkyc.OutcomeUnknownError
	if errors.As(err, &oe) {
		var apiErr *flipkyc.APIError
		fmt.Println(errors.As(oe.Unwrap(), &apiErr), apiErr.StatusCode)
	}
	// Output: true 502
}

// This example loses the reply to a submission after the fake has taken
// it: SubmitKYC reads the agent, finds it under review, and succeeds.
func ExampleClient_SubmitKYC_lostReply() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	id := readyToSubmit(ctx, client, "3276010101900001") // created, its images uploaded and checked

	srv.FailNextAfterApplying(flipkyctest.RouteSubmit, 1, http.StatusBadGateway)
	var resp flipkyc.Response
	res, err := client.SubmitKYC(ctx, id, flipkyc.ResponseInto(&resp))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.ConfirmedByRead, resp.ConfirmedByRead, resp.StatusCode)
	// Output: true true 502
}

func ExampleNetworkError() {
	srv := flipkyctest.NewServer(nil)
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	srv.Close() // nothing answers any more

	_, err = client.ListCountries(context.Background(), flipkyc.Retry(flipkyc.RetryPolicy{BaseDelay: time.Millisecond}))
	var netErr *flipkyc.NetworkError
	var retryErr *flipkyc.RetryError
	fmt.Println(errors.As(err, &netErr), netErr.Op, netErr.Path)
	fmt.Println(errors.As(err, &retryErr), retryErr.Attempts)
	// Output:
	// true ListCountries /countries
	// true 3
}

func ExampleNetworkError_Error() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = client.GetAgent(ctx, 1001, flipkyc.RequestID(exampleID))
	fmt.Println(err)
	// Output: flipkyc: GetAgent: GET /agents/1001: context canceled [Request-ID bigflip-0b7c4b5e-8d1a-4c1e-9f3a-2e6d5c4b3a21]
}

func ExampleNetworkError_Unwrap() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	srv.SetLatency(time.Second)
	_, err = client.GetAgent(ctx, 1001)
	var netErr *flipkyc.NetworkError
	if errors.As(err, &netErr) {
		// The cause, as net/http reported it, is in the chain.
		fmt.Println(errors.Is(netErr.Unwrap(), context.DeadlineExceeded))
	}
	// Output: true
}

func ExampleRetryError() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient(flipkyc.WithRetryPolicy(flipkyc.RetryPolicy{BaseDelay: time.Millisecond}))
	if err != nil {
		log.Fatal(err)
	}
	srv.FailNext(flipkyctest.RouteGetAgent, 3, http.StatusServiceUnavailable)
	_, err = client.GetAgent(context.Background(), 1001)
	var retryErr *flipkyc.RetryError
	if errors.As(err, &retryErr) {
		fmt.Println(retryErr.Attempts, errors.Is(err, flipkyc.ErrServer))
	}
	// Output: 3 true
}

func ExampleRetryError_Error() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient(flipkyc.WithRetryPolicy(flipkyc.RetryPolicy{BaseDelay: time.Millisecond}))
	if err != nil {
		log.Fatal(err)
	}
	srv.FailNext(flipkyctest.RouteGetAgent, 3, http.StatusServiceUnavailable)
	_, err = client.GetAgent(context.Background(), 1001, flipkyc.RequestID(exampleID))
	fmt.Println(err)
	// Output: flipkyc: GetAgent: GET /agents/1001: HTTP 503: Service Unavailable [Request-ID bigflip-0b7c4b5e-8d1a-4c1e-9f3a-2e6d5c4b3a21] (gave up after 3 attempts)
}

func ExampleRetryError_Unwrap() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient(flipkyc.WithRetryPolicy(flipkyc.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond}))
	if err != nil {
		log.Fatal(err)
	}
	srv.FailNext(flipkyctest.RouteGetAgent, 1, http.StatusServiceUnavailable)
	// The second attempt's failure, not the first's, is the one kept.
	_, err = client.GetAgent(context.Background(), 1001)
	var retryErr *flipkyc.RetryError
	if errors.As(err, &retryErr) {
		var apiErr *flipkyc.APIError
		fmt.Println(errors.As(retryErr.Unwrap(), &apiErr), apiErr.StatusCode)
	}
	// Output: true 404
}

func ExampleValidationError() {
	client, err := flipkyc.New("secret-key-from-the-dashboard")
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
	// phone_number: must start with 0 or + (a country code follows +, as in +62…)
}

func ExampleValidationError_Error() {
	client, err := flipkyc.New("secret-key-from-the-dashboard")
	if err != nil {
		log.Fatal(err)
	}
	_, err = client.UploadDocuments(context.Background(), 0, nil)
	fmt.Println(err)
	// Output: flipkyc: UploadDocuments: invalid input: agent_id: must be a positive agent id; documents: at least one document is required
}

func ExampleValidationError_Has() {
	p := newAgentParams("3276010101900001", "08123456789")
	p.Email = "john.doe(at)example.com"
	var ve *flipkyc.ValidationError
	if errors.As(p.Validate(), &ve) {
		fmt.Println(ve.Has("email"), ve.Has("phone_number"))
	}
	// Output: true false
}

func ExampleFieldError_String() {
	var ve *flipkyc.ValidationError
	if errors.As(flipkyc.RepairDataParams{PhoneNumber: "+62 812"}.Validate(), &ve) {
		fmt.Println(ve.Fields[0].String())
	}
	// Output: phone_number: starting with + must be 10 to 26 characters, is 7
}
