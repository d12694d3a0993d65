package flipkyctest_test

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/flipkyctest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// receiver collects the callbacks the fake sends.
type receiver struct {
	mu     sync.Mutex
	events []flipkyc.Event
	got    chan flipkyc.Event
}

// startReceiver runs a callback handler on loopback and a fake sending to it.
func startReceiver(t *testing.T, opts ...flipkyctest.Option) (*flipkyctest.Server, *flipkyc.Client, *receiver) {
	t.Helper()
	rec := &receiver{got: make(chan flipkyc.Event, 64)}
	h, err := flipkyc.NewCallbackHandler("cb-token", func(ctx context.Context, ev flipkyc.Event) error {
		rec.mu.Lock()
		rec.events = append(rec.events, ev)
		rec.mu.Unlock()
		rec.got <- ev
		return nil
	})
	require.NoError(t, err)
	cb := httptest.NewServer(h)
	t.Cleanup(cb.Close)
	srv := flipkyctest.NewServer(t, append([]flipkyctest.Option{flipkyctest.WithCallbacks(cb.URL, "cb-token")}, opts...)...)
	c, err := srv.NewClient(flipkyc.WithRetryPolicy(flipkyc.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}))
	require.NoError(t, err)
	return srv, c, rec
}

// next waits for the next callback.
func (r *receiver) next(t *testing.T) flipkyc.Event {
	t.Helper()
	select {
	case ev := <-r.got:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no callback arrived")
		return flipkyc.Event{}
	}
}

func photo(t testing.TB, w, h int) []byte {
	var buf bytes.Buffer
	require.NoError(t, jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h)), nil))
	return buf.Bytes()
}

func img(t testing.TB) flipkyc.Image {
	return flipkyc.Image{Name: "p.jpg", Content: bytes.NewReader(photo(t, 320, 320))}
}

func agentParams(nik, phone string) flipkyc.AgentParams {
	return flipkyc.AgentParams{
		Name: "Siti Rahayu", IdentityType: flipkyc.IdentityKTP, IdentityNumber: nik,
		BirthDate: flipkyc.NewDate(1992, time.March, 14), BirthPlace: "Kota Depok",
		CountryID: 1, ProvinceID: 12, CityID: 184, DistrictID: 1234,
		Address: "Jalan Margonda Raya 100", Gender: flipkyc.GenderFemale,
		Occupation: flipkyc.OccupationEntrepreneur, PhoneNumber: phone,
	}
}

// uploadBoth uploads the identity image and the selfie and returns the
// upload-check callback.
func uploadBoth(t *testing.T, c *flipkyc.Client, rec *receiver, id int64) flipkyc.Event {
	t.Helper()
	ctx := context.Background()
	_, err := c.UploadIdentityImage(ctx, id, flipkyc.IdentityKTP, img(t))
	require.NoError(t, err)
	_, err = c.UploadSelfieWithIdentity(ctx, id, flipkyc.IdentityKTP, img(t))
	require.NoError(t, err)
	return rec.next(t)
}

func TestApprovedFlow(t *testing.T) {
	srv, c, rec := startReceiver(t)
	ctx := context.Background()
	a, err := c.CreateAgent(ctx, agentParams("3201000000000001", "081200000001"))
	require.NoError(t, err)
	assert.Equal(t, flipkyc.StatusBasicData, a.KYCStatus)
	assert.Equal(t, "+6281200000001", a.PhoneNumber, "normalised as Flip does")
	assert.Equal(t, "Kota Depok", a.CityName)

	_, err = c.UploadIdentityImage(ctx, a.ID, flipkyc.IdentityKTP, img(t))
	require.NoError(t, err)
	got, err := c.GetAgent(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, flipkyc.StatusUploadIdentitySuccess, got.KYCStatus)

	_, err = c.UploadSelfieWithIdentity(ctx, a.ID, flipkyc.IdentityKTP, img(t))
	require.NoError(t, err)
	ev := rec.next(t)
	assert.Equal(t, flipkyc.StatusUploadIdentitySelfieSuccess, ev.KYCStatus)
	assert.Equal(t, a.ID, ev.AgentID)

	_, err = c.SubmitKYC(ctx, a.ID)
	require.NoError(t, err)
	ev = rec.next(t)
	assert.Equal(t, flipkyc.StatusApproved, ev.KYCStatus)
	assert.False(t, ev.VerifiedAt.IsZero())

	got, err = c.GetAgent(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, flipkyc.StatusApproved, got.KYCStatus)
	assert.Equal(t, flipkyc.AgentActive, got.Status)

	srv.Close() // waits for deliveries under way
	sent := srv.Callbacks()
	require.Len(t, sent, 2, "one callback per event")
	for _, s := range sent {
		assert.Equal(t, 200, s.Status)
		assert.NoError(t, s.Err)
	}
	rec.mu.Lock()
	assert.Len(t, rec.events, 2, "each delivered once")
	rec.mu.Unlock()
}

func TestRepairPaths(t *testing.T) {
	img := img
	tests := []struct {
		code flipkyc.RejectionCode
		fix  func(t *testing.T, c *flipkyc.Client, id int64) error
	}{
		{10, func(t *testing.T, c *flipkyc.Client, id int64) error {
			u, err := c.RepairData(context.Background(), id, flipkyc.RepairDataParams{Name: "Siti Rahayu Putri", Gender: flipkyc.GenderFemale})
			if err == nil {
				assert.Equal(t, flipkyc.StatusPending, u.Status)
				assert.Equal(t, "Siti Rahayu Putri", u.Name)
				assert.Equal(t, flipkyc.GenderFemale, u.Gender)
			}
			return err
		}},
		{14, func(t *testing.T, c *flipkyc.Client, id int64) error {
			_, err := c.RepairIdentityImage(context.Background(), id, img(t))
			return err
		}},
		{25, func(t *testing.T, c *flipkyc.Client, id int64) error {
			_, err := c.RepairSelfieWithIdentity(context.Background(), id, img(t))
			return err
		}},
		{11, func(t *testing.T, c *flipkyc.Client, id int64) error {
			docs, err := c.UploadDocuments(context.Background(), id, []flipkyc.Document{
				{Type: flipkyc.DocumentFamilyCard, Image: img(t)},
				{Type: flipkyc.DocumentFamilyCard, Selfie: true, Image: img(t)}})
			if err == nil {
				assert.Len(t, docs, 2)
			}
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.code.String(), func(t *testing.T) {
			_, c, rec := startReceiver(t)
			ctx := context.Background()
			a, err := c.CreateAgent(ctx, agentParams("320100000099"+tt.code.String(), "081200000002"))
			require.NoError(t, err)
			require.Equal(t, flipkyc.StatusUploadIdentitySelfieSuccess, uploadBoth(t, c, rec, a.ID).KYCStatus)
			_, err = c.SubmitKYC(ctx, a.ID)
			require.NoError(t, err)
			ev := rec.next(t)
			require.Equal(t, flipkyc.StatusRejected, ev.KYCStatus)
			assert.Equal(t, tt.code, ev.RejectedReasonCode)
			assert.Equal(t, tt.code.Message(), ev.RejectedReason)

			require.NoError(t, tt.fix(t, c, a.ID))
			ev = rec.next(t)
			assert.Equal(t, flipkyc.StatusApproved, ev.KYCStatus, "approved after the fix")
		})
	}
}

func TestRefusedTransitions(t *testing.T) {
	_, c, rec := startReceiver(t)
	ctx := context.Background()
	a, err := c.CreateAgent(ctx, agentParams("3201000000000003", "081200000003"))
	require.NoError(t, err)

	_, err = c.SubmitKYC(ctx, a.ID)
	assert.ErrorIs(t, err, flipkyc.ErrInvalidAgentStatus, "submit before the uploads")
	_, err = c.UploadSelfieWithIdentity(ctx, a.ID, flipkyc.IdentityKTP, img(t))
	assert.ErrorIs(t, err, flipkyc.ErrInvalidAgentStatus, "selfie before the identity image")
	_, err = c.UploadDocuments(ctx, a.ID, []flipkyc.Document{{Type: flipkyc.DocumentNPWP, Image: img(t)}})
	assert.ErrorIs(t, err, flipkyc.ErrInvalidAgentStatus, "documents only after a rejection")
	_, err = c.RepairData(ctx, a.ID, flipkyc.RepairDataParams{Name: "X"})
	assert.ErrorIs(t, err, flipkyc.ErrInvalidAgentStatus, "repair only after a rejection")
	_, err = c.UploadIdentityImage(ctx, a.ID, flipkyc.IdentityPassport, img(t))
	assert.ErrorIs(t, err, flipkyc.ErrInvalidRequest, "identity type differs from the agent's")

	uploadBoth(t, c, rec, a.ID)
	_, err = c.SubmitKYC(ctx, a.ID)
	require.NoError(t, err)
	rec.next(t)
	_, err = c.UpdateAgent(ctx, a.ID, agentParams("3201000000000003", "081200000003"))
	assert.ErrorIs(t, err, flipkyc.ErrAgentNotUpdatable, "no update once approved")
	_, err = c.SubmitKYC(ctx, a.ID)
	assert.ErrorIs(t, err, flipkyc.ErrInvalidAgentStatus, "no second submission")
}

func TestRejectedWithAnotherFix(t *testing.T) {
	_, c, rec := startReceiver(t)
	ctx := context.Background()
	a, err := c.CreateAgent(ctx, agentParams("3201000000009914", "081200000004"))
	require.NoError(t, err)
	uploadBoth(t, c, rec, a.ID)
	_, err = c.SubmitKYC(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, flipkyc.StatusRejected, rec.next(t).KYCStatus)
	_, err = c.RepairData(ctx, a.ID, flipkyc.RepairDataParams{Name: "X Y"})
	assert.ErrorIs(t, err, flipkyc.ErrRejectedReasonMismatch, "code 14 asks for a new photo, not data")
	_, err = c.RepairSelfieWithIdentity(ctx, a.ID, img(t))
	assert.ErrorIs(t, err, flipkyc.ErrRejectedReasonMismatch)
}

func TestUploadCheckFailure(t *testing.T) {
	_, c, rec := startReceiver(t, flipkyctest.WithUploadCheck(func(flipkyc.Agent) flipkyctest.Decision {
		return flipkyctest.Decision{Code: 10}
	}))
	a, err := c.CreateAgent(context.Background(), agentParams("3201000000000005", "081200000005"))
	require.NoError(t, err)
	ev := uploadBoth(t, c, rec, a.ID)
	assert.Equal(t, flipkyc.StatusUploadIdentitySelfieFailed, ev.KYCStatus)
	assert.Equal(t, flipkyc.RejectionCode(10), ev.RejectedReasonCode)
	_, err = c.UploadDocuments(context.Background(), a.ID, []flipkyc.Document{{Type: flipkyc.DocumentNPWP, Image: img(t)}})
	require.NoError(t, err, "documents are accepted after a failed upload check")
	assert.Equal(t, flipkyc.StatusApproved, rec.next(t).KYCStatus)
}

func TestMaxUploads(t *testing.T) {
	_, c, _ := startReceiver(t, flipkyctest.WithMaxUploads(2))
	a, err := c.CreateAgent(context.Background(), agentParams("3201000000000006", "081200000006"))
	require.NoError(t, err)
	for range 2 {
		_, err = c.UploadIdentityImage(context.Background(), a.ID, flipkyc.IdentityKTP, img(t))
		require.NoError(t, err)
	}
	_, err = c.UploadIdentityImage(context.Background(), a.ID, flipkyc.IdentityKTP, img(t))
	assert.ErrorIs(t, err, flipkyc.ErrUploadLimitReached)
}

func TestDuplicates(t *testing.T) {
	_, c, _ := startReceiver(t)
	ctx := context.Background()
	_, err := c.CreateAgent(ctx, agentParams("3201000000000007", "081200000007"))
	require.NoError(t, err)
	_, err = c.CreateAgent(ctx, agentParams("3201000000000007", "081200000099"))
	assert.ErrorIs(t, err, flipkyc.ErrDuplicate, "same identity number")
	var apiErr *flipkyc.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "identity_number", apiErr.Errors[0].Attribute)
	_, err = c.CreateAgent(ctx, agentParams("3201000000000008", "+6281200000007"))
	assert.ErrorIs(t, err, flipkyc.ErrDuplicate, "same phone number, written the other way")
}

func TestWrongKey(t *testing.T) {
	srv := flipkyctest.NewServer(t)
	c, err := flipkyc.New("not-the-key", srv.ClientOptions()...)
	require.NoError(t, err)
	_, err = c.GetAgent(context.Background(), 1)
	var apiErr *flipkyc.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 401, apiErr.StatusCode)
	assert.Equal(t, "Your request was made with invalid credentials.", apiErr.Message)
	_, err = c.ListCountries(context.Background())
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, []flipkyc.ErrorDetail{{Code: 401, Message: "Invalid Auth"}}, apiErr.Errors)
	assert.ErrorIs(t, err, flipkyc.ErrUnauthorized)
}

// raw sends a hand-made request to the fake with its key.
func raw(t *testing.T, srv *flipkyctest.Server, method, path string, header map[string]string, body io.Reader) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, body)
	require.NoError(t, err)
	req.SetBasicAuth(srv.SecretKey(), "")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func multipartBody(t *testing.T, fields map[string]string, files map[string][]byte) (string, *bytes.Buffer) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		require.NoError(t, w.WriteField(k, v))
	}
	for k, v := range files {
		fw, err := w.CreateFormFile(k, k+".jpg")
		require.NoError(t, err)
		_, _ = fw.Write(v)
	}
	require.NoError(t, w.Close())
	return w.FormDataContentType(), &buf
}

func TestRulesTheFakeEnforces(t *testing.T) {
	srv := flipkyctest.NewServer(t)
	c, err := srv.NewClient()
	require.NoError(t, err)
	a, err := c.CreateAgent(context.Background(), agentParams("3201000000000009", "081200000009"))
	require.NoError(t, err)
	id := "/" + itoa(a.ID)
	const rid = "bigflip-47EB7F57-5565-4BF0-B9DD-46C6268CEE71"
	form := func(v url.Values) io.Reader { return strings.NewReader(v.Encode()) }
	good := url.Values{"name": {"A B"}, "identity_type": {"ktp"}, "identity_number": {"3201000000000010"},
		"birth_date": {"31-10-1990"}, "birth_place": {"Depok"}, "country_id": {"1"}, "province_id": {"12"},
		"city_id": {"184"}, "district_id": {"1234"}, "address": {"Jalan Margonda Raya"}, "gender": {"male"},
		"occupation": {"others"}, "phone_number": {"081200000010"}}
	without := func(k string) url.Values {
		v := url.Values{}
		for key, val := range good {
			if key != k {
				v[key] = val
			}
		}
		return v
	}
	with := func(k, val string) url.Values {
		v := without(k)
		v.Set(k, val)
		return v
	}
	formCT := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	ctType, body := multipartBody(t, map[string]string{"user_type": "1", "identity_type": "1"}, map[string][]byte{"image": []byte("not an image")})
	ctType2, body2 := multipartBody(t, map[string]string{"identity_type": "1"}, nil)
	ctType3, body3 := multipartBody(t, map[string]string{"user_type": "2"}, nil)
	ctType5, body5 := multipartBody(t, map[string]string{"user_type": "1"}, nil)
	ctType4, body4 := multipartBody(t, map[string]string{"user_type": "1", "user_id": itoa(a.ID)}, map[string][]byte{"ktp": photo(t, 300, 300)})

	tests := []struct {
		name         string
		method, path string
		header       map[string]string
		body         io.Reader
		status       int
		want         string
	}{
		{"create needs every required field", "POST", "/big_sandbox_api/v2/agents", formCT, form(without("birth_place")), 422, `"attribute":"birth_place","code":1001`},
		{"create checks the address rule", "POST", "/big_sandbox_api/v2/agents", formCT, form(with("address", "short")), 422, `"attribute":"address"`},
		{"create checks location nesting", "POST", "/big_sandbox_api/v2/agents", formCT, form(with("city_id", "150")), 422, `"attribute":"city_id","code":1041`},
		{"create checks the date", "POST", "/big_sandbox_api/v2/agents", formCT, form(with("birth_date", "1990-10-31")), 422, `"attribute":"birth_date"`},
		{"create needs a form body", "POST", "/big_sandbox_api/v2/agents", map[string]string{"Content-Type": "application/json"}, strings.NewReader("{}"), 400, "Content-Type must be application/x-www-form-urlencoded"},
		{"create accepts the good form", "POST", "/big_sandbox_api/v2/agents", formCT, form(good), 200, `"kyc_status":"BASIC_DATA"`},
		{"unknown agent", "GET", "/big_sandbox_api/v2/agents/999999", nil, nil, 404, `"message":"Agent not found"`},
		{"KYC needs a Request-ID", "GET", "/kyc-sandbox/api/v1/countries?user_type=1", nil, nil, 401, `"message":"Invalid token"`},
		{"KYC Request-ID must be bigflip-uuid", "GET", "/kyc-sandbox/api/v1/countries?user_type=1", map[string]string{"Request-ID": "bigflip-32487iweurwer44534"}, nil, 401, "Invalid token"},
		{"KYC needs user_type", "GET", "/kyc-sandbox/api/v1/countries", map[string]string{"Request-ID": rid}, nil, 401, "Invalid token"},
		{"KYC user_type must be 1", "PUT", "/kyc-sandbox/api/v1/users" + id + "/submit", map[string]string{"Request-ID": rid, "Content-Type": ctType3}, body3, 400, `"code":4002`},
		{"upload needs user_type", "PUT", "/kyc-sandbox/api/v1/users" + id + "/identities", map[string]string{"Request-ID": rid, "Content-Type": ctType2}, body2, 401, "Invalid token"},
		{"upload refuses a non-image", "PUT", "/kyc-sandbox/api/v1/users" + id + "/identities", map[string]string{"Request-ID": rid, "Content-Type": ctType}, body, 400, `"code":4008`},
		{"upload needs multipart", "PUT", "/kyc-sandbox/api/v1/users" + id + "/identities", map[string]string{"Request-ID": rid, "Content-Type": "application/x-www-form-urlencoded"}, strings.NewReader("user_type=1"), 400, `"code":4001`},
		{"documents refused before a rejection", "POST", "/kyc-sandbox/api/v1/documents", map[string]string{"Request-ID": rid, "Content-Type": ctType4}, body4, 400, `"code":4010`},
		{"unknown KYC agent", "PUT", "/kyc-sandbox/api/v1/users/424242/submit", map[string]string{"Request-ID": rid, "Content-Type": ctType5}, body5, 404, `"code":1011`},
		{"provinces of a country", "GET", "/kyc-sandbox/api/v1/provinces?user_type=1&country_id=1", map[string]string{"Request-ID": rid}, nil, 200, `"name":"Jawa Barat"`},
		{"districts of Kota Depok", "GET", "/kyc-sandbox/api/v1/districts?user_type=1&city_id=184", map[string]string{"Request-ID": rid}, nil, 200, `{"districts":[{"id":1234,"name":"Sukmajaya"},{"id":1235,"name":"Beji"}]}`},
		{"unknown endpoint", "GET", "/kyc-sandbox/api/v1/nothing?user_type=1", map[string]string{"Request-ID": rid}, nil, 404, "Endpoint not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got := raw(t, srv, tt.method, tt.path, tt.header, tt.body)
			assert.Equal(t, tt.status, status, got)
			assert.Contains(t, got, tt.want)
		})
	}
}

func TestFaultsAndRetries(t *testing.T) {
	srv := flipkyctest.NewServer(t)
	c, err := srv.NewClient(flipkyc.WithRetryPolicy(flipkyc.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}))
	require.NoError(t, err)
	ctx := context.Background()

	srv.FailNext(flipkyctest.RouteCountries, 2, 503)
	countries, err := c.ListCountries(ctx)
	require.NoError(t, err, "two 503s are retried away")
	assert.Len(t, countries, 1)
	assert.Len(t, srv.RequestsTo(flipkyctest.RouteCountries), 3)

	srv.DropNext(flipkyctest.RouteCreateAgent, 1)
	_, err = c.CreateAgent(ctx, agentParams("3201000000000011", "081200000011"))
	require.Error(t, err, "a dropped create is not repeated")
	assert.Len(t, srv.RequestsTo(flipkyctest.RouteCreateAgent), 1)

	srv.FailNext(flipkyctest.RouteCreateAgent, 1, 429)
	a, err := c.CreateAgent(ctx, agentParams("3201000000000012", "081200000012"))
	require.NoError(t, err, "429 is retried even for a create")
	assert.Len(t, srv.RequestsTo(flipkyctest.RouteCreateAgent), 3)

	srv.FailNext(flipkyctest.RouteGetAgent, 5, 500)
	_, err = c.GetAgent(ctx, a.ID)
	assert.ErrorIs(t, err, flipkyc.ErrServer)
	assert.Len(t, srv.RequestsTo(flipkyctest.RouteGetAgent), 1, "500 is not retried")

	srv.SetLatency(200 * time.Millisecond)
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err = c.GetAgent(short, a.ID)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	srv.SetLatency(0)
}

func TestRequestsAreRecordedWithoutSecrets(t *testing.T) {
	srv := flipkyctest.NewServer(t)
	c, err := srv.NewClient()
	require.NoError(t, err)
	_, err = c.ListCities(context.Background(), 12)
	require.NoError(t, err)
	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.Equal(t, flipkyctest.RouteCities, r.Route)
	assert.Equal(t, map[string]string{"user_type": "1", "province_id": "12"}, r.Fields)
	assert.Equal(t, "[redacted]", r.Header.Get("Authorization"))
	assert.NotEmpty(t, r.Header.Get("Request-ID"))
	assert.Equal(t, 200, r.Status)
}

func TestServerClosesWithTheTest(t *testing.T) {
	var url string
	t.Run("inner", func(t *testing.T) {
		srv := flipkyctest.NewServer(t)
		url = srv.URL
	})
	_, err := http.Get(url)
	assert.Error(t, err, "closed when the test that started it ended")
}

func TestCallbacksOnlyToLoopback(t *testing.T) {
	srv := flipkyctest.NewServer(t, flipkyctest.WithCallbacks("http://192.0.2.1/cb", ""))
	c, err := srv.NewClient()
	require.NoError(t, err)
	a, err := c.CreateAgent(context.Background(), agentParams("3201000000000013", "081200000013"))
	require.NoError(t, err)
	_, err = c.UploadIdentityImage(context.Background(), a.ID, flipkyc.IdentityKTP, img(t))
	require.NoError(t, err)
	_, err = c.UploadSelfieWithIdentity(context.Background(), a.ID, flipkyc.IdentityKTP, img(t))
	require.NoError(t, err)
	srv.Close()
	sent := srv.Callbacks()
	require.Len(t, sent, 1)
	require.Error(t, sent[0].Err)
	assert.Equal(t, 0, sent[0].Status)
	assert.Contains(t, sent[0].Err.Error(), "loopback")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
