package flipkyc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// RepairDataParams corrects an agent's identity data after a rejection with
// code 10 (data does not match the identity card). Every field is optional
// and only the fields that are set (non-zero) are sent; at least one must be
// set. Each field follows the rule of its AgentParams namesake.
//
// It prints (under every fmt verb) with its personal data masked.
type RepairDataParams struct {
	Name                string       // full name, 1 to 50 characters
	IdentityType        IdentityType // IdentityKTP or IdentityPassport
	IdentityNumber      string       // at most 16 characters for a KTP, 20 for a passport
	BirthDate           Date         // a real calendar day
	BirthPlace          string       // at most 255 characters
	Gender              Gender       // GenderMale or GenderFemale
	Occupation          Occupation   // one of the Occupation constants
	CountryID           int64        // an id from ListCountries
	ProvinceID          int64        // an id from ListProvinces
	CityID              int64        // an id from ListCities
	DistrictID          int64        // an id from ListDistricts
	Address             string       // the identity document's street address, 10 to 300 characters
	ResidenceCountryID  int64        // where the agent lives, if not at Address: an id from ListCountries
	ResidenceProvinceID int64        // an id from ListProvinces
	ResidenceCityID     int64        // an id from ListCities
	ResidenceDistrictID int64        // an id from ListDistricts
	ResidenceAddress    string       // as Address
	PhoneNumber         string       // must be the number the company verified
	UseIdentityAddress  *bool        // the agent lives at the identity document's address; see Ptr
}

// identity returns p as identity data, for the field table.
func (p *RepairDataParams) identity() AgentParams {
	return AgentParams{
		Name: p.Name, IdentityType: p.IdentityType, IdentityNumber: p.IdentityNumber,
		BirthDate: p.BirthDate, BirthPlace: p.BirthPlace, Gender: p.Gender, Occupation: p.Occupation,
		CountryID: p.CountryID, ProvinceID: p.ProvinceID, CityID: p.CityID, DistrictID: p.DistrictID,
		Address: p.Address, ResidenceCountryID: p.ResidenceCountryID, ResidenceProvinceID: p.ResidenceProvinceID,
		ResidenceCityID: p.ResidenceCityID, ResidenceDistrictID: p.ResidenceDistrictID,
		ResidenceAddress: p.ResidenceAddress, PhoneNumber: p.PhoneNumber, UseIdentityAddress: p.UseIdentityAddress,
	}
}

// form encodes the set fields, after user_type, in the KYC service's wire
// form (identity type and gender as 1 or 2), application/x-www-form-urlencoded.
func (p *RepairDataParams) form() string {
	e := formEncoder{b: make([]byte, 0, 256)}
	e.add("user_type", UserTypeAgent.String())
	d := p.identity()
	encodeIdentity(&e, &d, kycAPI, true)
	return string(e.b)
}

// personalValues returns p's personal data, for masking in errors.
func (p *RepairDataParams) personalValues() []string {
	return personalForms(append([]string{p.IdentityNumber, p.PhoneNumber}, dateForms(p.BirthDate)...),
		p.Name, p.BirthPlace, p.Address, p.ResidenceAddress)
}

// Validate checks the fields that are set against Flip's rules, and that at
// least one is set, as RepairData does before sending, and returns a
// *ValidationError or nil.
func (p RepairDataParams) Validate() error {
	var v fieldErrors
	p.check(&v)
	return v.err("RepairDataParams")
}

// check records every documented rule the set fields break.
func (p *RepairDataParams) check(v *fieldErrors) {
	d := p.identity()
	checkIdentity(v, &d, true)
	if p.form() == "user_type="+UserTypeAgent.String() {
		v.add("params", "at least one field must be set")
	}
}

// KYCUser is an agent as the KYC service returns it from RepairData. The
// KYC service writes identity type, gender and status as numbers; they
// decode to the same constants as the v2 agents API's names.
//
// It prints (under every fmt verb) with its personal data masked; its JSON
// form, with Flip's field names, keeps them.
type KYCUser struct {
	UserID          int64        `json:"user_id"`           // the agent's id, as Agent.ID
	UserType        UserType     `json:"user_type"`         // UserTypeAgent
	Name            string       `json:"name"`              // full name
	BirthPlace      string       `json:"birth_place"`       // place of birth
	BirthDate       Date         `json:"birth_date"`        // date of birth
	Gender          Gender       `json:"gender"`            // GenderMale or GenderFemale
	Status          KYCStatus    `json:"status"`            // the KYC status: StatusPending after a repair
	BasicDataFilled bool         `json:"basic_data_filled"` // Flip's flag that the identity data is complete
	IdentityType    IdentityType `json:"identity_type"`     // IdentityKTP or IdentityPassport
	// NIK is the identity number of a KTP holder; PassportNumber that of a
	// passport holder. The other is empty.
	NIK                 string     `json:"nik"`
	PassportNumber      string     `json:"passport_number"`       // see NIK
	Occupation          Occupation `json:"occupation"`            // one of the Occupation constants, or as received
	CountryID           int64      `json:"country_id"`            // the identity document's address: an id from ListCountries
	ProvinceID          int64      `json:"province_id"`           // an id from ListProvinces
	CityID              int64      `json:"city_id"`               // an id from ListCities
	DistrictID          int64      `json:"district_id"`           // an id from ListDistricts
	Address             string     `json:"address"`               // the street address
	ResidenceCountryID  int64      `json:"residence_country_id"`  // where the agent lives: an id from ListCountries
	ResidenceProvinceID int64      `json:"residence_province_id"` // an id from ListProvinces
	ResidenceCityID     int64      `json:"residence_city_id"`     // an id from ListCities
	ResidenceDistrictID int64      `json:"residence_district_id"` // an id from ListDistricts
	ResidenceAddress    string     `json:"residence_address"`     // the street address
	CreatedAt           Timestamp  `json:"created_at"`            // when Flip created the agent's record
	UpdatedAt           Timestamp  `json:"updated_at"`            // when Flip last updated it, here with the repair
	// ConfirmedByRead is true when Flip's reply to RepairData was lost and
	// the SDK confirmed the repair by reading the agent. The record then
	// holds what GetAgent returns (id, name, identity type and number,
	// status) and the fields the repair sent; the others are zero.
	ConfirmedByRead bool `json:"-"`
	// Problems lists what was missing or odd in a 2xx reply to RepairData,
	// one entry per field, never with a personal value: a user_id that is
	// absent or 0 (UserID is then the agent repaired) or another agent's
	// (kept as sent), a missing status, or a body that could not be read at
	// all (the record then holds the agent's id, StatusPending and the
	// fields sent). Empty for a well-formed reply.
	Problems []string `json:"-"`
}

// kycUserReply decodes a KYC user in one pass, accepting its id and user
// type as numbers or numeric strings.
type kycUserReply struct {
	kycUserFields
	UserID   flexInt `json:"user_id"`
	UserType flexInt `json:"user_type"`
}

// kycUserFields is KYCUser without its methods, so kycUserReply can embed it.
type kycUserFields KYCUser

// user returns the decoded user, which shares r's memory.
func (r *kycUserReply) user() *KYCUser {
	u := (*KYCUser)(&r.kycUserFields)
	u.UserID, u.UserType = int64(r.UserID), UserType(r.UserType)
	return u
}

func (r *kycUserReply) checkResponse() error {
	if r.UserID <= 0 {
		return errors.New("reply has no user_id")
	}
	return nil
}

func (*kycUserReply) lenient() {}

// UnmarshalJSON decodes a KYC user leniently, as Agent.UnmarshalJSON does:
// ids and codes as numbers or numeric strings, a field of an unexpected type
// converted or left zero.
func (u *KYCUser) UnmarshalJSON(b []byte) error {
	var r kycUserReply
	if err := decodeReply(b, &r); err != nil {
		return err
	}
	*u = *r.user()
	return nil
}

// RepairData re-sends corrected identity data after a rejection
// (PUT /users/{id}/repair). Flip accepts it only when the agent's rejection
// code calls for it, code 10 (ErrRejectedReasonMismatch otherwise), and
// answers with the agent's KYC record, whose status is StatusPending: the
// agent is under review again.
//
// A repair is a state change and is never sent twice blindly. When it fails
// after it may have reached Flip, RepairData waits (SettleDelay at least)
// and reads the agent: if the agent is under review or approved and shows
// the data sent, it succeeds with ConfirmedByRead set; if it is still
// rejected with code 10, the repair was not made and is sent again with the
// same Request-ID, as the retry policy's attempts allow; otherwise it
// returns an error matching ErrOutcomeUnknown.
//
// A 2xx reply is Flip's success whatever its body: the record holds what
// the reply carried, and Problems says what was missing or odd (an absent
// or zero user_id, a body that could not be read), the fields it could not
// give filled from the call.
func (c *Client) RepairData(ctx context.Context, agentID int64, p RepairDataParams, opts ...CallOption) (*KYCUser, error) {
	var v fieldErrors
	v.agentID(agentID)
	p.check(&v)
	if err := v.err("RepairData"); err != nil {
		return nil, err
	}
	var r kycUserResult
	form := p.form()
	a, err := c.settle(ctx, &stateChangeRule{op: "RepairData", agentID: agentID, took: p.visibleIn,
		notYet: rejectedFor(FixRepairData), refusal: ErrRejectedReasonMismatch, next: nextRepair}, opts,
		func(opts []CallOption) error {
			r = kycUserResult{}
			// Flip's legacy page documents this body as multipart, the newer
			// "Update User Agent Identity" page as form-urlencoded; the newer wins.
			return c.do(ctx, call{op: "RepairData", method: http.MethodPut, api: kycAPI, path: userPath(agentID) + "/repair",
				form: form, sent: &p, anyReply: true}, &r, opts)
		})
	switch {
	case err != nil:
		return nil, err
	case a != nil:
		return p.confirmedUser(a), nil
	}
	return p.repairedUser(agentID, &r), nil
}

// kycUserResult decodes RepairData's 2xx reply and remembers whether it
// could: a 2xx is Flip's success whatever its body.
type kycUserResult struct {
	reply   kycUserReply
	decoded bool
}

func (r *kycUserResult) UnmarshalJSON(b []byte) error {
	r.decoded = decodeReply(b, &r.reply) == nil
	return nil
}

// repairedUser returns the KYC record of a repair Flip answered with 2xx:
// what the reply carried, with what was missing or odd noted in Problems.
func (p *RepairDataParams) repairedUser(agentID int64, r *kycUserResult) *KYCUser {
	if !r.decoded {
		// Nothing could be read: Flip took the repair, which puts the agent
		// under review; the record is what the call sent.
		u := p.confirmedUser(&Agent{ID: agentID, KYCStatus: StatusPending})
		u.ConfirmedByRead = false
		u.Problems = []string{"reply: the body could not be read; the record holds the data sent and StatusPending"}
		return u
	}
	u := r.reply.user()
	switch {
	case u.UserID == 0:
		u.Problems = append(u.Problems, "user_id: missing or 0 in the reply; the agent's id from the call is used")
		u.UserID = agentID
	case u.UserID != agentID:
		u.Problems = append(u.Problems, fmt.Sprintf("user_id: the reply names agent %d, not the agent repaired (%d)", u.UserID, agentID))
	}
	switch {
	case u.Status == "":
		u.Problems = append(u.Problems, "status: missing in the reply")
	case !u.Status.Known():
		u.Problems = append(u.Problems, "status: "+string(u.Status)+" is not a KYC status Flip documents")
	}
	return u
}

// visibleIn reports whether the repair shows in a, as read by GetAgent: the
// agent is under review or approved, and the fields GetAgent returns carry
// the values sent.
func (p *RepairDataParams) visibleIn(a *Agent) bool {
	same := func(sent, read string) bool { return sent == "" || sent == read }
	return underReview(a) && same(p.Name, a.Name) && same(p.IdentityNumber, a.IdentityNumber) &&
		same(string(p.IdentityType), string(a.IdentityType)) && same(p.PhoneNumber, a.PhoneNumber)
}

// confirmedUser builds the KYC record of a repair confirmed by reading: what
// GetAgent returned, with the fields the repair sent.
func (p *RepairDataParams) confirmedUser(a *Agent) *KYCUser {
	u := &KYCUser{UserID: a.ID, UserType: UserTypeAgent, Name: a.Name, Status: a.KYCStatus,
		IdentityType: a.IdentityType, Gender: a.Gender, Occupation: a.Occupation, ConfirmedByRead: true}
	if p.Name != "" {
		u.Name = p.Name
	}
	if p.IdentityType != "" {
		u.IdentityType = p.IdentityType
	}
	number := a.IdentityNumber
	if p.IdentityNumber != "" {
		number = p.IdentityNumber
	}
	if u.IdentityType == IdentityPassport {
		u.PassportNumber = number
	} else {
		u.NIK = number
	}
	u.BirthDate, u.BirthPlace = p.BirthDate, p.BirthPlace
	if p.Gender != "" {
		u.Gender = p.Gender
	}
	if p.Occupation != "" {
		u.Occupation = p.Occupation
	}
	u.CountryID, u.ProvinceID, u.CityID, u.DistrictID = p.CountryID, p.ProvinceID, p.CityID, p.DistrictID
	u.Address = p.Address
	u.ResidenceCountryID, u.ResidenceProvinceID = p.ResidenceCountryID, p.ResidenceProvinceID
	u.ResidenceCityID, u.ResidenceDistrictID = p.ResidenceCityID, p.ResidenceDistrictID
	u.ResidenceAddress = p.ResidenceAddress
	return u
}

// RepairIdentityImage uploads a new photo of the identity card after a
// rejection with code 14 to 21 (PUT /users/{id}/repairPhoto); after a
// rejection with another code Flip refuses it (ErrRejectedReasonMismatch).
// Image rules and retries as for UploadIdentityImage.
//
// When it fails after it may have reached Flip, it reads the agent as
// SubmitKYC does: an agent under review or approved means the repair took
// effect, and the result has ConfirmedByRead set and no ImageURL.
func (c *Client) RepairIdentityImage(ctx context.Context, agentID int64, img Image, opts ...CallOption) (*UploadResult, error) {
	return c.repairImage(ctx, "RepairIdentityImage", agentID, "/repairPhoto", FixRepairIdentityImage, img, opts)
}

// RepairSelfieWithIdentity uploads a new selfie holding the identity card
// after a rejection with code 23 to 27 (PUT /users/{id}/repairSelfie). Image
// rules, retries and the reading after an unknown outcome as for
// RepairIdentityImage.
func (c *Client) RepairSelfieWithIdentity(ctx context.Context, agentID int64, img Image, opts ...CallOption) (*UploadResult, error) {
	return c.repairImage(ctx, "RepairSelfieWithIdentity", agentID, "/repairSelfie", FixRepairSelfie, img, opts)
}

func (c *Client) repairImage(ctx context.Context, op string, agentID int64, suffix string, fix Fix, img Image, opts []CallOption) (*UploadResult, error) {
	return c.putImage(ctx, op, &fieldErrors{}, agentID, suffix, nil, img, opts, &stateChangeRule{op: op, agentID: agentID,
		took: underReview, notYet: rejectedFor(fix), refusal: ErrRejectedReasonMismatch, next: nextRepair})
}
