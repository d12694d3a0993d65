package fleet

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// PersonalField is a kind of personal data a run may hold about an agent,
// always sealed with the data key (see DataKey).
type PersonalField string

// The kinds of personal data of an agent's row. ImagePaths are the paths
// of its identity and selfie photos (the photos stay where they are; the
// run reads them to send them).
const (
	FieldName           PersonalField = "name"
	FieldIdentityNumber PersonalField = "identity_number"
	FieldBirthDate      PersonalField = "birth_date"
	FieldBirthPlace     PersonalField = "birth_place"
	FieldGender         PersonalField = "gender"
	FieldOccupation     PersonalField = "occupation"
	FieldAddress        PersonalField = "address"
	FieldPhoneNumber    PersonalField = "phone_number"
	FieldEmail          PersonalField = "email"
	FieldImagePaths     PersonalField = "image_paths"
)

// PersonalFields lists every kind, in the order of the CSV; an agent's
// personal_fields column holds bit i for PersonalFields[i].
var PersonalFields = []PersonalField{FieldName, FieldIdentityNumber, FieldBirthDate, FieldBirthPlace,
	FieldGender, FieldOccupation, FieldAddress, FieldPhoneNumber, FieldEmail, FieldImagePaths}

// personalFields is the bit set of the kinds a row holds.
func personalFields(r Row) int {
	p := r.Params
	held := []bool{p.Name != "", p.IdentityNumber != "", !p.BirthDate.IsZero(), p.BirthPlace != "",
		p.Gender != "", p.Occupation != "", p.Address != "" || p.ResidenceAddress != "", p.PhoneNumber != "", p.Email != "",
		r.IdentityImage != "" || r.SelfieImage != ""}
	bits := 0
	for i, h := range held {
		if h {
			bits |= 1 << i
		}
	}
	return bits
}

// fieldNames lists the kinds of a bit set, comma-separated.
func fieldNames(bits int) string {
	var names []string
	for i, f := range PersonalFields {
		if bits&(1<<i) != 0 {
			names = append(names, string(f))
		}
	}
	return strings.Join(names, ",")
}

// sealedRow is a row as fleet_agents stores it: the columns row,
// personal_fields and phone_key.
type sealedRow struct {
	row      string // the row sealed for its agent
	fields   int    // the kinds of personal data it holds (personalFields)
	phoneKey string // its phone number's keyed hash (DataKey.phoneKey)
}

// sealRow returns the row sealed for the agent key, the kinds it holds and
// its phone number's keyed hash.
func (k *DataKey) sealRow(agentKey string, r Row) (sealedRow, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return sealedRow{}, err
	}
	return sealedRow{k.seal(agentKey, b), personalFields(r), k.phoneKey(r.Params.PhoneNumber)}, nil
}

// openRow reads a row sealed by sealRow; "" (erased) is the zero Row.
func (k *DataKey) openRow(agentKey, sealed string, line int) (Row, error) {
	var r Row
	if sealed == "" {
		return r, nil
	}
	if k == nil {
		return r, ErrNoDataKey
	}
	b, err := k.open(agentKey, sealed)
	if err != nil {
		return r, fmt.Errorf("fleet: stored row of line %d: %w", line, err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("fleet: stored row of line %d: %w", line, err)
	}
	return r, nil
}

// withoutPath is a file error without the file's path, for a reason stored
// in clear: photo names and directories are often people's names.
func withoutPath(err error) error {
	if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
