package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/flipkyc/flipkyc"
)

// TakeChanges looks at the rows of an onboarding CSV run again whose agent
// the run has already (Import leaves those as they are). A row whose data
// or image files differ from the agent's is taken as a correction when the
// agent's way out is WayOutRepair: for an agent whose create Flip refused
// for its data (no agent was created), the row becomes the agent's and
// the agent is created again, under a new Request-ID, once its data
// differs from the refused data and passes the SDK's validation; for an
// agent parked at its uploads for an image or for data, by the rules of a
// repair row (Fleet.Repair), its changed data is sent first (UpdateAgent),
// then the uploads not yet done, with the row's files. Any other changed
// row is not used and comes back as a RowError
// saying "unchanged: in the run" and what takes the agent on instead; the
// agent is left as it is, under way, final or parked. Rows equal to their
// agent's, erased agents and rows the run does not have are passed over.
// It returns how many rows it took.
func (f *Fleet) TakeChanges(ctx context.Context, rows []Row) (int, []RowError, error) {
	if f.db.key == nil {
		return 0, nil, ErrNoDataKey
	}
	taken := 0
	var ignored []RowError
	var queued queuedPhones // read when a row first changes a phone number
	for _, r := range rows {
		a, err := f.load(ctx, f.db.sql, f.db.key.agentKey(r.Params.IdentityNumber))
		if errors.Is(err, errNotFound) {
			continue
		}
		if err != nil {
			return taken, ignored, err
		}
		if a.Erased || sameRow(a.Row, r) {
			continue
		}
		unchanged := func(how string) {
			ignored = append(ignored, RowError{r.Line, "row", fmt.Sprintf("unchanged: in the run (line %d of its CSV, state %s), and this row's changes are not used: %s", a.Line, a.State, how)})
		}
		var from, reason, rid string
		if err := f.db.queryRow(ctx, f.db.sql, "SELECT parked_from, attention, create_request_id FROM fleet_agents WHERE key = ?", a.Key).Scan(&from, &reason, &rid); err != nil {
			return taken, ignored, err
		}
		// A changed phone number another agent of the run, or a
		// correction queued for one, has would be refused by Flip.
		var phoneTaken RowError
		if r.Params.PhoneNumber != a.Row.Params.PhoneNumber {
			if queued == nil {
				if queued, err = f.db.queuedPhones(ctx); err != nil {
					return taken, ignored, err
				}
			}
			if phoneTaken, err = f.db.phoneOfAnother(ctx, queued, r.Line, a.Key, r.Params.PhoneNumber); err != nil {
				return taken, ignored, err
			}
		}
		switch {
		case a.State == StateRejected || a.State == StateUploadFailed:
			unchanged("send the correction its rejection calls for in a repair CSV (flipkyc repair --csv)")
			continue
		case a.State == StateAttention && wayOut(from, rid, a.AgentID.Int64, reason) != WayOutRepair:
			unchanged("onboard takes changes only for an agent parked at its uploads or whose create was refused for its data (way out repair); see this agent's way out in flipkyc status")
			continue
		case a.State != StateAttention:
			unchanged("the agent is under way or final; onboard corrects only an agent parked at its uploads or whose create was refused for its data (way out repair)")
			continue
		case phoneTaken.Rule != "":
			unchanged(phoneTaken.Field + ": " + phoneTaken.Rule)
			continue
		case !a.AgentID.Valid:
			// Flip refused the create for its data: the row, as it is
			// now, is the agent's, and it is created again.
			bad, err := f.recreateWith(ctx, r.Line, a, r)
			if err != nil {
				return taken, ignored, err
			}
			if bad.Rule != "" {
				unchanged(bad.Field + ": " + bad.Rule)
				continue
			}
			taken++
			if err := f.requeueIfRead(ctx, queued, a.Key); err != nil {
				return taken, ignored, err
			}
			continue
		}
		rp, other := correctionOf(a.Row, r)
		if other != "" {
			unchanged(fmt.Sprintf("%s cannot be corrected for an agent Flip has; correct the other columns in a repair CSV (flipkyc repair --csv)", other))
			continue
		}
		if rp.IdentityImage != "" && from != StateCreated && from != StateUploadingIdentity {
			rp.IdentityImage = "" // Flip has it: never sent again
		}
		if rp.Data == nil && rp.IdentityImage == "" && rp.SelfieImage == "" {
			unchanged("Flip has the agent's identity image already, and nothing else changed")
			continue
		}
		bad, err := f.continueUploads(ctx, rp, a)
		if err != nil {
			return taken, ignored, err
		}
		if bad.Rule != "" {
			unchanged(bad.Rule)
			continue
		}
		taken++
		if err := f.requeueIfRead(ctx, queued, a.Key); err != nil {
			return taken, ignored, err
		}
	}
	return taken, ignored, nil
}

// requeueIfRead brings the queued corrections' numbers up to date for the
// agent of key, when they were read.
func (f *Fleet) requeueIfRead(ctx context.Context, queued queuedPhones, key string) error {
	if queued == nil {
		return nil
	}
	return f.db.requeue(ctx, queued, key)
}

// sameRow reports whether a CSV row holds the stored row's data and image
// files.
func sameRow(stored, r Row) bool {
	a, errA := json.Marshal(stored.Params)
	b, errB := json.Marshal(r.Params)
	return errA == nil && errB == nil && string(a) == string(b) &&
		stored.IdentityImage == r.IdentityImage && stored.SelfieImage == r.SelfieImage
}

// correctionOf is the repair that turns the stored row into r: its changed
// image files and the changed fields a repair's data can correct. other
// names a changed field it cannot correct, or is "".
func correctionOf(stored, r Row) (rp Repair, other string) {
	rp = Repair{Line: r.Line, IdentityNumber: r.Params.IdentityNumber, Images: r.Images}
	if r.IdentityImage != stored.IdentityImage {
		rp.IdentityImage = r.IdentityImage
	}
	if r.SelfieImage != stored.SelfieImage {
		rp.SelfieImage = r.SelfieImage
	}
	o, n := stored.Params, r.Params
	var d flipkyc.RepairDataParams
	changed := false
	pick := func(differ bool, set func()) {
		if differ {
			set()
			changed = true
		}
	}
	pick(n.Name != o.Name, func() { d.Name = n.Name })
	pick(n.IdentityType != o.IdentityType, func() { d.IdentityType = n.IdentityType })
	pick(n.BirthDate != o.BirthDate, func() { d.BirthDate = n.BirthDate })
	pick(n.BirthPlace != o.BirthPlace, func() { d.BirthPlace = n.BirthPlace })
	pick(n.Gender != o.Gender, func() { d.Gender = n.Gender })
	pick(n.Occupation != o.Occupation, func() { d.Occupation = n.Occupation })
	pick(n.CountryID != o.CountryID, func() { d.CountryID = n.CountryID })
	pick(n.ProvinceID != o.ProvinceID, func() { d.ProvinceID = n.ProvinceID })
	pick(n.CityID != o.CityID, func() { d.CityID = n.CityID })
	pick(n.DistrictID != o.DistrictID, func() { d.DistrictID = n.DistrictID })
	pick(n.Address != o.Address, func() { d.Address = n.Address })
	pick(n.PhoneNumber != o.PhoneNumber, func() { d.PhoneNumber = n.PhoneNumber })
	if changed {
		rp.Data = &d
	}
	// What the correction leaves as stored must be as the row has it.
	applyCorrection(&o, d)
	want, errW := json.Marshal(o)
	got, errG := json.Marshal(n)
	if errW != nil || errG != nil || !bytes.Equal(want, got) {
		other = "a column other than the data columns of a repair row (email, residence)"
	}
	return rp, other
}
