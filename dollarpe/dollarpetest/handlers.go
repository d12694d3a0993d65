package dollarpetest

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/flipkyc/flipkyc/dollarpe"
)

// reply is one answer of the fake.
type reply struct {
	status int
	body   any
	header map[string]string
	// after runs once the reply is written or dropped, outside the lock:
	// it lets the webhook of a change go.
	after func()
}

func ok(data any) reply {
	return reply{status: http.StatusOK, body: map[string]any{"status": true, "message": "Success", "data": data}}
}

func badRequest(message string, errs map[string][]string) reply {
	body := map[string]any{"status": false, "message": message, "data": nil}
	if errs != nil {
		body["errors"] = errs
	}
	return reply{status: http.StatusBadRequest, body: body}
}

func fieldErrors(errs map[string][]string) reply { return badRequest("Bad Request", errs) }

func unauthorized(code, message string) reply {
	return reply{status: http.StatusUnauthorized, body: map[string]any{"status": false, "message": message,
		"err_code": code, "data": nil}}
}

func statusReply(status int) reply {
	switch {
	case status >= 500:
		return reply{status: status, body: map[string]any{"success": false, "message": "Internal Server Error",
			"errors": "Internal Server Error"}}
	case status == http.StatusTooManyRequests:
		return reply{status: status, header: map[string]string{"Retry-After": "1"},
			body: map[string]any{"status": false, "message": "Too Many Requests", "err_code": "RATE_LIMITED", "data": nil}}
	case status == http.StatusUnauthorized:
		return unauthorized("AUTH_UNAUTHORIZED", "Unauthorized")
	}
	return reply{status: status, body: map[string]any{"status": false, "message": http.StatusText(status), "data": nil}}
}

var idPath = regexp.MustCompile(`^/(customer|kyc/configuration)/([^/]+)$`)

// route names the endpoint of a request and returns the id in its path.
func route(method, p string) (Route, string) {
	if m := idPath.FindStringSubmatch(p); m != nil && method == http.MethodGet {
		id, _ := url.PathUnescape(m[2])
		if m[1] == "customer" {
			return RouteGetCustomer, id
		}
		return RouteKYCConfiguration, id
	}
	return Route(method + " " + p), "" // the other routes name their path as it is
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	p := strings.TrimPrefix(r.URL.EscapedPath(), dollarpe.APIPrefix)
	rt, id := route(r.Method, p)
	rec := Request{Route: rt, Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}

	s.mu.Lock()
	var f *fault
	if q := s.faults[rt]; len(q) > 0 {
		f = &q[0]
		s.faults[rt] = q[1:]
	}
	var rep reply
	if f != nil && !f.applied {
		if f.drop {
			s.requests = append(s.requests, rec)
			s.mu.Unlock()
			drop(w)
			return
		}
		rep = statusReply(f.status)
	} else {
		rep = s.handle(rt, id, r, body)
		if f != nil {
			// Applied, then the reply is lost or replaced; the webhook of
			// the change is still sent, as DollarPe would.
			after := rep.after
			if f.drop {
				s.requests = append(s.requests, rec)
				s.mu.Unlock()
				drop(w)
				if after != nil {
					after()
				}
				return
			}
			rep = statusReply(f.status)
			rep.after = after
		}
	}
	rec.Status = rep.status
	s.requests = append(s.requests, rec)
	s.mu.Unlock()

	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.status)
	_ = json.NewEncoder(w).Encode(rep.body)
	if rep.after != nil {
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		rep.after() // lets the webhook go; it is sent by another goroutine
	}
}

func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// handle checks authentication and runs the endpoint; s.mu is held.
func (s *Server) handle(rt Route, id string, r *http.Request, body []byte) reply {
	if rep, bad := s.authenticate(r, body); bad {
		return rep
	}
	switch rt {
	case RouteCreateCustomer:
		return s.createCustomer(body)
	case RouteGetCustomer:
		c, rep := s.lookup(id)
		if c == nil {
			return rep
		}
		return ok(c.data())
	case RouteKYCConfiguration:
		if _, rep := s.lookup(id); rep.status != 0 {
			return rep
		}
		return ok(map[string]any{
			"supported_document_types": []string{"AADHAAR", "PASSPORT", "VOTER_ID", "DRIVING_LICENSE"},
			"additional_info_required": map[string]any{
				"fields": map[string]any{
					"occupation":    map[string]any{"type": "string", "required": true},
					"annual_income": map[string]any{"type": "string", "required": false},
				},
				"anyOf": []any{map[string]any{"fields": []string{"annual_income", "source_of_funds"}, "min_required": 1}},
			},
		})
	case RouteAddKYCData:
		return s.addKYCData(body)
	case RouteUpdateDocumentInfo, RouteUpdateTaxInfo, RouteUpdateAdditionalInfo, RouteUpdateSelfieInfo:
		return s.update(rt, body)
	case RouteResetKYC:
		return s.reset(body)
	case RouteMockKYCStatus:
		if s.production {
			return reply{status: http.StatusNotFound, body: map[string]any{"status": false, "message": "Not Found", "data": nil}}
		}
		return s.mock(body)
	}
	return reply{status: http.StatusNotFound, body: map[string]any{"status": false, "message": "Not Found", "data": nil}}
}

// authenticate checks the key, the timestamp and the signature as DollarPe
// does: the signature is over apiKey|X-TIMESTAMP|canonical(body), "{}" for
// a GET, and an invalid one is a 400 with errors.signature.
func (s *Server) authenticate(r *http.Request, body []byte) (reply, bool) {
	key := r.Header.Get("X-API-KEY")
	if key == "" || !hmac.Equal([]byte(key), []byte(s.apiKey)) {
		return unauthorized("AUTH_INVALID_API_KEY", "Invalid API key"), true
	}
	ts, err := dollarpe.ParseUnixSeconds(r.Header.Get("X-TIMESTAMP"))
	if err != nil {
		return unauthorized("AUTH_INVALID_TIMESTAMP", "Invalid timestamp"), true
	}
	if age := s.now().Sub(time.Unix(ts, 0)); age > s.tolerance || age < -s.tolerance {
		return unauthorized("AUTH_TIMESTAMP_EXPIRED", "Request timestamp expired"), true
	}
	signed := []byte("{}")
	if r.Method != http.MethodGet {
		canon, err := dollarpe.Canonicalize(body)
		if err != nil {
			return fieldErrors(map[string][]string{"body": {"Invalid JSON"}}), true
		}
		signed = canon
	}
	want, _ := base64.StdEncoding.DecodeString(dollarpe.Sign(s.apiKey, s.secret, ts, signed))
	got, err := base64.StdEncoding.DecodeString(r.Header.Get("X-SIGNATURE"))
	if err != nil || !hmac.Equal(want, got) {
		return fieldErrors(map[string][]string{"signature": {"Invalid Signature"}}), true
	}
	return reply{}, false
}

// lookup finds a customer by id, or returns DollarPe's refusal.
func (s *Server) lookup(id string) (*customer, reply) {
	if !uuidPattern.MatchString(id) {
		return nil, fieldErrors(map[string][]string{"customer_id": {"Invalid customer id"}})
	}
	c, found := s.customers[strings.ToLower(id)]
	if !found {
		return nil, badRequest("Customer not found or access denied", nil)
	}
	return c, reply{}
}

var (
	uuidPattern   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	alpha3Pattern = regexp.MustCompile(`^[A-Z]{3}$`)
	dobPattern    = regexp.MustCompile(`^\d{2}-\d{2}-\d{4}$`)
)

// fields decodes a JSON object body; values that are not strings are kept
// as their JSON text.
type fields map[string]json.RawMessage

func (f fields) str(k string) string {
	var s string
	if json.Unmarshal(f[k], &s) != nil {
		return ""
	}
	return strings.TrimSpace(s)
}

func (f fields) object(k string) fields {
	var o fields
	_ = json.Unmarshal(f[k], &o)
	return o
}

type checks map[string][]string

func (c checks) add(k, msg string) { c[k] = append(c[k], msg) }

func (c checks) required(f fields, keys ...string) {
	for _, k := range keys {
		if f.str(k) == "" {
			c.add(k, "This field is required.")
		}
	}
}

func (c checks) imageURL(f fields, k string, required bool) {
	v := f.str(k)
	if v == "" {
		if required {
			c.add(k, "This field is required.")
		}
		return
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		c.add(k, "Enter a valid URL.")
		return
	}
	switch strings.ToLower(path.Ext(u.Path)) {
	case ".jpg", ".jpeg", ".png", ".pdf":
	default:
		c.add(k, "Accepts JPG, JPEG, PNG and PDF links")
	}
}

func parseFields(body []byte) (fields, reply, bool) {
	var f fields
	if err := json.Unmarshal(body, &f); err != nil || f == nil {
		return nil, fieldErrors(map[string][]string{"body": {"Invalid JSON"}}), false
	}
	return f, reply{}, true
}

func (s *Server) createCustomer(body []byte) reply {
	f, rep, good := parseFields(body)
	if !good {
		return rep
	}
	c := checks{}
	c.required(f, "full_name", "email", "phone", "alpha_3_country_code")
	if v := f.str("alpha_3_country_code"); v != "" && !alpha3Pattern.MatchString(v) {
		c.add("alpha_3_country_code", "Invalid country code")
	}
	email, phone, ref := strings.ToLower(f.str("email")), f.str("phone"), f.str("client_reference_id")
	for _, other := range s.customers {
		if email != "" && strings.EqualFold(other.email, email) {
			c.add("email", "Customer with this email already exists")
		}
		if phone != "" && other.phone == phone {
			c.add("phone", "Customer with this phone already exists")
		}
		if ref != "" && other.clientRef == ref {
			c.add("client_reference_id", "Customer with this client reference id already exists")
		}
	}
	if len(c) > 0 {
		return fieldErrors(c)
	}
	cu := &customer{id: s.newID(), fullName: f.str("full_name"), email: f.str("email"), phone: phone,
		country: f.str("alpha_3_country_code"), clientRef: ref, status: dollarpe.StatusUnverified}
	s.customers[cu.id] = cu
	s.order = append(s.order, cu.id)
	return ok(cu.data())
}

func (s *Server) addKYCData(body []byte) reply {
	f, rep, good := parseFields(body)
	if !good {
		return rep
	}
	c := checks{}
	c.required(f, "customer_id", "full_name", "phone", "full_address", "dob", "tax_number", "document_type")
	if v := f.str("dob"); v != "" {
		if _, err := time.Parse("02-01-2006", v); err != nil || !dobPattern.MatchString(v) {
			c.add("dob", "Date must be in DD-MM-YYYY format")
		}
	}
	c.imageURL(f, "document_front_image_url", true)
	c.imageURL(f, "document_back_image_url", false)
	c.imageURL(f, "selfie_url", true)
	if f.object("document_details").str("document_number") == "" {
		c.add("document_details.document_number", "This field is required.")
	}
	if len(c) > 0 {
		return fieldErrors(c)
	}
	cu, rep := s.lookup(f.str("customer_id"))
	if cu == nil {
		return rep
	}
	if cu.hasKYC || cu.status != dollarpe.StatusUnverified {
		return badRequest("KYC already exists", nil)
	}
	docNumber, tax := f.object("document_details").str("document_number"), f.str("tax_number")
	if s.inUse(cu.id, docNumber, tax) {
		return badRequest("KYC already in use", nil)
	}
	cu.hasKYC, cu.documentType, cu.documentNumber, cu.taxNumber = true, f.str("document_type"), docNumber, tax
	cu.status, cu.reason = dollarpe.StatusProcessing, ""
	return ok(map[string]any{"id": cu.id, "status": cu.status})
}

// inUse reports whether another customer's KYC uses the document or tax
// number.
func (s *Server) inUse(self, docNumber, tax string) bool {
	for _, o := range s.customers {
		if o.id != self && o.hasKYC && ((docNumber != "" && o.documentNumber == docNumber) || (tax != "" && strings.EqualFold(o.taxNumber, tax))) {
			return true
		}
	}
	return false
}

// fixes is the failure reason each update repairs; "" for any fixable one.
var fixes = map[Route]dollarpe.FailureReason{
	RouteUpdateDocumentInfo:   dollarpe.FailureDocument,
	RouteUpdateTaxInfo:        dollarpe.FailureTax,
	RouteUpdateSelfieInfo:     dollarpe.FailureSelfie,
	RouteUpdateAdditionalInfo: "",
}

func (s *Server) update(rt Route, body []byte) reply {
	f, rep, good := parseFields(body)
	if !good {
		return rep
	}
	c := checks{}
	c.required(f, "customer_id")
	switch rt {
	case RouteUpdateDocumentInfo:
		c.required(f, "full_address", "document_type")
		c.imageURL(f, "document_front_image_url", true)
		c.imageURL(f, "document_back_image_url", false)
		if f.object("document_details").str("document_number") == "" {
			c.add("document_details.document_number", "This field is required.")
		}
	case RouteUpdateTaxInfo:
		c.required(f, "tax_number")
	case RouteUpdateSelfieInfo:
		c.imageURL(f, "selfie_url", true)
	case RouteUpdateAdditionalInfo:
		if len(f.object("additional_info")) == 0 {
			c.add("additional_info", "This field is required.")
		}
	}
	if len(c) > 0 {
		return fieldErrors(c)
	}
	cu, rep := s.lookup(f.str("customer_id"))
	if cu == nil {
		return rep
	}
	if cu.updates >= s.updateLimit {
		return badRequest("Kyc update limit exceeded", nil)
	}
	want := fixes[rt]
	if cu.status != dollarpe.StatusFailed || !cu.reason.Fixable() || (want != "" && cu.reason != want) {
		return badRequest("KYC update not allowed for the current status", nil)
	}
	switch rt {
	case RouteUpdateDocumentInfo:
		docNumber := f.object("document_details").str("document_number")
		if s.inUse(cu.id, docNumber, "") {
			return badRequest("KYC already in use", nil)
		}
		cu.documentType, cu.documentNumber = f.str("document_type"), docNumber
	case RouteUpdateTaxInfo:
		if s.inUse(cu.id, "", f.str("tax_number")) {
			return badRequest("KYC already in use", nil)
		}
		cu.taxNumber = f.str("tax_number")
	}
	cu.updates++
	cu.status, cu.reason = dollarpe.StatusProcessing, ""
	if rt == RouteUpdateDocumentInfo {
		// DollarPe's page for this call answers {id, status: UNVERIFIED};
		// the customer reads back as what the call answered.
		cu.status = dollarpe.StatusUnverified
	}
	return ok(map[string]any{"id": cu.id, "status": cu.status})
}

func (s *Server) reset(body []byte) reply {
	f, rep, good := parseFields(body)
	if !good {
		return rep
	}
	cu, rep := s.lookup(f.str("customer_id"))
	if cu == nil {
		return rep
	}
	if cu.status != dollarpe.StatusVerified {
		return badRequest("KYC reset is allowed only for VERIFIED customers", nil)
	}
	cu.status, cu.reason, cu.hasKYC = dollarpe.StatusUnverified, "", false
	cu.documentType, cu.documentNumber, cu.taxNumber = "", "", ""
	return ok(map[string]any{"id": cu.id, "status": cu.status})
}

func (s *Server) mock(body []byte) reply {
	f, rep, good := parseFields(body)
	if !good {
		return rep
	}
	// DollarPe's OpenAPI names the field kyc_status; a body that says
	// status alone is refused as DollarPe would refuse it.
	if f.str("kyc_status") == "" {
		return fieldErrors(map[string][]string{"kyc_status": {"This field is required."}})
	}
	cu, rep := s.lookup(f.str("customer_id"))
	if cu == nil {
		return rep
	}
	target := dollarpe.MockTarget(f.str("kyc_status"))
	if !dollarpe.MockTransitionAllowed(cu.status, target) {
		return fieldErrors(map[string][]string{"kyc_status": {fmt.Sprintf("Transition from %s to %s is not allowed", cu.status, target)}})
	}
	switch target {
	case dollarpe.MockVerified:
		cu.status, cu.reason = dollarpe.StatusVerified, ""
	case dollarpe.MockUnverified:
		cu.status, cu.reason, cu.hasKYC = dollarpe.StatusUnverified, "", false
		cu.documentType, cu.documentNumber, cu.taxNumber = "", "", ""
	case dollarpe.MockTaxFailed:
		cu.status, cu.reason = dollarpe.StatusFailed, dollarpe.FailureTax
	case dollarpe.MockDocumentFailed:
		cu.status, cu.reason = dollarpe.StatusFailed, dollarpe.FailureDocument
	}
	rep = ok(map[string]any{"id": cu.id, "status": cu.status})
	// Queued now, under s.mu, so that webhooks keep the order of the
	// changes; sent once the reply is written, without holding it up.
	if job := s.queueWebhook(context.Background(), cu.id, cu.status, cu.reason); job != nil {
		rep.after = func() { close(job.ready) }
	}
	return rep
}
