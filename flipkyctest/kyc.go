package flipkyctest

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flipkyc/flipkyc"
)

// kycAgent finds the agent named by id, or returns the KYC service's error.
func (s *Server) kycAgent(id string) (*agent, int, any) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return nil, http.StatusBadRequest, kycError(4003, "Invalid user ID")
	}
	a := s.agents[n]
	if a == nil {
		return nil, http.StatusNotFound, kycError(1011, "Agent ID is not found")
	}
	return a, 0, nil
}

func invalidStatus() (int, any) { return http.StatusBadRequest, kycError(4010, "Invalid agent status") }

// takeImage counts an upload attempt of field and checks the image; it
// returns an error status and body, or 0.
func (s *Server) takeImage(x *exchange, a *agent, field string) (int, any) {
	u, ok := x.files[field]
	if !ok {
		return http.StatusBadRequest, kycError(1001, "Attribute payload is empty")
	}
	if a.uploads >= s.maxUploads {
		return http.StatusBadRequest, kycError(4011, "Maximum retry has been achieved")
	}
	a.uploads++
	if code, msg := checkImage(u); code != 0 {
		return http.StatusBadRequest, kycError(code, msg)
	}
	return 0, nil
}

func (s *Server) imageURL(a *agent) map[string]any {
	return map[string]any{"image_url": fmt.Sprintf("%s/images/%d/%d.jpg", s.URL, a.id, a.uploads)}
}

// uploadIdentity takes the identity image (selfie=0) or the selfie with the
// identity card (selfie=1); after the selfie, the upload check is settled in
// the background and a callback sent.
func (s *Server) uploadIdentity(x *exchange) (int, any) {
	a, status, body := s.kycAgent(x.r.PathValue("id"))
	if a == nil {
		return status, body
	}
	f := x.rec.Fields
	wantType := map[flipkyc.IdentityType]string{flipkyc.IdentityKTP: "1", flipkyc.IdentityPassport: "2"}[a.params.IdentityType]
	if f["identity_type"] != wantType {
		return http.StatusBadRequest, kycError(4004, "Invalid identity type")
	}
	selfie := f["selfie"]
	switch {
	case selfie == "" || selfie == "0":
		if !slices.Contains([]flipkyc.KYCStatus{flipkyc.StatusBasicData, flipkyc.StatusUploadIdentityFailed, flipkyc.StatusUploadIdentitySuccess}, a.status) {
			return invalidStatus()
		}
	case selfie == "1":
		if a.status != flipkyc.StatusUploadIdentitySuccess {
			return invalidStatus()
		}
	default:
		return http.StatusBadRequest, kycError(4001, "Invalid input parameter")
	}
	if status, body := s.takeImage(x, a, "image"); status != 0 {
		if selfie != "1" {
			a.setStatus(flipkyc.StatusUploadIdentityFailed, 0)
		}
		return status, body
	}
	if selfie != "1" {
		a.setStatus(flipkyc.StatusUploadIdentitySuccess, 0)
		return http.StatusOK, s.imageURL(a)
	}
	a.setStatus(flipkyc.StatusUploadIdentitySelfieProgress, 0)
	s.settle(a.id, flipkyc.StatusUploadIdentitySelfieProgress, s.uploadCheck, func(a *agent, d Decision) {
		if d.Code != 0 {
			a.setStatus(flipkyc.StatusUploadIdentitySelfieFailed, d.Code)
			return
		}
		a.setStatus(flipkyc.StatusUploadIdentitySelfieSuccess, 0)
	})
	return http.StatusOK, s.imageURL(a)
}

// settle decides the agent in the background once the decision delay has
// passed, provided it is still in status from: judge runs without the
// server's lock, apply with it; then the callback is sent.
func (s *Server) settle(id int64, from flipkyc.KYCStatus, judge func(flipkyc.Agent) Decision, apply func(*agent, Decision)) {
	s.after(s.decisionDelay, func() {
		s.mu.Lock()
		a := s.agents[id]
		if a == nil || a.status != from {
			s.mu.Unlock()
			return
		}
		p := a.public()
		s.mu.Unlock()
		d := judge(p)
		s.mu.Lock()
		if a.status != from {
			s.mu.Unlock()
			return
		}
		apply(a, d)
		ev := a.event()
		s.mu.Unlock()
		s.sendCallback(ev)
	})
}

// review moves the agent to PENDING and settles the review in the background.
func (s *Server) review(a *agent) {
	a.setStatus(flipkyc.StatusPending, 0)
	a.submitted = a.updated
	a.reviews++
	reviews := a.reviews
	s.settle(a.id, flipkyc.StatusPending,
		func(p flipkyc.Agent) Decision { return s.reviewer(p, reviews) },
		func(a *agent, d Decision) {
			if d.Code != 0 {
				a.setStatus(flipkyc.StatusRejected, d.Code)
				return
			}
			a.setStatus(flipkyc.StatusApproved, 0)
			a.verified = a.updated
		})
}

func (s *Server) submit(x *exchange) (int, any) {
	a, status, body := s.kycAgent(x.r.PathValue("id"))
	if a == nil {
		return status, body
	}
	if !a.status.CanSubmit() {
		return invalidStatus()
	}
	s.review(a)
	return http.StatusOK, map[string]any{"message": "KYC submission success"}
}

// repairable checks that the agent was rejected with a code whose fix is fix.
func repairable(a *agent, fix flipkyc.Fix) (int, any) {
	if a.status != flipkyc.StatusRejected {
		return invalidStatus()
	}
	if !slices.Contains(a.code.Fixes(), fix) {
		return http.StatusBadRequest, kycError(4006, "Rejected reason is not match")
	}
	return 0, nil
}

func (s *Server) repairData(x *exchange) (int, any) {
	a, status, body := s.kycAgent(x.r.PathValue("id"))
	if a == nil {
		return status, body
	}
	if status, body := repairable(a, flipkyc.FixRepairData); status != 0 {
		return status, body
	}
	if !repairFieldsSent(x.rec.Fields) {
		return http.StatusBadRequest, kycError(1001, "Attribute payload is empty")
	}
	if broken := judgeForm(kycService, x.rec.Fields, a); len(broken) > 0 {
		return refusal(kycService, broken)
	}
	repaired := a.params
	storeFields(&repaired, kycService, x.rec.Fields)
	if s.byIdentity.heldByOther(repaired.IdentityNumber, a.id) {
		return http.StatusBadRequest, kycError(4012, "Identity number has been used/registered")
	}
	s.setParams(a, repaired)
	s.review(a)
	return http.StatusOK, kycUserJSON(a)
}

// kycUserJSON is the KYC service's user object that repair returns.
func kycUserJSON(a *agent) map[string]any {
	p := a.params
	idType, gender := 1, 1
	nik, passport := any(p.IdentityNumber), any(nil)
	if p.IdentityType == flipkyc.IdentityPassport {
		idType, nik, passport = 2, nil, p.IdentityNumber
	}
	if p.Gender == flipkyc.GenderFemale {
		gender = 2
	}
	code, _ := a.status.Code()
	return map[string]any{
		"user_id": a.id, "user_type": 1, "name": p.Name, "birth_place": p.BirthPlace,
		"birth_date": p.BirthDate.Time().Format(time.RFC3339), "gender": gender, "status": code,
		"basic_data_filled": true, "identity_type": idType, "nik": nik, "passport_number": passport,
		"occupation": p.Occupation, "country_id": p.CountryID, "province_id": p.ProvinceID,
		"city_id": p.CityID, "district_id": p.DistrictID, "address": p.Address,
		"residence_country_id": p.ResidenceCountryID, "residence_province_id": p.ResidenceProvinceID,
		"residence_city_id": p.ResidenceCityID, "residence_district_id": p.ResidenceDistrictID,
		"residence_address": p.ResidenceAddress,
		"created_at":        a.created.Time.Format(time.RFC3339), "updated_at": a.updated.Time.Format(time.RFC3339),
	}
}

func (s *Server) repairPhoto(x *exchange) (int, any) {
	return s.repairImage(x, flipkyc.FixRepairIdentityImage)
}

func (s *Server) repairSelfie(x *exchange) (int, any) {
	return s.repairImage(x, flipkyc.FixRepairSelfie)
}

func (s *Server) repairImage(x *exchange, fix flipkyc.Fix) (int, any) {
	a, status, body := s.kycAgent(x.r.PathValue("id"))
	if a == nil {
		return status, body
	}
	if status, body := repairable(a, fix); status != 0 {
		return status, body
	}
	if status, body := s.takeImage(x, a, "image"); status != 0 {
		return status, body
	}
	s.review(a)
	return http.StatusOK, s.imageURL(a)
}

// documentFields are the file fields POST /documents accepts.
var documentFields = func() map[string]bool {
	m := map[string]bool{}
	for _, t := range []flipkyc.DocumentType{flipkyc.DocumentStudentCard, flipkyc.DocumentEmployeeCard,
		flipkyc.DocumentLastCertificate, flipkyc.DocumentPassport, flipkyc.DocumentFamilyCard,
		flipkyc.DocumentDrivingLicense, flipkyc.DocumentMarriedCard, flipkyc.DocumentNPWP, flipkyc.DocumentBPJSKesehatan} {
		m[string(t)], m[string(t)+"_selfie"] = true, true
	}
	return m
}()

// uploadDocuments takes supporting documents from a rejected agent (or one
// whose selfie check failed) and puts the agent under review again.
func (s *Server) uploadDocuments(x *exchange) (int, any) {
	a, status, body := s.kycAgent(x.rec.Fields["user_id"])
	if a == nil {
		return status, body
	}
	if !a.status.CanUploadDocuments() {
		return invalidStatus()
	}
	if len(x.files) == 0 {
		return http.StatusBadRequest, kycError(1001, "Attribute payload is empty")
	}
	names := make([]string, 0, len(x.files))
	for name := range x.files {
		if !documentFields[name] {
			return http.StatusBadRequest, kycError(4013, "Invalid document type")
		}
		names = append(names, name)
	}
	slices.Sort(names)
	var out []map[string]any
	stamp := time.Now().In(time.FixedZone("", 7*3600)).Format(time.RFC3339Nano)
	for i, name := range names {
		if code, msg := checkImage(x.files[name]); code != 0 {
			return http.StatusBadRequest, kycError(code, msg)
		}
		out = append(out, map[string]any{"id": i + 1, "type": 1, "selfie": strings.HasSuffix(name, "_selfie"),
			"path": fmt.Sprintf("documents/%d/%s.jpg", a.id, name), "created_at": stamp, "updated_at": stamp})
	}
	s.review(a)
	return http.StatusOK, out
}
