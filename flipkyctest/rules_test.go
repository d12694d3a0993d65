package flipkyctest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/flipkyctest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests in this file send raw HTTP requests, never through the SDK's
// client, so that the SDK's own validation cannot hide what the fake does
// with a body that breaks one of Flip's documented rules.

const ruleRequestID = "bigflip-47EB7F57-5565-4BF0-B9DD-46C6268CEE71"

// uniq returns prefix followed by '#' up to n characters in all; fill
// replaces the '#'s with digits no other number has, so that identity and
// phone numbers never collide between rows.
func uniq(prefix string, n int) string { return prefix + strings.Repeat("#", n-len(prefix)) }

type filler struct{ n int }

func (f *filler) fill(v string) string {
	i := strings.IndexByte(v, '#')
	if i < 0 {
		return v
	}
	k := strings.Count(v, "#")
	f.n++
	return v[:i] + fmt.Sprintf("%0*d", k, f.n) + v[i+k:]
}

// ruleRow is one documented rule broken, or kept at its bound, by changing
// the fields in set (a value "" removes the field) of a body that is
// otherwise valid.
type ruleRow struct {
	name string
	set  map[string]string
	// attr is the attribute the refusal names and code its inner code; both
	// zero when the body must be accepted.
	attr string
	code int
}

func accepted(name string, set map[string]string) ruleRow { return ruleRow{name: name, set: set} }

func refused(name string, set map[string]string, attr string, code int) ruleRow {
	return ruleRow{name, set, attr, code}
}

func one(k, v string) map[string]string { return map[string]string{k: v} }

// agentsRows are the rules of create and update (v2 agents API, §4.1, §4.2):
// refusals are 422 VALIDATION_ERROR with the inner codes of §7.1.
func agentsRows() []ruleRow {
	rows := []ruleRow{
		accepted("the valid body", nil),
		accepted("an undocumented field is ignored", one("nationality", "ID")),

		accepted("name of 50 characters", one("name", strings.Repeat("a", 50))),
		refused("name of 51 characters", one("name", strings.Repeat("a", 51)), "name", 1024),
		accepted("name of 50 two-byte characters", one("name", strings.Repeat("é", 50))),
		refused("name of 51 two-byte characters", one("name", strings.Repeat("é", 51)), "name", 1024),
		refused("name missing", one("name", ""), "name", 1001),

		accepted("identity type passport", map[string]string{"identity_type": "passport", "identity_number": uniq("", 20)}),
		refused("identity type unknown", one("identity_type", "sim"), "identity_type", 1041),
		refused("identity type in the KYC form", one("identity_type", "1"), "identity_type", 1041),
		refused("identity type in upper case", one("identity_type", "KTP"), "identity_type", 1041),
		refused("identity type missing", one("identity_type", ""), "identity_type", 1001),

		accepted("KTP number of 16 characters", one("identity_number", uniq("", 16))),
		refused("KTP number of 17 characters", one("identity_number", uniq("", 17)), "identity_number", 1024),
		accepted("KTP number shorter than 16", one("identity_number", uniq("", 12))),
		accepted("passport number of 20 characters", map[string]string{"identity_type": "passport", "identity_number": uniq("A", 20)}),
		refused("passport number of 21 characters", map[string]string{"identity_type": "passport", "identity_number": uniq("A", 21)}, "identity_number", 1024),
		refused("identity number missing", one("identity_number", ""), "identity_number", 1001),

		accepted("birth date DD-MM-YYYY", one("birth_date", "31-10-1990")),
		accepted("birth date 29 February of a leap year", one("birth_date", "29-02-2000")),
		refused("birth date YYYY-MM-DD", one("birth_date", "1990-10-31"), "birth_date", 1039),
		refused("birth date with slashes", one("birth_date", "31/10/1990"), "birth_date", 1039),
		refused("birth date with a one-digit day", one("birth_date", "1-10-1990"), "birth_date", 1039),
		refused("birth date 31 February", one("birth_date", "31-02-1990"), "birth_date", 1040),
		refused("birth date 29 February 1900", one("birth_date", "29-02-1900"), "birth_date", 1040),
		refused("birth date month 13", one("birth_date", "01-13-1990"), "birth_date", 1040),
		refused("birth date missing", one("birth_date", ""), "birth_date", 1001),

		accepted("birth place of 255 characters", one("birth_place", strings.Repeat("b", 255))),
		refused("birth place of 256 characters", one("birth_place", strings.Repeat("b", 256)), "birth_place", 1024),
		refused("birth place missing", one("birth_place", ""), "birth_place", 1001),

		refused("country id not digits", one("country_id", "ID"), "country_id", 1020),
		refused("country id not in the list", one("country_id", "99"), "country_id", 1041),
		refused("province id not digits", one("province_id", "-12"), "province_id", 1020),
		refused("city id not in the province", one("city_id", "150"), "city_id", 1041),
		refused("district id not in the list", one("district_id", "9999"), "district_id", 1041),
		refused("district id missing", one("district_id", ""), "district_id", 1001),

		refused("address of 9 characters", one("address", strings.Repeat("a", 9)), "address", 2001),
		accepted("address of 10 characters", one("address", strings.Repeat("a", 10))),
		accepted("address of 300 characters", one("address", strings.Repeat("a", 300))),
		refused("address of 301 characters", one("address", strings.Repeat("a", 301)), "address", 2001),
		accepted("address with . - / ( ) and white space", one("address", "Jl. Margonda (Blok A-1/2)\tRT 01")),
		accepted("address with a no-break space, \\s in ECMAScript", one("address", "Jalan\u00a0Margonda Raya")),
		refused("address with a comma", one("address", "Jalan Margonda, Depok"), "address", 2003),
		refused("address with #", one("address", "Jalan Margonda #100"), "address", 2003),
		refused("address with a letter outside A-Z", one("address", "Jalan Margonda Raya é"), "address", 2003),
		refused("address missing", one("address", ""), "address", 1001),

		accepted("gender male", one("gender", "male")),
		refused("gender unknown", one("gender", "m"), "gender", 1041),
		refused("gender in the KYC form", one("gender", "2"), "gender", 1041),
		refused("gender missing", one("gender", ""), "gender", 1001),

		refused("occupation unknown", one("occupation", "teacher"), "occupation", 1041),
		refused("occupation in upper case", one("occupation", "GOVERNMENT_EMPLOYEE"), "occupation", 1041),
		refused("occupation missing", one("occupation", ""), "occupation", 1001),

		accepted("phone with 0 and 8 characters", one("phone_number", uniq("0", 8))),
		accepted("phone with 0 and 24 characters", one("phone_number", uniq("0", 24))),
		refused("phone with 0 and 7 characters", one("phone_number", uniq("0", 7)), "phone_number", 2001),
		refused("phone with 0 and 25 characters", one("phone_number", uniq("0", 25)), "phone_number", 2001),
		accepted("phone with + and 10 characters", one("phone_number", uniq("+", 10))),
		accepted("phone with + and 26 characters", one("phone_number", uniq("+", 26))),
		refused("phone with + and 9 characters", one("phone_number", uniq("+", 9)), "phone_number", 2001),
		refused("phone with + and 27 characters", one("phone_number", uniq("+", 27)), "phone_number", 2001),
		refused("phone starting with neither 0 nor +", one("phone_number", uniq("62", 12)), "phone_number", 1041),
		refused("phone missing", one("phone_number", ""), "phone_number", 1001),

		accepted("use_identity_address 0", one("use_identity_address", "0")),
		accepted("use_identity_address 1", one("use_identity_address", "1")),
		refused("use_identity_address 2", one("use_identity_address", "2"), "use_identity_address", 1041),
		refused("use_identity_address true", one("use_identity_address", "true"), "use_identity_address", 1041),

		accepted("residence in full", map[string]string{"residence_country_id": "1", "residence_province_id": "6",
			"residence_city_id": "150", "residence_district_id": "1501", "residence_address": "Jalan Tebet Raya 5"}),
		accepted("residence country only", one("residence_country_id", "1")),
		refused("residence country id not digits", one("residence_country_id", "x"), "residence_country_id", 1020),
		refused("residence province id not in the list", one("residence_province_id", "99"), "residence_province_id", 1041),
		refused("residence city id not in the province", map[string]string{"residence_province_id": "12", "residence_city_id": "150"}, "residence_city_id", 1041),
		refused("residence district id not digits", one("residence_district_id", "1.5"), "residence_district_id", 1020),
		refused("residence address of 9 characters", one("residence_address", strings.Repeat("r", 9)), "residence_address", 2001),
		accepted("residence address of 10 characters", one("residence_address", strings.Repeat("r", 10))),
		accepted("residence address of 300 characters", one("residence_address", strings.Repeat("r", 300))),
		refused("residence address of 301 characters", one("residence_address", strings.Repeat("r", 301)), "residence_address", 2001),
		refused("residence address with a semicolon", one("residence_address", "Jalan Tebet; Jakarta"), "residence_address", 2003),

		accepted("email name@domain.tld", one("email", "example@mail.com")),
		accepted("email with subdomains", one("email", "john.doe@mail.example.co.id")),
		refused("email without @", one("email", "example.mail.com"), "email", 1041),
		refused("email without a dot after @", one("email", "example@mail"), "email", 1041),
		refused("email with nothing before @", one("email", "@mail.com"), "email", 1041),
		refused("email with two @", one("email", "a@b@mail.com"), "email", 1041),
		refused("email with an empty domain part", one("email", "example@mail..com"), "email", 1041),
	}
	for _, o := range []string{"housewife", "entrepreneur", "private_employee", "government_employee",
		"foundation_board", "indonesian_migrant_worker", "company", "others"} {
		rows = append(rows, accepted("occupation "+o, one("occupation", o)))
	}
	return rows
}

// repairRows are the rules of repair data (KYC service, §4.7): refusals are
// 400 {"errors":[{"code","message"}]} with the codes of §7.2, and the field
// named in the message. The agent is a KTP holder unless passport is set.
func repairRows() []struct {
	ruleRow
	passport bool
} {
	type row = struct {
		ruleRow
		passport bool
	}
	ktp := func(r ruleRow) row { return row{r, false} }
	rows := []row{
		ktp(refused("no repair field", nil, "", 1001)),
		ktp(refused("email is not a repair field", one("email", "example@mail.com"), "", 1001)),
		ktp(accepted("an undocumented field is ignored", map[string]string{"name": "Siti Rahayu Putri", "nationality": "ID"})),

		ktp(accepted("name of 50 characters", one("name", strings.Repeat("a", 50)))),
		ktp(refused("name of 51 characters", one("name", strings.Repeat("a", 51)), "name", 4001)),

		ktp(accepted("identity type 1", one("identity_type", "1"))),
		ktp(refused("identity type in the v2 form", one("identity_type", "ktp"), "identity_type", 4004)),
		ktp(refused("identity type 3", one("identity_type", "3"), "identity_type", 4004)),

		ktp(accepted("KTP number of 16 characters, the agent's type", one("identity_number", uniq("", 16)))),
		ktp(refused("KTP number of 17 characters, the agent's type", one("identity_number", uniq("", 17)), "identity_number", 4001)),
		ktp(refused("KTP number of 17 characters, type sent", map[string]string{"identity_type": "1", "identity_number": uniq("", 17)}, "identity_number", 4001)),
		ktp(accepted("passport number of 20 characters", map[string]string{"identity_type": "2", "identity_number": uniq("A", 20)})),
		ktp(refused("passport number of 21 characters", map[string]string{"identity_type": "2", "identity_number": uniq("A", 21)}, "identity_number", 4001)),
		{accepted("passport number of 20 characters, the agent's type", one("identity_number", uniq("A", 20))), true},
		{refused("passport number of 21 characters, the agent's type", one("identity_number", uniq("A", 21)), "identity_number", 4001), true},
		ktp(accepted("type changed to passport, the number fits", one("identity_type", "2"))),
		{refused("type changed to KTP, the agent's 20-character number does not fit", one("identity_type", "1"), "identity_number", 4001), true},

		ktp(accepted("birth date DD-MM-YYYY", one("birth_date", "31-10-1990"))),
		ktp(refused("birth date YYYY-MM-DD", one("birth_date", "1990-10-31"), "birth_date", 4001)),
		ktp(refused("birth date 31 February", one("birth_date", "31-02-1990"), "birth_date", 4001)),

		ktp(accepted("birth place of 255 characters", one("birth_place", strings.Repeat("b", 255)))),
		ktp(refused("birth place of 256 characters", one("birth_place", strings.Repeat("b", 256)), "birth_place", 4001)),

		ktp(accepted("gender 2", one("gender", "2"))),
		ktp(refused("gender in the v2 form", one("gender", "female"), "gender", 4001)),
		ktp(refused("gender 3", one("gender", "3"), "gender", 4001)),

		ktp(accepted("occupation others", one("occupation", "others"))),
		ktp(refused("occupation unknown", one("occupation", "teacher"), "occupation", 4001)),

		ktp(accepted("location ids", map[string]string{"province_id": "12", "city_id": "185", "district_id": "1250"})),
		ktp(refused("country id not digits", one("country_id", "ID"), "country_id", 4001)),
		ktp(refused("city id not in the list", one("city_id", "999"), "city_id", 4001)),
		ktp(refused("residence district id not in the list", one("residence_district_id", "9999"), "residence_district_id", 4001)),

		ktp(refused("address of 9 characters", one("address", strings.Repeat("a", 9)), "address", 4001)),
		ktp(accepted("address of 10 characters", one("address", strings.Repeat("a", 10)))),
		ktp(accepted("address of 300 characters", one("address", strings.Repeat("a", 300)))),
		ktp(refused("address of 301 characters", one("address", strings.Repeat("a", 301)), "address", 4001)),
		ktp(refused("address with #", one("address", "Jalan Margonda #100"), "address", 2003)),
		ktp(refused("residence address of 9 characters", one("residence_address", strings.Repeat("r", 9)), "residence_address", 4001)),
		ktp(accepted("residence address of 10 characters", one("residence_address", strings.Repeat("r", 10)))),
		ktp(refused("residence address with a comma", one("residence_address", "Jalan Tebet, Jakarta"), "residence_address", 2003)),

		// §4.7 documents no length rule for the repaired phone number.
		ktp(accepted("phone of 7 characters (no rule documented for repair)", one("phone_number", uniq("0", 7)))),

		ktp(accepted("use_identity_address 1", one("use_identity_address", "1"))),
		ktp(refused("use_identity_address 2", one("use_identity_address", "2"), "use_identity_address", 4001)),
	}
	return rows
}

// validAgentForm is a create body that keeps every documented rule.
func validAgentForm() map[string]string {
	return map[string]string{"name": "Siti Rahayu", "identity_type": "ktp", "identity_number": uniq("", 16),
		"birth_date": "14-03-1992", "birth_place": "Kota Depok", "country_id": "1", "province_id": "12",
		"city_id": "184", "district_id": "1234", "address": "Jalan Margonda Raya 100", "gender": "female",
		"occupation": "others", "phone_number": uniq("0", 12)}
}

// body applies set to base and fills the unique identity and phone numbers.
func (f *filler) body(base, set map[string]string) url.Values {
	v := url.Values{}
	for _, m := range []map[string]string{base, set} {
		for k, val := range m {
			switch {
			case val == "":
				v.Del(k)
			case k == "identity_number" || k == "phone_number":
				v.Set(k, f.fill(val))
			default:
				v.Set(k, val)
			}
		}
	}
	return v
}

// personalFields are the fields whose values must never be echoed in an error.
var personalFields = []string{"name", "identity_number", "birth_date", "birth_place", "address",
	"residence_address", "phone_number", "email"}

// assertRefusal checks the error body's shape for the family, that it names
// want's attribute (the v2 attribute, or the field in the KYC message) with
// want's code as its only error, and that it repeats none of the personal
// values sent.
func assertRefusal(t *testing.T, v2 bool, reply string, sent url.Values, attr string, code int) {
	t.Helper()
	var top map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(reply), &top), reply)
	var errs []map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(top["errors"], &errs), reply)
	require.Len(t, errs, 1, "one rule broken, one error: %s", reply)
	e := errs[0]
	var gotCode int
	require.NoError(t, json.Unmarshal(e["code"], &gotCode), "a numeric inner code: %s", reply)
	assert.Equal(t, code, gotCode, reply)
	var msg string
	require.NoError(t, json.Unmarshal(e["message"], &msg), reply)
	assert.NotEmpty(t, msg)
	if v2 {
		assert.Equal(t, []string{"code", "errors"}, slices.Sorted(maps.Keys(top)), "the v2 422 shape: %s", reply)
		assert.JSONEq(t, `"VALIDATION_ERROR"`, string(top["code"]))
		assert.Equal(t, []string{"attribute", "code", "message"}, slices.Sorted(maps.Keys(e)), reply)
		assert.JSONEq(t, fmt.Sprintf("%q", attr), string(e["attribute"]))
	} else {
		assert.Equal(t, []string{"errors"}, slices.Sorted(maps.Keys(top)), "the KYC shape: %s", reply)
		assert.Equal(t, []string{"code", "message"}, slices.Sorted(maps.Keys(e)), reply)
		assert.Contains(t, msg, attr, "the message names the field")
	}
	for _, k := range personalFields {
		if v := sent.Get(k); len(v) >= 5 {
			assert.NotContains(t, reply, v, "the refusal repeats the %s sent", k)
		}
	}
}

// TestDocumentedRulesOnCreateAndUpdate sends each row's body as a raw
// create and as a raw update of an existing agent and checks the fake
// accepts it or refuses it with the documented 422, without changing state.
func TestDocumentedRulesOnCreateAndUpdate(t *testing.T) {
	srv := flipkyctest.NewServer(t)
	var f filler
	formCT := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	status, reply := raw(t, srv, "POST", flipkyctest.AgentsPrefix+"/agents", formCT,
		strings.NewReader(f.body(validAgentForm(), nil).Encode()))
	require.Equal(t, 200, status, reply)
	var created struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(reply), &created))

	for _, op := range []struct{ name, method, path string }{
		{"create", "POST", flipkyctest.AgentsPrefix + "/agents"},
		{"update", "PUT", flipkyctest.AgentsPrefix + "/agents/" + itoa(created.ID)},
	} {
		for _, tt := range agentsRows() {
			t.Run(op.name+"/"+tt.name, func(t *testing.T) {
				before, _ := srv.Agent(created.ID)
				agents := len(srv.Agents())
				sent := f.body(validAgentForm(), tt.set)
				status, reply := raw(t, srv, op.method, op.path, formCT, strings.NewReader(sent.Encode()))
				after, _ := srv.Agent(created.ID)
				if tt.attr == "" {
					require.Equal(t, 200, status, reply)
					if op.name == "update" {
						assert.Equal(t, sent.Get("identity_number"), after.IdentityNumber, "the update was applied")
					} else {
						assert.Len(t, srv.Agents(), agents+1, "the agent was created")
					}
					return
				}
				require.Equal(t, 422, status, reply)
				assertRefusal(t, true, reply, sent, tt.attr, tt.code)
				assert.Len(t, srv.Agents(), agents, "nothing created")
				assert.Equal(t, before, after, "nothing updated")
			})
		}
	}
}

// TestDocumentedRulesOnRepairData sends each row's fields as a raw repair
// of an agent rejected with code 10 and checks the fake accepts it (the
// agent goes under review) or refuses it with the documented 400, leaving
// the agent as it was.
func TestDocumentedRulesOnRepairData(t *testing.T) {
	srv, c, rec := startReceiver(t, flipkyctest.WithReviewer(func(flipkyc.Agent, int) flipkyctest.Decision {
		return flipkyctest.Decision{Code: 10}
	}))
	var f filler
	for _, tt := range repairRows() {
		t.Run(tt.name, func(t *testing.T) {
			p := agentParams(f.fill(uniq("", 16)), f.fill(uniq("0", 12)))
			if tt.passport {
				p.IdentityType, p.IdentityNumber = flipkyc.IdentityPassport, f.fill(uniq("A", 20))
			}
			id := rejectedWith10(t, c, rec, p)
			before, _ := srv.Agent(id)
			sent := f.body(map[string]string{"user_type": "1"}, tt.set)
			status, reply := raw(t, srv, "PUT", flipkyctest.KYCPrefix+"/users/"+itoa(id)+"/repair",
				map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Request-ID": ruleRequestID},
				strings.NewReader(sent.Encode()))
			after, _ := srv.Agent(id)
			if status == 200 {
				// Take the callback of the review the repair started, so
				// that the next row sees its own.
				assert.Equal(t, flipkyc.StatusRejected, rec.next(t).KYCStatus, "reviewed again")
			}
			if tt.attr == "" && tt.code == 0 {
				assert.Equal(t, 200, status, reply)
				return
			}
			require.Equal(t, 400, status, reply)
			assertRefusal(t, false, reply, sent, tt.attr, tt.code)
			assert.Equal(t, before, after, "nothing repaired")
		})
	}
}

// rejectedWith10 creates an agent with p (under a reviewer that rejects
// with code 10), takes it through the uploads and the submission, and
// returns its id once rejected.
func rejectedWith10(t *testing.T, c *flipkyc.Client, rec *receiver, p flipkyc.AgentParams) int64 {
	t.Helper()
	ctx := context.Background()
	a, err := c.CreateAgent(ctx, p)
	require.NoError(t, err)
	_, err = c.UploadIdentityImage(ctx, a.ID, p.IdentityType, img(t))
	require.NoError(t, err)
	_, err = c.UploadSelfieWithIdentity(ctx, a.ID, p.IdentityType, img(t))
	require.NoError(t, err)
	require.Equal(t, flipkyc.StatusUploadIdentitySelfieSuccess, rec.next(t).KYCStatus)
	_, err = c.SubmitKYC(ctx, a.ID)
	require.NoError(t, err)
	ev := rec.next(t)
	require.Equal(t, flipkyc.StatusRejected, ev.KYCStatus)
	require.Equal(t, flipkyc.RejectionCode(10), ev.RejectedReasonCode)
	return a.ID
}
