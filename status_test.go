package flipkyc

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEnumsDecodeBothDialects(t *testing.T) {
	tests := []struct {
		wire string
		into any
		want any
	}{
		{`"ktp"`, new(IdentityType), IdentityKTP},
		{`"KTP"`, new(IdentityType), IdentityKTP},
		{`"passport"`, new(IdentityType), IdentityPassport},
		{`1`, new(IdentityType), IdentityKTP},
		{`"2"`, new(IdentityType), IdentityPassport},
		{`"kitas"`, new(IdentityType), IdentityType("kitas")},
		{`"male"`, new(Gender), GenderMale},
		{`2`, new(Gender), GenderFemale},
		{`"1"`, new(Gender), GenderMale},
		{`"GOVERNMENT_EMPLOYEE"`, new(Occupation), OccupationGovernmentEmployee},
		{`"BASIC_DATA"`, new(KYCStatus), StatusBasicData},
		{`20`, new(KYCStatus), StatusPending},
		{`"19"`, new(KYCStatus), StatusUploadIdentitySelfieSuccess},
		{`15`, new(KYCStatus), StatusUploadIdentitySelfieFailed},
		{`40`, new(KYCStatus), StatusApproved},
		{`50`, new(KYCStatus), StatusRejected},
		{`77`, new(KYCStatus), KYCStatus("77")},
		{`"NEW_STATE"`, new(KYCStatus), KYCStatus("NEW_STATE")},
		{`"ACTIVE"`, new(AgentStatus), AgentActive},
		{`10`, new(AgentStatus), AgentActive},
		{`0`, new(AgentStatus), AgentDeleted},
		{`"30"`, new(AgentStatus), AgentBlocked},
		{`"FROZEN"`, new(AgentStatus), AgentStatus("FROZEN")},
		{`10`, new(RejectionCode), RejectionCode(10)},
		{`"17"`, new(RejectionCode), RejectionCode(17)},
		{`null`, new(RejectionCode), RejectionCode(0)},
		{`""`, new(RejectionCode), RejectionCode(0)},
	}
	for _, tt := range tests {
		require.NoError(t, json.Unmarshal([]byte(tt.wire), tt.into), tt.wire)
		// Dereference the pointer for comparison.
		var got any
		switch p := tt.into.(type) {
		case *IdentityType:
			got = *p
		case *Gender:
			got = *p
		case *Occupation:
			got = *p
		case *KYCStatus:
			got = *p
		case *AgentStatus:
			got = *p
		case *RejectionCode:
			got = *p
		}
		assert.Equal(t, tt.want, got, tt.wire)
	}
	for _, bad := range []string{`{}`, `[1]`, `true`} {
		var s KYCStatus
		assert.Error(t, json.Unmarshal([]byte(bad), &s), bad)
	}
	var rc RejectionCode
	assert.Error(t, json.Unmarshal([]byte(`"abc"`), &rc))
}

func TestKYCStatusHelpers(t *testing.T) {
	assert.True(t, StatusApproved.IsFinal())
	assert.True(t, StatusRejected.IsFinal())
	assert.False(t, StatusPending.IsFinal())
	assert.True(t, StatusRejected.NeedsRepair())
	assert.True(t, StatusUploadIdentitySelfieFailed.NeedsRepair())
	assert.False(t, StatusApproved.NeedsRepair())
	assert.True(t, StatusUploadIdentitySelfieSuccess.CanSubmit())
	assert.False(t, StatusPending.CanSubmit())
	assert.True(t, StatusRejected.CanUploadDocuments())
	assert.False(t, StatusBasicData.CanUploadDocuments())
	code, ok := StatusRejected.Code()
	assert.True(t, ok)
	assert.Equal(t, 50, code)
	_, ok = StatusBasicData.Code()
	assert.False(t, ok)
	assert.False(t, KYCStatus("77").Known())
	assert.Equal(t, StatusApproved, KYCStatusFromCode(40))
}

func TestRejectionCodes(t *testing.T) {
	assert.Equal(t, []Fix{FixRepairData}, RejectionCode(10).Fixes())
	assert.Equal(t, []Fix{FixRepairIdentityImage, FixSupportingDocuments}, RejectionCode(17).Fixes())
	assert.Equal(t, []Fix{FixRepairSelfie}, RejectionCode(25).Fixes())
	assert.Equal(t, []Fix{FixNone}, RejectionCode(29).Fixes())
	assert.Equal(t, []Fix{FixContactFlip}, RejectionCode(99).Fixes())
	assert.False(t, RejectionCode(99).Known())
	assert.Equal(t, "ID card has expired", RejectionCode(19).Message())
	for c := RejectionCode(10); c <= 33; c++ {
		assert.True(t, c.Known(), c)
	}
	f := RejectionCode(17).Fixes()
	f[0] = FixNone
	assert.Equal(t, FixRepairIdentityImage, RejectionCode(17).Fixes()[0], "callers cannot change the table")
	b, _ := json.Marshal(RejectionCode(0))
	assert.Equal(t, "null", string(b))
}

func TestDatesDecodeEveryDocumentedForm(t *testing.T) {
	tests := []struct {
		wire string
		want Date
		raw  string
	}{
		{`"31-10-1990"`, NewDate(1990, time.October, 31), ""},
		{`"1990-10-31T00:00:00Z"`, NewDate(1990, time.October, 31), ""},
		{`"2024-10-02T04:05:32.068Z"`, NewDate(2024, time.October, 2), ""},
		{`"31-10-1990T00:00:00Z"`, NewDate(1990, time.October, 31), ""},
		{`"1990-10-31"`, NewDate(1990, time.October, 31), ""},
		{`"sometime in 1990"`, Date{Raw: "sometime in 1990"}, "sometime in 1990"},
		{`null`, Date{}, ""},
	}
	for _, tt := range tests {
		var d Date
		require.NoError(t, json.Unmarshal([]byte(tt.wire), &d), tt.wire)
		assert.True(t, tt.want == d, "%s: a decoded date equals the one built in code: %#v", tt.wire, d)
		assert.Equal(t, tt.raw, d.Raw, tt.wire)
	}
	for _, tt := range []struct {
		text string
		want Date
		ok   bool
	}{
		{"29-02-2000", NewDate(2000, time.February, 29), true},
		{"2000-02-29", NewDate(2000, time.February, 29), true},
		{"29-02-2001", Date{}, false},
		{"2001-02-29", Date{}, false},
		{"2000/02/29", Date{}, false},
	} {
		d, err := ParseDate(tt.text)
		assert.Equal(t, tt.ok, err == nil, tt.text)
		assert.Equal(t, tt.want, d, tt.text)
	}
	jkt := time.FixedZone("WIB", 7*3600)
	assert.Equal(t, NewDate(1990, time.November, 1), DateOf(time.Date(1990, time.November, 1, 2, 0, 0, 0, jkt)), "the day in t's own location")
}

func TestTimestampTextAndJSONAgree(t *testing.T) {
	for _, wire := range []string{`"2022-02-18 05:03:32"`, `"2022-04-20T14:37:07+07:00"`, `"yesterday"`, `null`} {
		var ts Timestamp
		require.NoError(t, json.Unmarshal([]byte(wire), &ts))
		js, err := json.Marshal(ts)
		require.NoError(t, err)
		text, err := ts.MarshalText()
		require.NoError(t, err)
		if wire == "null" {
			assert.Equal(t, "null", string(js))
			assert.Empty(t, text)
			continue
		}
		assert.Equal(t, wire, string(js), "JSON round trip")
		assert.Equal(t, `"`+string(text)+`"`, string(js), "text and JSON agree")
		var back Timestamp
		require.NoError(t, back.UnmarshalText(text))
		assert.Equal(t, ts.Raw, back.Raw)
		assert.True(t, ts.Time.Equal(back.Time))
	}
	built, err := Timestamp{Time: time.Date(2022, 2, 18, 5, 3, 32, 0, time.FixedZone("WIB", 7*3600))}.MarshalText()
	require.NoError(t, err)
	assert.Equal(t, "2022-02-18 05:03:32", string(built))
}

func TestTimestampsDecodeEveryDocumentedForm(t *testing.T) {
	tests := []struct {
		wire string
		want string // RFC 3339, "" for zero
	}{
		{`"2022-01-01 13:00:00"`, "2022-01-01T13:00:00+07:00"},
		{`"2022-04-20T14:37:07+07:00"`, "2022-04-20T14:37:07+07:00"},
		{`"2022-01-02T15:38:49.317601182+07:00"`, "2022-01-02T15:38:49.317601182+07:00"},
		{`"2024-10-02T04:05:32.068Z"`, "2024-10-02T04:05:32.068Z"},
		{`null`, ""},
		{`"yesterday"`, ""},
	}
	for _, tt := range tests {
		var ts Timestamp
		require.NoError(t, json.Unmarshal([]byte(tt.wire), &ts), tt.wire)
		if tt.want == "" {
			assert.True(t, ts.IsZero(), tt.wire)
			continue
		}
		want, err := time.Parse(time.RFC3339Nano, tt.want)
		require.NoError(t, err)
		assert.True(t, want.Equal(ts.Time), "%s: got %v", tt.wire, ts.Time)
	}
	var ts Timestamp
	require.NoError(t, json.Unmarshal([]byte(`"yesterday"`), &ts))
	assert.Equal(t, "yesterday", ts.Raw, "an unknown layout stays visible")
}

func TestAgentStatusKnown(t *testing.T) {
	for _, s := range []AgentStatus{AgentDeleted, AgentActive, AgentBlacklisted, AgentBlocked} {
		assert.True(t, s.Known(), s)
	}
	for _, s := range []AgentStatus{"", "SUSPENDED", "40"} {
		assert.False(t, s.Known(), s)
	}
	var s AgentStatus
	require.NoError(t, json.Unmarshal([]byte(`30`), &s))
	assert.Equal(t, AgentBlocked, s)
	require.NoError(t, json.Unmarshal([]byte(`"frozen"`), &s))
	assert.False(t, s.Known())
}
