package flipkyctest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"

	"github.com/flipkyc/flipkyc"
)

// masked stands in for personal data (names, identity and phone numbers,
// e-mail addresses, birth dates, addresses) in printed values.
const masked = "[masked]"

// fieldKinds lists the request fields the fake knows: true for those whose
// values may be printed (types, flags, agent and location ids), false for
// personal data. Values of other fields, and their names, are masked.
var fieldKinds = map[string]bool{
	"user_type": true, "user_id": true, "identity_type": true, "selfie": true, "use_identity_address": true,
	"country_id": true, "province_id": true, "city_id": true, "district_id": true,
	"residence_country_id": true, "residence_province_id": true, "residence_city_id": true, "residence_district_id": true,
	"name": false, "identity_number": false, "birth_date": false, "birth_place": false, "address": false,
	"residence_address": false, "gender": false, "occupation": false, "phone_number": false, "email": false,
}

// longDigits matches runs of six or more digits: an identity or phone number
// (or a date) where an id was expected. The fake's own ids are shorter.
var longDigits = regexp.MustCompile(`[0-9]{6,}`)

func maskDigits(s string) string { return longDigits.ReplaceAllString(s, masked) }

// masked returns the request's fields and files as they may be shown: the
// values of personal fields masked, and the names the fake does not know
// gathered under one masked name.
func (r Request) masked() (map[string]string, map[string]int64) {
	fields := make(map[string]string, len(r.Fields))
	for name, v := range r.Fields {
		switch plain, known := fieldKinds[name]; {
		case !known:
			fields[masked] = masked
		case plain:
			fields[name] = maskDigits(v)
		default:
			fields[name] = masked
		}
	}
	files := make(map[string]int64, len(r.Files))
	for name, size := range r.Files {
		if name != "image" && !documentFields[name] {
			name = masked
		}
		files[name] += size
	}
	return fields, files
}

// Format prints the request with the values of personal fields masked (and
// long digit runs in the path, where an identity number may have been sent
// as an id), the same under every verb. Fields keeps the values themselves.
func (r Request) Format(f fmt.State, _ rune) {
	fields, files := r.masked()
	fmt.Fprintf(f, "flipkyctest.Request{Route: %s, Method: %s, Path: %s, Header: %v, Fields: %v, Files: %v, Status: %d, Handled: %d}",
		maskDigits(string(r.Route)), r.Method, maskDigits(r.Path), r.Header, fields, files, r.Status, r.Handled)
}

// MarshalJSON encodes the request masked as Format prints it, so a request
// log written as JSON (by log/slog's JSON handler, say) shows no personal data.
func (r Request) MarshalJSON() ([]byte, error) {
	fields, files := r.masked()
	return json.Marshal(struct {
		Route, Method, Path string
		Header              http.Header
		Fields              map[string]string
		Files               map[string]int64
		Status, Handled     int
	}{maskDigits(string(r.Route)), r.Method, maskDigits(r.Path), r.Header, fields, files, r.Status, r.Handled})
}

// Format prints the callback with the agent's name masked, the same under
// every verb. Event keeps the name itself.
func (c SentCallback) Format(f fmt.State, _ rune) {
	e := c.Event
	fmt.Fprintf(f, "flipkyctest.SentCallback{Event: {AgentID: %d, AgentName: %s, KYCStatus: %s, "+
		"RejectedReasonCode: %d, RejectedReason: %q, CreatedAt: %s, UpdatedAt: %s, SubmittedAt: %s, VerifiedAt: %s}, "+
		"Status: %d, Err: %v}",
		e.AgentID, masked, e.KYCStatus, e.RejectedReasonCode, e.RejectedReason,
		e.CreatedAt.Raw, e.UpdatedAt.Raw, e.SubmittedAt.Raw, e.VerifiedAt.Raw, c.Status, c.Err)
}

// MarshalJSON encodes the callback with the agent's name masked; Event has
// Flip's field names, Err is the error's text or empty.
func (c SentCallback) MarshalJSON() ([]byte, error) {
	ev := c.Event
	ev.AgentName = masked
	var msg string
	if c.Err != nil {
		msg = c.Err.Error()
	}
	return json.Marshal(struct {
		Event  flipkyc.Event
		Status int
		Err    string
	}{ev, c.Status, msg})
}
