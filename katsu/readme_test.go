package katsu_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc/internal/readmetest"
	"github.com/flipkyc/flipkyc/katsu"
	"github.com/flipkyc/flipkyc/katsu/katsutest"
)

// TestReadmeKatsutestExample is the README's katsutest example, word for
// word but for its name.
func TestReadmeKatsutestExample(t *testing.T) {
	srv := katsutest.NewServer(t)
	rec := srv.AddRecord(katsu.Record{Name: "Ada Obi", Tier: katsu.Tier1})
	client, err := srv.NewClient()
	require.NoError(t, err)

	srv.FailNextAfterApplying(katsutest.RouteApprove, 1, 502) // applied, answer lost
	_, err = client.Approve(context.Background(), rec.ID, "9b2f1c3e-8d4a-4f6b-a1c2-3d4e5f6a7b8c")
	require.ErrorIs(t, err, katsu.ErrOutcomeUnknown)
	got, _ := srv.Record(rec.ID)
	assert.True(t, got.Approved)
}

// TestReadmeExamplesAreTested: every Go example of README.md is the code of
// one of the tests in this package.
func TestReadmeExamplesAreTested(t *testing.T) {
	readmetest.CheckGoBlocks(t, "README.md", ".")
}

// readmeClientFlow is the README's first example, word for word but for
// the error checks and uses it leaves out.
func readmeClientFlow(ctx context.Context, kycID, reviewerID, ownerID string) (seen int, err error) {
	client, err := katsu.New(os.Getenv("KATSU_TOKEN"),
		katsu.WithBaseURL(os.Getenv("KATSU_BASE_URL")), // required: the host you were issued, such as https://katsu.example.ng
		katsu.WithLanguage(katsu.French),               // optional Accept-Language, en or fr
	)
	if err != nil {
		return 0, err
	}
	rec, err := client.Update(ctx, katsu.UpdateParams{
		KYCID: kycID, Tier: katsu.Tier1, AddressVerified: true, BVN: "22212345678",
	})
	if err != nil {
		return 0, err
	}
	rec, err = client.Approve(ctx, kycID, reviewerID)
	if err != nil || !rec.Approved {
		return 0, fmt.Errorf("approve: %v", err)
	}
	rec, err = client.Get(ctx, kycID, katsu.Lang(katsu.English)) // per-call language
	if err != nil || rec.ID != kycID {
		return 0, fmt.Errorf("get: %v", err)
	}
	page, err := client.List(ctx, katsu.ListParams{Tier: new(katsu.Tier1), PageSize: 50})
	if err != nil || len(page.Records) != 1 {
		return 0, fmt.Errorf("list: %v", err)
	}
	for rec, err := range client.All(ctx, katsu.ListParams{OwnerID: ownerID}) {
		// every record, page after page; stops at the first error or when ctx ends …
		if err != nil {
			return seen, err
		}
		if rec.OwnerID == ownerID {
			seen++
		}
	}
	return seen, nil
}

func TestReadmeClientExample(t *testing.T) {
	srv := katsutest.NewServer(t)
	owner := "5a1c2b3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	rec := srv.AddRecord(katsu.Record{Name: "Ada Obi", Tier: katsu.Tier0, OwnerID: owner})
	t.Setenv("KATSU_TOKEN", srv.Token())
	t.Setenv("KATSU_BASE_URL", srv.URL())
	seen, err := readmeClientFlow(context.Background(), rec.ID, "9b2f1c3e-8d4a-4f6b-a1c2-3d4e5f6a7b8c", owner)
	require.NoError(t, err)
	assert.Equal(t, 1, seen)
}
