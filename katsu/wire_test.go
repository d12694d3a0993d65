package katsu_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc/katsu"
)

// seen is what a handler received.
type seen struct {
	method, path, rawQuery string
	header                 http.Header
	body                   string
}

// recordInto returns a mux that serves pattern with answer after recording
// the request into *s.
func recordInto(s *seen, pattern string, answer http.HandlerFunc) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		*s = seen{method: r.Method, path: r.URL.Path, rawQuery: r.URL.RawQuery, header: r.Header.Clone(), body: string(b)}
		answer(w, r)
	})
	return mux
}

func TestUpdateOnTheWire(t *testing.T) {
	var s seen
	c, _ := newClient(t, recordInto(&s, "POST /api/v1/Kyc/update", reply(200, okRecord)))
	rec, err := c.Update(context.Background(), katsu.UpdateParams{KYCID: kycID, Tier: katsu.Tier2, AddressVerified: true, BVN: testBVN})
	require.NoError(t, err)
	assert.Equal(t, "POST", s.method)
	assert.Equal(t, "/api/v1/Kyc/update", s.path)
	assert.Equal(t, `{"tier":2,"addressVerified":true,"bvn":"`+testBVN+`","kycId":"`+kycID+`"}`, s.body)
	assert.Equal(t, "Bearer "+testToken, s.header.Get("Authorization"))
	assert.Equal(t, "application/json", s.header.Get("Content-Type"))
	assert.Equal(t, "application/json", s.header.Get("Accept"))
	assert.Empty(t, s.header.Values("Accept-Language"), "no language asked for, none sent")
	assert.Equal(t, katsu.Record{ID: kycID, Tier: katsu.Tier1, Name: testName, TenantID: tenantID, OwnerID: ownerID,
		Approved: true, IsAddressVerified: true, ApprovedOn: time.Date(2024, 8, 6, 22, 14, 12, 185e6, time.UTC),
		BVN: testBVN, Status: "Approved"}, rec)
}

func TestApproveOnTheWire(t *testing.T) {
	var s seen
	c, _ := newClient(t, recordInto(&s, "POST /api/v2/Kyc/approve", reply(200, okRecord)),
		katsu.WithVersion("2"), katsu.WithLanguage(katsu.French))
	_, err := c.Approve(context.Background(), kycID, approver)
	require.NoError(t, err)
	assert.Equal(t, "/api/v2/Kyc/approve", s.path)
	assert.Equal(t, `{"by":"`+approver+`","kycId":"`+kycID+`"}`, s.body)
	assert.Equal(t, "fr", s.header.Get("Accept-Language"))
	assert.Equal(t, "Bearer "+testToken, s.header.Get("Authorization"))
}

func TestGetOnTheWire(t *testing.T) {
	var s seen
	c, _ := newClient(t, recordInto(&s, "GET /api/v1/Kyc/{id}/get", reply(200, okRecord)), katsu.WithLanguage(katsu.French))
	var meta katsu.Response
	rec, err := c.Get(context.Background(), kycID, katsu.Lang(katsu.English), katsu.ResponseInto(&meta))
	require.NoError(t, err)
	assert.Equal(t, kycID, rec.ID)
	assert.Equal(t, "GET", s.method)
	assert.Equal(t, "/api/v1/Kyc/"+kycID+"/get", s.path)
	assert.Empty(t, s.body)
	assert.Empty(t, s.header.Get("Content-Type"))
	assert.Equal(t, "en", s.header.Get("Accept-Language"), "the call's language wins over the client's")
	assert.Equal(t, katsu.Response{Operation: "Get", Attempts: 1, StatusCode: 200, Header: meta.Header, Message: "KYC updated"}, meta)
}

func TestListOnTheWire(t *testing.T) {
	tests := []struct {
		name  string
		p     katsu.ListParams
		query string
	}{
		{"defaults send nothing", katsu.ListParams{}, ""},
		{"every filter", katsu.ListParams{OwnerID: ownerID, TenantID: tenantID, OrderBy: 4, Tier: new(katsu.Tier0),
			Descending: true, PageNumber: 3, PageSize: 25},
			"OwnerId=" + ownerID + "&TenantId=" + tenantID + "&Orderby=4&Tier=0&Descending=true&PageNumber=3&PageSize=25"},
		{"tier two only", katsu.ListParams{Tier: new(katsu.Tier2)}, "Tier=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s seen
			c, _ := newClient(t, recordInto(&s, "GET /api/v1/Kyc/get-all",
				reply(200, `{"succeeded":true,"message":"","errors":null,"data":[`+recordJSON+`]}`)))
			page, err := c.List(context.Background(), tt.p)
			require.NoError(t, err)
			assert.Equal(t, tt.query, s.rawQuery)
			assert.Equal(t, "Bearer "+testToken, s.header.Get("Authorization"))
			require.Len(t, page.Records, 1)
			assert.Equal(t, max(tt.p.PageNumber, 1), page.PageNumber)
		})
	}
}

func TestBaseURLWithPath(t *testing.T) {
	var s seen
	srvMux := recordInto(&s, "GET /katsu/api/v1/Kyc/{id}/get", reply(200, okRecord))
	c, _ := newClient(t, srvMux)
	c2, err := katsu.New(testToken, katsu.WithBaseURL(c.BaseURL()+"/katsu/"))
	require.NoError(t, err)
	_, err = c2.Get(context.Background(), kycID)
	require.NoError(t, err)
	assert.Equal(t, "/katsu/api/v1/Kyc/"+kycID+"/get", s.path)
}
