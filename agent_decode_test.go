package flipkyc

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// agentDecodeSeeds are the replies the fast agent decoder is compared on:
// every file in testdata (agents, other replies, callbacks, errors) and
// hostile forms of an agent.
func agentDecodeSeeds(t testing.TB) map[string][]byte {
	seeds := map[string][]byte{}
	files, err := filepath.Glob(filepath.Join("testdata", "*"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, name := range files {
		b, err := os.ReadFile(name)
		require.NoError(t, err)
		seeds[name] = b
	}
	for _, h := range hostileAgentReplies {
		seeds["hostile "+h] = []byte(h)
	}
	return seeds
}

// hostileAgentReplies are agents in forms the fast decoder must either
// decode as encoding/json does or leave to it.
var hostileAgentReplies = []string{
	``, ` `, `null`, `[]`, `"ok"`, `{}`, ` { } `, `{`, `}`, `{"id":1`, `{"id":1,}`, `{"id":1}}`, `{"id":1} x`,
	`{"id":1}{}`, "\xef\xbb\xbf{\"id\":1}", `{"id" 1}`, `{id:1}`, `{'id':1}`, `{"id":1 "name":"x"}`,
	`{"id":01}`, `{"id":-0}`, `{"id":-}`, `{"id":1.}`, `{"id":.5}`, `{"id":1e}`, `{"id":1e+}`, `{"id":1.0}`,
	`{"id":1e2}`, `{"id":1E2}`, `{"id":-7}`, `{"id":9223372036854775807}`, `{"id":9223372036854775808}`,
	`{"id":"7"}`, `{"id":" 7 "}`, `{"id":"7x"}`, `{"id":"1.0"}`, `{"id":""}`, `{"id":null}`, `{"id":true}`,
	`{"id":{}}`, `{"id":[]}`, `{"id":nul}`, `{"id":nullx}`, `{"id":truex}`, `{"id":1x}`,
	`{"id":1,"id":2}`, `{"id":1,"name":"a","name":null}`, `{"id":1,"ID":2}`, `{"ID":2}`, `{"Id":2,"NAME":"x"}`,
	`{"id":1,"ıd":2}`, `{"id":1,"ſtatus":"x"}`, `{"id":1,"\u0069d":2}`, `{"\u0069d":2}`, `{"i\"d":2}`,
	`{"id":1,"name":"a\"b"}`, `{"id":1,"name":"a\\b"}`, `{"id":1,"name":"a\u00e9"}`, `{"id":1,"name":"a\/b"}`,
	"{\"id\":1,\"name\":\"a\x01b\"}", "{\"id\":1,\"name\":\"a\tb\"}", "{\"id\":1,\"name\":\"\xff\xfe\"}",
	"{\"id\":1,\"name\":\"Siti Nurhaliza \xc3\xa9\"}", "{\"id\":1,\"name\":\"\xe2\x80\xa8\"}",
	"{\"id\":1,\"name\":\"\xed\xa0\x80\"}", "{\"id\":1,\"name\":\"\xef\xbf\xbd\"}",
	"{\"id\":1,\n\t\"name\" :\r \"x\" ,\n\"kyc_status\":\"APPROVED\"\n}\n", "{\"id\":1,\f\"name\":\"x\"}",
	`{"id":1,"name":12345}`, `{"id":1,"name":true}`, `{"id":1,"name":{"first":"a"}}`, `{"id":1,"name":["a"]}`,
	`{"id":1,"country_id":"1"}`, `{"id":1,"country_id":1.0}`, `{"id":1,"country_id":12.5}`, `{"id":1,"country_id":-3}`,
	`{"id":1,"country_id":99999999999999999999}`, `{"id":1,"country_id":null}`, `{"id":1,"country_id":true}`,
	`{"id":1,"identity_type":"KTP"}`, `{"id":1,"identity_type":2}`, `{"id":1,"identity_type":"2"}`,
	`{"id":1,"identity_type":" passport "}`, `{"id":1,"identity_type":null}`, `{"id":1,"identity_type":false}`,
	`{"id":1,"identity_type":"sim"}`, `{"id":1,"gender":"Female"}`, `{"id":1,"gender":1}`, `{"id":1,"gender":1.5}`,
	`{"id":1,"occupation":"ENTREPRENEUR"}`, `{"id":1,"occupation":"pilot"}`, `{"id":1,"occupation":3}`,
	`{"id":1,"kyc_status":"approved"}`, `{"id":1,"kyc_status":40}`, `{"id":1,"kyc_status":"40"}`,
	`{"id":1,"kyc_status":"+40"}`, `{"id":1,"kyc_status":-1}`, `{"id":1,"kyc_status":1e2}`, `{"id":1,"kyc_status":""}`,
	`{"id":1,"kyc_status":"NEW_STATUS"}`, `{"id":1,"kyc_status":null}`, `{"id":1,"kyc_status":{"code":1}}`,
	`{"id":1,"status":"active"}`, `{"id":1,"status":10}`, `{"id":1,"status":"30"}`, `{"id":1,"status":"FROZEN"}`,
	`{"id":1,"rejected_reason_code":17}`, `{"id":1,"rejected_reason_code":"17"}`, `{"id":1,"rejected_reason_code":"17.0"}`,
	`{"id":1,"rejected_reason_code":17.0}`, `{"id":1,"rejected_reason_code":""}`, `{"id":1,"rejected_reason_code":" "}`,
	`{"id":1,"rejected_reason_code":"x"}`, `{"id":1,"rejected_reason_code":-2}`, `{"id":1,"rejected_reason_code":true}`,
	`{"id":1,"rejected_reason_code":99999999999999999999}`, `{"id":1,"rejected_reason":null}`,
	`{"id":1,"birth_date":"31-10-1990"}`, `{"id":1,"birth_date":" 31-10-1990 "}`, `{"id":1,"birth_date":"1990-10-31"}`,
	`{"id":1,"birth_date":"31/10/1990"}`, `{"id":1,"birth_date":""}`, `{"id":1,"birth_date":null}`,
	`{"id":1,"birth_date":19901031}`, `{"id":1,"birth_date":"30-02-1990"}`,
	`{"id":1,"created_at":"2022-01-01 13:00:00"}`, `{"id":1,"created_at":"2022-01-01T13:00:00+07:00"}`,
	`{"id":1,"created_at":" 2022-01-01 13:00:00 "}`, `{"id":1,"created_at":"yesterday"}`, `{"id":1,"created_at":""}`,
	`{"id":1,"created_at":null}`, `{"id":1,"created_at":1641016800}`,
	`{"id":1,"new_field":"x"}`, `{"id":1,"new_field":12.5e3}`, `{"id":1,"new_field":null}`, `{"id":1,"new_field":[1]}`,
	`{"id":1,"new_field":{"x":1}}`, `{"id":1,"new_field":"\u00e9"}`, `{"id":1,"new_field":"` + strings.Repeat("x", 40) + `"}`,
	`{"id":1,"` + strings.Repeat("k", 40) + `":1}`, `{"id":1,"":1}`,
	`{"name":"Unauthorized","message":"invalid credentials","status":401}`, `{"status":"error","message":"x"}`,
}

// TestAgentKeysMatchTheStruct: the fast decoder knows every JSON field of an
// agent reply, so a field added to Agent cannot be skipped by it.
func TestAgentKeysMatchTheStruct(t *testing.T) {
	names := slices.Sorted(func(yield func(string) bool) {
		for name := range jsonFieldIndex(reflect.TypeFor[agentReply]()) {
			if !yield(name) {
				return
			}
		}
	})
	known := slices.Sorted(func(yield func(string) bool) {
		for name := range agentKeys {
			if !yield(name) {
				return
			}
		}
	})
	assert.Equal(t, names, known)
	assert.Len(t, agentKeys, int(agentKeyCount))
	assert.Less(t, int(agentKeyCount), 64, "the fast decoder tracks the fields seen in a uint64")
}

// checkAgentFastDecode decodes body with the fast decoder and with
// encoding/json (the general decoder), and fails unless the fast one either
// declined, leaving its reply zero, or gave the general one's result. It
// reports whether the fast decoder took the body.
func checkAgentFastDecode(t testing.TB, body []byte) bool {
	var fast agentReply
	took := fast.decodeFast(body)
	var general agentReply
	generalErr := decodeGeneral(body, &general)
	if !took {
		if !reflect.DeepEqual(fast, agentReply{}) {
			t.Fatalf("the fast decoder declined %q but left %+v", body, fast)
		}
		return false
	}
	if generalErr != nil {
		t.Fatalf("the fast decoder took %q, which encoding/json refuses: %v", body, generalErr)
	}
	if fast.ID != general.ID || fast.CompanyID != general.CompanyID {
		t.Fatalf("ids of %q: fast %d/%d, general %d/%d", body, fast.ID, fast.CompanyID, general.ID, general.CompanyID)
	}
	if f, g := fast.agent(), general.agent(); !reflect.DeepEqual(f, g) {
		t.Fatalf("agent from %q:\nfast    %#v\ngeneral %#v", body, *f, *g)
	}
	if f, g := fast.checkResponse(), general.checkResponse(); (f == nil) != (g == nil) {
		t.Fatalf("check of %q: fast %v, general %v", body, f, g)
	}
	return true
}

// TestAgentFastDecodeMatchesGeneral compares the fast agent decoder with
// encoding/json on every testdata file, hostile replies and, for each
// field of an agent, each hostile form of its value.
func TestAgentFastDecodeMatchesGeneral(t *testing.T) {
	seeds := agentDecodeSeeds(t)
	for name, body := range seeds {
		took := checkAgentFastDecode(t, body)
		if strings.HasPrefix(name, filepath.Join("testdata", "agent_")) && strings.HasSuffix(name, ".json") {
			assert.True(t, took, "the fast decoder takes the documented agent %s", name)
		}
	}
	// Every field of a full agent, with each value replaced in turn.
	values := []string{`null`, `""`, `" "`, `"x"`, `" X y "`, `"17"`, `"1.0"`, `0`, `-0`, `1`, `17`, `-3`, `1.0`,
		`1e1`, `2.5`, `9223372036854775807`, `9223372036854775808`, `true`, `false`, `{}`, `[]`, `"APPROVED"`,
		`"approved"`, `"ktp"`, `"Passport"`, `"male"`, `"31-10-1990"`, `"2022-01-01 13:00:00"`, `"a\"b"`,
		"\"\xc3\xa9\"", "\"\xff\"", `"ACTIVE"`, `"10"`, `"entrepreneur"`}
	full := fullAgentFields()
	taken := 0
	for i := range full {
		for _, v := range values {
			body := agentObject(full, i, v)
			if checkAgentFastDecode(t, body) {
				taken++
			}
		}
	}
	t.Logf("fast decoder took %d of %d field variants", taken, len(full)*len(values))
	assert.True(t, checkAgentFastDecode(t, agentObject(full, -1, "")), "a full agent of the usual form")
}

// fullAgentFields returns a field and usual value for every JSON field of
// an agent reply, in the struct's order.
func fullAgentFields() [][2]string {
	usual := map[string]string{
		"id": `497`, "company_id": `45529`, "identity_type": `"ktp"`, "gender": `"female"`, "occupation": `"others"`,
		"kyc_status": `"REJECTED"`, "status": `"ACTIVE"`, "rejected_reason_code": `17`,
		"birth_date": `"04-06-1998"`, "created_at": `"2022-01-01 13:00:00"`,
	}
	var fields [][2]string
	for _, sf := range reflect.VisibleFields(reflect.TypeFor[agentReply]()) {
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "" || sf.Anonymous || slices.ContainsFunc(fields, func(f [2]string) bool { return f[0] == name }) {
			continue
		}
		v, ok := usual[name]
		switch {
		case ok:
		case strings.HasSuffix(name, "_id"):
			v = `12`
		default:
			v = `"Jalan Margonda ` + name + `"`
		}
		fields = append(fields, [2]string{name, v})
	}
	return fields
}

// agentObject writes fields as a JSON object, field i's value replaced by
// value (none when i is -1).
func agentObject(fields [][2]string, i int, value string) []byte {
	var b strings.Builder
	b.WriteByte('{')
	for j, f := range fields {
		if j > 0 {
			b.WriteByte(',')
		}
		v := f[1]
		if j == i {
			v = value
		}
		b.WriteString(`"` + f[0] + `":` + v)
	}
	b.WriteByte('}')
	return []byte(b.String())
}

// FuzzAgentFastDecode: on any input, the fast agent decoder declines or
// agrees with encoding/json.
func FuzzAgentFastDecode(f *testing.F) {
	for _, body := range agentDecodeSeeds(f) {
		f.Add(body)
	}
	full := fullAgentFields()
	f.Add(agentObject(full, -1, ""))
	f.Fuzz(func(t *testing.T, body []byte) {
		checkAgentFastDecode(t, body)
	})
}

// TestEnumsDecodeTheirConstantsAsTheGeneralPath: a constant spelled exactly
// (decoded without a copy) decodes to itself, as the same text through
// decodeEnumText does (taken here by surrounding spaces), for every
// constant of every enum.
func TestEnumsDecodeTheirConstantsAsTheGeneralPath(t *testing.T) {
	checkEnumConstants(t, identityTypes, (*IdentityType).UnmarshalJSON)
	checkEnumConstants(t, genders, (*Gender).UnmarshalJSON)
	checkEnumConstants(t, occupations, (*Occupation).UnmarshalJSON)
	checkEnumConstants(t, kycStatuses, (*KYCStatus).UnmarshalJSON)
	checkEnumConstants(t, agentStatuses, (*AgentStatus).UnmarshalJSON)
	assert.True(t, IdentityKTP.Known() && IdentityPassport.Known())
}

func checkEnumConstants[T interface {
	~string
	Known() bool
}](t *testing.T, known []T, decode func(*T, []byte) error) {
	for _, c := range known {
		assert.True(t, c.Known(), c)
		var exact, spaced T
		require.NoError(t, decode(&exact, []byte(`"`+string(c)+`"`)))
		require.NoError(t, decode(&spaced, []byte(`" `+string(c)+` "`)))
		assert.Equal(t, c, exact)
		assert.Equal(t, spaced, exact)
	}
}

// TestAgentDecodeAllocations: the documented agent of GetAgent decodes
// with at most 7 allocations (18 through encoding/json): its four texts,
// the creation time's, the result and the reply's buffer are all it needs.
func TestAgentDecodeAllocations(t *testing.T) {
	body := fixture(t, "agent_get_response.json")
	allocs := testing.AllocsPerRun(100, func() {
		var r agentReply
		if err := decodeJSON(body, &r); err != nil {
			t.Fatal(err)
		}
		_ = r.agent()
	})
	assert.LessOrEqual(t, allocs, 7.0)
}

// TestKYCStatusCodesAndNames: a status that is not a number is kept
// upper-cased; a number, signed or not, is a code.
func TestKYCStatusCodesAndNames(t *testing.T) {
	for in, want := range map[string]KYCStatus{
		`"+40"`: StatusApproved, `40`: StatusApproved, `"40"`: StatusApproved, `-1`: "-1", `"x40"`: "X40",
		`"approved"`: StatusApproved, `""`: "", `null`: "", `"4 0"`: "4 0", `"-"`: "-",
	} {
		var s KYCStatus
		require.NoError(t, s.UnmarshalJSON([]byte(in)), in)
		assert.Equal(t, want, s, in)
	}
}

// TestFlexIntDigitsAsParseInteger: ids of plain digits read as
// parseInteger reads them, up to the longest int64.
func TestFlexIntDigitsAsParseInteger(t *testing.T) {
	for _, in := range []string{"0", "7", "007", "497", "123456789012345678", "999999999999999999",
		"1234567890123456789", "9223372036854775807", "9223372036854775808", `"12"`, "-5", "1.0", "1e3"} {
		var n flexInt
		err := n.UnmarshalJSON([]byte(in))
		want, werr := parseInteger(strings.Trim(in, `"`))
		if werr != nil {
			assert.Error(t, err, in)
			continue
		}
		require.NoError(t, err, in)
		assert.Equal(t, want, int64(n), in)
	}
}
