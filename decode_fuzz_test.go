package flipkyc

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// addFixtures seeds f with the testdata files matching pattern.
func addFixtures(f *testing.F, pattern string) {
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed files for %s", pattern)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzDecodeAgent feeds arbitrary replies to the agent decoder (create,
// update, get). Nothing may panic; an accepted agent has an id.
func FuzzDecodeAgent(f *testing.F) {
	addFixtures(f, "agent_*_response*.json")
	f.Add([]byte(`{"id":"7","identity_type":2,"gender":"1","kyc_status":50,"status":"30","rejected_reason_code":"17","birth_date":"31-10-1990T00:00:00Z","created_at":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var r agentReply
		if err := decodeJSON(body, &r); err != nil {
			return
		}
		a := r.agent()
		if a.ID <= 0 {
			t.Fatalf("accepted an agent without id: %s", body)
		}
		_ = a.BirthDate.String()
		_ = a.RejectedReasonCode.Fixes()
		_, _ = json.Marshal(a)
		var plain Agent
		_ = json.Unmarshal(body, &plain)
	})
}

// FuzzDecodeKYCUser feeds arbitrary replies to the repair reply decoder.
func FuzzDecodeKYCUser(f *testing.F) {
	addFixtures(f, "repair_response.json")
	f.Fuzz(func(t *testing.T, body []byte) {
		var r kycUserReply
		if err := decodeJSON(body, &r); err != nil {
			return
		}
		if r.user().UserID <= 0 {
			t.Fatalf("accepted a user without user_id: %s", body)
		}
	})
}

// FuzzDecodeLists feeds arbitrary replies to the list decoders: locations
// and uploaded documents.
func FuzzDecodeLists(f *testing.F) {
	addFixtures(f, "*s_response.json") // countries, provinces, cities, districts, documents
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, key := range []string{"countries", "provinces", "cities", "districts"} {
			r := locationReply{key: key}
			_ = decodeJSON(body, &r)
		}
		var docs []UploadedDocument
		_ = decodeJSON(body, &docs)
	})
}

// FuzzErrorBody feeds arbitrary bodies to the error parser, with 2xx and
// error statuses: the result is always a typed error whose text can be
// printed, and never a panic.
func FuzzErrorBody(f *testing.F) {
	addFixtures(f, "error_*.json")
	f.Add([]byte("<html><title>502 Bad Gateway</title></html>"))
	f.Add([]byte(`{"errors":[{"code":"4010","message":"x"}],}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, status := range []int{200, 401, 422, 502} {
			e := &APIError{StatusCode: status, Method: http.MethodGet, Path: "/agents/1"}
			key := newSecretKey("fuzz-key")
			clean := func(s string) string { return key.clean(s, nil) }
			if !e.parseErrorBody(body, clean) {
				e.Body = flipPersonal.Body(body, excerptLimit, clean)
			}
			_ = e.Error()
			_ = e.Is(ErrDuplicate)
			_ = looksLikeErrorBody(body)
			if len(e.Body) > 6*excerptLimit+len("…") { // a control byte prints as 6 characters
				t.Fatalf("excerpt of %d bytes", len(e.Body))
			}
		}
	})
}
