package flipkyc

import (
	"context"
	"net/http"
)

// SubmitResult is Flip's answer to a KYC submission.
type SubmitResult struct {
	// Message is Flip's text as received ("KYC submission success" or
	// "Submit success"); any 2xx reply means success.
	Message string `json:"message"`
}

// SubmitKYC hands the agent's data and images to Flip for review
// (PUT /users/{id}/submit). Flip accepts it only in
// StatusUploadIdentitySelfieSuccess (ErrInvalidAgentStatus otherwise); the
// agent moves to StatusPending and the verdict, StatusApproved or
// StatusRejected, arrives by callback.
func (c *Client) SubmitKYC(ctx context.Context, agentID int64) (*SubmitResult, error) {
	var v fieldErrors
	v.agentID(agentID)
	if err := v.err("SubmitKYC"); err != nil {
		return nil, err
	}
	var res SubmitResult
	err := c.do(ctx, call{method: http.MethodPut, api: kycAPI, path: userPath(agentID) + "/submit",
		body: newMultipartBody([]field{{"user_type", UserTypeAgent.String()}}, nil), repeatable: true}, &res)
	if err != nil {
		return nil, err
	}
	return &res, nil
}
