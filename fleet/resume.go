package fleet

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"

	"github.com/riverqueue/river"

	"github.com/flipkyc/flipkyc"
)

// Ways out of a parked agent (Record.WayOut).
const (
	// WayOutResume: fix what the reason names (an image file, Flip being
	// down, the key Flip turned a create away for), then Resume (flipkyc
	// resume, or onboard again) retries the step that parked the agent; a
	// create Flip turned away is sent under a new Request-ID.
	WayOutResume = "resume"
	// WayOutAgentID: the agent's create may have reached Flip (outcome
	// unknown) or Flip has it already (2002): it is never sent again; give
	// the agent id Flip has in a repair (Repair.AgentID).
	WayOutAgentID = "agent_id"
	// WayOutRepair: sending the same again would fail again. Flip refused
	// the agent's create for its data (a repair row with the corrected
	// data, or onboard's corrected row, creates it again under a new
	// Request-ID); an image of an agent Flip has created could not be read
	// or was refused, or Flip refused its corrected data (a repair row
	// with identity_image, selfie_image and/or corrected data takes the
	// agent on from the upload it was parked at); or the correction of a
	// rejected agent could not be read or was refused (a new repair row
	// replaces it). See Fleet.Repair and Fleet.TakeChanges.
	WayOutRepair = "repair"
	// WayOutNewRun: the agent's personal data was erased (DB.Forget, or
	// its retention period) while it was parked or under way: this run
	// cannot take it on; onboard the agent again in a new run.
	WayOutNewRun = "new_run"
)

// Reasons, in clear and without personal data, that park an agent whose
// way out is not simply the step again. Each begins the reason the step
// writes.
const (
	// After the create, at the uploads: WayOutRepair.
	reasonUnreadableImage = "cannot read the "
	reasonImageRefused    = "image refused: "
	reasonUploadRefused   = "Flip refused the upload"
	reasonDataRefused     = "Flip refused the corrected data: "
	// At the uploads or at a correction: the correction a repair row (or
	// onboard's changed row) recorded cannot be decoded: WayOutRepair,
	// whose row replaces it.
	reasonStoredCorrection = "stored correction unreadable: "
	// A correction of a rejected agent: WayOutRepair.
	reasonCorrectionUnreadable = "cannot read the corrected image: "
	reasonDocumentUnreadable   = "cannot read a document: "
	reasonCorrectionRefused    = "Flip refused the correction: "
	// A create that made no agent. Refused for its data (by Flip, or by
	// the SDK's checks before sending): WayOutRepair. Turned away for
	// another cause (401, 403, 404, …): WayOutResume, as a new create.
	reasonCreateRefused    = "Flip refused the create: "
	reasonCreateBreaksRule = "the create breaks a rule of Flip's, checked before sending: "
	reasonCreateTurnedAway = "Flip turned the create away, creating no agent: "
)

// createRefusal is the reason that parks an agent whose create Flip
// answered with err, a refusal that is not a duplicate or a rate limit
// (an *flipkyc.APIError), or that the SDK's checks refused before sending
// (a *flipkyc.ValidationError), or a duplicate of the phone number alone
// (phoneTaken): either way Flip created no agent. The error names the
// field and rule, never the value.
func createRefusal(err error) string {
	const correct = "; Flip created no agent: correct the row, in a repair CSV (identity_number and the corrected data columns; flipkyc repair) " +
		"or in the onboarding CSV (onboard again), and the agent is created again under a new Request-ID"
	var ve *flipkyc.ValidationError
	switch {
	case errors.As(err, &ve):
		return reasonCreateBreaksRule + err.Error() + correct
	case errors.Is(err, flipkyc.ErrInvalidRequest), phoneTaken(err):
		return reasonCreateRefused + err.Error() + correct
	}
	return reasonCreateTurnedAway + err.Error() + "; fix the cause (the secret key, the base URL), then flipkyc resume creates the agent under a new Request-ID"
}

// phoneTaken reports whether err, a duplicate (2002/4012) answered to a
// create, names the phone number alone: another agent holds it, and Flip,
// which found no agent with this identity number, created nothing (a
// refusal of the data: createRefusal). A duplicate that names the identity
// number, or no field, may be this agent, created before.
func phoneTaken(err error) bool {
	var api *flipkyc.APIError
	if !errors.As(err, &api) {
		return false
	}
	phone := false
	for _, d := range api.Errors {
		switch {
		// The SDK masks what reads as personal data in Flip's texts, the
		// attribute's "number" among it: "phone_[masked]".
		case strings.HasPrefix(d.Attribute, "phone"):
			phone = true
		case d.Code == 2002 || d.Code == 4012:
			return false
		}
	}
	return phone
}

// uploadStates are the states of an agent's uploads, after its create.
var uploadStates = []string{StateCreated, StateUploadingIdentity, StateIdentityUploaded, StateUploadingSelfie}

// wayOut is the way out of an agent parked in state from with the reason.
func wayOut(from, createRequestID string, agentID int64, reason string) string {
	if agentID == 0 {
		switch {
		case hasAnyPrefix(reason, reasonCreateRefused, reasonCreateBreaksRule):
			return WayOutRepair
		case strings.HasPrefix(reason, reasonCreateTurnedAway):
			return WayOutResume
		}
	}
	if from == StateCreating || (from == "" && agentID == 0 && createRequestID != "") {
		return WayOutAgentID
	}
	if agentID != 0 && slices.Contains(uploadStates, from) && hasAnyPrefix(reason, reasonUnreadableImage, reasonImageRefused, reasonUploadRefused, reasonDataRefused, reasonStoredCorrection) {
		return WayOutRepair
	}
	if agentID != 0 && from == StateRepairing && hasAnyPrefix(reason, reasonCorrectionUnreadable, reasonDocumentUnreadable, reasonCorrectionRefused, reasonStoredCorrection) {
		return WayOutRepair
	}
	return WayOutResume
}

// hasAnyPrefix reports whether s begins with one of prefixes.
func hasAnyPrefix(s string, prefixes ...string) bool {
	return slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(s, p) })
}

// Resume puts back the parked agents whose way out is WayOutResume (a step
// that failed for good, a submission Flip refused, a create Flip turned
// away without creating the agent): each goes back to the state it was
// parked in (a create turned away to new, to be sent under a new
// Request-ID), the callbacks stored for it while it was parked are applied
// in the order they came, and the job of its step is queued, all in one
// transaction. It returns how many agents it put back. Agents parked at a
// create that may have reached Flip (WayOutAgentID), and agents whose data,
// image or correction was refused or unreadable (WayOutRepair), are left
// to a repair row: the same would fail again.
func (f *Fleet) Resume(ctx context.Context) (int, error) {
	// An erased agent has no data to go on with (WayOutNewRun).
	rows, err := f.db.query(ctx, f.db.sql, "SELECT key, parked_from, create_request_id, agent_id, attention FROM fleet_agents WHERE state = ? AND erased_at = 0", StateAttention)
	if err != nil {
		return 0, err
	}
	type parked struct {
		key, from string
		id        sql.NullInt64
	}
	var todo []parked
	for rows.Next() {
		var p parked
		var rid, reason string
		if err := rows.Scan(&p.key, &p.from, &rid, &p.id, &reason); err != nil {
			rows.Close()
			return 0, err
		}
		if to, ok := resumesTo(p.from, rid, p.id.Int64, reason); ok {
			p.from = to
			todo = append(todo, p)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	resumed := 0
	for _, p := range todo {
		ok, err := f.resumeParked(ctx, p.key, p.from, p.id)
		if err != nil {
			return resumed, err
		}
		if ok {
			resumed++
		}
	}
	return resumed, nil
}

// resumesTo is the state Resume puts back an agent parked from state from
// (with its create's Request-ID, agent id and reason) in, and whether
// Resume takes it (its way out is WayOutResume).
func resumesTo(from, createRequestID string, agentID int64, reason string) (string, bool) {
	if from == "" || wayOut(from, createRequestID, agentID, reason) != WayOutResume {
		return "", false
	}
	if from == StateCreating {
		// Flip turned the create away: it made no agent, and the create
		// goes again, under a new Request-ID.
		return StateNew, true
	}
	return from, true
}

// resumeParked puts back the agent key, parked from state from, in one
// transaction: it goes back to that state, the callbacks stored while it
// was parked are applied, the job of its step is queued, and the action
// (with the actor of ctx) goes to its journal. It reports false when the
// agent was no longer parked.
func (f *Fleet) resumeParked(ctx context.Context, key, from string, id sql.NullInt64) (bool, error) {
	resumed := false
	err := f.db.inTx(ctx, func(tx *sql.Tx) error {
		n, err := f.db.exec(ctx, tx, "UPDATE fleet_agents SET state = ?, attention = '', parked_from = '', updated_at = ? WHERE key = ? AND state = ?",
			from, f.nowMillis(), key, StateAttention)
		if err != nil || n == 0 {
			return err
		}
		resumed = true
		if err := f.db.note(ctx, tx, key, Entry{Kind: EntryAction, Operation: opResume, Result: "back to " + from, Actor: actorOf(ctx)}); err != nil {
			return err
		}
		if id.Valid {
			if err := f.applyStored(ctx, tx, id.Int64); err != nil {
				return err
			}
		}
		var state string
		if err := f.db.queryRow(ctx, tx, "SELECT state FROM fleet_agents WHERE key = ?", key).Scan(&state); err != nil {
			return err
		}
		if next := jobFor(state, key); next != nil {
			return f.insert(ctx, tx, next)
		}
		return nil
	})
	return resumed && err == nil, err
}

// applyStored applies, in tx, the callbacks stored for an agent and not
// applied (they came while it was parked), in the order they came.
func (f *Fleet) applyStored(ctx context.Context, tx *sql.Tx, agentID int64) error {
	rows, err := f.db.query(ctx, tx, "SELECT key, kyc_status, rejection_code FROM fleet_events WHERE agent_id = ? AND applied = 0 ORDER BY received_at, key", agentID)
	if err != nil {
		return err
	}
	type event struct {
		key, status string
		code        int
	}
	var events []event
	for rows.Next() {
		var e event
		if err := rows.Scan(&e.key, &e.status, &e.code); err != nil {
			rows.Close()
			return err
		}
		events = append(events, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, e := range events {
		applied := Entry{Kind: EntryCallback, Operation: opCallback, Result: "stored while parked, applied now: status " + e.status}
		moved, err := f.advanceNoting(ctx, tx, agentID, flipkyc.KYCStatus(e.status), flipkyc.RejectionCode(e.code), []Entry{applied})
		if err != nil {
			return err
		}
		if moved {
			if _, err := f.db.exec(ctx, tx, "UPDATE fleet_events SET applied = 1 WHERE key = ?", e.key); err != nil {
				return err
			}
		}
	}
	return nil
}

// jobFor is the job that takes on an agent in state, nil when it waits
// for nothing the run does (final). An agent waiting for a callback is
// read at once.
func jobFor(state, key string) river.JobArgs {
	switch state {
	case StateNew, StateCreating:
		return createArgs{Key: key}
	case StateCreated, StateUploadingIdentity, StateIdentityUploaded, StateUploadingSelfie:
		return uploadArgs{Key: key}
	case StateChecked, StateSubmitting:
		return submitArgs{Key: key}
	case StateRepairQueued, StateRepairing:
		return repairArgs{Key: key}
	case StateAwaitingCheck, StateInReview:
		return pollArgs{Key: key}
	}
	return nil
}
