package flipkyc

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCreatedAgentIsNeverLostToAFieldsForm: any reply with an agent id is a
// created agent, whatever the form of its other fields.
func TestCreatedAgentIsNeverLostToAFieldsForm(t *testing.T) {
	base := string(fixture(t, "agent_create_response.json"))
	tests := []struct {
		name, from, to string
		check          func(t *testing.T, a *Agent)
	}{
		{"ids as strings (beta reference)", `"country_id": 1`, `"country_id": "1"`,
			func(t *testing.T, a *Agent) { assert.Equal(t, int64(1), a.CountryID) }},
		{"agent id as a string", `"id": 1,`, `"id": "1",`, nil},
		{"agent id as a float", `"id": 1,`, `"id": 1.0,`, nil},
		{"id as a float", `"province_id": 12`, `"province_id": 12.0`,
			func(t *testing.T, a *Agent) { assert.Equal(t, int64(12), a.ProvinceID) }},
		{"ids null", `"city_id": 184`, `"city_id": null`,
			func(t *testing.T, a *Agent) { assert.Zero(t, a.CityID); assert.Equal(t, int64(12), a.ProvinceID) }},
		{"id of a wrong type", `"district_id": 1234`, `"district_id": {"id": 1234}`,
			func(t *testing.T, a *Agent) {
				assert.Zero(t, a.DistrictID)
				assert.Equal(t, "Sukmajaya", a.DistrictName)
			}},
		{"name as a number (legacy table says integer)", `"name": "John Doe"`, `"name": 12345`,
			func(t *testing.T, a *Agent) { assert.Equal(t, "12345", a.Name) }},
		{"unknown status kept", `"kyc_status": "BASIC_DATA"`, `"kyc_status": "BASIC_DATA_V2"`,
			func(t *testing.T, a *Agent) {
				assert.Equal(t, KYCStatus("BASIC_DATA_V2"), a.KYCStatus)
				assert.False(t, a.KYCStatus.Known())
			}},
		{"status as an object", `"kyc_status": "BASIC_DATA"`, `"kyc_status": {"code": 1}`,
			func(t *testing.T, a *Agent) { assert.Empty(t, a.KYCStatus) }},
		{"gender as a number", `"gender": "male"`, `"gender": 1`,
			func(t *testing.T, a *Agent) { assert.Equal(t, GenderMale, a.Gender) }},
		{"birth date in an unknown layout", `"birth_date": "31-10-1990"`, `"birth_date": "31/10/1990"`,
			func(t *testing.T, a *Agent) { assert.Equal(t, "31/10/1990", a.BirthDate.Raw) }},
		{"birth date as a number", `"birth_date": "31-10-1990"`, `"birth_date": 19901031`, nil},
		{"email null", `"email": "example@mail.com"`, `"email": null`,
			func(t *testing.T, a *Agent) { assert.Empty(t, a.Email) }},
		{"unknown field", `"kyc_status"`, `"new_field": [1, {"x": true}], "kyc_status"`, nil},
		{"rejection code as a float string", `"kyc_status"`, `"rejected_reason_code": "17.0", "kyc_status"`,
			func(t *testing.T, a *Agent) { assert.Equal(t, RejectionCode(17), a.RejectedReasonCode) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := strings.Replace(base, tt.from, tt.to, 1)
			require.NotEqual(t, base, body, "the case changes the reply")
			srv := httptest.NewServer(&recorder{replies: []reply{{status: 201, body: body}}})
			defer srv.Close()
			c, _ := newTestClient(t, srv.URL, srv.URL)
			a, err := c.CreateAgent(context.Background(), validAgent())
			require.NoError(t, err)
			assert.Equal(t, int64(1), a.ID)
			assert.Equal(t, "+628123456789", a.PhoneNumber, "the other fields are kept")
			if tt.check != nil {
				tt.check(t, a)
			}
		})
	}
}

func TestCreateReplyWithoutAnIDSaysTheAgentMayExist(t *testing.T) {
	for _, body := range []string{`{"name":"John Doe","kyc_status":"BASIC_DATA"}`, `{"id":null}`, `{"id":"x"}`, `{"id":0}`, `[]`, `"ok"`} {
		t.Run(body, func(t *testing.T) {
			rec := &recorder{replies: []reply{{status: 200, body: body}}}
			srv := httptest.NewServer(rec)
			defer srv.Close()
			c, _ := newTestClient(t, srv.URL, srv.URL)
			a, err := c.CreateAgent(context.Background(), validAgent())
			recordErr(err)
			assert.Nil(t, a)
			var de *DecodeError
			require.ErrorAs(t, err, &de)
			require.ErrorIs(t, err, ErrOutcomeUnknown)
			assert.Contains(t, err.Error(), "may exist")
			assert.Len(t, rec.got(), 1)
		})
	}
}

func TestAgentParamsRoundTrip(t *testing.T) {
	var a Agent
	require.NoError(t, a.UnmarshalJSON(fixture(t, "agent_create_response.json")))
	p := a.Params()
	require.NoError(t, p.Validate(), "an agent from create carries every field an update needs")
	want := validAgent()
	want.UseIdentityAddress = nil // not part of the reply
	want.ResidenceCountryID, want.ResidenceProvinceID, want.ResidenceCityID, want.ResidenceDistrictID = 1, 12, 128, 1234
	want.ResidenceAddress = "Jalan Margonda Raya"
	assert.Equal(t, want, p)

	var got Agent
	require.NoError(t, got.UnmarshalJSON(fixture(t, "agent_get_response.json")))
	var ve *ValidationError
	require.ErrorAs(t, got.Params().Validate(), &ve, "get lacks the birth, address and location fields")
	assert.True(t, ve.Has("country_id"))
}

func TestUploadedDocumentIDsDecodeFromStrings(t *testing.T) {
	var docs []UploadedDocument
	require.NoError(t, json.Unmarshal([]byte(`[{"id":"12","type":"1","selfie":true,"path":"a.jpg"},{"id":13,"type":1,"selfie":false,"path":{"x":1}}]`), &docs))
	require.Len(t, docs, 2)
	assert.Equal(t, int64(12), docs[0].ID)
	assert.Equal(t, 1, docs[0].Type)
	assert.True(t, docs[0].Selfie)
	assert.Equal(t, int64(13), docs[1].ID)
	assert.Empty(t, docs[1].Path, "a field of the wrong type is left zero, the others kept")
}

func TestImagesPrintWithoutTheirFileName(t *testing.T) {
	img := Image{Name: distinctive.name + ".jpg", Content: strings.NewReader("x")}
	for _, v := range []any{img, &img, Document{Type: DocumentNPWP, Image: img}, []Document{{Image: img}}} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			assert.NotContains(t, fmt.Sprintf(verb, v), "Zephyrina", "%T %s", v, verb)
		}
	}
	assert.Equal(t, "flipkyc.Image{Name: [masked], Content: *strings.Reader}", fmt.Sprint(img))
}
