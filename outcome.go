package flipkyc

import (
	"context"
	"errors"
	"log/slog"
	"time"
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

// SettleDelay is the least time a submission or repair whose outcome is
// unknown waits before the read that decides whether to send it again: a
// request still in flight at Flip (a gateway gave up on it, or the
// connection broke while Flip worked) has that long to take effect, so
// that the read sees it. The wait is longer when the retry policy's
// backoff or the reply's Retry-After asks for more.
const SettleDelay = 2 * time.Second

// How a submission or repair whose outcome is unknown is finished.
//
// A submission or repair that fails after it may have reached Flip (the
// connection broke, a gateway answered 5xx, the reply could not be read)
// is settled by reading the agent, never by sending it again blindly:
//
//  1. If the call's retry policy leaves an attempt and the context's
//     deadline leaves time, wait (SettleDelay at least, so that a request
//     still in flight at Flip can land); otherwise nothing more is sent.
//  2. Read the agent. If the change shows (took), the call succeeds with
//     ConfirmedByRead.
//  3. If the agent is still in the state the change starts from (notYet:
//     UPLOAD_IDENTITY_SELFIE_SUCCESS for a submission, REJECTED with a code
//     this repair fixes for a repair), the read proves the change was not
//     made, and it is sent again with the same Request-ID, under what is
//     left of the retry policy's attempts. Flip's state machine refuses a
//     second submission or repair of the same state (4010, 4006), so a
//     resend cannot double the effect; such a refusal of a resend is
//     itself settled by reading again (step 2 only).
//  4. Otherwise, or when no attempt is left or the read fails, the call
//     returns the *OutcomeUnknownError with what the read found.
//
// Creates are never sent again (Flip cannot look agents up by identity
// number), and uploads keep their own rule (Flip counts them): neither goes
// through here.

// stateChangeRule describes a submission or repair for settle.
type stateChangeRule struct {
	op      string
	agentID int64
	// took reports whether the agent read shows the change made.
	took func(*Agent) bool
	// notYet reports whether the agent read is still in the state the
	// change starts from, which proves it was not made.
	notYet func(*Agent) bool
	// refusal is the refusal Flip answers a change that finds the agent
	// past its starting state: a resend refused so is settled by a read.
	refusal error
	// replayable reports whether the request can be sent again; nil means
	// it always can.
	replayable func() bool
	next       string
}

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

// rejectedFor returns a notYet for a repair: the agent is still rejected
// with a code that fix repairs.
func rejectedFor(fix Fix) func(*Agent) bool {
	return func(a *Agent) bool {
		if a.KYCStatus != StatusRejected {
			return false
		}
		for _, f := range a.RejectedReasonCode.Fixes() {
			if f == fix {
				return true
			}
		}
		return false
	}
}

// settle sends a state change with send and finishes it as the comment
// above says. send makes the call with the options given and fills the
// caller's result. settle returns (nil, nil) when a send succeeded, (agent,
// nil) when a read confirmed the change, and the call's error otherwise.
// The caller's ResponseInto gets the last send's metadata, with Attempts
// counting every send's attempts and ConfirmedByRead set when a read
// confirmed the change.
func (c *Client) settle(ctx context.Context, sc *stateChangeRule, opts []CallOption, send func([]CallOption) error) (*Agent, error) {
	co := resolveCallOptions(opts)
	var meta Response
	own := append(opts[:len(opts):len(opts)], ResponseInto(&meta))
	err := send(own)
	attempts := meta.Attempts
	defer func() {
		if co.response != nil {
			meta.Attempts = attempts
			*co.response = meta
		}
	}()
	var oe *OutcomeUnknownError
	if !errors.As(err, &oe) {
		return nil, err
	}
	policy := c.retry
	if co.retry != nil {
		policy = co.retry.limits() // valid: send checked it
	}
	mayResend := true // false once Flip refused a resend
	for {
		oe.AgentID, oe.Next = sc.agentID, sc.next
		resend := mayResend && attempts < policy.MaxAttempts && (sc.replayable == nil || sc.replayable())
		wait := max(SettleDelay, policy.Delay(attempts, retryAfterOf(err)))
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			// No time to wait for a request in flight: read at once, to
			// say what the agent shows, but send nothing more.
			resend = false
		}
		if resend {
			if c.clock.Sleep(ctx, wait) != nil {
				oe.Next += nextUnread
				return nil, err
			}
		}
		if ctx.Err() != nil {
			oe.Next += nextUnread
			return nil, err
		}
		// The read is a call of its own: none of the caller's options (a
		// Request-ID, a response to fill) apply to it.
		a, readErr := c.GetAgent(ctx, sc.agentID)
		if readErr != nil {
			oe.ReadErr = readErr
			return nil, err
		}
		oe.Status, oe.ReadErr = a.KYCStatus, nil
		if sc.took(a) {
			meta.ConfirmedByRead = true
			c.logger.LogAttrs(ctx, slog.LevelInfo, "flipkyc: outcome confirmed by reading the agent",
				slog.String("op", oe.Op), slog.Int64("agent_id", sc.agentID), slog.String("kyc_status", string(a.KYCStatus)),
				slog.String("request_id", oe.RequestID), slog.String("error", oe.Err.Error()))
			return a, nil
		}
		if !resend || !sc.notYet(a) {
			return nil, err
		}
		c.logger.LogAttrs(ctx, slog.LevelInfo, "flipkyc: the read shows the change was not made; sending it again",
			slog.String("op", oe.Op), slog.Int64("agent_id", sc.agentID), slog.String("kyc_status", string(a.KYCStatus)),
			slog.String("request_id", oe.RequestID), slog.Int("attempt", attempts+1), slog.String("error", oe.Err.Error()))
		left := RetryPolicy(policy)
		left.MaxAttempts -= attempts
		rerr := send(append(own, RequestID(oe.RequestID), Retry(left)))
		attempts += meta.Attempts
		var again *OutcomeUnknownError
		switch {
		case rerr == nil:
			return nil, nil
		case errors.As(rerr, &again):
			err, oe = rerr, again
		case sc.refusal != nil && errors.Is(rerr, sc.refusal):
			// The agent left the starting state between the read and the
			// resend: the first sending may have landed late. Read again.
			mayResend = false
		default:
			return nil, rerr
		}
	}
}

// retryAfterOf returns the wait a reply inside err asked for with
// Retry-After, or zero.
func retryAfterOf(err error) time.Duration {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.RetryAfter
	}
	return 0
}
