package katsu_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
