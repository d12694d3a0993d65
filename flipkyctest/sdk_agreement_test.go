package flipkyctest_test

import (
	"context"
	"maps"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/flipkyctest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSDKAndFakeAgreeOnDocumentedExamples checks the docs' own examples
// against both rule sets: the SDK's client-side Validate and the fake's
// table, judging the raw form. Valid examples pass both; the integration
// guide's create sample, whose address is below the documented 10
// characters (§8 #17), is refused by both, on the same field.
func TestSDKAndFakeAgreeOnDocumentedExamples(t *testing.T) {
	// §4.1's sample request (legacy docs).
	legacy := map[string]string{"name": "John Doe", "identity_type": "ktp", "identity_number": "1234567890123456",
		"birth_date": "31-10-1990", "birth_place": "Kota Depok", "country_id": "1", "province_id": "12",
		"city_id": "184", "district_id": "1234", "address": "Jalan Margonda Raya", "gender": "male",
		"occupation": "entrepreneur", "phone_number": "+628123456789", "use_identity_address": "1",
		"email": "example@mail.com"}
	legacyParams := flipkyc.AgentParams{Name: "John Doe", IdentityType: flipkyc.IdentityKTP,
		IdentityNumber: "1234567890123456", BirthDate: flipkyc.NewDate(1990, time.October, 31),
		BirthPlace: "Kota Depok", CountryID: 1, ProvinceID: 12, CityID: 184, DistrictID: 1234,
		Address: "Jalan Margonda Raya", Gender: flipkyc.GenderMale, Occupation: flipkyc.OccupationEntrepreneur,
		PhoneNumber: "+628123456789", UseIdentityAddress: flipkyc.Ptr(true), Email: "example@mail.com"}
	// The integration guide's sample request.
	guide := map[string]string{"name": "lalalalili", "identity_type": "ktp", "identity_number": "1243564789875643",
		"birth_date": "04-06-1998", "birth_place": "jakarta", "country_id": "1", "province_id": "1",
		"city_id": "1", "district_id": "1", "address": "jakarta", "gender": "female",
		"occupation": "government_employee", "phone_number": "085674563456"}
	guideParams := flipkyc.AgentParams{Name: "lalalalili", IdentityType: flipkyc.IdentityKTP,
		IdentityNumber: "1243564789875643", BirthDate: flipkyc.NewDate(1998, time.June, 4), BirthPlace: "jakarta",
		CountryID: 1, ProvinceID: 1, CityID: 1, DistrictID: 1, Address: "jakarta", Gender: flipkyc.GenderFemale,
		Occupation: flipkyc.OccupationGovernmentEmployee, PhoneNumber: "085674563456"}
	// The guide's sample with an address of 15 characters, the one its
	// response shows.
	guideFixed := withField(guide, "address", "jakarta selatan")
	guideFixedParams := guideParams
	guideFixedParams.Address = "jakarta selatan"

	tests := []struct {
		name    string
		form    map[string]string
		params  flipkyc.AgentParams
		refused string // the field both refuse, or ""
	}{
		{"legacy create sample", legacy, legacyParams, ""},
		{"integration guide sample, address too short", guide, guideParams, "address"},
		{"integration guide sample, address as in its response", guideFixed, guideFixedParams, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := flipkyctest.NewServer(t)
			sent := url.Values{}
			for k, v := range tt.form {
				sent.Set(k, v)
			}
			status, reply := raw(t, srv, "POST", flipkyctest.AgentsPrefix+"/agents",
				map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, strings.NewReader(sent.Encode()))
			sdkErr := tt.params.Validate()
			if tt.refused == "" {
				assert.NoError(t, sdkErr, "the SDK accepts it")
				assert.Equal(t, 200, status, "the fake accepts it: %s", reply)
				// And the SDK's own request for it passes the fake.
				c, err := flipkyctest.NewServer(t).NewClient()
				require.NoError(t, err)
				_, err = c.CreateAgent(context.Background(), tt.params)
				assert.NoError(t, err)
				return
			}
			var verr *flipkyc.ValidationError
			require.ErrorAs(t, sdkErr, &verr, "the SDK refuses it")
			require.Len(t, verr.Fields, 1)
			assert.Equal(t, tt.refused, verr.Fields[0].Field)
			require.Equal(t, 422, status, "the fake refuses it: %s", reply)
			assertRefusal(t, true, reply, sent, tt.refused, 2001)
		})
	}

	// Repair: §4.7 has no request example; its response example's values,
	// sent back as a repair (residence city 184, Kota Depok: the example's
	// 128 is not in province 12's list).
	t.Run("repair with the repair response example's values", func(t *testing.T) {
		repair := map[string]string{"user_type": "1", "name": "John Smith", "identity_type": "1",
			"identity_number": "1234567890123456", "birth_date": "31-10-1990", "birth_place": "Kota Depok",
			"gender": "1", "occupation": "entrepreneur", "country_id": "1", "province_id": "12", "city_id": "184",
			"district_id": "1234", "address": "Jalan Margonda Raya", "residence_country_id": "1",
			"residence_province_id": "12", "residence_city_id": "184", "residence_district_id": "1234",
			"residence_address": "Jalan Margonda Raya"}
		params := flipkyc.RepairDataParams{Name: "John Smith", IdentityType: flipkyc.IdentityKTP,
			IdentityNumber: "1234567890123456", BirthDate: flipkyc.NewDate(1990, time.October, 31),
			BirthPlace: "Kota Depok", Gender: flipkyc.GenderMale, Occupation: flipkyc.OccupationEntrepreneur,
			CountryID: 1, ProvinceID: 12, CityID: 184, DistrictID: 1234, Address: "Jalan Margonda Raya",
			ResidenceCountryID: 1, ResidenceProvinceID: 12, ResidenceCityID: 184, ResidenceDistrictID: 1234,
			ResidenceAddress: "Jalan Margonda Raya"}
		require.NoError(t, params.Validate(), "the SDK accepts it")

		srv, c, rec := startReceiver(t)
		id := rejectedAgent(t, c, rec, 10)
		sent := url.Values{}
		for k, v := range repair {
			sent.Set(k, v)
		}
		status, reply := raw(t, srv, "PUT", flipkyctest.KYCPrefix+"/users/"+itoa(id)+"/repair",
			map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Request-ID": ruleRequestID},
			strings.NewReader(sent.Encode()))
		require.Equal(t, 200, status, "the fake accepts it: %s", reply)
		assert.Equal(t, flipkyc.StatusApproved, rec.next(t).KYCStatus)

		// And the SDK's own request for it passes the fake.
		_, c, rec = startReceiver(t)
		id = rejectedAgent(t, c, rec, 10)
		_, err := c.RepairData(context.Background(), id, params)
		require.NoError(t, err)
		assert.Equal(t, flipkyc.StatusApproved, rec.next(t).KYCStatus)
	})
}

// withField returns a copy of m with k set to v.
func withField(m map[string]string, k, v string) map[string]string {
	out := maps.Clone(m)
	out[k] = v
	return out
}
