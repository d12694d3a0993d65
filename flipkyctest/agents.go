package flipkyctest

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/flipkyc/flipkyc"
)

// companyID is the fake company every agent belongs to.
const companyID = 45529

// agent is the fake's record of one agent.
type agent struct {
	id      int64
	params  flipkyc.AgentParams
	status  flipkyc.KYCStatus
	code    flipkyc.RejectionCode
	created flipkyc.Timestamp
	updated flipkyc.Timestamp
	// submitted and verified are zero until the agent is submitted and decided.
	submitted flipkyc.Timestamp
	verified  flipkyc.Timestamp
	uploads   int // image uploads so far, counted against WithMaxUploads
	reviews   int // reviews so far, passed to the Reviewer
}

// setStatus moves the agent to st with rejection code code.
func (a *agent) setStatus(st flipkyc.KYCStatus, code flipkyc.RejectionCode) {
	a.status, a.code, a.updated = st, code, now()
}

// public returns the agent as the SDK types it.
func (a *agent) public() flipkyc.Agent {
	p := a.params
	return flipkyc.Agent{
		ID: a.id, CompanyID: companyID, Name: p.Name, IdentityType: p.IdentityType, IdentityNumber: p.IdentityNumber,
		BirthPlace: p.BirthPlace, BirthDate: p.BirthDate, Gender: p.Gender,
		CountryID: p.CountryID, CountryName: placeName(p.CountryID, countries),
		ProvinceID: p.ProvinceID, ProvinceName: placeName(p.ProvinceID, provinces),
		CityID: p.CityID, CityName: placeName(p.CityID, cities),
		DistrictID: p.DistrictID, DistrictName: placeName(p.DistrictID, districts),
		Address:            p.Address,
		ResidenceCountryID: p.ResidenceCountryID, ResidenceCountryName: placeName(p.ResidenceCountryID, countries),
		ResidenceProvinceID: p.ResidenceProvinceID, ResidenceProvinceName: placeName(p.ResidenceProvinceID, provinces),
		ResidenceCityID: p.ResidenceCityID, ResidenceCityName: placeName(p.ResidenceCityID, cities),
		ResidenceDistrictID: p.ResidenceDistrictID, ResidenceDistrictName: placeName(p.ResidenceDistrictID, districts),
		ResidenceAddress: p.ResidenceAddress, Occupation: p.Occupation, PhoneNumber: p.PhoneNumber, Email: p.Email,
		KYCStatus: a.status, RejectedReasonCode: a.code, RejectedReason: a.code.Message(),
		Status: flipkyc.AgentActive, CreatedAt: a.created,
	}
}

// event returns the callback Flip would send for the agent's current status.
func (a *agent) event() flipkyc.Event {
	return flipkyc.Event{
		AgentID: a.id, AgentName: a.params.Name, KYCStatus: a.status,
		RejectedReasonCode: a.code, RejectedReason: a.code.Message(),
		CreatedAt: a.created, UpdatedAt: a.updated, SubmittedAt: a.submitted, VerifiedAt: a.verified,
	}
}

// nullableID is an optional id on the wire: null when unset.
func nullableID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// fullJSON is the Agent object that create and update return.
func fullJSON(a *agent) map[string]any {
	p := a.public()
	return map[string]any{
		"id": p.ID, "company_id": p.CompanyID, "name": p.Name,
		"identity_type": p.IdentityType, "identity_number": p.IdentityNumber,
		"birth_place": p.BirthPlace, "birth_date": p.BirthDate.String(), "gender": p.Gender,
		"country_id": p.CountryID, "country_name": p.CountryName,
		"province_id": p.ProvinceID, "province_name": p.ProvinceName,
		"city_id": p.CityID, "city_name": p.CityName,
		"district_id": p.DistrictID, "district_name": p.DistrictName,
		"address":              p.Address,
		"residence_country_id": nullableID(p.ResidenceCountryID), "residence_country_name": p.ResidenceCountryName,
		"residence_province_id": nullableID(p.ResidenceProvinceID), "residence_province_name": p.ResidenceProvinceName,
		"residence_city_id": nullableID(p.ResidenceCityID), "residence_city_name": p.ResidenceCityName,
		"residence_district_id": nullableID(p.ResidenceDistrictID), "residence_district_name": p.ResidenceDistrictName,
		"residence_address": p.ResidenceAddress, "occupation": p.Occupation,
		"phone_number": p.PhoneNumber, "email": p.Email, "kyc_status": p.KYCStatus,
	}
}

// getJSON is the smaller object that get returns.
func getJSON(a *agent) map[string]any {
	var code any
	if a.code != 0 {
		code = int(a.code)
	}
	return map[string]any{
		"id": a.id, "company_id": companyID, "name": a.params.Name,
		"identity_type": a.params.IdentityType, "identity_number": a.params.IdentityNumber,
		"phone_number": a.params.PhoneNumber, "email": a.params.Email,
		"kyc_status": a.status, "rejected_reason_code": code, "rejected_reason": a.code.Message(),
		"status": flipkyc.AgentActive, "created_at": a.created.Raw,
	}
}

// normalizePhone returns the number as Flip stores it: +62… for a local 0….
func normalizePhone(n string) string {
	if rest, ok := strings.CutPrefix(n, "0"); ok {
		return "+62" + rest
	}
	return n
}

// checkAgent validates create and update input: Flip's field rules from the
// fake's own table (rules.go), applied to the form as sent, the location
// ids' nesting, and uniqueness within the company (self excluded).
func (s *Server) checkAgent(x *exchange, self int64) (flipkyc.AgentParams, int, any) {
	var p flipkyc.AgentParams
	if broken := judgeForm(agentsAPI, x.rec.Fields, nil); len(broken) > 0 {
		status, body := refusal(agentsAPI, broken)
		return p, status, body
	}
	storeFields(&p, agentsAPI, x.rec.Fields)
	if field := checkPlaces(p.CountryID, p.ProvinceID, p.CityID, p.DistrictID, ""); field != "" {
		return p, http.StatusUnprocessableEntity, v2ValidationError(field, 1041, "Invalid attribute")
	}
	if field := checkPlaces(p.ResidenceCountryID, p.ResidenceProvinceID, p.ResidenceCityID, p.ResidenceDistrictID, "residence_"); field != "" {
		return p, http.StatusUnprocessableEntity, v2ValidationError(field, 1041, "Invalid attribute")
	}
	switch {
	case s.byIdentity.heldByOther(p.IdentityNumber, self):
		return p, http.StatusUnprocessableEntity, v2ValidationError("identity_number", 2002, "Identity number has been used/registered")
	case s.byPhone.heldByOther(p.PhoneNumber, self):
		return p, http.StatusUnprocessableEntity, v2ValidationError("phone_number", 2002, "Phone number has been used/registered")
	}
	return p, 0, nil
}

// agentIndex finds agents by identity number or by phone number (as stored,
// +62…). A key usually has one agent, but a repair, which Flip checks for
// identity numbers only, can give an agent a phone number another holds.
type agentIndex map[string][]int64

func (ix agentIndex) add(key string, id int64) {
	if key != "" {
		ix[key] = append(ix[key], id)
	}
}

func (ix agentIndex) remove(key string, id int64) {
	ids := ix[key]
	if i := slices.Index(ids, id); i >= 0 {
		ids = slices.Delete(ids, i, i+1)
	}
	if len(ids) == 0 {
		delete(ix, key)
		return
	}
	ix[key] = ids
}

// heldByOther reports whether an agent other than self has key.
func (ix agentIndex) heldByOther(key string, self int64) bool {
	for _, id := range ix[key] {
		if id != self {
			return true
		}
	}
	return false
}

// setParams replaces the agent's data and keeps the indexes up to date.
func (s *Server) setParams(a *agent, p flipkyc.AgentParams) {
	s.byIdentity.remove(a.params.IdentityNumber, a.id)
	s.byPhone.remove(a.params.PhoneNumber, a.id)
	a.params = p
	s.byIdentity.add(p.IdentityNumber, a.id)
	s.byPhone.add(p.PhoneNumber, a.id)
}

func (s *Server) createAgent(x *exchange) (int, any) {
	p, status, body := s.checkAgent(x, 0)
	if status != 0 {
		return status, body
	}
	s.nextID++
	a := &agent{id: s.nextID, created: now()}
	a.setStatus(flipkyc.StatusBasicData, 0)
	s.setParams(a, p)
	s.agents[a.id] = a
	return http.StatusOK, fullJSON(a)
}

func (s *Server) updateAgent(x *exchange) (int, any) {
	a, status, body := s.v2Agent(x)
	if a == nil {
		return status, body
	}
	switch a.status {
	case flipkyc.StatusPending, flipkyc.StatusApproved:
		return http.StatusUnprocessableEntity, v2ValidationError("", 1092, "Agent is not allowed to update")
	}
	p, status, body := s.checkAgent(x, a.id)
	if status != 0 {
		return status, body
	}
	s.setParams(a, p)
	a.updated = now()
	return http.StatusOK, fullJSON(a)
}

func (s *Server) getAgent(x *exchange) (int, any) {
	a, status, body := s.v2Agent(x)
	if a == nil {
		return status, body
	}
	return http.StatusOK, getJSON(a)
}

// v2Agent finds the agent named in a v2 path, or returns Flip's 404.
func (s *Server) v2Agent(x *exchange) (*agent, int, any) {
	id, err := strconv.ParseInt(x.r.PathValue("id"), 10, 64)
	a := s.agents[id]
	if err != nil || a == nil {
		return nil, http.StatusNotFound, v2Error("Not Found", "Agent not found", 404)
	}
	return a, 0, nil
}
