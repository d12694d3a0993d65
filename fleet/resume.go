package fleet

import (
	"context"
	"database/sql"
	"slices"
	"strings"

	"github.com/riverqueue/river"

	"github.com/flipkyc/flipkyc"
)

// Ways out of a parked agent (Record.WayOut).
const (
	// WayOutResume: fix what the reason names (an image file, Flip being
	// down), then Resume (flipkyc resume, or onboard again) retries the
	// step that parked the agent.
	WayOutResume = "resume"
	// WayOutAgentID: the agent's create may have reached Flip (outcome
	// unknown) or Flip has it already (2002): it is never sent again; give
	// the agent id Flip has in a repair (Repair.AgentID).
	WayOutAgentID = "agent_id"
	// WayOutRepair: an image of an agent Flip has created could not be
	// read or was refused, or Flip refused its corrected data: sending
	// the same again would fail again. A repair row with identity_image,
	// selfie_image and/or corrected data (Fleet.Repair) takes the agent on
	// from the upload it was parked at.
	WayOutRepair = "repair"
)

// Reasons, in clear and without personal data, that park an agent created
// at Flip whose upload cannot go on as it is: their way out is
// WayOutRepair.
const (
	reasonUnreadableImage = "cannot read the "
	reasonImageRefused    = "image refused: "
	reasonUploadRefused   = "Flip refused the upload"
	reasonDataRefused     = "Flip refused the corrected data: "
)

// uploadStates are the states of an agent's uploads, after its create.
var uploadStates = []string{StateCreated, StateUploadingIdentity, StateIdentityUploaded, StateUploadingSelfie}

// wayOut is the way out of an agent parked in state from with the reason.
func wayOut(from, createRequestID string, agentID int64, reason string) string {
	if from == StateCreating || (from == "" && agentID == 0 && createRequestID != "") {
		return WayOutAgentID
	}
	if agentID != 0 && slices.Contains(uploadStates, from) {
		for _, p := range []string{reasonUnreadableImage, reasonImageRefused, reasonUploadRefused, reasonDataRefused} {
			if strings.HasPrefix(reason, p) {
				return WayOutRepair
			}
		}
	}
	return WayOutResume
}

// Resume puts back the parked agents whose way out is WayOutResume (a step
// that failed for good, an image that could not be read or was refused,
// a submission or correction Flip refused): each goes back to the state it
// was parked in, the callbacks stored for it while it was parked are
// applied in the order they came, and the job of its step is queued, all
// in one transaction. It returns how many agents it put back. Agents
// parked at their create, and agents whose image or corrected data was
// refused or unreadable (WayOutRepair), are left to a repair row.
func (f *Fleet) Resume(ctx context.Context) (int, error) {
	rows, err := f.db.query(ctx, f.db.sql, "SELECT key, parked_from, create_request_id, agent_id, attention FROM fleet_agents WHERE state = ?", StateAttention)
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
		if p.from != "" && wayOut(p.from, rid, p.id.Int64, reason) == WayOutResume {
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
		if err := f.note(ctx, tx, key, Entry{Kind: EntryAction, Operation: opResume, Result: "back to " + from, Actor: actorOf(ctx)}); err != nil {
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
