package flipkyc_test

import (
	"context"
	"testing"

	"github.com/flipkyc/flipkyc"
	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadmeHttpmockExample is the README's httpmock example, word for word
// but for its name: a user's test of code that calls GetAgent.
func TestReadmeHttpmockExample(t *testing.T) {
	httpmock.Activate()
	defer httpmock.DeactivateAndReset()
	httpmock.RegisterResponder("GET", "https://bigflip.id/big_sandbox_api/v2/agents/1",
		httpmock.NewStringResponder(200, `{"id":1,"name":"John Doe","kyc_status":"APPROVED"}`))

	client, err := flipkyc.New("test-key")
	require.NoError(t, err)
	agent, err := client.GetAgent(context.Background(), 1)
	require.NoError(t, err)
	assert.Equal(t, flipkyc.StatusApproved, agent.KYCStatus)
}
