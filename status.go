package flipkyc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// IdentityType is the kind of identity document an agent registers with:
// IdentityKTP or IdentityPassport.
//
// The two API families spell it differently: the v2 agents API sends "ktp" or
// "passport", the KYC service sends 1 or 2. IdentityType encodes each family's
// form explicitly and decodes all of them. A value the SDK does not know is kept
// as received (lower-cased), so it stays visible.
type IdentityType string

// Identity types documented by Flip.
const (
	IdentityKTP      IdentityType = "ktp"      // Indonesian national identity card (KTP); KYC code 1
	IdentityPassport IdentityType = "passport" // passport; KYC code 2
)

// Known reports whether t is one of the documented identity types.
func (t IdentityType) Known() bool { return t == IdentityKTP || t == IdentityPassport }

// kycCode returns the KYC-service form of t ("1" or "2").
func (t IdentityType) kycCode() string {
	switch t {
	case IdentityKTP:
		return "1"
	case IdentityPassport:
		return "2"
	}
	return string(t)
}

// maxNumberLen is the longest identity number Flip accepts for t.
func (t IdentityType) maxNumberLen() int {
	if t == IdentityKTP {
		return 16
	}
	return 20
}

// UnmarshalJSON accepts "ktp", "passport" (any case), 1, 2, "1" and "2";
// any other string or number is kept lower-cased, and null gives "".
func (t *IdentityType) UnmarshalJSON(b []byte) error {
	if k, ok := spelledConstant(b, identityTypes); ok {
		*t = k
		return nil
	}
	s, err := decodeEnumText(b)
	if err != nil {
		return fmt.Errorf("identity_type: %w", err)
	}
	switch s {
	case "1":
		*t = IdentityKTP
	case "2":
		*t = IdentityPassport
	default:
		*t = IdentityType(strings.ToLower(s))
	}
	return nil
}

// Gender is an agent's gender. The v2 agents API sends "male" or "female",
// the KYC service 1 or 2; both decode to the same values, and the SDK writes
// each API's own form.
type Gender string

// Genders documented by Flip.
const (
	GenderMale   Gender = "male"   // KYC code 1
	GenderFemale Gender = "female" // KYC code 2
)

// Known reports whether g is one of the documented genders.
func (g Gender) Known() bool { return g == GenderMale || g == GenderFemale }

func (g Gender) kycCode() string {
	switch g {
	case GenderMale:
		return "1"
	case GenderFemale:
		return "2"
	}
	return string(g)
}

// UnmarshalJSON accepts "male", "female" (any case), 1, 2, "1" and "2";
// any other string or number is kept lower-cased, and null gives "".
func (g *Gender) UnmarshalJSON(b []byte) error {
	if k, ok := spelledConstant(b, genders); ok {
		*g = k
		return nil
	}
	s, err := decodeEnumText(b)
	if err != nil {
		return fmt.Errorf("gender: %w", err)
	}
	switch s {
	case "1":
		*g = GenderMale
	case "2":
		*g = GenderFemale
	default:
		*g = Gender(strings.ToLower(s))
	}
	return nil
}

// Occupation is an agent's occupation. Flip sends it in lower case in requests
// but has been seen to answer in upper case; decoding folds case.
type Occupation string

// Occupations documented by Flip (the same set for create, update and repair).
const (
	OccupationHousewife               Occupation = "housewife"
	OccupationEntrepreneur            Occupation = "entrepreneur"
	OccupationPrivateEmployee         Occupation = "private_employee"
	OccupationGovernmentEmployee      Occupation = "government_employee"
	OccupationFoundationBoard         Occupation = "foundation_board"
	OccupationIndonesianMigrantWorker Occupation = "indonesian_migrant_worker"
	OccupationCompany                 Occupation = "company"
	OccupationOthers                  Occupation = "others"
)

// Known reports whether o is one of the documented occupations.
func (o Occupation) Known() bool {
	switch o {
	case OccupationHousewife, OccupationEntrepreneur, OccupationPrivateEmployee,
		OccupationGovernmentEmployee, OccupationFoundationBoard,
		OccupationIndonesianMigrantWorker, OccupationCompany, OccupationOthers:
		return true
	}
	return false
}

// UnmarshalJSON decodes an occupation in any case, lower-cased; an unknown
// one is kept.
func (o *Occupation) UnmarshalJSON(b []byte) error {
	if k, ok := spelledConstant(b, occupations); ok {
		*o = k
		return nil
	}
	s, err := decodeEnumText(b)
	if err != nil {
		return fmt.Errorf("occupation: %w", err)
	}
	*o = Occupation(strings.ToLower(s))
	return nil
}

// UserType is the KYC service's user type. UserTypeAgent (1) is the only
// documented value, and the SDK sends it on every KYC-service call.
type UserType int

// UserTypeAgent is the user type of a money-transfer agent.
const UserTypeAgent UserType = 1

// String returns the wire form, such as "1".
func (u UserType) String() string { return strconv.Itoa(int(u)) }

// KYCStatus is where an agent stands in Flip's KYC flow.
//
// The v2 agents API and callbacks send names; the KYC service sends numbers
// for some of them (15, 19, 20, 40, 50). Both decode to the named constants,
// names in any case. A status the SDK does not know is kept: a name
// upper-cased (in a callback's Event, as received), a number as its decimal
// digits. Known reports whether a status is one of the constants.
type KYCStatus string

// KYC statuses documented by Flip, in the order of the flow. Flip sends a
// callback for the four that carry a code of 15, 19, 40 or 50.
const (
	StatusBasicData                    KYCStatus = "BASIC_DATA"                      // created; the identity image comes next
	StatusUploadIdentityFailed         KYCStatus = "UPLOAD_IDENTITY_FAILED"          // the identity image upload failed
	StatusUploadIdentitySuccess        KYCStatus = "UPLOAD_IDENTITY_SUCCESS"         // identity image uploaded; the selfie comes next
	StatusUploadIdentitySelfieProgress KYCStatus = "UPLOAD_IDENTITY_SELFIE_PROGRESS" // selfie received; Flip is checking both images
	StatusUploadIdentitySelfieFailed   KYCStatus = "UPLOAD_IDENTITY_SELFIE_FAILED"   // code 15: the image check failed (callback)
	StatusUploadIdentitySelfieSuccess  KYCStatus = "UPLOAD_IDENTITY_SELFIE_SUCCESS"  // code 19: the image check passed (callback); submit next
	StatusPending                      KYCStatus = "PENDING"                         // code 20: waiting for Flip's review
	StatusSuspicious                   KYCStatus = "SUSPICIOUS"                      // flagged by a Flip admin, to be checked
	StatusNeedToCheck                  KYCStatus = "NEED_TO_CHECK"                   // flagged by a Flip admin, to be checked
	StatusHelp                         KYCStatus = "HELP"                            // Flip needs supporting documents, usually after a rejection
	StatusApproved                     KYCStatus = "APPROVED"                        // code 40: approved (callback)
	StatusRejected                     KYCStatus = "REJECTED"                        // code 50: rejected with a RejectionCode (callback)
)

// kycStatusCodes holds the numeric codes Flip documents; the others have none.
var kycStatusCodes = map[KYCStatus]int{
	StatusUploadIdentitySelfieFailed:  15,
	StatusUploadIdentitySelfieSuccess: 19,
	StatusPending:                     20,
	StatusApproved:                    40,
	StatusRejected:                    50,
}

// KYCStatusFromCode returns the status with Flip's numeric code n. An
// undocumented code gives a status holding its digits, which is not Known.
func KYCStatusFromCode(n int) KYCStatus {
	for s, c := range kycStatusCodes {
		if c == n {
			return s
		}
	}
	return KYCStatus(strconv.Itoa(n))
}

// Code returns Flip's numeric code for s, and false where none is
// documented (only 15, 19, 20, 40 and 50 are).
func (s KYCStatus) Code() (int, bool) {
	c, ok := kycStatusCodes[s]
	return c, ok
}

// Known reports whether s is one of the documented statuses, the Status…
// constants.
func (s KYCStatus) Known() bool {
	switch s {
	case StatusBasicData, StatusUploadIdentityFailed, StatusUploadIdentitySuccess,
		StatusUploadIdentitySelfieProgress, StatusUploadIdentitySelfieFailed,
		StatusUploadIdentitySelfieSuccess, StatusPending, StatusSuspicious,
		StatusNeedToCheck, StatusHelp, StatusApproved, StatusRejected:
		return true
	}
	return false
}

// IsFinal reports whether Flip has decided: the agent is approved or rejected.
// A rejected agent can still be repaired, which puts it under review again.
func (s KYCStatus) IsFinal() bool { return s == StatusApproved || s == StatusRejected }

// NeedsRepair reports whether the company must act before the agent can go on:
// an upload failed, the review rejected the agent, or Flip asks for help
// (StatusHelp: Flip wants supporting documents, though its documents
// endpoint does not take them in that status; see CanUploadDocuments).
func (s KYCStatus) NeedsRepair() bool {
	switch s {
	case StatusUploadIdentityFailed, StatusUploadIdentitySelfieFailed, StatusRejected, StatusHelp:
		return true
	}
	return false
}

// CanSubmit reports whether Flip accepts a KYC submission (SubmitKYC) in
// status s: only StatusUploadIdentitySelfieSuccess.
func (s KYCStatus) CanSubmit() bool { return s == StatusUploadIdentitySelfieSuccess }

// CanUploadDocuments reports whether Flip accepts supporting documents
// (UploadDocuments) in status s: StatusRejected or
// StatusUploadIdentitySelfieFailed.
func (s KYCStatus) CanUploadDocuments() bool {
	return s == StatusRejected || s == StatusUploadIdentitySelfieFailed
}

// UnmarshalJSON accepts a status name (any case; kept upper-cased) or a
// numeric code, as a number or a string; null gives "".
func (s *KYCStatus) UnmarshalJSON(b []byte) error {
	if k, ok := spelledConstant(b, kycStatuses); ok {
		*s = k
		return nil
	}
	text, err := decodeEnumText(b)
	if err != nil {
		return fmt.Errorf("kyc_status: %w", err)
	}
	if startsNumber(text) { // else Atoi's error would cost an allocation
		if n, err := strconv.Atoi(text); err == nil {
			*s = KYCStatusFromCode(n)
			return nil
		}
	}
	*s = KYCStatus(strings.ToUpper(text))
	return nil
}

// AgentStatus is the state of an agent's account, separate from its KYC
// status; Flip refuses disbursements through an agent that is not active.
// Flip documents codes 0, 10, 20 and 30 but has been seen to send the name
// "ACTIVE"; both decode to the named constants, and anything else is kept,
// upper-cased.
type AgentStatus string

// Agent account statuses. Only ACTIVE has been seen on the wire; the other
// names follow the documented descriptions.
const (
	AgentDeleted     AgentStatus = "DELETED"     // code 0
	AgentActive      AgentStatus = "ACTIVE"      // code 10
	AgentBlacklisted AgentStatus = "BLACKLISTED" // code 20
	AgentBlocked     AgentStatus = "BLOCKED"     // code 30
)

var agentStatusCodes = map[string]AgentStatus{"0": AgentDeleted, "10": AgentActive, "20": AgentBlacklisted, "30": AgentBlocked}

// UnmarshalJSON accepts a documented code (number or string) or a name,
// kept upper-cased; null gives "".
func (a *AgentStatus) UnmarshalJSON(b []byte) error {
	if k, ok := spelledConstant(b, agentStatuses); ok {
		*a = k
		return nil
	}
	text, err := decodeEnumText(b)
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	if st, ok := agentStatusCodes[text]; ok {
		*a = st
		return nil
	}
	*a = AgentStatus(strings.ToUpper(text))
	return nil
}

// The constants of each enum, which decode without an allocation when a
// reply spells them exactly.
var (
	identityTypes = []IdentityType{IdentityKTP, IdentityPassport}
	genders       = []Gender{GenderMale, GenderFemale}
	occupations   = []Occupation{OccupationHousewife, OccupationEntrepreneur, OccupationPrivateEmployee,
		OccupationGovernmentEmployee, OccupationFoundationBoard, OccupationIndonesianMigrantWorker,
		OccupationCompany, OccupationOthers}
	kycStatuses = []KYCStatus{StatusBasicData, StatusUploadIdentityFailed, StatusUploadIdentitySuccess,
		StatusUploadIdentitySelfieProgress, StatusUploadIdentitySelfieFailed, StatusUploadIdentitySelfieSuccess,
		StatusPending, StatusSuspicious, StatusNeedToCheck, StatusHelp, StatusApproved, StatusRejected}
	agentStatuses = []AgentStatus{AgentDeleted, AgentActive, AgentBlacklisted, AgentBlocked}
)

// spelledConstant returns the constant of known that the JSON value b is,
// written exactly as the constant (a string, no spaces, no escapes): the
// value each enum's UnmarshalJSON gives such text, without the copy.
func spelledConstant[T ~string](b []byte, known []T) (T, bool) {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		for _, k := range known {
			if string(b[1:len(b)-1]) == string(k) {
				return k, true
			}
		}
	}
	var none T
	return none, false
}

// startsNumber reports whether s may be an integer for strconv.Atoi: it
// starts with a sign or a digit.
func startsNumber(s string) bool {
	return s != "" && (s[0] == '+' || s[0] == '-' || '0' <= s[0] && s[0] <= '9')
}

// decodeEnumText returns the text of a JSON string or number; null gives "".
// encoding/json has already checked that b is one valid JSON value.
func decodeEnumText(b []byte) (string, error) {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		return "", nil
	case len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' && bytes.IndexByte(b, '\\') < 0:
		// The common case, a string without escapes: no second decoding pass.
		return strings.TrimSpace(string(b[1 : len(b)-1])), nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", err
		}
		return strings.TrimSpace(s), nil
	case len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9'):
		return string(b), nil
	default:
		return "", errors.New("want a string or a number")
	}
}

// Known reports whether a is one of the documented account statuses.
func (a AgentStatus) Known() bool {
	switch a {
	case AgentDeleted, AgentActive, AgentBlacklisted, AgentBlocked:
		return true
	}
	return false
}
