package flipkyc

import (
	"context"
	"net/http"
)

// SubmitResult is Flip's answer to a KYC submission, from SubmitKYC.
type SubmitResult struct {
	// Message is Flip's text as received ("KYC submission success" or
	// "Submit success"); any 2xx reply means success.
	Message string `json:"message"`
	// ConfirmedByRead is true when Flip's reply was lost and the SDK
	// confirmed the submission by reading the agent, which was then under
	// review; Message is empty then.
	ConfirmedByRead bool `json:"-"`
}

// SubmitKYC hands the agent's data and images to Flip for review
// (PUT /users/{id}/submit). Flip accepts it only in
// StatusUploadIdentitySelfieSuccess (ErrInvalidAgentStatus otherwise); the
// agent moves to StatusPending and the verdict, StatusApproved or
// StatusRejected, arrives by callback.
//
// A submission is a state change and is never sent twice blindly. When it
// fails after it may have reached Flip (the connection broke, a gateway
// answered 5xx, the reply could not be read), SubmitKYC waits (SettleDelay
// at least) and reads the agent: if the agent is under review or approved,
// the submission took effect and SubmitKYC succeeds with ConfirmedByRead
// set; if it is still StatusUploadIdentitySelfieSuccess, the submission was
// not made and is sent again with the same Request-ID, as the retry policy's
// attempts allow. Otherwise it returns an error matching ErrOutcomeUnknown
// that says what the read found.
func (c *Client) SubmitKYC(ctx context.Context, agentID int64, opts ...CallOption) (*SubmitResult, error) {
	var v fieldErrors
	v.agentID(agentID)
	if err := v.err("SubmitKYC"); err != nil {
		return nil, err
	}
	body := newMultipartBody([]field{{"user_type", UserTypeAgent.String()}}, nil)
	var res SubmitResult
	a, err := c.settle(ctx, &stateChangeRule{op: "SubmitKYC", agentID: agentID, took: underReview,
		notYet:  func(a *Agent) bool { return a.KYCStatus == StatusUploadIdentitySelfieSuccess },
		refusal: ErrInvalidAgentStatus, next: nextSubmit}, opts, func(opts []CallOption) error {
		res = SubmitResult{}
		return c.do(ctx, call{op: "SubmitKYC", method: http.MethodPut, api: kycAPI, path: userPath(agentID) + "/submit",
			body: body, anyReply: true}, &res, opts)
	})
	switch {
	case err != nil:
		return nil, err
	case a != nil:
		return &SubmitResult{ConfirmedByRead: true}, nil
	}
	return &res, nil
}
