package katsu_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/flipkyc/flipkyc/katsu"
	"github.com/flipkyc/flipkyc/katsu/katsutest"
)

// reviewerID is the approver in the examples.
const reviewerID = "9b2f1c3e-8d4a-4f6b-a1c2-3d4e5f6a7b8c"

// This example updates a customer's KYC record, approves it and reads it
// back, against the fake. Against Katsu, pass katsu.WithBaseURL with the
// host you were issued and your token instead of the fake's.
func Example() {
	srv := katsutest.NewServer(nil, fixedClock)
	defer srv.Close()
	rec := srv.AddRecord(katsu.Record{Name: "Ada Obi", Tier: katsu.Tier0})

	client, err := katsu.New(srv.Token(), katsu.WithBaseURL(srv.URL()))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	updated, err := client.Update(ctx, katsu.UpdateParams{KYCID: rec.ID, Tier: katsu.Tier1, AddressVerified: true, BVN: "22212345678"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(updated.Tier, updated.IsAddressVerified, updated.Approved)

	if _, err := client.Approve(ctx, rec.ID, reviewerID); err != nil {
		log.Fatal(err)
	}
	got, err := client.Get(ctx, rec.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.Approved, got.Status)
	fmt.Println(got) // personal data is masked when printed
	// Output:
	// Tier1 true false
	// true Approved
	// katsu.Record{ID: 00000000-0000-4000-8000-000000000001, Tier: Tier1, Name: [masked], TenantID: , OwnerID: , Approved: true, IsTenant: false, IsAddressVerified: true, ApprovedOn: 2026-01-02T03:04:05Z, BVN: [masked], Status: Approved}
}

// fixedClock makes the fake stamp approvals at a fixed time, so the
// examples print the same every run.
var fixedClock = katsutest.WithClock(func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) })

// ExampleNew shows that New refuses a client without a base URL: Katsu
// documents no host.
func ExampleNew() {
	_, err := katsu.New("my-token")
	fmt.Println(err)
	// Output:
	// katsu.New: base URL missing: Katsu documents no host, so give the one you were issued with WithBaseURL
}

// ExampleClient_All reads every record of an owner, page after page.
func ExampleClient_All() {
	srv := katsutest.NewServer(nil)
	defer srv.Close()
	owner := "1c0ffee0-1234-4abc-8def-0123456789ab"
	for _, name := range []string{"Chidi", "Ada", "Bola"} {
		srv.AddRecord(katsu.Record{Name: name, OwnerID: owner})
	}
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	for rec, err := range client.All(context.Background(), katsu.ListParams{OwnerID: owner, OrderBy: 1, PageSize: 2}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(rec.ID)
	}
	fmt.Println(len(srv.RequestsTo(katsutest.RouteList)), "pages")
	// Output:
	// 00000000-0000-4000-8000-000000000002
	// 00000000-0000-4000-8000-000000000003
	// 00000000-0000-4000-8000-000000000001
	// 2 pages
}

// ExampleClient_List reads one page of tier-1 records, in French.
func ExampleClient_List() {
	srv := katsutest.NewServer(nil)
	defer srv.Close()
	srv.AddRecord(katsu.Record{Tier: katsu.Tier1})
	srv.AddRecord(katsu.Record{Tier: katsu.Tier2})
	client, err := srv.NewClient(katsu.WithLanguage(katsu.French))
	if err != nil {
		log.Fatal(err)
	}
	var meta katsu.Response
	page, err := client.List(context.Background(), katsu.ListParams{Tier: new(katsu.Tier1), PageSize: 10}, katsu.ResponseInto(&meta))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(page.Records), page.TotalCount, page.HasNext)
	fmt.Println(meta.Message)
	// Output:
	// 1 1 false
	// Enregistrements KYC récupérés avec succès.
}

// ExampleAPIError tells Katsu's refusals apart with errors.Is and reads
// the details with errors.As.
func ExampleAPIError() {
	srv := katsutest.NewServer(nil)
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	_, err = client.Get(context.Background(), "3fa85f64-5717-4562-b3fc-2c963f66afa6", katsu.Lang(katsu.French))
	var apiErr *katsu.APIError
	if errors.Is(err, katsu.ErrNotFound) && errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Message)
	}
	fmt.Println(err)
	// Output:
	// 404 Enregistrement KYC introuvable.
	// katsu: Get: GET /api/v1/Kyc/3fa85f64-5717-4562-b3fc-2c963f66afa6/get: HTTP 404: Enregistrement KYC introuvable.
}

// ExampleValidationError shows input refused before anything is sent.
func ExampleValidationError() {
	client, err := katsu.New("my-token", katsu.WithBaseURL("https://katsu.example.ng"))
	if err != nil {
		log.Fatal(err)
	}
	_, err = client.Update(context.Background(), katsu.UpdateParams{KYCID: "3fa85f64-5717-4562-b3fc-2c963f66afa6", Tier: 3, BVN: "1234"})
	var ve *katsu.ValidationError
	if errors.As(err, &ve) {
		for _, f := range ve.Fields {
			fmt.Println(f)
		}
	}
	fmt.Println(errors.Is(err, katsu.ErrInvalidRequest))
	// Output:
	// tier: must be 0, 1 or 2
	// bvn: must be exactly 11 digits
	// true
}

// ExampleOutcomeUnknownError handles an approval whose answer was lost: the
// client does not send it again; reading the record tells what happened.
func ExampleOutcomeUnknownError() {
	srv := katsutest.NewServer(nil)
	defer srv.Close()
	rec := srv.AddRecord(katsu.Record{})
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	srv.FailNextAfterApplying(katsutest.RouteApprove, 1, 502) // approved, then the answer is lost
	ctx := context.Background()
	_, err = client.Approve(ctx, rec.ID, reviewerID)
	var unknown *katsu.OutcomeUnknownError
	if errors.As(err, &unknown) {
		got, err := client.Get(ctx, unknown.KYCID)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("approved after all:", got.Approved)
	}
	fmt.Println(len(srv.RequestsTo(katsutest.RouteApprove)), "approve request sent")
	// Output:
	// approved after all: true
	// 1 approve request sent
}
