package flipkyc

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// part is one decoded multipart part.
type part struct {
	value       string
	filename    string
	contentType string
}

// multipartParts decodes a multipart/form-data body.
func multipartParts(t *testing.T, contentType string, body []byte) map[string]part {
	t.Helper()
	mt, params, err := mime.ParseMediaType(contentType)
	require.NoError(t, err)
	require.Equal(t, "multipart/form-data", mt)
	r := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	parts := map[string]part{}
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		b, err := io.ReadAll(p)
		require.NoError(t, err)
		require.NotContains(t, parts, p.FormName(), "field sent twice")
		parts[p.FormName()] = part{string(b), p.FileName(), p.Header.Get("Content-Type")}
	}
	return parts
}

func textParts(parts map[string]part) map[string]string {
	out := map[string]string{}
	for k, p := range parts {
		if p.filename == "" {
			out[k] = p.value
		}
	}
	return out
}

var requestIDShape = regexp.MustCompile(`^bigflip-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// endpointCase is one API method: how to call it and what must go on the wire.
type endpointCase struct {
	name        string
	call        func(ctx context.Context, c *Client) (any, error)
	method      string
	api         apiFamily
	path        string
	query       url.Values
	contentType string // media type of the body; "" for none
	checkBody   func(t *testing.T, contentType string, body []byte)
	reply       string // fixture name
	checkResult func(t *testing.T, got any)
}

func endpointCases(t *testing.T) []endpointCase {
	idImage := jpegImage(t, 640, 400)
	selfie := pngImage(t, 300, 300)
	wantForm := func(want url.Values) func(*testing.T, string, []byte) {
		return func(t *testing.T, _ string, body []byte) {
			got, err := url.ParseQuery(string(body))
			require.NoError(t, err)
			assert.Equal(t, want, got)
		}
	}
	wantMultipart := func(fields map[string]string, files map[string]part) func(*testing.T, string, []byte) {
		return func(t *testing.T, ct string, body []byte) {
			parts := multipartParts(t, ct, body)
			assert.Equal(t, fields, textParts(parts))
			for name, want := range files {
				got, ok := parts[name]
				require.True(t, ok, "file part %q missing", name)
				assert.Equal(t, want.filename, got.filename, name)
				assert.Equal(t, want.contentType, got.contentType, name)
				assert.Equal(t, want.value, got.value, "%s content", name)
			}
			assert.Len(t, parts, len(fields)+len(files))
		}
	}
	createForm, err := url.ParseQuery(string(fixture(t, "agent_create_request.form")))
	require.NoError(t, err)

	return []endpointCase{
		{
			name:   "CreateAgent",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.CreateAgent(ctx, validAgent()) },
			method: "POST", api: agentsAPI, path: "/agents", contentType: "application/x-www-form-urlencoded",
			checkBody: wantForm(createForm), reply: "agent_create_response.json",
			checkResult: func(t *testing.T, got any) {
				a := got.(*Agent)
				assert.Equal(t, int64(1), a.ID)
				assert.Equal(t, StatusBasicData, a.KYCStatus)
				assert.Equal(t, NewDate(1990, time.October, 31), Date{Year: a.BirthDate.Year, Month: a.BirthDate.Month, Day: a.BirthDate.Day})
				assert.Equal(t, int64(128), a.ResidenceCityID)
				assert.Equal(t, "Sukmajaya", a.DistrictName)
			},
		},
		{
			name:   "UpdateAgent",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.UpdateAgent(ctx, 497, validAgent()) },
			method: "PUT", api: agentsAPI, path: "/agents/497", contentType: "application/x-www-form-urlencoded",
			checkBody: wantForm(createForm), reply: "agent_create_response.json",
			checkResult: func(t *testing.T, got any) { assert.Equal(t, OccupationEntrepreneur, got.(*Agent).Occupation) },
		},
		{
			name:   "GetAgent",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.GetAgent(ctx, 497) },
			method: "GET", api: agentsAPI, path: "/agents/497", reply: "agent_get_response.json",
			checkResult: func(t *testing.T, got any) {
				a := got.(*Agent)
				assert.Equal(t, StatusApproved, a.KYCStatus)
				assert.Equal(t, AgentActive, a.Status)
				assert.Equal(t, RejectionCode(0), a.RejectedReasonCode)
				assert.Equal(t, "2022-01-01T13:00:00+07:00", a.CreatedAt.Format(time.RFC3339))
			},
		},
		{
			name: "UploadIdentityImage",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.UploadIdentityImage(ctx, 497, IdentityKTP, Image{Name: "../../etc/ktp.jpg", Content: bytes.NewReader(idImage)})
			},
			method: "PUT", api: kycAPI, path: "/users/497/identities", contentType: "multipart/form-data",
			checkBody: wantMultipart(map[string]string{"user_type": "1", "identity_type": "1", "selfie": "0"},
				map[string]part{"image": {string(idImage), "ktp.jpg", "image/jpeg"}}),
			reply:       "upload_response.json",
			checkResult: func(t *testing.T, got any) { assert.Equal(t, "someurl.png", got.(*UploadResult).ImageURL) },
		},
		{
			name: "UploadSelfieWithIdentity",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.UploadSelfieWithIdentity(ctx, 497, IdentityPassport, Image{Name: "selfie", Content: bytes.NewReader(selfie)})
			},
			method: "PUT", api: kycAPI, path: "/users/497/identities", contentType: "multipart/form-data",
			checkBody: wantMultipart(map[string]string{"user_type": "1", "identity_type": "2", "selfie": "1"},
				map[string]part{"image": {string(selfie), "selfie.png", "image/png"}}),
			reply: "upload_response_guide.json",
			checkResult: func(t *testing.T, got any) {
				assert.Equal(t, "https://flip.id/path/url/image.png", got.(*UploadResult).ImageURL)
			},
		},
		{
			name: "UploadDocuments",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.UploadDocuments(ctx, 497, []Document{
					{Type: DocumentNPWP, Image: Image{Name: "npwp.jpeg", Content: bytes.NewReader(idImage)}},
					{Type: DocumentFamilyCard, Selfie: true, Image: Image{Name: "kk.png", Content: bytes.NewReader(selfie)}}})
			},
			method: "POST", api: kycAPI, path: "/documents", contentType: "multipart/form-data",
			checkBody: wantMultipart(map[string]string{"user_id": "497", "user_type": "1"}, map[string]part{
				"npwp":               {string(idImage), "npwp.jpeg", "image/jpeg"},
				"family_card_selfie": {string(selfie), "kk.png", "image/png"},
			}),
			reply: "documents_response.json",
			checkResult: func(t *testing.T, got any) {
				docs := got.([]UploadedDocument)
				require.Len(t, docs, 1)
				assert.Equal(t, "someurl.png", docs[0].Path)
				assert.Equal(t, 317601182, docs[0].CreatedAt.Nanosecond())
				_, offset := docs[0].UpdatedAt.Zone()
				assert.Equal(t, 7*3600, offset)
			},
		},
		{
			name:   "SubmitKYC",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.SubmitKYC(ctx, 497) },
			method: "PUT", api: kycAPI, path: "/users/497/submit", contentType: "multipart/form-data",
			checkBody:   wantMultipart(map[string]string{"user_type": "1"}, nil),
			reply:       "submit_response.json",
			checkResult: func(t *testing.T, got any) { assert.Equal(t, "KYC submission success", got.(*SubmitResult).Message) },
		},
		{
			name: "RepairData",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.RepairData(ctx, 497, RepairDataParams{Name: "John Smith", IdentityType: IdentityKTP,
					IdentityNumber: "1234567890123456", BirthDate: NewDate(1990, time.October, 31), Gender: GenderFemale,
					Occupation: OccupationEntrepreneur, CityID: 184, PhoneNumber: "085674563456", UseIdentityAddress: Ptr(false)})
			},
			// The newer "Update User Agent Identity" page documents a
			// form-urlencoded body; the legacy page said multipart.
			method: "PUT", api: kycAPI, path: "/users/497/repair", contentType: "application/x-www-form-urlencoded",
			checkBody: wantForm(url.Values{"user_type": {"1"}, "name": {"John Smith"}, "identity_type": {"1"},
				"identity_number": {"1234567890123456"}, "birth_date": {"31-10-1990"}, "gender": {"2"}, "occupation": {"entrepreneur"},
				"city_id": {"184"}, "phone_number": {"085674563456"}, "use_identity_address": {"0"}}),
			reply: "repair_response.json",
			checkResult: func(t *testing.T, got any) {
				u := got.(*KYCUser)
				// The page's example is of agent 1: kept as sent, and noted.
				assert.Equal(t, int64(1), u.UserID)
				assert.Equal(t, []string{"user_id: the reply names agent 1, not the agent repaired (497)"}, u.Problems)
				assert.Equal(t, StatusPending, u.Status)
				assert.Equal(t, GenderMale, u.Gender)
				assert.Equal(t, IdentityKTP, u.IdentityType)
				assert.Equal(t, "31-10-1990", u.BirthDate.String())
				assert.Equal(t, "", u.PassportNumber)
				assert.Equal(t, UserTypeAgent, u.UserType)
			},
		},
		{
			name: "RepairIdentityImage",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.RepairIdentityImage(ctx, 497, Image{Name: "ktp.JPG", Content: bytes.NewReader(idImage)})
			},
			method: "PUT", api: kycAPI, path: "/users/497/repairPhoto", contentType: "multipart/form-data",
			checkBody: wantMultipart(map[string]string{"user_type": "1"},
				map[string]part{"image": {string(idImage), "ktp.JPG", "image/jpeg"}}),
			reply:       "upload_response.json",
			checkResult: func(t *testing.T, got any) { assert.Equal(t, "someurl.png", got.(*UploadResult).ImageURL) },
		},
		{
			name: "RepairSelfieWithIdentity",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.RepairSelfieWithIdentity(ctx, 497, Image{Name: "selfie.jpg", Content: bytes.NewReader(selfie)})
			},
			method: "PUT", api: kycAPI, path: "/users/497/repairSelfie", contentType: "multipart/form-data",
			checkBody: wantMultipart(map[string]string{"user_type": "1"},
				map[string]part{"image": {string(selfie), "selfie.jpg.png", "image/png"}}),
			reply:       "upload_response.json",
			checkResult: func(t *testing.T, got any) { assert.Equal(t, "someurl.png", got.(*UploadResult).ImageURL) },
		},
		{
			name:   "ListCountries",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.ListCountries(ctx) },
			method: "GET", api: kycAPI, path: "/countries", query: url.Values{"user_type": {"1"}},
			reply:       "countries_response.json",
			checkResult: func(t *testing.T, got any) { assert.Equal(t, []Location{{1, "Indonesia"}}, got) },
		},
		{
			name:   "ListProvinces",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.ListProvinces(ctx, 1) },
			method: "GET", api: kycAPI, path: "/provinces", query: url.Values{"user_type": {"1"}, "country_id": {"1"}},
			reply:       "provinces_response.json",
			checkResult: func(t *testing.T, got any) { assert.Equal(t, []Location{{1, "West Java"}}, got) },
		},
		{
			name:   "ListCities",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.ListCities(ctx, 12) },
			method: "GET", api: kycAPI, path: "/cities", query: url.Values{"user_type": {"1"}, "province_id": {"12"}},
			reply:       "cities_response.json",
			checkResult: func(t *testing.T, got any) { assert.Equal(t, []Location{{1, "Depok"}}, got) },
		},
		{
			name:   "ListDistricts",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.ListDistricts(ctx, 184) },
			method: "GET", api: kycAPI, path: "/districts", query: url.Values{"user_type": {"1"}, "city_id": {"184"}},
			reply:       "districts_response.json",
			checkResult: func(t *testing.T, got any) { assert.Equal(t, []Location{{1, "Sukmajaya"}}, got) },
		},
	}
}

// TestEndpointsOnTheWire runs every method against an httptest server that
// serves both API families under non-empty base paths, like Flip's, and
// checks method, URL, headers and every body field.
func TestEndpointsOnTheWire(t *testing.T) {
	for _, tc := range endpointCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{replies: []reply{{status: 200, body: string(fixture(t, tc.reply))}}}
			mux := http.NewServeMux()
			mux.Handle("/big_sandbox_api/v2/", rec)
			mux.Handle("/kyc-sandbox/api/v1/", rec)
			srv := httptest.NewServer(mux)
			defer srv.Close()
			c, _ := newTestClient(t, srv.URL+"/big_sandbox_api/v2", srv.URL+"/kyc-sandbox/api/v1/",
				WithUserAgent("acme-backend/2.3"))

			got, err := tc.call(context.Background(), c)
			require.NoError(t, err)
			tc.checkResult(t, got)

			reqs := rec.got()
			require.Len(t, reqs, 1)
			r := reqs[0]
			assert.Equal(t, tc.method, r.Method)
			prefix := "/big_sandbox_api/v2"
			if tc.api == kycAPI {
				prefix = "/kyc-sandbox/api/v1"
			}
			assert.Equal(t, prefix+tc.path, r.Path)
			q, err := url.ParseQuery(r.RawQuery)
			require.NoError(t, err)
			if tc.query == nil {
				tc.query = url.Values{}
			}
			assert.Equal(t, tc.query, q)
			user, pass, ok := (&http.Request{Header: r.Header}).BasicAuth()
			assert.True(t, ok)
			assert.Equal(t, testKey, user)
			assert.Equal(t, "", pass)
			assert.Regexp(t, requestIDShape, r.Header.Get("Request-ID"))
			assert.Equal(t, "flipkyc-go/"+Version+" acme-backend/2.3", r.Header.Get("User-Agent"))
			assert.Equal(t, "application/json", r.Header.Get("Accept"))
			ct := r.Header.Get("Content-Type")
			if tc.contentType == "" {
				assert.Empty(t, ct)
				assert.Empty(t, r.Body)
				return
			}
			mt, _, err := mime.ParseMediaType(ct)
			require.NoError(t, err)
			assert.Equal(t, tc.contentType, mt)
			tc.checkBody(t, ct, r.Body)
		})
	}
}

// TestEndpointsProductionURLs checks with httpmock that Production sends every
// method to the right family's production URL.
func TestEndpointsProductionURLs(t *testing.T) {
	for _, tc := range endpointCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			mock := httpmock.NewMockTransport()
			base := "https://bigflip.id/api/v2"
			if tc.api == kycAPI {
				base = "https://api.flip.id/kyc/api/v1"
			}
			mock.RegisterResponder(tc.method, base+tc.path, httpmock.NewBytesResponder(200, fixture(t, tc.reply)))
			c, err := New(testKey, WithEnvironment(Production), WithHTTPClient(&http.Client{Transport: mock}), WithLogger(testLogger()))
			require.NoError(t, err)
			got, err := tc.call(context.Background(), c)
			require.NoError(t, err)
			tc.checkResult(t, got)
			assert.Equal(t, 1, mock.GetTotalCallCount())
		})
	}
}

func TestSandboxAgentResponseShapes(t *testing.T) {
	var a Agent
	require.NoError(t, decodeJSON(fixture(t, "agent_create_response_sandbox.json"), &a))
	assert.Equal(t, int64(497), a.ID)
	assert.Equal(t, int64(0), a.ResidenceCountryID, "null id decodes as absent")
	assert.Equal(t, OccupationGovernmentEmployee, a.Occupation, "upper-case occupation folds")
	assert.Equal(t, NewDate(1998, time.June, 4).String(), a.BirthDate.String())
	assert.Equal(t, "+6285674563456", a.PhoneNumber)
}

func TestUploadStreamsWithExactContentLength(t *testing.T) {
	img := jpegImage(t, 512, 512)
	var gotLength int64
	var gotTE []string
	var gotBody []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotLength, gotTE = r.ContentLength, r.TransferEncoding
		gotBody, _ = io.ReadAll(r.Body)
		_, _ = w.Write(fixture(t, "upload_response.json"))
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL, srv.URL)

	_, err := c.UploadIdentityImage(context.Background(), 1, IdentityKTP, Image{Name: "k.jpg", Content: bytes.NewReader(img)})
	require.NoError(t, err)
	assert.Equal(t, int64(len(gotBody)), gotLength, "size known: exact Content-Length")
	assert.Empty(t, gotTE)

	// A reader of unknown size is streamed chunked, and still arrives whole.
	_, err = c.UploadIdentityImage(context.Background(), 1, IdentityKTP, Image{Name: "k.jpg", Content: io.MultiReader(bytes.NewReader(img))})
	require.NoError(t, err)
	assert.Equal(t, int64(-1), gotLength)
	assert.Equal(t, []string{"chunked"}, gotTE)
	assert.Contains(t, string(gotBody), string(img))
}

func TestFileNameSanitizing(t *testing.T) {
	tests := []struct{ in, ct, want string }{
		{"ktp.jpg", "image/jpeg", "ktp.jpg"},
		{"KTP.JPEG", "image/jpeg", "KTP.JPEG"},
		{`C:\Users\x\ktp.png`, "image/png", "ktp.png"},
		{"../../etc/passwd", "image/jpeg", "passwd.jpg"},
		{"a\"b;c\r\nd.png", "image/png", "abcd.png"},
		{"", "image/png", "image.png"},
		{"...", "image/jpeg", "image.jpg"},
		{"photo.png", "image/jpeg", "photo.png.jpg"},
		{strings.Repeat("x", 300), "image/png", strings.Repeat("x", 100) + ".png"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, sanitizeFileName(tt.in, tt.ct), tt.in)
	}
}
