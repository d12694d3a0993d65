package fleet

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"

	"github.com/riverqueue/river"

	"github.com/flipkyc/flipkyc"
)

// Repair records corrections for rejected agents (or agents whose upload
// check failed) and queues them, each in one transaction with its job. A
// correction must be the one the agent's rejection calls for; one that is
// not, or for an agent that is not waiting for one, is returned as a
// RowError and changes nothing.
//
// A Repair with AgentID resumes an agent parked at its create instead (see
// Repair.AgentID); it needs Config.SecretKey, to read the agent from Flip.
// A Repair with NotCreated creates such an agent again, under a new
// Request-ID (see Repair.NotCreated).
//
// A Repair with IdentityImage, SelfieImage and/or Data for an agent
// created at Flip and parked at its uploads (an image that could not be
// read or that Flip refused, corrected data Flip refused: WayOutRepair)
// records the correction, sealed, and takes the agent on from the upload
// it was parked at: the corrected data is sent first (UpdateAgent), then
// the uploads not yet done, with the new files.
//
// A Repair with Data for an agent whose create Flip refused for its data
// (WayOutRepair, no agent id) corrects the agent's row and creates it
// again, under a new Request-ID: Flip's refusal proves it created nothing.
// A Repair for a rejected agent whose correction could not be read or was
// refused (WayOutRepair) replaces that correction.
//
// A Repair may name its agent by AgentLine instead of IdentityNumber, and
// give its photos and documents as bytes (IdentityImageData,
// SelfieImageData, DocumentFile.Data), checked by Flip's image rules
// before anything is stored. Each correction or action taken goes to the
// agent's timeline with the actor of ctx (WithActor).
func (f *Fleet) Repair(ctx context.Context, repairs []Repair) ([]RowError, error) {
	var bad []RowError
	// The phone numbers of the corrections queued and not yet sent, this
	// call's included: read when a row first corrects a number.
	var queued queuedPhones
	for _, rp := range repairs {
		if broken := checkRepair(rp); len(broken) > 0 {
			bad = append(bad, broken...)
			continue
		}
		phoneKey, key := "", ""
		if rp.Data != nil && f.db.key != nil {
			phoneKey = f.db.key.phoneKey(rp.Data.PhoneNumber)
		}
		if phoneKey != "" {
			var err error
			if queued == nil {
				if queued, err = f.db.queuedPhones(ctx); err != nil {
					return bad, err
				}
			}
			if key, _, err = f.repairKey(ctx, rp); err != nil {
				return bad, err
			}
			if h := queued.other(phoneKey, key); key != "" && h.line != 0 {
				bad = append(bad, RowError{rp.Line, "phone_number", h.rule()})
				continue
			}
		}
		rule, err := f.queueRepair(ctx, rp)
		if err != nil {
			return bad, err
		}
		if rule.Rule != "" {
			bad = append(bad, rule)
			continue
		}
		if queued != nil {
			// The agent's correction as now queued, which may replace
			// one with another number (a re-create stores the number
			// as the agent's instead).
			if key == "" {
				if key, _, err = f.repairKey(ctx, rp); err != nil {
					return bad, err
				}
			}
			if err := f.db.requeue(ctx, queued, key); err != nil {
				return bad, err
			}
		}
	}
	return bad, nil
}

func (rp Repair) kind() (flipkyc.Fix, int) {
	var kinds []flipkyc.Fix
	if rp.Data != nil {
		kinds = append(kinds, flipkyc.FixRepairData)
	}
	if rp.hasIdentityImage() {
		kinds = append(kinds, flipkyc.FixRepairIdentityImage)
	}
	if rp.hasSelfieImage() {
		kinds = append(kinds, flipkyc.FixRepairSelfie)
	}
	if len(rp.Documents) > 0 {
		kinds = append(kinds, flipkyc.FixSupportingDocuments)
	}
	if len(kinds) == 0 {
		return "", 0
	}
	return kinds[0], len(kinds)
}

// answers checks that rp is one correction, the one the rejection of an
// agent in state (rejected or upload_failed) with code calls for; it
// returns the RowError saying why not, or the zero RowError.
func (rp Repair) answers(state string, code int) RowError {
	fix, n := rp.kind()
	if n != 1 {
		return RowError{rp.Line, "row", "give one correction per row: the one the rejection calls for"}
	}
	fixes := FixFor(state, flipkyc.RejectionCode(code))
	if !slices.Contains(fixes, fix) {
		return RowError{rp.Line, "row", fmt.Sprintf("rejection code %d calls for %v, not %s", code, fixes, fix)}
	}
	return RowError{}
}

func (f *Fleet) queueRepair(ctx context.Context, rp Repair) (RowError, error) {
	fail := func(field, rule string) (RowError, error) { return RowError{rp.Line, field, rule}, nil }
	if f.db.key == nil {
		return RowError{}, ErrNoDataKey
	}
	key, unknown, err := f.repairKey(ctx, rp)
	if err != nil || unknown.Rule != "" {
		return unknown, err
	}
	a, err := f.load(ctx, f.db.sql, key)
	if errors.Is(err, errNotFound) {
		return fail("identity_number", "no agent of this run has it")
	}
	if err != nil {
		return RowError{}, err
	}
	if a.Erased {
		return fail("identity_number", "the agent's personal data was erased from this run (flipkyc forget, or its retention period ended): the run cannot repair it; onboard the agent again in a new run")
	}
	if rp.Data != nil {
		// (Repair checks the queued corrections' numbers.)
		if taken, err := f.db.phoneOfAnother(ctx, nil, rp.Line, a.Key, rp.Data.PhoneNumber); err != nil || taken.Rule != "" {
			return taken, err
		}
	}
	if rp.AgentID != 0 {
		return f.resolve(ctx, rp, a)
	}
	if rp.NotCreated != "" {
		return f.recreate(ctx, rp, a)
	}
	if a.State == StateAttention {
		var from string
		if err := f.db.queryRow(ctx, f.db.sql, "SELECT parked_from FROM fleet_agents WHERE key = ?", a.Key).Scan(&from); err != nil {
			return RowError{}, err
		}
		switch out := wayOut(from, a.CreateRequestID, a.AgentID.Int64, a.Attention); {
		case !a.AgentID.Valid && out == WayOutRepair:
			return f.createAgain(ctx, rp, a)
		case from == StateRepairing && out == WayOutRepair:
			return f.replaceCorrection(ctx, rp, a)
		case a.AgentID.Valid:
			return f.continueUploads(ctx, rp, a)
		}
	}
	if a.State != StateRejected && a.State != StateUploadFailed {
		return fail("identity_number", fmt.Sprintf("the agent is %s, not waiting for a correction", a.State))
	}
	if bad := rp.answers(a.State, a.Code); bad.Rule != "" {
		return bad, nil
	}
	b, err := json.Marshal(rp)
	if err != nil {
		return RowError{}, err
	}
	err = f.db.inTx(ctx, func(tx *sql.Tx) error {
		// erased_at = 0: an erasure since the agent was read wins.
		n, err := f.db.exec(ctx, tx, "UPDATE fleet_agents SET state = ?, repair = ?, updated_at = ? WHERE key = ? AND state = ? AND erased_at = 0",
			StateRepairQueued, f.db.key.seal(a.Key, b), f.nowMillis(), a.Key, a.State)
		if err != nil || n == 0 {
			return err
		}
		fix, _ := rp.kind()
		if err := f.db.note(ctx, tx, a.Key, Entry{Kind: EntryRepair, Operation: opCorrection, Result: "queued: " + string(fix), Actor: actorOf(ctx)}); err != nil {
			return err
		}
		return f.insert(ctx, tx, repairArgs{Key: a.Key})
	})
	return RowError{}, err
}

// repair sends a queued correction, at most once with effect: the intent
// (state repairing) and its Request-ID are recorded before the request.
// An agent found in state repairing (the process stopped, or the reply was
// lost) is read first: a status that left REJECTED (or the failed upload
// check) means the correction took effect, and it is not sent again; a
// status still waiting for it resends the correction under the recorded
// Request-ID.
func (f *Fleet) repair(ctx context.Context, a *agent) error {
	switch a.State {
	case StateRepairQueued:
		rid := newRequestID()
		n, err := f.changeNoting(ctx, a.Key, request(repairOp(a.Repair), rid, resultSending), "UPDATE fleet_agents SET state = ?, step_request_id = ?, updated_at = ? WHERE key = ? AND state = ?",
			StateRepairing, rid, f.nowMillis(), a.Key, StateRepairQueued)
		if err != nil || n == 0 {
			return err
		}
		a.StepRequestID = rid
	case StateRepairing:
		got, err := f.flip.GetAgent(ctx, a.AgentID.Int64)
		if err != nil {
			return err
		}
		if !got.KYCStatus.CanUploadDocuments() {
			// PENDING, SUSPICIOUS, NEED_TO_CHECK or HELP: in review;
			// APPROVED: approved (advance). The correction took effect
			// and is not kept; corrected data becomes the row's.
			var rp Repair
			_ = json.Unmarshal([]byte(a.Repair), &rp) // unreadable: nothing to carry over
			if err := f.db.inTx(ctx, func(tx *sql.Tx) error {
				if err := f.keepCorrectedData(ctx, tx, a, rp); err != nil {
					return err
				}
				// Fenced: a worker whose lease was handed over leaves the
				// correction to the job that holds the agent now.
				_, err := f.change(ctx, tx, "UPDATE fleet_agents SET repair = '' WHERE key = ? AND state = ?", a.Key, StateRepairing)
				return err
			}); err != nil {
				return err
			}
			return f.observe(ctx, a.AgentID.Int64, got, request(opGetAgent, "", fmt.Sprintf("status %s: the correction took effect", got.KYCStatus)))
		}
		f.noteNow(ctx, a.Key, request(opGetAgent, "", fmt.Sprintf("status %s: the correction did not take effect; sent again under its Request-ID", got.KYCStatus)))
	default:
		return nil
	}
	rid := flipkyc.RequestID(a.StepRequestID)
	var rp Repair
	if err := json.Unmarshal([]byte(a.Repair), &rp); err != nil {
		return f.park(ctx, a.Key, StateRepairing, reasonStoredCorrection+err.Error())
	}
	id := a.AgentID.Int64
	open := func(path string) (*os.File, flipkyc.Image, error) {
		file, err := openImage(rp.Images, path)
		return file, flipkyc.Image{Name: filepath.Base(path), Content: file}, err
	}
	var err error
	confirmed := false // the reply was lost and the SDK read the effect
	switch fix, _ := rp.kind(); fix {
	case flipkyc.FixRepairData:
		var u *flipkyc.KYCUser
		u, err = f.flip.RepairData(ctx, id, *rp.Data, rid)
		confirmed = err == nil && u != nil && u.ConfirmedByRead
	case flipkyc.FixRepairIdentityImage, flipkyc.FixRepairSelfie:
		selfie := fix == flipkyc.FixRepairSelfie
		path, send := rp.IdentityImage, f.flip.RepairIdentityImage
		if selfie {
			path, send = rp.SelfieImage, f.flip.RepairSelfieWithIdentity
		}
		img := rp.imageData(selfie)
		if img == nil {
			file, opened, oerr := open(path)
			if oerr != nil {
				return f.park(ctx, a.Key, StateRepairing, reasonCorrectionUnreadable+withoutPath(oerr).Error())
			}
			defer file.Close()
			img = &opened
		}
		var res *flipkyc.UploadResult
		res, err = send(ctx, id, *img, rid)
		confirmed = err == nil && res != nil && res.ConfirmedByRead
	case flipkyc.FixSupportingDocuments:
		var docs []flipkyc.Document
		for _, d := range rp.Documents {
			img, closer, oerr := documentImage(rp.Images, d)
			if oerr != nil {
				return f.park(ctx, a.Key, StateRepairing, reasonDocumentUnreadable+withoutPath(oerr).Error())
			}
			defer closer.Close()
			docs = append(docs, flipkyc.Document{Type: d.Type, Selfie: d.Selfie, Image: img})
		}
		_, err = f.flip.UploadDocuments(ctx, id, docs, rid)
	}
	if err != nil {
		var api *flipkyc.APIError
		var ve *flipkyc.ValidationError
		sent := request(repairOp(a.Repair), a.StepRequestID, resultOf(err))
		switch {
		case errors.Is(err, flipkyc.ErrOutcomeUnknown), errors.Is(err, flipkyc.ErrRateLimited):
			f.noteNow(ctx, a.Key, sent)
			return err
		case errors.As(err, &api), errors.As(err, &ve):
			return f.park(ctx, a.Key, StateRepairing, reasonCorrectionRefused+err.Error(), sent)
		}
		f.noteNow(ctx, a.Key, sent)
		return err
	}
	// Sent: the correction is no longer needed, and settle does not keep
	// it; corrected data becomes the row's.
	keep := func(tx *sql.Tx) error { return f.keepCorrectedData(ctx, tx, a, rp) }
	return f.settleWith(ctx, a.Key, StateRepairing, keep, request(repairOp(a.Repair), a.StepRequestID, acceptedResult(confirmed)))
}

// keepCorrectedData writes the data of a correction Flip took (the fields
// rp.Data gives) into the agent's sealed row in tx, so that what the run
// holds of the agent (Reveal, exports) is what Flip holds, and nothing of
// the correction is kept beside it. An agent erased meanwhile keeps no
// row. The agent keeps its key, the keyed hash of the identity number it
// was imported with: a corrected identity number is the row's, but the
// run still finds the agent by the old one.
func (f *Fleet) keepCorrectedData(ctx context.Context, tx *sql.Tx, a *agent, rp Repair) error {
	if rp.Data == nil || a.Erased || f.db.key == nil {
		return nil
	}
	row := a.Row
	applyCorrection(&row.Params, *rp.Data)
	s, err := f.db.key.sealRow(a.Key, row)
	if err != nil {
		return err
	}
	_, err = f.change(ctx, tx, "UPDATE fleet_agents SET row = ?, personal_fields = ?, phone_key = ? WHERE key = ? AND erased_at = 0", s.row, s.fields, s.phoneKey, a.Key)
	return err
}

// applyCorrection sets each field of p that d gives (is not zero in d) to
// d's value: a correction sends only the fields it gives, and the
// parameters of a correction are a subset of an agent's, by name.
func applyCorrection(p *flipkyc.AgentParams, d flipkyc.RepairDataParams) {
	to, from := reflect.ValueOf(p).Elem(), reflect.ValueOf(d)
	for i := range from.NumField() {
		v := from.Field(i)
		if v.IsZero() {
			continue
		}
		if field := to.FieldByName(from.Type().Field(i).Name); field.IsValid() && field.Type() == v.Type() {
			field.Set(v)
		}
	}
}

// continueUploads records a correction for an agent created at Flip and
// parked at its uploads, and puts the agent back at the upload it was
// parked at, with the job that sends it, in one transaction. An upload
// that was in doubt gets a new Request-ID (the file or data changed); it
// is still read from Flip first, so an upload that took effect is never
// sent again.
func (f *Fleet) continueUploads(ctx context.Context, rp Repair, a *agent) (RowError, error) {
	fail := func(field, rule string) (RowError, error) { return RowError{rp.Line, field, rule}, nil }
	var from string
	if err := f.db.queryRow(ctx, f.db.sql, "SELECT parked_from FROM fleet_agents WHERE key = ?", a.Key).Scan(&from); err != nil {
		return RowError{}, err
	}
	switch {
	case !slices.Contains(uploadStates, from):
		return fail("identity_number", fmt.Sprintf("the agent is parked at %s, not at its uploads: see its way out in 'flipkyc status'", from))
	case len(rp.Documents) > 0:
		return fail("documents", "the agent is parked at its uploads: give identity_image, selfie_image and/or corrected data")
	case rp.Data == nil && !rp.hasIdentityImage() && !rp.hasSelfieImage():
		return fail("row", "the agent is parked at its uploads: give identity_image, selfie_image and/or corrected data")
	case rp.hasIdentityImage() && (from == StateIdentityUploaded || from == StateUploadingSelfie):
		return fail("identity_image", "Flip has the agent's identity image already: it is not sent again")
	}
	b, err := json.Marshal(rp)
	if err != nil {
		return RowError{}, err
	}
	// The new files become the row's when they are in its images
	// directory (the run then names the files in use); the correction
	// names them in any case.
	row := a.Row
	if rp.Images == row.Images {
		if rp.IdentityImage != "" {
			row.IdentityImage = rp.IdentityImage
		}
		if rp.SelfieImage != "" {
			row.SelfieImage = rp.SelfieImage
		}
	}
	s, err := f.db.key.sealRow(a.Key, row)
	if err != nil {
		return RowError{}, err
	}
	err = f.db.inTx(ctx, func(tx *sql.Tx) error {
		rid := a.StepRequestID
		if from == StateUploadingIdentity || from == StateUploadingSelfie {
			rid = newRequestID()
		}
		// erased_at = 0: an erasure since the agent was read wins.
		n, err := f.db.exec(ctx, tx, "UPDATE fleet_agents SET state = ?, row = ?, personal_fields = ?, phone_key = ?, repair = ?, step_request_id = ?, attention = '', parked_from = '', updated_at = ? WHERE key = ? AND state = ? AND parked_from = ? AND erased_at = 0",
			from, s.row, s.fields, s.phoneKey, f.db.key.seal(a.Key, b), rid, f.nowMillis(), a.Key, StateAttention, from)
		if err != nil || n == 0 {
			return err
		}
		if err := f.db.note(ctx, tx, a.Key, Entry{Kind: EntryRepair, Operation: opCorrection, Result: "queued for the uploads, from " + from + ": " + uploadCorrection(rp), Actor: actorOf(ctx)}); err != nil {
			return err
		}
		if err := f.applyStored(ctx, tx, a.AgentID.Int64); err != nil {
			return err
		}
		var state string
		if err := f.db.queryRow(ctx, tx, "SELECT state FROM fleet_agents WHERE key = ?", a.Key).Scan(&state); err != nil {
			return err
		}
		if next := jobFor(state, a.Key); next != nil {
			return f.insert(ctx, tx, next)
		}
		return nil
	})
	return RowError{}, err
}

// resolve records the agent id a person found for an agent parked at its
// create, after checking it with Flip, and puts the agent in the state its
// KYC status at Flip calls for, with the job that takes it on.
func (f *Fleet) resolve(ctx context.Context, rp Repair, a *agent) (RowError, error) {
	fail := func(field, rule string) (RowError, error) { return RowError{rp.Line, field, rule}, nil }
	switch {
	case a.State != StateAttention:
		return fail("agent_id", fmt.Sprintf("the agent is %s, not parked: agent_id resumes an agent parked at its create", a.State))
	case a.AgentID.Valid:
		return fail("agent_id", fmt.Sprintf("the agent already has id %d: agent_id resumes an agent parked at its create", a.AgentID.Int64))
	case a.CreateRequestID == "":
		return fail("agent_id", "the agent's create was never sent")
	case f.flip == nil:
		return RowError{}, errors.New("fleet: a repair with agent_id needs Config.SecretKey, to read the agent from Flip")
	}
	var other string
	err := f.db.queryRow(ctx, f.db.sql, "SELECT key FROM fleet_agents WHERE agent_id = ?", rp.AgentID).Scan(&other)
	if err == nil {
		return fail("agent_id", "another agent of this run has this id")
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return RowError{}, err
	}
	got, err := f.flip.GetAgent(ctx, rp.AgentID)
	if errors.Is(err, flipkyc.ErrNotFound) {
		return fail("agent_id", "Flip has no agent with this id")
	}
	if err != nil {
		return RowError{}, err
	}
	if f.db.key.agentKey(got.IdentityNumber) != a.Key {
		return fail("agent_id", "Flip's agent with this id has another identity number")
	}
	state, next := resumeAt(got.KYCStatus, a.Key)
	if state == "" {
		return fail("agent_id", fmt.Sprintf("Flip's agent is in status %q, which the run does not know", got.KYCStatus))
	}
	err = f.db.inTx(ctx, func(tx *sql.Tx) error {
		n, err := f.db.exec(ctx, tx, "UPDATE fleet_agents SET state = ?, agent_id = ?, kyc_status = ?, rejection_code = ?, attention = '', parked_from = '', updated_at = ? WHERE key = ? AND state = ? AND agent_id IS NULL",
			state, rp.AgentID, string(got.KYCStatus), int(got.RejectedReasonCode), f.nowMillis(), a.Key, StateAttention)
		if err != nil || n == 0 {
			return err
		}
		if err := f.db.note(ctx, tx, a.Key, Entry{Kind: EntryAction, Operation: opAgentID, RequestID: a.CreateRequestID,
			Result: fmt.Sprintf("agent %d checked with Flip (status %s): goes on from %s without a create", rp.AgentID, got.KYCStatus, state), Actor: actorOf(ctx)}); err != nil {
			return err
		}
		if next == nil {
			return nil
		}
		return f.insert(ctx, tx, next)
	})
	return RowError{}, err
}

// recreate queues the create again of an agent parked at its create that
// Flip, asked by a person, never created: the person confirms it with the
// Request-ID of that create, and the create goes with a new one.
func (f *Fleet) recreate(ctx context.Context, rp Repair, a *agent) (RowError, error) {
	fail := func(rule string) (RowError, error) { return RowError{rp.Line, "not_created", rule}, nil }
	switch {
	case a.State != StateAttention:
		return fail(fmt.Sprintf("the agent is %s, not parked: not_created creates again an agent parked at its create", a.State))
	case a.AgentID.Valid:
		return fail(fmt.Sprintf("the agent has id %d at Flip: it was created", a.AgentID.Int64))
	case a.CreateRequestID == "":
		return fail("the agent's create was never sent")
	case a.CreateRequestID != rp.NotCreated:
		return fail("not the Request-ID of the agent's last create: give that one ('flipkyc status --export' shows it), once Flip confirmed it created no agent")
	}
	err := f.db.inTx(ctx, func(tx *sql.Tx) error {
		n, err := f.db.exec(ctx, tx, "UPDATE fleet_agents SET state = ?, attention = '', parked_from = '', updated_at = ? WHERE key = ? AND state = ? AND agent_id IS NULL AND create_request_id = ?",
			StateNew, f.nowMillis(), a.Key, StateAttention, rp.NotCreated)
		if err != nil || n == 0 {
			return err
		}
		if err := f.db.note(ctx, tx, a.Key, Entry{Kind: EntryAction, Operation: opNotCreated, RequestID: rp.NotCreated,
			Result: "Flip created no agent with this Request-ID: the create goes again under a new one", Actor: actorOf(ctx)}); err != nil {
			return err
		}
		return f.insert(ctx, tx, createArgs{Key: a.Key})
	})
	return RowError{}, err
}

// resumeAt is the state of an agent first seen with a KYC status at Flip,
// and the job that takes it on (nil when the agent waits for a callback
// or is final). An upload Flip has is never sent again.
func resumeAt(s flipkyc.KYCStatus, key string) (string, river.JobArgs) {
	switch s {
	case flipkyc.StatusBasicData, flipkyc.StatusUploadIdentityFailed:
		return StateCreated, uploadArgs{Key: key}
	case flipkyc.StatusUploadIdentitySuccess:
		return StateIdentityUploaded, uploadArgs{Key: key}
	case flipkyc.StatusUploadIdentitySelfieProgress:
		return StateAwaitingCheck, nil
	case flipkyc.StatusUploadIdentitySelfieSuccess:
		return StateChecked, submitArgs{Key: key}
	case flipkyc.StatusUploadIdentitySelfieFailed:
		return StateUploadFailed, nil
	case flipkyc.StatusPending, flipkyc.StatusSuspicious, flipkyc.StatusNeedToCheck, flipkyc.StatusHelp:
		return StateInReview, nil
	case flipkyc.StatusApproved:
		return StateApproved, nil
	case flipkyc.StatusRejected:
		return StateRejected, nil
	}
	return "", nil
}

// createAgain takes a repair row's corrected data for an agent whose create
// Flip refused for its data (WayOutRepair, no agent id): see recreateWith.
// The row gives data columns only: the agent's images are sent once it is
// created (onboard's corrected row changes them; Fleet.TakeChanges).
func (f *Fleet) createAgain(ctx context.Context, rp Repair, a *agent) (RowError, error) {
	const dataOnly = "Flip refused the agent's create for its data: give the corrected data columns (its images are sent once it is created; to change them, correct its row in the onboarding CSV and onboard again)"
	switch {
	case rp.hasIdentityImage():
		return RowError{rp.Line, "identity_image", dataOnly}, nil
	case rp.hasSelfieImage():
		return RowError{rp.Line, "selfie_image", dataOnly}, nil
	case len(rp.Documents) > 0:
		return RowError{rp.Line, "documents", dataOnly}, nil
	case rp.Data == nil:
		return RowError{rp.Line, "row", dataOnly}, nil
	}
	row := a.Row
	applyCorrection(&row.Params, *rp.Data)
	return f.recreateWith(ctx, rp.Line, a, row)
}

// recreateWith records row, the corrected row of an agent whose create was
// refused for its data (Flip's refusal, or the SDK's checks before sending:
// no agent was created), and queues its create, which goes under a new
// Request-ID, in one transaction. The corrected data must differ from the
// refused data and pass the SDK's validation, and location ids it changes
// must be in their parents' lists; otherwise a RowError on line says why,
// and nothing changes.
func (f *Fleet) recreateWith(ctx context.Context, line int, a *agent, row Row) (RowError, error) {
	same, err := sameParams(a.Row.Params, row.Params)
	if err != nil {
		return RowError{}, err
	}
	if same {
		return RowError{line, "row", "the data is as Flip refused it: correct the field the reason names (flipkyc status)"}, nil
	}
	if err := row.Params.Validate(); err != nil {
		return fieldErrors(line, err)[0], nil
	}
	o, n := a.Row.Params, row.Params
	if f.flip != nil && (o.CountryID != n.CountryID || o.ProvinceID != n.ProvinceID || o.CityID != n.CityID || o.DistrictID != n.DistrictID) {
		check := row
		check.Line, check.Places = line, PlaceNames{}
		_, bad, err := f.Locations().Resolve(ctx, []Row{check})
		if err != nil || len(bad) > 0 {
			return firstOf(bad), err
		}
	}
	row.Line = a.Row.Line
	s, err := f.db.key.sealRow(a.Key, row)
	if err != nil {
		return RowError{}, err
	}
	err = f.db.inTx(ctx, func(tx *sql.Tx) error {
		// attention = the reason read: the agent is parked as it was;
		// erased_at = 0: an erasure since the agent was read wins.
		n, err := f.db.exec(ctx, tx, "UPDATE fleet_agents SET state = ?, row = ?, personal_fields = ?, phone_key = ?, repair = '', attention = '', parked_from = '', updated_at = ? WHERE key = ? AND state = ? AND agent_id IS NULL AND attention = ? AND erased_at = 0",
			StateNew, s.row, s.fields, s.phoneKey, f.nowMillis(), a.Key, StateAttention, a.Attention)
		if err != nil || n == 0 {
			return err
		}
		if err := f.db.note(ctx, tx, a.Key, Entry{Kind: EntryRepair, Operation: opCorrection, RequestID: a.CreateRequestID,
			Result: "corrected data for the refused create: the create goes again under a new Request-ID", Actor: actorOf(ctx)}); err != nil {
			return err
		}
		return f.insert(ctx, tx, createArgs{Key: a.Key})
	})
	return RowError{}, err
}

// sameParams reports whether two agents' data are the same.
func sameParams(a, b flipkyc.AgentParams) (bool, error) {
	x, err := json.Marshal(a)
	if err != nil {
		return false, err
	}
	y, err := json.Marshal(b)
	return string(x) == string(y), err
}

// firstOf is the first of errs, or the zero RowError.
func firstOf(errs []RowError) RowError {
	if len(errs) == 0 {
		return RowError{}
	}
	return errs[0]
}

// replaceCorrection records a new correction for a rejected agent whose
// correction could not be sent as it was (its image or document could not
// be read, or Flip refused it: WayOutRepair), in place of that one. The
// new one must be the one the rejection calls for. The agent goes back to
// repairing under a new Request-ID, so its step reads the agent first: a
// correction that took effect after all is not followed by another.
// Callbacks stored while it was parked are applied.
func (f *Fleet) replaceCorrection(ctx context.Context, rp Repair, a *agent) (RowError, error) {
	rejected := StateRejected
	if flipkyc.KYCStatus(a.KYCStatus) == flipkyc.StatusUploadIdentitySelfieFailed {
		rejected = StateUploadFailed
	}
	if bad := rp.answers(rejected, a.Code); bad.Rule != "" {
		return bad, nil
	}
	b, err := json.Marshal(rp)
	if err != nil {
		return RowError{}, err
	}
	err = f.db.inTx(ctx, func(tx *sql.Tx) error {
		// erased_at = 0: an erasure since the agent was read wins.
		n, err := f.db.exec(ctx, tx, "UPDATE fleet_agents SET state = ?, repair = ?, step_request_id = ?, attention = '', parked_from = '', updated_at = ? WHERE key = ? AND state = ? AND parked_from = ? AND erased_at = 0",
			StateRepairing, f.db.key.seal(a.Key, b), newRequestID(), f.nowMillis(), a.Key, StateAttention, StateRepairing)
		if err != nil || n == 0 {
			return err
		}
		fix, _ := rp.kind()
		if err := f.db.note(ctx, tx, a.Key, Entry{Kind: EntryRepair, Operation: opCorrection, Result: "queued in place of the correction that failed: " + string(fix), Actor: actorOf(ctx)}); err != nil {
			return err
		}
		if err := f.applyStored(ctx, tx, a.AgentID.Int64); err != nil {
			return err
		}
		var state string
		if err := f.db.queryRow(ctx, tx, "SELECT state FROM fleet_agents WHERE key = ?", a.Key).Scan(&state); err != nil {
			return err
		}
		if state != StateRepairing {
			// A stored callback decided the agent: the correction is
			// not needed.
			_, err := f.db.exec(ctx, tx, "UPDATE fleet_agents SET repair = '' WHERE key = ?", a.Key)
			return err
		}
		return f.insert(ctx, tx, repairArgs{Key: a.Key})
	})
	return RowError{}, err
}
