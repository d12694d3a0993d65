package flipkyc

import (
	"context"
	"errors"
	"log/slog"
)

// What to do after an *OutcomeUnknownError, per kind of call.
const (
	nextCreate = "the agent may exist at Flip, which cannot look agents up by identity number: " +
		"do not create it again; keep the Request-ID and ask Flip which agent it created"
	nextUpload = "Flip may have stored the image, and it counts uploads (ErrUploadLimitReached after the maximum): " +
		"read the agent (GetAgent) or wait for the callback before uploading again"
	nextDocuments = "Flip may have stored the documents: read the agent (GetAgent) before sending them again"
	nextSubmit    = "Flip may not have received the submission, or may still be processing it: " +
		"read the agent later (GetAgent, WaitForAgent) and submit again only if it is still UPLOAD_IDENTITY_SELFIE_SUCCESS"
	nextRepair = "Flip may not have received the repair, or may still be processing it, or may have reviewed it already: " +
		"read the agent later (GetAgent, WaitForAgent) and repair again only if it is still REJECTED with the same code"
	nextUnread = "; the agent was not read because the context ended: read it (GetAgent) before calling again"
)

// explainOutcome fills in an *OutcomeUnknownError in err with the agent and
// what to do next; other errors are returned as they are.
func explainOutcome(err error, agentID int64, next string) error {
	var oe *OutcomeUnknownError
	if errors.As(err, &oe) {
		oe.AgentID, oe.Next = agentID, next
	}
	return err
}

// underReview reports whether a submission or a repair has taken effect:
// the agent is waiting for Flip's review, under it, or approved. A rejected
// agent does not count: the rejection may be the one the call answered.
func underReview(a *Agent) bool {
	switch a.KYCStatus {
	case StatusPending, StatusSuspicious, StatusNeedToCheck, StatusHelp, StatusApproved:
		return true
	}
	return false
}

// confirmByRead resolves an ambiguous state change, err, by reading the
// agent, never by sending the change again. It returns the agent and true
// when took reports that the change is visible, and marks the call's
// Response (ResponseInto in opts) ConfirmedByRead; otherwise it returns err
// as an *OutcomeUnknownError that says what the read found and what to do
// next. Errors other than an *OutcomeUnknownError are returned as they are.
func (c *Client) confirmByRead(ctx context.Context, err error, agentID int64, took func(*Agent) bool, next string, opts []CallOption) (*Agent, bool, error) {
	var oe *OutcomeUnknownError
	if !errors.As(err, &oe) {
		return nil, false, err
	}
	oe.AgentID, oe.Next = agentID, next
	if ctx.Err() != nil {
		oe.Next += nextUnread
		return nil, false, err
	}
	// The read is a call of its own: none of the caller's options (a
	// Request-ID, a response to fill) apply to it.
	a, readErr := c.GetAgent(ctx, agentID)
	if readErr != nil {
		oe.ReadErr = readErr
		return nil, false, err
	}
	oe.Status = a.KYCStatus
	if !took(a) {
		return nil, false, err
	}
	if co := resolveCallOptions(opts); co.response != nil {
		co.response.ConfirmedByRead = true
	}
	c.logger.LogAttrs(ctx, slog.LevelInfo, "flipkyc: outcome confirmed by reading the agent",
		slog.String("op", oe.Op), slog.Int64("agent_id", agentID), slog.String("kyc_status", string(a.KYCStatus)),
		slog.String("request_id", oe.RequestID), slog.String("error", oe.Err.Error()))
	return a, true, nil
}
