package katsutest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc/katsu"
	"github.com/flipkyc/flipkyc/katsu/katsutest"
)

const reviewer = "9b2f1c3e-8d4a-4f6b-a1c2-3d4e5f6a7b8c"

var approvedAt = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func newFake(t *testing.T, opts ...katsutest.Option) (*katsutest.Server, *katsu.Client) {
	t.Helper()
	srv := katsutest.NewServer(t, append([]katsutest.Option{katsutest.WithClock(func() time.Time { return approvedAt })}, opts...)...)
	c, err := srv.NewClient(katsu.WithRetryPolicy(katsu.RetryPolicy{BaseDelay: time.Microsecond, MaxDelay: time.Microsecond}))
	require.NoError(t, err)
	return srv, c
}

func TestUpdateApproveGet(t *testing.T) {
	srv, c := newFake(t)
	ctx := context.Background()
	rec := srv.AddRecord(katsu.Record{Name: "Ada Obi", OwnerID: "1c0ffee0-1234-4abc-8def-0123456789ab"})
	assert.Equal(t, "00000000-0000-4000-8000-000000000001", rec.ID)
	assert.Equal(t, "Pending", rec.Status)

	got, err := c.Update(ctx, katsu.UpdateParams{KYCID: rec.ID, Tier: katsu.Tier2, AddressVerified: true, BVN: "22212345678"})
	require.NoError(t, err)
	assert.Equal(t, katsu.Tier2, got.Tier)
	assert.True(t, got.IsAddressVerified)
	assert.Equal(t, "22212345678", got.BVN)
	assert.False(t, got.Approved)
	assert.True(t, got.ApprovedOn.IsZero())

	got, err = c.Approve(ctx, rec.ID, reviewer)
	require.NoError(t, err)
	assert.True(t, got.Approved)
	assert.Equal(t, approvedAt, got.ApprovedOn)
	assert.Equal(t, "Approved", got.Status)

	_, err = c.Approve(ctx, rec.ID, reviewer)
	assert.ErrorIs(t, err, katsu.ErrInvalidRequest, "approving twice is refused")

	got, err = c.Get(ctx, rec.ID)
	require.NoError(t, err)
	stored, ok := srv.Record(rec.ID)
	require.True(t, ok)
	assert.Equal(t, stored, got)
	assert.Equal(t, "Ada Obi", got.Name)

	_, err = c.Get(ctx, "3fa85f64-5717-4562-b3fc-2c963f66afa6")
	assert.ErrorIs(t, err, katsu.ErrNotFound)
	_, err = c.Update(ctx, katsu.UpdateParams{KYCID: "3fa85f64-5717-4562-b3fc-2c963f66afa6", BVN: "22212345678"})
	assert.ErrorIs(t, err, katsu.ErrNotFound)
}

func TestAuthAndVersion(t *testing.T) {
	srv, _ := newFake(t, katsutest.WithToken("right"), katsutest.WithVersion("2"))
	rec := srv.AddRecord(katsu.Record{})
	wrong, err := katsu.New("wrong", append(srv.ClientOptions(), katsu.WithRetryPolicy(katsu.RetryPolicy{MaxAttempts: 1}))...)
	require.NoError(t, err)
	_, err = wrong.Get(context.Background(), rec.ID)
	assert.ErrorIs(t, err, katsu.ErrUnauthorized)

	v1, err := katsu.New("right", katsu.WithBaseURL(srv.URL()), katsu.WithVersion("1"))
	require.NoError(t, err)
	_, err = v1.Get(context.Background(), rec.ID)
	assert.ErrorIs(t, err, katsu.ErrInvalidRequest)
	assert.Contains(t, err.Error(), "API version is not supported")

	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	assert.False(t, reqs[0].Authorized)
	assert.True(t, reqs[1].Authorized)
	assert.Equal(t, "/api/v1/Kyc/"+rec.ID+"/get", reqs[1].Path)
}

// The fake validates like the API, so a request the client would refuse
// is answered 400 in the language asked for.
func TestFakeValidatesInBothLanguages(t *testing.T) {
	srv, _ := newFake(t)
	hc := &http.Client{}
	for _, tt := range []struct {
		lang, want string
	}{
		{"", "One or more validation errors occurred.\",\"errors\":[\"Tier must be 0, 1 or 2.\",\"Bvn must be exactly 11 digits.\",\"KycId must be a valid GUID.\"]"},
		{"fr", "Une ou plusieurs erreurs de validation se sont produites.\",\"errors\":[\"Tier doit valoir 0, 1 ou 2.\",\"Bvn doit comporter exactement 11 chiffres.\",\"KycId doit être un GUID valide.\"]"},
		{"fr-FR,en;q=0.5", "Une ou plusieurs"},
		{"en-GB,fr;q=0.5", "One or more"},
	} {
		req, _ := http.NewRequest("POST", srv.URL()+"/api/v1/Kyc/update", strings.NewReader(`{"tier":3,"bvn":"12","kycId":"x"}`))
		req.Header.Set("Authorization", "Bearer "+srv.Token())
		if tt.lang != "" {
			req.Header.Set("Accept-Language", tt.lang)
		}
		resp, err := hc.Do(req)
		require.NoError(t, err)
		body := readAll(t, resp)
		assert.Equal(t, 400, resp.StatusCode)
		assert.Contains(t, body, `"succeeded":false`)
		assert.Contains(t, body, tt.want, tt.lang)
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func TestMessagesInFrench(t *testing.T) {
	srv, c := newFake(t)
	_, err := c.Get(context.Background(), "3fa85f64-5717-4562-b3fc-2c963f66afa6", katsu.Lang(katsu.French))
	var apiErr *katsu.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "Enregistrement KYC introuvable.", apiErr.Message)
	assert.Equal(t, "fr", srv.Requests()[0].Language)
	var meta katsu.Response
	rec := srv.AddRecord(katsu.Record{})
	_, err = c.Get(context.Background(), rec.ID, katsu.ResponseInto(&meta))
	require.NoError(t, err)
	assert.Equal(t, "KYC retrieved successfully.", meta.Message)
}

func TestListFiltersOrderAndPages(t *testing.T) {
	srv, c := newFake(t)
	ctx := context.Background()
	owner := "1c0ffee0-1234-4abc-8def-0123456789ab"
	tenant := "2dec0de0-5678-4abc-8def-0123456789ab"
	for i, name := range []string{"Emeka", "Bola", "Dayo", "Chidi", "Ada"} {
		srv.AddRecord(katsu.Record{Name: name, Tier: katsu.Tier(i % 3), OwnerID: owner, TenantID: tenant})
	}
	srv.AddRecord(katsu.Record{Name: "Other", OwnerID: "3fa85f64-5717-4562-b3fc-2c963f66afa6"})

	page, err := c.List(ctx, katsu.ListParams{OwnerID: owner, OrderBy: 1, PageSize: 2})
	require.NoError(t, err)
	assert.Equal(t, []string{"Ada", "Bola"}, names(page.Records))
	assert.Equal(t, katsu.Page{Records: page.Records, PageNumber: 1, PageSize: 2, TotalPages: 3, TotalCount: 5, HasNext: true}, page)

	page, err = c.List(ctx, katsu.ListParams{OwnerID: owner, OrderBy: 1, Descending: true, PageNumber: 3, PageSize: 2})
	require.NoError(t, err)
	assert.Equal(t, []string{"Ada"}, names(page.Records))
	assert.False(t, page.HasNext)

	page, err = c.List(ctx, katsu.ListParams{Tier: new(katsu.Tier1)})
	require.NoError(t, err)
	assert.Equal(t, []string{"Bola", "Ada"}, names(page.Records))

	page, err = c.List(ctx, katsu.ListParams{TenantID: tenant, OrderBy: 2, Descending: true})
	require.NoError(t, err)
	assert.Equal(t, []string{"Dayo", "Bola", "Ada", "Emeka", "Chidi"}, names(page.Records))

	var all []string
	for r, err := range c.All(ctx, katsu.ListParams{OrderBy: 1, PageSize: 2}) {
		require.NoError(t, err)
		all = append(all, r.Name)
	}
	assert.Equal(t, []string{"Ada", "Bola", "Chidi", "Dayo", "Emeka", "Other"}, all)
	assert.Len(t, srv.RequestsTo(katsutest.RouteList), 4+3)
}

func names(rs []katsu.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name
	}
	return out
}

func TestAllStops(t *testing.T) {
	srv, c := newFake(t)
	for range 5 {
		srv.AddRecord(katsu.Record{})
	}
	ctx := context.Background()
	n := 0
	for range c.All(ctx, katsu.ListParams{PageSize: 2}) {
		n++
		if n == 3 {
			break
		}
	}
	assert.Equal(t, 3, n)
	assert.Len(t, srv.RequestsTo(katsutest.RouteList), 2, "breaking stops the pages")

	srv.FailNext(katsutest.RouteList, 1, 401)
	var errs []error
	for _, err := range c.All(ctx, katsu.ListParams{PageSize: 2}) {
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], katsu.ErrUnauthorized)

	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n = 0
	var last error
	for _, err := range c.All(cctx, katsu.ListParams{PageSize: 2}) {
		if err != nil {
			last = err
			break
		}
		n++
		cancel()
	}
	assert.Equal(t, 1, n, "no record is yielded once ctx has ended")
	assert.ErrorIs(t, last, context.Canceled)
}

func TestFaults(t *testing.T) {
	srv, c := newFake(t)
	ctx := context.Background()
	rec := srv.AddRecord(katsu.Record{})

	srv.FailNext(katsutest.RouteGet, 2, 503)
	_, err := c.Get(ctx, rec.ID)
	require.NoError(t, err, "a read is retried")
	assert.Len(t, srv.RequestsTo(katsutest.RouteGet), 3)

	srv.FailNext(katsutest.RouteApprove, 1, 503)
	_, err = c.Approve(ctx, rec.ID, reviewer)
	assert.ErrorIs(t, err, katsu.ErrOutcomeUnknown)
	got, _ := srv.Record(rec.ID)
	assert.False(t, got.Approved, "FailNext applies nothing")

	srv.FailNextAfterApplying(katsutest.RouteApprove, 1, 502)
	_, err = c.Approve(ctx, rec.ID, reviewer)
	assert.ErrorIs(t, err, katsu.ErrOutcomeUnknown)
	got, _ = srv.Record(rec.ID)
	assert.True(t, got.Approved, "applied, answer lost")
	assert.Len(t, srv.RequestsTo(katsutest.RouteApprove), 2, "never repeated")

	srv.DropNext(katsutest.RouteUpdate, 1)
	_, err = c.Update(ctx, katsu.UpdateParams{KYCID: rec.ID, Tier: katsu.Tier1, BVN: "22212345678"})
	assert.ErrorIs(t, err, katsu.ErrOutcomeUnknown)
	var ne *katsu.NetworkError
	assert.True(t, errors.As(err, &ne))
	assert.Equal(t, 0, srv.RequestsTo(katsutest.RouteUpdate)[0].Status)

	srv.FailNext(katsutest.RouteUpdate, 1, 429)
	_, err = c.Update(ctx, katsu.UpdateParams{KYCID: rec.ID, Tier: katsu.Tier1, BVN: "22212345678"})
	require.NoError(t, err, "a 429 is retried, even for a POST")
}

func TestPrintsWithoutSecrets(t *testing.T) {
	srv, c := newFake(t, katsutest.WithToken("tok-secret-123456"))
	rec := srv.AddRecord(katsu.Record{})
	_, err := c.Update(context.Background(), katsu.UpdateParams{KYCID: rec.ID, BVN: "22212345678"})
	require.NoError(t, err)
	for _, v := range []any{srv, srv.Requests()[0], srv.Requests()} {
		for _, verb := range []string{"%v", "%+v", "%#v"} {
			s := fmt.Sprintf(verb, v)
			assert.NotContains(t, s, "tok-secret-123456")
			assert.NotContains(t, s, "22212345678")
		}
	}
	assert.Contains(t, string(srv.Requests()[0].Body), "22212345678", "the body is kept for assertions")
}

func TestUnknownPath(t *testing.T) {
	srv, _ := newFake(t)
	resp, err := http.Get(srv.URL() + "/api/v1/Kyc/nothing")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, 404, resp.StatusCode)
	assert.Equal(t, katsutest.Route("GET /api/v1/Kyc/nothing"), srv.Requests()[0].Route)
}

// A default page size below 1 is a misuse, refused at NewServer as
// httptest refuses its own.
func TestDefaultPageSizeMustBePositive(t *testing.T) {
	for _, n := range []int{0, -3} {
		assert.PanicsWithValue(t, fmt.Sprintf("katsutest: WithDefaultPageSize(%d): the page size must be at least 1", n), func() {
			katsutest.NewServer(t, katsutest.WithDefaultPageSize(n))
		})
	}
	srv := katsutest.NewServer(t, katsutest.WithDefaultPageSize(1))
	srv.AddRecord(katsu.Record{})
	srv.AddRecord(katsu.Record{})
	c, err := srv.NewClient()
	require.NoError(t, err)
	page, err := c.List(context.Background(), katsu.ListParams{})
	require.NoError(t, err)
	assert.Len(t, page.Records, 1)
	assert.Equal(t, 2, page.TotalPages)
}
