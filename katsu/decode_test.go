package katsu_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc/katsu"
)

func TestTierDecoding(t *testing.T) {
	tests := []struct {
		json string
		want katsu.Tier
		text string // TierText kept for an unreadable tier
	}{
		{`1`, katsu.Tier1, ""},
		{`"1"`, katsu.Tier1, ""},
		{`" 2 "`, katsu.Tier2, ""},
		{`0`, katsu.Tier0, ""},
		{`"0"`, katsu.Tier0, ""},
		{`"Tier1"`, katsu.Tier1, ""},
		{`"tier 2"`, katsu.Tier2, ""},
		{`"TIER_0"`, katsu.Tier0, ""},
		{`"Level2"`, katsu.Tier2, ""},
		{`2.0`, katsu.Tier2, ""},
		{`7`, katsu.Tier(7), ""},
		{`"7"`, katsu.Tier(7), ""},
		{`"Gold"`, katsu.TierUnknown, "Gold"},
		{`"string"`, katsu.TierUnknown, "string"},
		{`""`, katsu.TierUnknown, ""},
		{`"-1"`, katsu.TierUnknown, "-1"},
		{`"+1"`, katsu.TierUnknown, "+1"},
		{`1.5`, katsu.TierUnknown, "1.5"},
		{`-3`, katsu.TierUnknown, "-3"},
		{`null`, katsu.TierUnknown, ""}, // a Tier read alone is left as it was
	}
	for _, tt := range tests {
		t.Run(tt.json, func(t *testing.T) {
			var r katsu.Record
			require.NoError(t, json.Unmarshal([]byte(`{"tier":`+tt.json+`}`), &r))
			assert.Equal(t, tt.want, r.Tier)
			assert.Equal(t, tt.text, r.TierText)
			var tier katsu.Tier
			require.NoError(t, json.Unmarshal([]byte(tt.json), &tier))
			if tt.json == `null` {
				assert.Equal(t, katsu.Tier0, tier, "null leaves a Tier unchanged")
				return
			}
			assert.Equal(t, tt.want, tier)
		})
	}
	for _, bad := range []string{`{}`, `[1]`, `true`} {
		var r katsu.Record
		assert.Error(t, json.Unmarshal([]byte(`{"tier":`+bad+`}`), &r), bad)
	}
	b, err := json.Marshal(struct{ T katsu.Tier }{katsu.Tier2})
	require.NoError(t, err)
	assert.Equal(t, `{"T":2}`, string(b), "a tier is written as a number")
	assert.Equal(t, "Tier1", katsu.Tier1.String())
	assert.Equal(t, "TierUnknown", katsu.TierUnknown.String())
}

func TestRecordDecodingIsTolerant(t *testing.T) {
	tests := []struct {
		name string
		json string
		want katsu.Record
	}{
		{"documented", recordJSON, katsu.Record{ID: kycID, Tier: katsu.Tier1, Name: testName, TenantID: tenantID,
			OwnerID: ownerID, Approved: true, IsAddressVerified: true,
			ApprovedOn: time.Date(2024, 8, 6, 22, 14, 12, 185e6, time.UTC), BVN: testBVN, Status: "Approved"}},
		{"PascalCase keys, .NET date without offset", `{"Id":"a","Tier":2,"ApprovedOn":"2024-08-06T22:14:12.1851234","Approved":"true"}`,
			katsu.Record{ID: "a", Tier: katsu.Tier2, Approved: true, ApprovedOn: time.Date(2024, 8, 6, 22, 14, 12, 185123400, time.UTC)}},
		{"offset converted to UTC", `{"approvedOn":"2024-08-06T23:14:12+01:00"}`,
			katsu.Record{Tier: katsu.TierUnknown, ApprovedOn: time.Date(2024, 8, 6, 22, 14, 12, 0, time.UTC)}},
		{"bare date", `{"approvedOn":"2024-08-06"}`, katsu.Record{Tier: katsu.TierUnknown, ApprovedOn: time.Date(2024, 8, 6, 0, 0, 0, 0, time.UTC)}},
		{".NET minimum date is no date", `{"approvedOn":"0001-01-01T00:00:00"}`, katsu.Record{Tier: katsu.TierUnknown}},
		{"unreadable date is no date", `{"approvedOn":"yesterday"}`, katsu.Record{Tier: katsu.TierUnknown}},
		{"nulls everywhere", `{"id":null,"tier":null,"name":null,"approved":null,"approvedOn":null,"bvn":null,"status":null}`, katsu.Record{Tier: katsu.TierUnknown}},
		{"numbers as text", `{"bvn":22298765431,"status":3,"isTenant":1}`, katsu.Record{Tier: katsu.TierUnknown, BVN: "22298765431", Status: "3", IsTenant: true}},
		{"unknown members ignored", `{"id":"a","extra":{"x":[1]}}`, katsu.Record{ID: "a", Tier: katsu.TierUnknown}},
		{"null record", `null`, katsu.Record{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r katsu.Record
			require.NoError(t, json.Unmarshal([]byte(tt.json), &r))
			assert.Equal(t, tt.want, r)
		})
	}
	for _, bad := range []string{`{"approved":"maybe"}`, `{"name":{"first":"x"}}`, `[]`, `"x"`} {
		var r katsu.Record
		assert.Error(t, json.Unmarshal([]byte(bad), &r), bad)
	}
}

func TestEnvelopeDecoding(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		name      string
		body      string
		succeeded *bool
		message   string
		errs      []string
		data      string
	}{
		{"documented", `{"succeeded":true,"message":"ok","errors":["string"],"data":{}}`, &yes, "ok", []string{"string"}, `{}`},
		{"failure", `{"succeeded":false,"message":"KYC not found","errors":[],"data":null}`, &no, "KYC not found", nil, ""},
		{"PascalCase", `{"Succeeded":false,"Message":"m","Errors":["a","b"]}`, &no, "m", []string{"a", "b"}, ""},
		{"succeeded as text", `{"succeeded":"false"}`, &no, "", nil, ""},
		{"errors as one string", `{"succeeded":false,"errors":"boom"}`, &no, "", []string{"boom"}, ""},
		{"errors as objects", `{"succeeded":false,"errors":[{"code":"X","description":"d"},"s",3]}`, &no, "", []string{"d", "s", "3"}, ""},
		{"problem details", `{"type":"https://tools.ietf.org/html/rfc7231#section-6.5.1","title":"One or more validation errors occurred.","status":400,"errors":{"Bvn":["The Bvn field is required."],"KycId":["bad"]}}`,
			nil, "One or more validation errors occurred.", []string{"Bvn: The Bvn field is required.", "KycId: bad"}, ""},
		{"BOM", "\xef\xbb\xbf{\"succeeded\":true,\"data\":[]}", &yes, "", nil, `[]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			succeeded, message, errs, data, err := katsu.ParseEnvelope([]byte(tt.body))
			require.NoError(t, err)
			assert.Equal(t, tt.succeeded, succeeded)
			assert.Equal(t, tt.message, message)
			assert.Equal(t, tt.errs, errs)
			assert.Equal(t, tt.data, string(data))
		})
	}
	for _, bad := range []string{``, `[]`, `null`, `{"id":1}`, `<html>`, `{"succeeded":true`} {
		_, _, _, _, err := katsu.ParseEnvelope([]byte(bad))
		assert.Error(t, err, bad)
	}
}

func TestPageDecoding(t *testing.T) {
	rec := `{"id":"r"}`
	tests := []struct {
		name      string
		body      string
		requested int
		want      katsu.Page
	}{
		{"paged response beside data", `{"succeeded":true,"data":[` + rec + `],"pageNumber":1,"pageSize":1,"totalPages":3,"totalRecords":3}`, 0,
			katsu.Page{PageNumber: 1, PageSize: 1, TotalPages: 3, TotalCount: 3, HasNext: true}},
		{"last page by totals", `{"succeeded":true,"data":[` + rec + `],"pageNumber":3,"pageSize":1,"totalPages":3}`, 0,
			katsu.Page{PageNumber: 3, PageSize: 1, TotalPages: 3}},
		{"paginated list in data", `{"succeeded":true,"data":{"items":[` + rec + `],"pageNumber":2,"totalPages":5,"totalCount":9,"hasPreviousPage":true,"hasNextPage":false}}`, 0,
			katsu.Page{PageNumber: 2, TotalPages: 5, TotalCount: 9, HasPrevious: true}},
		{"links", `{"succeeded":true,"data":{"data":[` + rec + `],"currentPage":"1","nextPage":"https://k/next","previousPage":null}}`, 0,
			katsu.Page{PageNumber: 1, HasNext: true}},
		{"count only", `{"succeeded":true,"data":{"records":[` + rec + `],"page":2,"pageSize":1,"totalCount":2}}`, 0,
			katsu.Page{PageNumber: 2, PageSize: 1, TotalCount: 2}},
		{"nothing but a full page", `{"succeeded":true,"data":[` + rec + `]}`, 1, katsu.Page{HasNext: true}},
		{"nothing but a short page", `{"succeeded":true,"data":[` + rec + `]}`, 2, katsu.Page{}},
		{"empty page never has a next", `{"succeeded":true,"data":[],"hasNextPage":true}`, 0, katsu.Page{Records: []katsu.Record{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := katsu.DecodePage([]byte(tt.body), tt.requested)
			require.NoError(t, err)
			if tt.want.Records == nil {
				tt.want.Records = []katsu.Record{{ID: "r", Tier: katsu.TierUnknown}}
			}
			assert.Equal(t, tt.want, got)
		})
	}
	for _, bad := range []string{`{"succeeded":true,"data":null}`, `{"succeeded":true,"data":{"total":1}}`, `{"succeeded":true,"data":"x"}`, `{"succeeded":true,"data":[1]}`} {
		_, err := katsu.DecodePage([]byte(bad), 0)
		assert.Error(t, err, bad)
	}
}

// A success reply must carry the record asked about.
func TestSuccessWithoutTheRecordIsADecodeError(t *testing.T) {
	other := strings.Replace(recordJSON, kycID, approver, 1)
	for name, body := range map[string]string{
		"empty data":  `{"succeeded":true,"data":{}}`,
		"no id":       `{"succeeded":true,"data":{"tier":"1","name":"x"}}`,
		"another id":  `{"succeeded":true,"data":` + other + `}`,
		"null id":     `{"succeeded":true,"data":{"id":null,"tier":1}}`,
		"numeric id0": `{"succeeded":true,"data":{"id":0}}`,
	} {
		t.Run(name, func(t *testing.T) {
			c, _ := newClient(t, reply(200, body))
			rec, err := c.Get(context.Background(), kycID)
			var de *katsu.DecodeError
			require.ErrorAs(t, err, &de, "%v", err)
			assert.Equal(t, katsu.Record{}, rec)
			_, err = c.Update(context.Background(), katsu.UpdateParams{KYCID: kycID, Tier: katsu.Tier1, BVN: testBVN})
			require.ErrorAs(t, err, &de, "%v", err)
			assert.NotErrorIs(t, err, katsu.ErrOutcomeUnknown, "Katsu said it succeeded")
		})
	}
	c, _ := newClient(t, reply(200, `{"succeeded":true,"data":`+strings.ToUpper(recordJSON[:50])+recordJSON[50:]+`}`))
	_, err := c.Get(context.Background(), kycID)
	assert.NoError(t, err, "ids compare without case")
}

// A record without a tier, or with null, has TierUnknown, not Tier0.
func TestMissingTierIsUnknown(t *testing.T) {
	for _, body := range []string{`{"id":"a"}`, `{"id":"a","tier":null}`} {
		var r katsu.Record
		require.NoError(t, json.Unmarshal([]byte(body), &r))
		assert.Equal(t, katsu.TierUnknown, r.Tier, body)
		assert.Empty(t, r.TierText)
	}
}
