package flipkyc_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/flipkyc/flipkyc"
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

func ExampleClient_CreateAgent() {
	client, err := flipkyc.NewFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	agent, err := client.CreateAgent(context.Background(), flipkyc.AgentParams{
		Name:           "John Doe",
		IdentityType:   flipkyc.IdentityKTP,
		IdentityNumber: "1234567890123456",
		BirthDate:      flipkyc.NewDate(1990, time.October, 31),
		BirthPlace:     "Kota Depok",
		CountryID:      1,
		ProvinceID:     12,
		CityID:         184,
		DistrictID:     1234,
		Address:        "Jalan Margonda Raya",
		Gender:         flipkyc.GenderMale,
		Occupation:     flipkyc.OccupationEntrepreneur,
		PhoneNumber:    "+628123456789",
	})
	if errors.Is(err, flipkyc.ErrDuplicate) {
		log.Fatal("this identity or phone number is already registered")
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(agent.ID, agent.KYCStatus)
}

func ExampleClient_UploadIdentityImage() {
	client, err := flipkyc.NewFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	f, err := os.Open("ktp.jpg")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	// The file is streamed, and checked (PNG or JPEG, under 2 MB, 256 to
	// 4096 pixels a side) before anything is sent.
	res, err := client.UploadIdentityImage(context.Background(), 497, flipkyc.IdentityKTP,
		flipkyc.Image{Name: "ktp.jpg", Content: f})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.ImageURL)
}

func ExampleClient_GetAgent() {
	client, err := flipkyc.NewFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	agent, err := client.GetAgent(context.Background(), 497)
	var apiErr *flipkyc.APIError
	switch {
	case errors.Is(err, flipkyc.ErrNotFound):
		fmt.Println("no such agent")
	case errors.As(err, &apiErr):
		fmt.Println("Flip said", apiErr.StatusCode, apiErr.Message, "- quote", apiErr.RequestID, "to Flip")
	case err != nil:
		log.Fatal(err)
	case agent.KYCStatus == flipkyc.StatusRejected:
		fmt.Println("rejected:", agent.RejectedReasonCode.Fixes())
	}
}

func ExampleWithRequestID() {
	client, err := flipkyc.NewFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	// Send a Request-ID of your own, for example to store it before the call.
	ctx := flipkyc.WithRequestID(context.Background(), "bigflip-47EB7F57-5565-4BF0-B9DD-46C6268CEE71")
	if _, err := client.SubmitKYC(ctx, 497); err != nil {
		log.Fatal(err)
	}
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
