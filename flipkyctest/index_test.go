package flipkyctest_test

import (
	"context"
	"testing"

	"github.com/flipkyc/flipkyc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDuplicateIndexFollowsChanges checks that the duplicate check sees the
// agents' current identity and phone numbers after creates, updates and
// repairs: numbers given up are free again, numbers taken are refused, and
// an agent never collides with itself.
func TestDuplicateIndexFollowsChanges(t *testing.T) {
	_, c, rec := startReceiver(t)
	ctx := context.Background()
	create := func(nik, phone string) (int64, error) {
		a, err := c.CreateAgent(ctx, agentParams(nik, phone))
		if err != nil {
			return 0, err
		}
		return a.ID, nil
	}
	first, err := create("3201000000000101", "081200000101")
	require.NoError(t, err)
	// An agent rejected with code 10, which asks for a data repair.
	repaired, err := create("3201000000009910", "081200000102")
	require.NoError(t, err)
	uploadBoth(t, c, rec, repaired)
	_, err = c.SubmitKYC(ctx, repaired)
	require.NoError(t, err)
	require.Equal(t, flipkyc.StatusRejected, rec.next(t).KYCStatus)

	steps := []struct {
		name    string
		call    func() error
		wantDup bool
	}{
		{"update keeping its own numbers", func() error {
			_, err := c.UpdateAgent(ctx, first, agentParams("3201000000000101", "081200000101"))
			return err
		}, false},
		{"update to new numbers", func() error {
			_, err := c.UpdateAgent(ctx, first, agentParams("3201000000000103", "081200000103"))
			return err
		}, false},
		{"create with the numbers given up", func() error {
			_, err := create("3201000000000101", "081200000101")
			return err
		}, false},
		{"create with the updated identity number", func() error {
			_, err := create("3201000000000103", "081200000199")
			return err
		}, true},
		{"create with the updated phone number", func() error {
			_, err := create("3201000000000199", "+6281200000103")
			return err
		}, true},
		{"repair to another agent's identity number", func() error {
			_, err := c.RepairData(ctx, repaired, flipkyc.RepairDataParams{IdentityNumber: "3201000000000103"})
			return err
		}, true},
		{"repair to a new identity number", func() error {
			_, err := c.RepairData(ctx, repaired, flipkyc.RepairDataParams{IdentityNumber: "3201000000000104"})
			return err
		}, false},
		{"create with the repaired identity number", func() error {
			_, err := create("3201000000000104", "081200000198")
			return err
		}, true},
		{"create with the identity number the repair gave up", func() error {
			_, err := create("3201000000009910", "081200000197")
			return err
		}, false},
		{"create with the repaired agent's phone number", func() error {
			_, err := create("3201000000000196", "081200000102")
			return err
		}, true},
	}
	for _, st := range steps {
		err := st.call()
		if st.wantDup {
			assert.ErrorIs(t, err, flipkyc.ErrDuplicate, st.name)
		} else {
			assert.NoError(t, err, st.name)
		}
	}
}
