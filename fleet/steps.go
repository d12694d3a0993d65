package fleet

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/internal/backoff"
)

// Agent states in the run.
const (
	StateNew               = "new"                // imported; its create job is queued
	StateCreating          = "creating"           // create sent (intent recorded with its Request-ID)
	StateCreated           = "created"            // Flip answered with the agent's id
	StateUploadingIdentity = "uploading_identity" // identity image being sent
	StateIdentityUploaded  = "identity_uploaded"  //
	StateUploadingSelfie   = "uploading_selfie"   // selfie with identity being sent
	StateAwaitingCheck     = "awaiting_check"     // waiting for Flip's upload check (callback 19 or 15)
	StateChecked           = "checked"            // upload check passed; submission queued
	StateSubmitting        = "submitting"         // submission being sent
	StateInReview          = "in_review"          // submitted (or repaired); waiting for Flip's decision
	StateRepairQueued      = "repair_queued"      // corrections recorded by repair
	StateRepairing         = "repairing"          // correction being sent
	StateApproved          = "approved"           // final
	StateRejected          = "rejected"           // final for this run: see the fix its code calls for
	StateUploadFailed      = "upload_failed"      // Flip's upload check failed: supporting documents
	StateAttention         = "attention"          // parked: a person must look (Reason says why)
)

// States lists every state, in the order of the flow.
var States = []string{StateNew, StateCreating, StateCreated, StateUploadingIdentity, StateIdentityUploaded,
	StateUploadingSelfie, StateAwaitingCheck, StateChecked, StateSubmitting, StateInReview, StateRepairQueued,
	StateRepairing, StateApproved, StateRejected, StateUploadFailed, StateAttention}

// Final reports whether the run has nothing more to do for an agent in
// state s until a person acts.
func Final(s string) bool {
	return s == StateApproved || s == StateRejected || s == StateUploadFailed || s == StateAttention
}

// resolveHint ends the reason of an agent parked at its create.
const resolveHint = "; once you know its agent id, give it in a repair CSV's agent_id column (flipkyc repair) to resume the agent without creating it again"

// notCreatedHint ends the reason of an agent whose create's outcome is
// unknown.
const notCreatedHint = "; if Flip confirms that it created no agent with this Request-ID, give the Request-ID in a repair CSV's not_created column to create the agent again under a new one"

func newRequestID() string { return "bigflip-" + uuid.NewString() }

// onboard takes an agent from its create through its two uploads in one
// job. Each request's intent is recorded before it is sent, and its result
// after; a step that records the next request's intent in the transaction
// of its result (sendNow) goes straight on to send it, any other is
// followed by reading the agent again, so a job stopped anywhere resumes
// where the agent's state says, and a step that left the state as it was
// ends the job.
func (f *Fleet) onboard(ctx context.Context, a *agent) error {
	for {
		step := f.upload
		switch a.State {
		case StateNew, StateCreating:
			step = f.create
		case StateCreated, StateUploadingIdentity, StateIdentityUploaded, StateUploadingSelfie:
		default:
			return nil
		}
		if err := step(ctx, a); err != nil {
			if errors.Is(err, errMoved) {
				return nil // another job has the agent
			}
			return err
		}
		if finished(ctx) {
			return nil // the step ended the job
		}
		if a.sendNow {
			continue // the step recorded the next request's intent with its result: a is as stored
		}
		next, err := f.load(ctx, f.db.sql, a.Key)
		if err != nil || next.State == a.State {
			return err
		}
		a = next
	}
}

// create registers the agent with Flip, at most once. In a create job,
// the intent (state creating under a new Request-ID) was recorded with
// the job's lease, once the request had its slot (sendNow); elsewhere it
// is recorded by the rate-limited transport, just before the request is
// written.
func (f *Fleet) create(ctx context.Context, a *agent) error {
	switch {
	case a.State == StateNew:
	case a.State == StateCreating && a.sendNow:
		a.sendNow = false
		return f.sendCreate(ctx, a, a.CreateRequestID, nil)
	case a.State == StateCreating:
		// The intent was recorded but no result: this process, or an
		// earlier one, stopped after it may have sent the create.
		return f.park(ctx, a.Key, StateCreating, fmt.Sprintf(
			"create outcome unknown: the process stopped after sending it (Request-ID %s); the agent may exist at Flip and the create is never sent again: ask Flip"+resolveHint+notCreatedHint, a.CreateRequestID))
	default:
		return nil
	}
	rid := newRequestID()
	// The intent is recorded as late as it can be: by the rate-limited
	// transport, once the request has its slot and passed the SDK's checks,
	// just before it is written. A process stopped before that leaves the
	// agent new, and its create is sent later, not parked as unknown.
	intent := func(ctx context.Context) error {
		n, err := f.changeNoting(ctx, a.Key, request(opCreate, rid, resultSending), "UPDATE fleet_agents SET state = ?, create_request_id = ?, updated_at = ? WHERE key = ? AND (state = ? OR (state = ? AND create_request_id = ?))",
			StateCreating, rid, f.nowMillis(), a.Key, StateNew, StateCreating, rid)
		if err == nil && n == 0 {
			err = errMoved
		}
		return err
	}
	return f.sendCreate(ctx, a, rid, intent)
}

// sendCreate sends a's create under rid and records its outcome. intent,
// if not nil, records the create's intent once the request has its slot
// (beforeSendKey); nil, the intent is recorded already (a in creating).
func (f *Fleet) sendCreate(ctx context.Context, a *agent, rid string, intent func(context.Context) error) error {
	sendCtx := ctx
	if intent != nil {
		sendCtx = context.WithValue(ctx, beforeSendKey{}, intent)
	}
	got, err := f.flip.CreateAgent(sendCtx, a.Row.Params, flipkyc.RequestID(rid))
	if errors.Is(err, errMoved) {
		return errMoved
	}
	if err != nil {
		var api *flipkyc.APIError
		var ve *flipkyc.ValidationError
		sent := request(opCreate, rid, resultOf(err))
		switch {
		case errors.As(err, &ve):
			// Refused before sending: Flip created no agent, whether the
			// intent was recorded (parked from creating) or not (new).
			from := StateNew
			if intent == nil {
				from = StateCreating
			}
			return f.park(ctx, a.Key, from, createRefusal(err), sent)
		case errors.Is(err, flipkyc.ErrOutcomeUnknown):
			return f.park(ctx, a.Key, StateCreating, fmt.Sprintf("create outcome unknown (Request-ID %s): %v; the agent may exist at Flip and the create is never sent again: ask Flip"+resolveHint+notCreatedHint, rid, err), sent)
		case errors.Is(err, flipkyc.ErrDuplicate) && !phoneTaken(err):
			return f.park(ctx, a.Key, StateCreating, fmt.Sprintf("identity or phone number already registered at Flip (code 2002 or 4012, Request-ID %s); not sent again"+resolveHint, rid), sent)
		case errors.As(err, &api) && !errors.Is(err, flipkyc.ErrRateLimited):
			return f.park(ctx, a.Key, StateCreating, createRefusal(err), sent) // Flip created no agent
		}
		// Flip did not act (nothing was sent, or a rate limit): the
		// create may go again.
		sent.Result += "; the create goes again later"
		if _, uerr := f.changeNoting(context.WithoutCancel(ctx), a.Key, sent, "UPDATE fleet_agents SET state = ?, updated_at = ? WHERE key = ? AND state = ? AND create_request_id = ?",
			StateNew, f.nowMillis(), a.Key, StateCreating, rid); uerr != nil {
			return uerr
		}
		return err
	}
	f.recordCreated(ctx, a, rid, got)
	return nil
}

// goesOn reports whether the step running under ctx may record the next
// request's intent with its result (sendNow): only a job's step sends the
// next request itself, and only while its context lasts.
func goesOn(ctx context.Context) bool {
	_, inJob := ctx.Value(finishKey{}).(*jobFinish)
	return inJob && ctx.Err() == nil
}

// recordCreated records the id Flip gave an agent's create. The agent is
// in creating, or, if another job found it there while this create was
// under way, parked as an unknown outcome: either way the create's own
// Request-ID names it. The id is a fact no step can learn again, so the
// write is not fenced, and a failed write is tried again, detached from
// the job's context, until it is made: only a process that stops loses the
// id (the agent is then parked as an outcome unknown; the warnings name
// the id).
//
// In a job, an agent with no correction to send first goes on to its
// identity upload: its intent (state uploading_identity, a new
// Request-ID) is recorded in the same transaction, fenced by the job's
// lease, and a is left as stored with sendNow set. A process stopped after
// it finds the agent uploading, which a read settles.
func (f *Fleet) recordCreated(ctx context.Context, a *agent, rid string, got *flipkyc.Agent) {
	next := ""
	if goesOn(ctx) && a.Repair == "" {
		next = newRequestID()
	}
	ctx = context.WithoutCancel(ctx)
	for attempt := 1; ; attempt++ {
		var sending int64
		// An agent erased meanwhile (forget) keeps its parking and reason:
		// its id is recorded, but it has no data to go on with.
		err := f.db.inTx(ctx, func(tx *sql.Tx) error {
			sending = 0
			_, err := f.db.exec(ctx, tx, "UPDATE fleet_agents SET state = CASE WHEN erased_at <> 0 THEN state ELSE ? END, agent_id = ?, kyc_status = ?, "+
				"attention = CASE WHEN erased_at <> 0 THEN attention ELSE '' END, parked_from = CASE WHEN erased_at <> 0 THEN parked_from ELSE '' END, updated_at = ? "+
				"WHERE key = ? AND state IN (?, ?) AND create_request_id = ? AND agent_id IS NULL",
				StateCreated, got.ID, string(got.KYCStatus), f.nowMillis(), a.Key, StateCreating, StateAttention, rid)
			if err != nil {
				return err
			}
			created := request(opCreate, rid, fmt.Sprintf("created: agent %d, status %s", got.ID, got.KYCStatus))
			if next == "" {
				return f.db.note(ctx, tx, a.Key, created)
			}
			sending, err = f.changeNotingIn(ctx, tx, a.Key, []Entry{created}, []Entry{request(opUploadIdentity, next, resultSending)},
				"UPDATE fleet_agents SET state = ?, step_request_id = ?, updated_at = ? WHERE key = ? AND state = ?",
				StateUploadingIdentity, next, f.nowMillis(), a.Key, StateCreated)
			return err
		})
		if err == nil {
			if sending == 1 {
				a.State, a.AgentID, a.KYCStatus, a.StepRequestID, a.sendNow = StateUploadingIdentity, sql.NullInt64{Int64: got.ID, Valid: true}, string(got.KYCStatus), next, true
			}
			return
		}
		// The id is never held back by the next intent: it is tried
		// again alone, and the upload records its own intent.
		next = ""
		f.log.Warn("fleet: recording a created agent's id failed; trying again", "line", a.Line, "agent_id", got.ID, "attempt", attempt, "err", err)
		_ = backoff.Sleep(ctx, backoff.Exponential(100*time.Millisecond, 5*time.Second, attempt))
	}
}

// errMoved is a step's report that the agent's state changed under it:
// another job holds the agent, and this one stops.
var errMoved = errors.New("fleet: another job moved the agent")

// upload sends the identity image, then the selfie; an upload that may
// have taken effect is settled by reading the agent, never by sending it
// again.
//
// A correction recorded by a repair row for an agent parked at its uploads
// (see Fleet.Repair) is used here: its corrected data is sent first, by
// UpdateAgent (a full replacement, so a repeat changes nothing), and then
// kept as the agent's row; its images replace the row's.
func (f *Fleet) upload(ctx context.Context, a *agent) error {
	var fix Repair
	if a.Repair != "" {
		if err := json.Unmarshal([]byte(a.Repair), &fix); err != nil {
			return f.park(ctx, a.Key, a.State, reasonStoredCorrection+err.Error())
		}
		if fix.Data != nil {
			if taken, err := f.updateData(ctx, a, fix); err != nil || !taken {
				return err // !taken: parked, Flip refused the data
			}
			fix.Data = nil
		}
	}
	var selfie bool
	fresh := a.sendNow
	a.sendNow = false
	switch a.State {
	case StateCreated, StateIdentityUploaded:
		selfie = a.State == StateIdentityUploaded
		sending := StateUploadingIdentity
		if selfie {
			sending = StateUploadingSelfie
		}
		rid := newRequestID()
		n, err := f.changeNoting(ctx, a.Key, request(uploadOp(selfie), rid, resultSending), "UPDATE fleet_agents SET state = ?, step_request_id = ?, updated_at = ? WHERE key = ? AND state = ?",
			sending, rid, f.nowMillis(), a.Key, a.State)
		if err == nil && n == 0 {
			err = errMoved
		}
		if err != nil {
			return err
		}
		a.State, a.StepRequestID = sending, rid
	case StateUploadingIdentity, StateUploadingSelfie:
		selfie = a.State == StateUploadingSelfie
		if fresh {
			break // its intent was recorded by this job with the last result: nothing was sent under it yet
		}
		got, err := f.flip.GetAgent(ctx, a.AgentID.Int64)
		if err != nil {
			return err
		}
		if uploadTookEffect(selfie, got.KYCStatus) {
			return f.uploaded(ctx, a, selfie, got.KYCStatus, request(opGetAgent, "", fmt.Sprintf("status %s: the %s took effect", got.KYCStatus, uploadOp(selfie))))
		}
		f.noteNow(ctx, a.Key, request(opGetAgent, "", fmt.Sprintf("status %s: the %s did not take effect; sent again under its Request-ID", got.KYCStatus, uploadOp(selfie))))
	default:
		return nil
	}
	dir, path := a.Row.Images, a.Row.IdentityImage
	send := f.flip.UploadIdentityImage
	if fix.IdentityImage != "" {
		dir, path = fix.Images, fix.IdentityImage
	}
	if selfie {
		dir, path, send = a.Row.Images, a.Row.SelfieImage, f.flip.UploadSelfieWithIdentity
		if fix.SelfieImage != "" {
			dir, path = fix.Images, fix.SelfieImage
		}
	}
	// A photo given as bytes (Repair.IdentityImageData, SelfieImageData)
	// is sent from the correction; a file is read inside its directory.
	img := fix.imageData(selfie)
	if img == nil {
		file, err := openImage(dir, path)
		if err != nil {
			which := "identity"
			if selfie {
				which = "selfie"
			}
			return f.park(ctx, a.Key, a.State, fmt.Sprintf(reasonUnreadableImage+"%s image of line %d: %v", which, a.Line, withoutPath(err)))
		}
		defer file.Close()
		img = &flipkyc.Image{Name: filepath.Base(path), Content: file}
	}
	// A resend after a read showed no effect is the same logical call: it
	// keeps the recorded Request-ID.
	res, err := send(ctx, a.AgentID.Int64, a.Row.Params.IdentityType, *img, flipkyc.RequestID(a.StepRequestID))
	if err != nil {
		var ve *flipkyc.ValidationError
		sent := request(uploadOp(selfie), a.StepRequestID, resultOf(err))
		switch {
		case errors.Is(err, flipkyc.ErrOutcomeUnknown):
			f.noteNow(ctx, a.Key, sent)
			return err // the retry reads the agent first
		case errors.Is(err, flipkyc.ErrInvalidAgentStatus):
			got, gerr := f.flip.GetAgent(ctx, a.AgentID.Int64)
			if gerr != nil {
				f.noteNow(ctx, a.Key, sent)
				return gerr
			}
			if uploadTookEffect(selfie, got.KYCStatus) {
				return f.uploaded(ctx, a, selfie, got.KYCStatus, sent, request(opGetAgent, "", fmt.Sprintf("status %s: the %s took effect", got.KYCStatus, uploadOp(selfie))))
			}
			return f.park(ctx, a.Key, a.State, fmt.Sprintf(reasonUploadRefused+" in status %s: %v", got.KYCStatus, err), sent)
		case errors.As(err, &ve), errors.Is(err, flipkyc.ErrImageRejected), errors.Is(err, flipkyc.ErrUploadLimitReached):
			return f.park(ctx, a.Key, a.State, fmt.Sprintf(reasonImageRefused+"%v", err), sent)
		}
		f.noteNow(ctx, a.Key, sent)
		return err
	}
	_ = res
	status := flipkyc.StatusUploadIdentitySuccess
	if selfie {
		status = flipkyc.StatusUploadIdentitySelfieProgress
	}
	return f.uploaded(ctx, a, selfie, status, request(uploadOp(selfie), a.StepRequestID, "accepted: status "+string(status)))
}

// updateData sends the corrected data of a repair row for an agent parked
// at its uploads (UpdateAgent, with the row's other fields as they are),
// then keeps the corrected row and the correction without its data, in the
// state the agent is in, and reports true. Flip refusing the data parks the
// agent again, and it reports false: the uploads wait for a new repair.
func (f *Fleet) updateData(ctx context.Context, a *agent, fix Repair) (bool, error) {
	row := a.Row
	applyCorrection(&row.Params, *fix.Data)
	rid := newRequestID()
	if _, err := f.flip.UpdateAgent(ctx, a.AgentID.Int64, row.Params, flipkyc.RequestID(rid)); err != nil {
		var api *flipkyc.APIError
		var ve *flipkyc.ValidationError
		sent := request(opUpdateAgent, rid, resultOf(err))
		if errors.As(err, &api) && !errors.Is(err, flipkyc.ErrRateLimited) || errors.As(err, &ve) {
			return false, f.park(ctx, a.Key, a.State, fmt.Sprintf(reasonDataRefused+"%v", err), sent)
		}
		f.noteNow(ctx, a.Key, sent)
		return false, err
	}
	fix.Data = nil
	b, err := json.Marshal(fix)
	if err != nil {
		return false, err
	}
	s, err := f.db.key.sealRow(a.Key, row)
	if err != nil {
		return false, err
	}
	n, err := f.changeNoting(ctx, a.Key, request(opUpdateAgent, rid, "accepted: the corrected data is the agent's"), "UPDATE fleet_agents SET row = ?, personal_fields = ?, phone_key = ?, repair = ?, updated_at = ? WHERE key = ? AND state = ? AND erased_at = 0",
		s.row, s.fields, s.phoneKey, f.db.key.seal(a.Key, b), f.nowMillis(), a.Key, a.State)
	if err == nil && n == 0 {
		err = errMoved
	}
	if err != nil {
		return false, err
	}
	a.Row, a.Repair = row, string(b)
	return true, nil
}

func uploadTookEffect(selfie bool, s flipkyc.KYCStatus) bool {
	before := []flipkyc.KYCStatus{flipkyc.StatusBasicData, flipkyc.StatusUploadIdentityFailed}
	if selfie {
		before = append(before, flipkyc.StatusUploadIdentitySuccess)
	}
	return !slices.Contains(before, s)
}

// uploaded records an upload that took effect, with the journal's notes
// of how it was learnt, and queues what follows. In a job, the identity
// upload's result goes with the selfie's intent (state uploading_selfie, a
// new Request-ID), in the same statement, and a is left as stored with
// sendNow set.
func (f *Fleet) uploaded(ctx context.Context, a *agent, selfie bool, status flipkyc.KYCStatus, notes ...Entry) error {
	next := ""
	if !selfie && goesOn(ctx) {
		next = newRequestID()
	}
	ctx = context.WithoutCancel(ctx)
	var sending int64
	err := f.db.inTx(ctx, func(tx *sql.Tx) error {
		if !selfie {
			// A photo given as bytes is not kept once Flip has it.
			repair, err := f.withoutIdentityData(a)
			if err != nil {
				return err
			}
			// The notes are recorded whoever moved the agent since: Flip
			// has the upload.
			if next == "" {
				_, err = f.changeNotingIn(ctx, tx, a.Key, notes, nil,
					"UPDATE fleet_agents SET state = ?, identity_uploaded = 1, kyc_status = ?, repair = ?, updated_at = ? WHERE key = ? AND state = ?",
					StateIdentityUploaded, string(status), repair, f.nowMillis(), a.Key, StateUploadingIdentity)
				return err
			}
			sending, err = f.changeNotingIn(ctx, tx, a.Key, notes, []Entry{request(opUploadSelfie, next, resultSending)},
				"UPDATE fleet_agents SET state = ?, step_request_id = ?, identity_uploaded = 1, kyc_status = ?, repair = ?, updated_at = ? WHERE key = ? AND state = ?",
				StateUploadingSelfie, next, string(status), repair, f.nowMillis(), a.Key, StateUploadingIdentity)
			return err
		}
		// The uploads are done: a correction used for them is not kept.
		n, err := f.changeNotingIn(ctx, tx, a.Key, notes, nil, // Flip has the upload, whoever moved the agent since
			"UPDATE fleet_agents SET state = ?, selfie_uploaded = 1, kyc_status = ?, repair = '', updated_at = ? WHERE key = ? AND state = ?",
			StateAwaitingCheck, string(flipkyc.StatusUploadIdentitySelfieProgress), f.nowMillis(), a.Key, StateUploadingSelfie)
		if err != nil {
			return err
		}
		if n == 0 {
			// Moved on already (the upload check's callback came first),
			// parked, or handed to another job (whose completion then
			// changes nothing): the uploads are done for this job.
			return f.finish(ctx, tx)
		}
		// The upload check may already be known (read above, or the
		// status passed in): apply it.
		if status != flipkyc.StatusUploadIdentitySelfieProgress {
			if _, err := f.advance(ctx, tx, a.AgentID.Int64, status, 0); err != nil {
				return err
			}
		}
		return f.finish(ctx, tx) // the agent's uploads are done: so is the job
	})
	if err == nil && sending == 1 {
		a.State, a.KYCStatus, a.StepRequestID, a.sendNow = StateUploadingSelfie, string(status), next, true
	}
	return err
}

// submit hands the agent to Flip's review; a submission in doubt is
// settled by reading the agent.
func (f *Fleet) submit(ctx context.Context, a *agent) error {
	switch a.State {
	case StateChecked:
		rid := newRequestID()
		n, err := f.changeNoting(ctx, a.Key, request(opSubmit, rid, resultSending), "UPDATE fleet_agents SET state = ?, step_request_id = ?, updated_at = ? WHERE key = ? AND state = ?",
			StateSubmitting, rid, f.nowMillis(), a.Key, StateChecked)
		if err != nil || n == 0 {
			return err
		}
		a.StepRequestID = rid
	case StateSubmitting:
		if a.sendNow {
			a.sendNow = false
			break // its intent was recorded with the step's lease: nothing was sent under it yet
		}
		got, err := f.flip.GetAgent(ctx, a.AgentID.Int64)
		if err != nil {
			return err
		}
		if !got.KYCStatus.CanSubmit() {
			return f.observe(ctx, a.AgentID.Int64, got, request(opGetAgent, "", fmt.Sprintf("status %s: the submission took effect", got.KYCStatus)))
		}
		f.noteNow(ctx, a.Key, request(opGetAgent, "", fmt.Sprintf("status %s: the submission did not take effect; sent again under its Request-ID", got.KYCStatus)))
	default:
		return nil
	}
	res, err := f.flip.SubmitKYC(ctx, a.AgentID.Int64, flipkyc.RequestID(a.StepRequestID))
	if err != nil {
		var api *flipkyc.APIError
		sent := request(opSubmit, a.StepRequestID, resultOf(err))
		switch {
		case errors.Is(err, flipkyc.ErrInvalidAgentStatus):
			got, gerr := f.flip.GetAgent(ctx, a.AgentID.Int64)
			if gerr != nil {
				f.noteNow(ctx, a.Key, sent)
				return gerr
			}
			f.noteNow(ctx, a.Key, sent)
			return f.observe(ctx, a.AgentID.Int64, got, request(opGetAgent, "", "status "+string(got.KYCStatus)))
		case errors.Is(err, flipkyc.ErrOutcomeUnknown), errors.Is(err, flipkyc.ErrRateLimited):
			f.noteNow(ctx, a.Key, sent)
			return err
		case errors.As(err, &api):
			return f.park(ctx, a.Key, StateSubmitting, fmt.Sprintf("Flip refused the submission: %v", err), sent)
		}
		f.noteNow(ctx, a.Key, sent)
		return err
	}
	return f.settle(ctx, a.Key, StateSubmitting, request(opSubmit, a.StepRequestID, acceptedResult(res != nil && res.ConfirmedByRead)))
}

// settle records a submission or correction Flip accepted, with the
// journal's notes of it: the agent is in review, and the step's job is
// done with it.
func (f *Fleet) settle(ctx context.Context, key, from string, notes ...Entry) error {
	return f.settleWith(ctx, key, from, nil, notes...)
}

// settleWith is settle that also runs also, when not nil, in its
// transaction.
func (f *Fleet) settleWith(ctx context.Context, key, from string, also func(tx *sql.Tx) error, notes ...Entry) error {
	ctx = context.WithoutCancel(ctx)
	return f.db.inTx(ctx, func(tx *sql.Tx) error {
		if also != nil {
			if err := also(tx); err != nil {
				return err
			}
		}
		// Under review, an agent has no correction left to send: a sent
		// one is not kept.
		_, err := f.changeNotingIn(ctx, tx, key, notes, nil, // Flip took it, whoever moved the agent since
			"UPDATE fleet_agents SET state = ?, kyc_status = ?, repair = '', updated_at = ? WHERE key = ? AND state = ?",
			StateInReview, string(flipkyc.StatusPending), f.nowMillis(), key, from)
		if err != nil {
			return err
		}
		// Moved on already (Flip's decision came first), or handed to
		// another job: the step is done all the same.
		return f.finish(ctx, tx)
	})
}

// observe applies a status read from Flip; notes (how it was read) go to
// the journal when the status moved the agent.
func (f *Fleet) observe(ctx context.Context, agentID int64, got *flipkyc.Agent, notes ...Entry) error {
	ctx = context.WithoutCancel(ctx)
	return f.db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := f.advanceNoting(ctx, tx, agentID, got.KYCStatus, got.RejectedReasonCode, notes); err != nil {
			return err
		}
		return f.finish(ctx, tx) // a read settles the step
	})
}

// poll reads an agent whose callback is late (the reconciler's work).
func (f *Fleet) poll(ctx context.Context, a *agent) error {
	if Final(a.State) || !a.AgentID.Valid {
		return nil
	}
	got, err := f.flip.GetAgent(ctx, a.AgentID.Int64)
	if err != nil {
		return err
	}
	return f.observe(ctx, a.AgentID.Int64, got, request(opGetAgent, "", "status "+string(got.KYCStatus)))
}

// waiting are the states in which an agent waits for a callback.
var waiting = []string{StateAwaitingCheck, StateInReview}

// reconcileChunk is how many late agents one transaction of reconcile
// queues: a transaction holds the database's write lock (SQLite's, for
// every process), which others' steps and callbacks wait for.
const reconcileChunk = 200

// reconcile queues a read of the agents whose callback is late, at most
// ReconcileBatch each time, reconcileChunk at a time.
func (f *Fleet) reconcile(ctx context.Context) error {
	cutoff := f.nowMillis() - f.cfg.StaleAfter.Milliseconds()
	for left := f.cfg.ReconcileBatch; left > 0; {
		n := min(left, reconcileChunk)
		var keys []string
		err := f.db.inTx(ctx, func(tx *sql.Tx) error {
			if err := collect(ctx, tx, f.db.rebind("SELECT key FROM fleet_agents WHERE state IN (?, ?) AND updated_at < ? AND polled_at < ? ORDER BY updated_at LIMIT ?"),
				collectString(&keys), waiting[0], waiting[1], cutoff, cutoff, n); err != nil {
				return err
			}
			for _, k := range keys {
				if _, err := f.db.exec(ctx, tx, "UPDATE fleet_agents SET polled_at = ? WHERE key = ?", f.nowMillis(), k); err != nil {
					return err
				}
				if err := f.insert(ctx, tx, pollArgs{Key: k}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil || len(keys) < n {
			return err
		}
		left -= len(keys)
	}
	return nil
}

// advance applies a KYC status seen for an agent (by callback or by
// reading it) in tx: it moves the agent on and queues the next step. It
// reports whether the agent moved.
func (f *Fleet) advance(ctx context.Context, tx *sql.Tx, agentID int64, status flipkyc.KYCStatus, code flipkyc.RejectionCode) (bool, error) {
	return f.advanceNoting(ctx, tx, agentID, status, code, nil)
}

// advanceNoting is advance that, when the agent moves, records notes (how
// the status was learnt) and, for a final state, the state in the
// journal, in one statement.
func (f *Fleet) advanceNoting(ctx context.Context, tx *sql.Tx, agentID int64, status flipkyc.KYCStatus, code flipkyc.RejectionCode, notes []Entry) (bool, error) {
	lock := ""
	if f.db.postgres {
		lock = " FOR UPDATE"
	}
	var key, state string
	err := f.db.queryRow(ctx, tx, "SELECT key, state FROM fleet_agents WHERE agent_id = ?"+lock, agentID).Scan(&key, &state)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil // not an agent of this run
	}
	if err != nil {
		return false, err
	}
	in := func(states ...string) bool { return slices.Contains(states, state) }
	var to string
	switch status {
	case flipkyc.StatusUploadIdentitySelfieSuccess:
		if in(StateUploadingSelfie, StateAwaitingCheck) {
			to = StateChecked
		}
	case flipkyc.StatusUploadIdentitySelfieFailed:
		if in(StateUploadingSelfie, StateAwaitingCheck) {
			to = StateUploadFailed
		}
	case flipkyc.StatusPending:
		if in(StateUploadingSelfie, StateAwaitingCheck, StateChecked, StateSubmitting, StateRepairing) {
			to = StateInReview
		}
	case flipkyc.StatusSuspicious, flipkyc.StatusNeedToCheck, flipkyc.StatusHelp:
		// Flagged for Flip's own check after a submission or a repair:
		// still under review, read by the reconciler until decided.
		if in(StateUploadingSelfie, StateAwaitingCheck, StateChecked, StateSubmitting, StateRepairing) {
			to = StateInReview
		}
	case flipkyc.StatusApproved:
		if !in(StateApproved, StateNew, StateCreating, StateAttention) {
			to = StateApproved
		}
	case flipkyc.StatusRejected:
		if in(StateUploadingSelfie, StateAwaitingCheck, StateChecked, StateSubmitting, StateInReview, StateRepairing) {
			to = StateRejected
		}
	}
	if to == "" {
		// Nothing to do. The status is kept as news for an agent still
		// under way (SUSPICIOUS after PENDING, say); an agent that reached
		// its decision keeps the status of that decision, since a status
		// that does not move it is an older one (a callback that arrived
		// late, or a read that crossed it).
		_, err := f.change(ctx, tx, "UPDATE fleet_agents SET kyc_status = ? WHERE key = ? AND state NOT IN (?, ?, ?, ?)",
			string(status), key, StateApproved, StateRejected, StateUploadFailed, StateAttention)
		return false, err
	}
	// An agent that leaves its uploads, or its correction, keeps no
	// correction made for them.
	entries := notes
	if Final(to) {
		entries = append(notes[:len(notes):len(notes)], finalEntry(to, status, code))
	}
	n, err := f.changeNotingIn(ctx, tx, key, nil, entries,
		"UPDATE fleet_agents SET state = ?, kyc_status = ?, rejection_code = ?, selfie_uploaded = CASE WHEN ? THEN 1 ELSE selfie_uploaded END, "+
			"repair = CASE WHEN ? THEN '' ELSE repair END, updated_at = ? WHERE key = ? AND state = ?",
		to, string(status), int(code), state == StateUploadingSelfie, slices.Contains(uploadStates, state) || state == StateRepairing, f.nowMillis(), key, state)
	if err != nil || n == 0 {
		return false, err
	}
	if to == StateChecked {
		return true, f.insert(ctx, tx, submitArgs{Key: key})
	}
	return true, nil
}
