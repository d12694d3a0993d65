package flipkyc_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// The examples of the Client's methods, in the order of the KYC flow, and
// of the agent types they take and return.

func ExampleClient_CreateAgent() {
	srv := flipkyctest.NewServer(nil) // in production: flipkyc.New(os.Getenv("FLIP_SECRET_KEY"), …)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	agent, err := client.CreateAgent(ctx, flipkyc.AgentParams{
		Name:           "John Doe",
		IdentityType:   flipkyc.IdentityKTP,
		IdentityNumber: "3276010101900001",
		BirthDate:      flipkyc.NewDate(1990, 10, 31),
		BirthPlace:     "Kota Depok",
		CountryID:      1,    // Indonesia, from ListCountries
		ProvinceID:     12,   // Jawa Barat, from ListProvinces
		CityID:         184,  // Kota Depok, from ListCities
		DistrictID:     1234, // Sukmajaya, from ListDistricts
		Address:        "Jalan Margonda Raya",
		Gender:         flipkyc.GenderMale,
		Occupation:     flipkyc.OccupationEntrepreneur,
		PhoneNumber:    "08123456789",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(agent.ID, agent.KYCStatus, agent.DistrictName)

	// A second agent with the same identity number is refused.
	_, err = client.CreateAgent(ctx, newAgentParams("3276010101900001", "08123456780"))
	fmt.Println(errors.Is(err, flipkyc.ErrDuplicate))
	// Output:
	// 1001 BASIC_DATA Sukmajaya
	// true
}

func ExampleClient_UpdateAgent() {
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

	// An update replaces the whole record: start from what Flip returned.
	p := agent.Params()
	p.Occupation = flipkyc.OccupationPrivateEmployee
	p.DistrictID = 1235 // Beji, in Kota Depok too
	updated, err := client.UpdateAgent(ctx, agent.ID, p)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(updated.Occupation, updated.DistrictName)
	// Output: private_employee Beji
}

func ExampleClient_GetAgent() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	created, err := client.CreateAgent(ctx, newAgentParams("3276010101900001", "08123456789"))
	if err != nil {
		log.Fatal(err)
	}

	agent, err := client.GetAgent(ctx, created.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(agent.ID, agent.KYCStatus, agent.Status)

	_, err = client.GetAgent(ctx, 404404)
	var apiErr *flipkyc.APIError
	if errors.Is(err, flipkyc.ErrNotFound) && errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Message)
	}
	// Output:
	// 1001 BASIC_DATA ACTIVE
	// 404 Agent not found
}

func ExampleClient_WaitForAgent() {
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

	// Without a callback receiver, or to reconcile a callback that never
	// came, poll until Flip has decided. Here polls start 1ms apart (fast);
	// against Flip keep the default.
	agent, err := client.WaitForAgent(ctx, id, flipkyc.UntilFinal, fast)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(agent.KYCStatus)

	// A refusal ends the wait at once.
	_, err = client.WaitForAgent(ctx, 404404, flipkyc.UntilFinal, fast)
	fmt.Println(errors.Is(err, flipkyc.ErrNotFound))
	// Output:
	// APPROVED
	// true
}

func ExampleUntilFinal() {
	for _, s := range []flipkyc.KYCStatus{flipkyc.StatusPending, flipkyc.StatusApproved, flipkyc.StatusRejected} {
		fmt.Println(s, flipkyc.UntilFinal(&flipkyc.Agent{KYCStatus: s}))
	}
	// Output:
	// PENDING false
	// APPROVED true
	// REJECTED true
}

func ExampleUntilStatus() {
	checked := flipkyc.UntilStatus(flipkyc.StatusUploadIdentitySelfieSuccess, flipkyc.StatusUploadIdentitySelfieFailed)
	for _, s := range []flipkyc.KYCStatus{flipkyc.StatusUploadIdentitySelfieProgress, flipkyc.StatusUploadIdentitySelfieFailed} {
		fmt.Println(s, checked(&flipkyc.Agent{KYCStatus: s}))
	}
	// Output:
	// UPLOAD_IDENTITY_SELFIE_PROGRESS false
	// UPLOAD_IDENTITY_SELFIE_FAILED true
}

func ExampleClient_UploadIdentityImage() {
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

	// An *os.File works as well, and is streamed: the image is never read
	// whole into memory. It is checked (PNG or JPEG, under 2 MB, 256 to 4096
	// pixels a side) before anything is sent.
	if _, err := client.UploadIdentityImage(ctx, agent.ID, flipkyc.IdentityKTP, cameraPhoto("ktp.jpg")); err != nil {
		log.Fatal(err)
	}
	got, err := client.GetAgent(ctx, agent.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.KYCStatus)

	// Text is not an image: refused before any request.
	_, err = client.UploadIdentityImage(ctx, agent.ID, flipkyc.IdentityKTP, flipkyc.Image{Name: "ktp.jpg", Content: strings.NewReader("hello")})
	fmt.Println(err)
	// Output:
	// UPLOAD_IDENTITY_SUCCESS
	// flipkyc: UploadIdentityImage: invalid input: image: must be a PNG or JPEG image
}

func ExampleClient_UploadSelfieWithIdentity() {
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

	// The selfie comes after the identity image.
	_, err = client.UploadSelfieWithIdentity(ctx, agent.ID, flipkyc.IdentityKTP, cameraPhoto("selfie.jpg"))
	fmt.Println(errors.Is(err, flipkyc.ErrInvalidAgentStatus))

	if _, err := client.UploadIdentityImage(ctx, agent.ID, flipkyc.IdentityKTP, cameraPhoto("ktp.jpg")); err != nil {
		log.Fatal(err)
	}
	if _, err := client.UploadSelfieWithIdentity(ctx, agent.ID, flipkyc.IdentityKTP, cameraPhoto("selfie.jpg")); err != nil {
		log.Fatal(err)
	}
	// Flip now checks both images and sends a callback with the result.
	checked, err := client.WaitForAgent(ctx, agent.ID, flipkyc.UntilStatus(
		flipkyc.StatusUploadIdentitySelfieSuccess, flipkyc.StatusUploadIdentitySelfieFailed), fast)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(checked.KYCStatus)
	// Output:
	// true
	// UPLOAD_IDENTITY_SELFIE_SUCCESS
}

func ExampleClient_SubmitKYC() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	id := readyToSubmit(ctx, client, "3276010101900001") // created, its images uploaded and checked

	res, err := client.SubmitKYC(ctx, id)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Message)

	// A second submission is refused: the agent is under review already.
	_, err = client.SubmitKYC(ctx, id)
	fmt.Println(errors.Is(err, flipkyc.ErrInvalidAgentStatus))
	// Output:
	// KYC submission success
	// true
}

func ExampleClient_UploadDocuments() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	id := rejectedAgent(ctx, client, 11) // submitted and rejected with code 11: NIK does not match the format
	agent, err := client.GetAgent(ctx, id)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(agent.KYCStatus, agent.RejectedReasonCode, agent.RejectedReasonCode.Fixes())

	docs, err := client.UploadDocuments(ctx, id, []flipkyc.Document{
		{Type: flipkyc.DocumentFamilyCard, Image: cameraPhoto("kk.jpg")},
		{Type: flipkyc.DocumentFamilyCard, Selfie: true, Image: cameraPhoto("kk-selfie.jpg")},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range docs {
		fmt.Println(d.ID, d.Selfie, d.Path)
	}
	agent, err = client.WaitForAgent(ctx, id, flipkyc.UntilFinal, fast)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(agent.KYCStatus)
	// Output:
	// REJECTED 11 [supporting_documents]
	// 1 false documents/1001/family_card.jpg
	// 2 true documents/1001/family_card_selfie.jpg
	// APPROVED
}

func ExampleClient_RepairData() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	id := rejectedAgent(ctx, client, 10) // submitted and rejected with code 10: the data does not match the identity card

	// Send only what needs correcting.
	user, err := client.RepairData(ctx, id, flipkyc.RepairDataParams{
		BirthDate:  flipkyc.NewDate(1990, 11, 30),
		BirthPlace: "Kota Bandung",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(user.UserID, user.Status, user.BirthDate)

	agent, err := client.WaitForAgent(ctx, id, flipkyc.UntilFinal, fast)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(agent.KYCStatus)
	// Output:
	// 1001 PENDING 30-11-1990
	// APPROVED
}

func ExampleClient_RepairIdentityImage() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	id := rejectedAgent(ctx, client, 14) // submitted and rejected with code 14: identity card blurry

	// The repair must fit the rejection: code 14 is not about the selfie.
	_, err = client.RepairSelfieWithIdentity(ctx, id, cameraPhoto("selfie.jpg"))
	fmt.Println(errors.Is(err, flipkyc.ErrRejectedReasonMismatch))

	res, err := client.RepairIdentityImage(ctx, id, cameraPhoto("ktp-sharp.jpg"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.ImageURL != "", res.ConfirmedByRead)
	agent, err := client.WaitForAgent(ctx, id, flipkyc.UntilFinal, fast)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(agent.KYCStatus)
	// Output:
	// true
	// true false
	// APPROVED
}

func ExampleClient_RepairSelfieWithIdentity() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	id := rejectedAgent(ctx, client, 24) // submitted and rejected with code 24: the selfie shows only a face

	if _, err := client.RepairSelfieWithIdentity(ctx, id, cameraPhoto("selfie-with-ktp.jpg")); err != nil {
		log.Fatal(err)
	}
	agent, err := client.WaitForAgent(ctx, id, flipkyc.UntilFinal, fast)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(agent.KYCStatus)
	// Output: APPROVED
}

func ExampleClient_ListCountries() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	countries, err := client.ListCountries(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range countries {
		fmt.Println(c.ID, c.Name)
	}
	// Output: 1 Indonesia
}

func ExampleClient_ListProvinces() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
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

func ExampleClient_ListCities() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	cities, err := client.ListCities(context.Background(), 12) // Jawa Barat
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range cities {
		fmt.Println(c.ID, c.Name)
	}
	// Output:
	// 184 Kota Depok
	// 185 Kota Bandung
	// 186 Kabupaten Bandung
}

func ExampleClient_ListDistricts() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	districts, err := client.ListDistricts(context.Background(), 184) // Kota Depok
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range districts {
		fmt.Println(d.ID, d.Name)
	}
	// Output:
	// 1234 Sukmajaya
	// 1235 Beji
}

func ExampleAgent_Params() {
	srv := flipkyctest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	created, err := client.CreateAgent(ctx, newAgentParams("3276010101900001", "08123456789"))
	if err != nil {
		log.Fatal(err)
	}

	// GetAgent's record lacks the birth, gender, occupation, address and
	// location fields: UpdateAgent names each one missing.
	agent, err := client.GetAgent(ctx, created.ID)
	if err != nil {
		log.Fatal(err)
	}
	p := agent.Params()
	err = p.Validate()
	var ve *flipkyc.ValidationError
	if errors.As(err, &ve) {
		fmt.Println(len(ve.Fields), "fields missing, among them", ve.Fields[0].Field)
	}

	// CreateAgent's record carries them all.
	p = created.Params()
	p.Name = "John Doe Jr"
	fmt.Println(p.Validate())
	// Output:
	// 9 fields missing, among them birth_date
	// <nil>
}

func ExampleAgent_Format() {
	agent := flipkyc.Agent{ID: 1001, Name: "John Doe", IdentityType: flipkyc.IdentityKTP,
		IdentityNumber: "3276010101900001", PhoneNumber: "+628123456789", KYCStatus: flipkyc.StatusApproved}
	// Printed into a log by mistake, an agent gives no personal data away.
	fmt.Printf("%+v\n", agent)
	fmt.Println(agent.Name) // read as a field
	// Output:
	// flipkyc.Agent{ID: 1001, CompanyID: 0, Name: [masked], IdentityType: ktp, IdentityNumber: [masked], BirthPlace: , BirthDate: , Gender: , CountryID: 0, CountryName: , ProvinceID: 0, ProvinceName: , CityID: 0, CityName: , DistrictID: 0, DistrictName: , Address: , ResidenceCountryID: 0, ResidenceCountryName: , ResidenceProvinceID: 0, ResidenceProvinceName: , ResidenceCityID: 0, ResidenceCityName: , ResidenceDistrictID: 0, ResidenceDistrictName: , ResidenceAddress: , Occupation: , PhoneNumber: [masked], Email: , KYCStatus: APPROVED, RejectedReasonCode: , RejectedReason: , Status: , CreatedAt: 0001-01-01 00:00:00 +0000 UTC}
	// John Doe
}

func ExampleAgent_UnmarshalJSON() {
	// Flip's replies vary in form: an id as a string, a status in lower
	// case, a code as a string. An agent decodes all the same.
	var agent flipkyc.Agent
	err := json.Unmarshal([]byte(`{"id":"1001","name":"John Doe","kyc_status":"rejected",
		"rejected_reason_code":"14","status":10,"created_at":"2022-01-01 13:00:00"}`), &agent)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(agent.ID, agent.KYCStatus, agent.RejectedReasonCode, agent.Status, agent.CreatedAt.Raw)
	// Output: 1001 REJECTED 14 ACTIVE 2022-01-01 13:00:00
}

func ExampleAgentParams_Validate() {
	p := newAgentParams("3276010101900001", "8123456789") // no leading 0
	p.BirthDate = flipkyc.NewDate(1990, 2, 30)
	fmt.Println(p.Validate())
	// Output: flipkyc: AgentParams: invalid input: birth_date: must be a real calendar day; phone_number: must start with 0 or + (a country code follows +, as in +62…)
}

func ExampleAgentParams_Format() {
	p := newAgentParams("3276010101900001", "08123456789")
	p.UseIdentityAddress = flipkyc.Ptr(true)
	fmt.Println(p)
	// Output: flipkyc.AgentParams{Name: [masked], IdentityType: ktp, IdentityNumber: [masked], BirthDate: [masked], BirthPlace: [masked], CountryID: 1, ProvinceID: 12, CityID: 184, DistrictID: 1234, Address: [masked], Gender: male, Occupation: entrepreneur, PhoneNumber: [masked], UseIdentityAddress: true, ResidenceCountryID: 0, ResidenceProvinceID: 0, ResidenceCityID: 0, ResidenceDistrictID: 0, ResidenceAddress: , Email: }
}

func ExamplePtr() {
	p := newAgentParams("3276010101900001", "08123456789")
	p.UseIdentityAddress = flipkyc.Ptr(true) // the agent lives at the KTP's address
	fmt.Println(*p.UseIdentityAddress)
	// Output: true
}

func ExampleRepairDataParams_Validate() {
	fmt.Println(flipkyc.RepairDataParams{}.Validate())
	fmt.Println(flipkyc.RepairDataParams{Address: "Jl. 1"}.Validate())
	fmt.Println(flipkyc.RepairDataParams{Address: "Jalan Margonda Raya 100"}.Validate())
	// Output:
	// flipkyc: RepairDataParams: invalid input: params: at least one field must be set
	// flipkyc: RepairDataParams: invalid input: address: must be 10 to 300 characters, is 5
	// <nil>
}

func ExampleRepairDataParams_Format() {
	fmt.Printf("%v\n", flipkyc.RepairDataParams{Name: "John Doe", Gender: flipkyc.GenderMale})
	// Output: flipkyc.RepairDataParams{Name: [masked], IdentityType: , IdentityNumber: , BirthDate: , BirthPlace: , Gender: male, Occupation: , CountryID: 0, ProvinceID: 0, CityID: 0, DistrictID: 0, Address: , ResidenceCountryID: 0, ResidenceProvinceID: 0, ResidenceCityID: 0, ResidenceDistrictID: 0, ResidenceAddress: , PhoneNumber: , UseIdentityAddress: <nil>}
}

func ExampleKYCUser_UnmarshalJSON() {
	// The KYC service's form of an agent: numbers for the identity type,
	// gender and status.
	var user flipkyc.KYCUser
	err := json.Unmarshal([]byte(`{"user_id":1001,"user_type":1,"name":"John Doe","gender":1,
		"status":20,"identity_type":1,"nik":"3276010101900001","birth_date":"1990-10-31T00:00:00Z"}`), &user)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(user.UserID, user.Gender, user.Status, user.IdentityType, user.BirthDate)
	// Output: 1001 male PENDING ktp 31-10-1990
}

func ExampleKYCUser_Format() {
	user := flipkyc.KYCUser{UserID: 1001, UserType: flipkyc.UserTypeAgent, Name: "John Doe", NIK: "3276010101900001", Status: flipkyc.StatusPending}
	fmt.Println(user)
	// Output: flipkyc.KYCUser{UserID: 1001, UserType: 1, Name: [masked], BirthPlace: , BirthDate: , Gender: , Status: PENDING, BasicDataFilled: false, IdentityType: , NIK: [masked], PassportNumber: , Occupation: , CountryID: 0, ProvinceID: 0, CityID: 0, DistrictID: 0, Address: , ResidenceCountryID: 0, ResidenceProvinceID: 0, ResidenceCityID: 0, ResidenceDistrictID: 0, ResidenceAddress: , CreatedAt: 0001-01-01 00:00:00 +0000 UTC, UpdatedAt: 0001-01-01 00:00:00 +0000 UTC, ConfirmedByRead: false, Problems: []}
}

func ExampleImage_Format() {
	img := cameraPhoto("John Doe KTP.jpg")
	fmt.Println(img)
	// Output: flipkyc.Image{Name: [masked], Content: *bytes.Reader}
}
