package katsutest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/flipkyc/flipkyc/katsu"
)

// message keys, each with an English and a French text.
type msgKey int

const (
	msgVersion msgKey = iota
	msgInjected
	msgValidation
	msgNotFound
	msgAlreadyApproved
	msgUpdated
	msgApproved
	msgFound
	msgListed
	msgBody
	msgTier
	msgBVN
	msgUUID
	msgOrderBy
	msgPage
)

// messages are the fake's texts: English, French.
var messages = map[msgKey][2]string{
	msgVersion:         {"The requested API version is not supported.", "La version d'API demandée n'est pas prise en charge."},
	msgInjected:        {"An injected failure occurred.", "Une panne simulée s'est produite."},
	msgValidation:      {"One or more validation errors occurred.", "Une ou plusieurs erreurs de validation se sont produites."},
	msgNotFound:        {"KYC record not found.", "Enregistrement KYC introuvable."},
	msgAlreadyApproved: {"KYC record is already approved.", "L'enregistrement KYC est déjà approuvé."},
	msgUpdated:         {"KYC updated successfully.", "KYC mis à jour avec succès."},
	msgApproved:        {"KYC approved successfully.", "KYC approuvé avec succès."},
	msgFound:           {"KYC retrieved successfully.", "KYC récupéré avec succès."},
	msgListed:          {"KYC records retrieved successfully.", "Enregistrements KYC récupérés avec succès."},
	msgBody:            {"The request body is not valid JSON.", "Le corps de la requête n'est pas un JSON valide."},
	msgTier:            {"must be 0, 1 or 2.", "doit valoir 0, 1 ou 2."},
	msgBVN:             {"must be exactly 11 digits.", "doit comporter exactement 11 chiffres."},
	msgUUID:            {"must be a valid GUID.", "doit être un GUID valide."},
	msgOrderBy:         {"must be between 1 and 4.", "doit être compris entre 1 et 4."},
	msgPage:            {"must be greater than 0.", "doit être supérieur à 0."},
}

// msg returns the text of k in the exchange's language.
func (x *exchange) msg(k msgKey) string {
	if x.fr {
		return messages[k][1]
	}
	return messages[k][0]
}

// field returns a validation error text naming field.
func (x *exchange) field(name string, k msgKey) string { return name + " " + x.msg(k) }

// invalid returns the 400 answer listing errs.
func (x *exchange) invalid(errs []string) (int, any) {
	return http.StatusBadRequest, failure(x.msg(msgValidation), errs...)
}

// isGUID reports whether s is a non-nil GUID in 8-4-4-4-12 form.
func isGUID(s string) bool {
	if len(s) != 36 || s == "00000000-0000-0000-0000-000000000000" {
		return false
	}
	for i, c := range s {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
		} else if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}

// isBVN reports whether s is exactly 11 ASCII digits.
func isBVN(s string) bool {
	if len(s) != 11 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// decodeBody decodes the exchange's JSON body into v, reporting a 400 when
// it is not JSON.
func (x *exchange) decodeBody(v any) (int, any, bool) {
	dec := json.NewDecoder(bytes.NewReader(x.body))
	if err := dec.Decode(v); err != nil {
		code, reply := x.invalid([]string{x.msg(msgBody)})
		return code, reply, false
	}
	return 0, nil, true
}

// update handles POST /Kyc/update.
func (s *Server) update(x *exchange) (int, any) {
	var in struct {
		Tier            *int   `json:"tier"`
		AddressVerified bool   `json:"addressVerified"`
		BVN             string `json:"bvn"`
		KYCID           string `json:"kycId"`
	}
	if code, reply, ok := x.decodeBody(&in); !ok {
		return code, reply
	}
	var errs []string
	if in.Tier == nil || *in.Tier < 0 || *in.Tier > 2 {
		errs = append(errs, x.field("Tier", msgTier))
	}
	if !isBVN(in.BVN) {
		errs = append(errs, x.field("Bvn", msgBVN))
	}
	if !isGUID(in.KYCID) {
		errs = append(errs, x.field("KycId", msgUUID))
	}
	if errs != nil {
		return x.invalid(errs)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.find(in.KYCID)
	if r == nil {
		return http.StatusNotFound, failure(x.msg(msgNotFound))
	}
	r.Tier, r.IsAddressVerified, r.BVN, r.TierText = katsu.Tier(*in.Tier), in.AddressVerified, in.BVN, ""
	return http.StatusOK, success(x.msg(msgUpdated), toWire(*r))
}

// approve handles POST /Kyc/approve.
func (s *Server) approve(x *exchange) (int, any) {
	var in struct {
		By    string `json:"by"`
		KYCID string `json:"kycId"`
	}
	if code, reply, ok := x.decodeBody(&in); !ok {
		return code, reply
	}
	var errs []string
	if !isGUID(in.By) {
		errs = append(errs, x.field("By", msgUUID))
	}
	if !isGUID(in.KYCID) {
		errs = append(errs, x.field("KycId", msgUUID))
	}
	if errs != nil {
		return x.invalid(errs)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.find(in.KYCID)
	switch {
	case r == nil:
		return http.StatusNotFound, failure(x.msg(msgNotFound))
	case r.Approved:
		return http.StatusBadRequest, failure(x.msg(msgAlreadyApproved), x.msg(msgAlreadyApproved))
	}
	r.Approved, r.ApprovedOn = true, s.now().UTC()
	r.Status = statusOf(*r)
	return http.StatusOK, success(x.msg(msgApproved), toWire(*r))
}

// get handles GET /Kyc/{id}/get.
func (s *Server) get(x *exchange, id string) (int, any) {
	if !isGUID(id) {
		return x.invalid([]string{x.field("Id", msgUUID)})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.find(id)
	if r == nil {
		return http.StatusNotFound, failure(x.msg(msgNotFound))
	}
	return http.StatusOK, success(x.msg(msgFound), toWire(*r))
}

// list handles GET /Kyc/get-all.
func (s *Server) list(x *exchange) (int, any) {
	q := x.r.URL.Query()
	var errs []string
	number := func(name string, lo, hi int, k msgKey, def int) int {
		v := q.Get(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			errs = append(errs, x.field(name, k))
		}
		return n
	}
	owner, tenant := q.Get("OwnerId"), q.Get("TenantId")
	if owner != "" && !isGUID(owner) {
		errs = append(errs, x.field("OwnerId", msgUUID))
	}
	if tenant != "" && !isGUID(tenant) {
		errs = append(errs, x.field("TenantId", msgUUID))
	}
	orderBy := number("Orderby", 1, 4, msgOrderBy, 0)
	tier := number("Tier", 0, 2, msgTier, -1)
	page := number("PageNumber", 1, 1<<30, msgPage, 1)
	size := number("PageSize", 1, 1<<30, msgPage, s.defaultPageSize)
	descending := strings.EqualFold(q.Get("Descending"), "true")
	if errs != nil {
		return x.invalid(errs)
	}
	s.mu.Lock()
	var matched []katsu.Record
	for _, r := range s.records {
		if (owner == "" || strings.EqualFold(r.OwnerID, owner)) && (tenant == "" || strings.EqualFold(r.TenantID, tenant)) &&
			(tier < 0 || int(r.Tier) == tier) {
			matched = append(matched, *r)
		}
	}
	s.mu.Unlock()
	slices.SortStableFunc(matched, func(a, b katsu.Record) int {
		var c int
		switch orderBy {
		case 1:
			c = cmp.Compare(a.Name, b.Name)
		case 2:
			c = cmp.Compare(a.Tier, b.Tier)
		case 3:
			c = a.ApprovedOn.Compare(b.ApprovedOn)
		case 4:
			c = cmp.Compare(strings.ToLower(a.ID), strings.ToLower(b.ID))
		}
		if descending {
			c = -c
		}
		return c
	})
	if descending && orderBy == 0 {
		slices.Reverse(matched)
	}
	data := []wireRecord{}
	for i := (page - 1) * size; i < len(matched) && i < page*size; i++ {
		data = append(data, toWire(matched[i]))
	}
	return http.StatusOK, pagedEnvelope{envelope: success(x.msg(msgListed), data), PageNumber: page, PageSize: size,
		TotalPages: (len(matched) + size - 1) / size, TotalRecords: len(matched)}
}
