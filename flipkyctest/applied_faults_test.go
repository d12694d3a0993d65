package flipkyctest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/flipkyctest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rejectedAgent creates an agent the default reviewer rejects with code,
// takes it through the uploads and the submission, and waits for the
// rejection.
func rejectedAgent(t *testing.T, c *flipkyc.Client, rec *receiver, code int) int64 {
	t.Helper()
	ctx := context.Background()
	a, err := c.CreateAgent(ctx, agentParams("320100000099"+strconv.Itoa(code), "081200000701"))
	require.NoError(t, err)
	require.Equal(t, flipkyc.StatusUploadIdentitySelfieSuccess, uploadBoth(t, c, rec, a.ID).KYCStatus)
	_, err = c.SubmitKYC(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, flipkyc.StatusRejected, rec.next(t).KYCStatus)
	return a.ID
}

// TestFaultsAfterApplying injects each fault that loses the reply of a call
// that took effect, on each call whose repetition is not safe, and checks
// that the client saw the fault while the fake's state shows the call's
// effect.
func TestFaultsAfterApplying(t *testing.T) {
	const newNIK = "3201000000000702"
	calls := []struct {
		route flipkyctest.Route
		// setup returns the agent the call acts on (0 for a create).
		setup func(t *testing.T, c *flipkyc.Client, rec *receiver) int64
		// call makes the call and reports whether its result says it was
		// confirmed by reading the agent.
		call func(c *flipkyc.Client, id int64) (bool, error)
		// effect checks that the call took effect.
		effect func(t *testing.T, srv *flipkyctest.Server, rec *receiver, id int64)
	}{
		{
			route: flipkyctest.RouteCreateAgent,
			setup: func(*testing.T, *flipkyc.Client, *receiver) int64 { return 0 },
			call: func(c *flipkyc.Client, _ int64) (bool, error) {
				_, err := c.CreateAgent(context.Background(), agentParams(newNIK, "081200000702"))
				return false, err
			},
			effect: func(t *testing.T, srv *flipkyctest.Server, _ *receiver, _ int64) {
				agents := srv.Agents()
				require.Len(t, agents, 1, "the agent was created")
				assert.Equal(t, newNIK, agents[0].IdentityNumber)
				assert.Equal(t, flipkyc.StatusBasicData, agents[0].KYCStatus)
			},
		},
		{
			route: flipkyctest.RouteSubmit,
			setup: func(t *testing.T, c *flipkyc.Client, rec *receiver) int64 {
				a, err := c.CreateAgent(context.Background(), agentParams(newNIK, "081200000702"))
				require.NoError(t, err)
				uploadBoth(t, c, rec, a.ID)
				return a.ID
			},
			call: func(c *flipkyc.Client, id int64) (bool, error) {
				r, err := c.SubmitKYC(context.Background(), id)
				return r != nil && r.ConfirmedByRead, err
			},
			effect: func(t *testing.T, srv *flipkyctest.Server, rec *receiver, id int64) {
				ev := rec.next(t)
				assert.Equal(t, id, ev.AgentID)
				assert.Equal(t, flipkyc.StatusApproved, ev.KYCStatus, "the submission was reviewed")
				assert.False(t, ev.SubmittedAt.IsZero())
			},
		},
		{
			route: flipkyctest.RouteRepairData,
			setup: func(t *testing.T, c *flipkyc.Client, rec *receiver) int64 { return rejectedAgent(t, c, rec, 10) },
			call: func(c *flipkyc.Client, id int64) (bool, error) {
				u, err := c.RepairData(context.Background(), id, flipkyc.RepairDataParams{Name: "Siti Rahayu Putri"})
				return u != nil && u.ConfirmedByRead, err
			},
			effect: func(t *testing.T, srv *flipkyctest.Server, rec *receiver, id int64) {
				assert.Equal(t, flipkyc.StatusApproved, rec.next(t).KYCStatus, "the repair was reviewed")
				a, ok := srv.Agent(id)
				require.True(t, ok)
				assert.Equal(t, "Siti Rahayu Putri", a.Name, "the data was repaired")
			},
		},
		{
			route: flipkyctest.RouteRepairPhoto,
			setup: func(t *testing.T, c *flipkyc.Client, rec *receiver) int64 { return rejectedAgent(t, c, rec, 14) },
			call: func(c *flipkyc.Client, id int64) (bool, error) {
				r, err := c.RepairIdentityImage(context.Background(), id, img(t))
				return r != nil && r.ConfirmedByRead, err
			},
			effect: func(t *testing.T, _ *flipkyctest.Server, rec *receiver, _ int64) {
				assert.Equal(t, flipkyc.StatusApproved, rec.next(t).KYCStatus, "the new photo was reviewed")
			},
		},
		{
			route: flipkyctest.RouteRepairSelfie,
			setup: func(t *testing.T, c *flipkyc.Client, rec *receiver) int64 { return rejectedAgent(t, c, rec, 25) },
			call: func(c *flipkyc.Client, id int64) (bool, error) {
				r, err := c.RepairSelfieWithIdentity(context.Background(), id, img(t))
				return r != nil && r.ConfirmedByRead, err
			},
			effect: func(t *testing.T, _ *flipkyctest.Server, rec *receiver, _ int64) {
				assert.Equal(t, flipkyc.StatusApproved, rec.next(t).KYCStatus, "the new selfie was reviewed")
			},
		},
	}
	faults := []struct {
		name   string
		inject func(srv *flipkyctest.Server, r flipkyctest.Route)
		status int // what the client sees; 0 for a dropped connection
	}{
		{"502", func(srv *flipkyctest.Server, r flipkyctest.Route) { srv.FailNextAfterApplying(r, 1, 502) }, 502},
		{"504", func(srv *flipkyctest.Server, r flipkyctest.Route) { srv.FailNextAfterApplying(r, 1, 504) }, 504},
		{"drop", func(srv *flipkyctest.Server, r flipkyctest.Route) { srv.DropNextAfterApplying(r, 1) }, 0},
	}
	for _, tc := range calls {
		for _, f := range faults {
			t.Run(string(tc.route)+"/"+f.name, func(t *testing.T) {
				srv, c, rec := startReceiver(t)
				id := tc.setup(t, c, rec)
				c, err := srv.NewClient(flipkyc.WithRetryPolicy(flipkyc.RetryPolicy{MaxAttempts: 1}))
				require.NoError(t, err)
				f.inject(srv, tc.route)

				confirmed, err := tc.call(c, id)
				if tc.route == flipkyctest.RouteCreateAgent {
					// Flip cannot look an agent up by identity number: the
					// SDK reports the unknown outcome with the fault under it.
					require.ErrorIs(t, err, flipkyc.ErrOutcomeUnknown)
					var apiErr *flipkyc.APIError
					if f.status != 0 {
						require.ErrorAs(t, err, &apiErr)
						assert.Equal(t, f.status, apiErr.StatusCode)
					} else {
						assert.False(t, errors.As(err, &apiErr), "a dropped connection has no reply: %v", err)
					}
				} else {
					// The SDK read the agent, found it under review or
					// decided, and reports the success the fault hid.
					require.NoError(t, err)
					assert.True(t, confirmed, "the result says it was confirmed by reading")
					assert.Len(t, srv.RequestsTo(flipkyctest.RouteGetAgent), 1, "one read settled it")
				}
				tc.effect(t, srv, rec, id)

				reqs := srv.RequestsTo(tc.route)
				last := reqs[len(reqs)-1]
				assert.Equal(t, f.status, last.Status, "the answer sent")
				assert.Equal(t, 200, last.Handled, "the reply that was lost")

				// The fault was used up: the next request is answered as usual.
				_, err = tc.call(c, id)
				reqs = srv.RequestsTo(tc.route)
				last = reqs[len(reqs)-1]
				assert.Equal(t, last.Handled, last.Status)
				if tc.route == flipkyctest.RouteCreateAgent {
					assert.ErrorIs(t, err, flipkyc.ErrDuplicate, "a repeated create finds the agent")
				} else {
					assert.ErrorIs(t, err, flipkyc.ErrInvalidAgentStatus, "the agent has moved on")
				}
			})
		}
	}
}

// TestFaultsBeforeAndAfterApplying contrasts the fault kinds on one refused
// and one accepted request: FailNext and DropNext change nothing, the
// after-applying kinds replace whatever reply the fake came to.
func TestFaultsBeforeAndAfterApplying(t *testing.T) {
	tests := []struct {
		name        string
		inject      func(srv *flipkyctest.Server)
		city        string // 150 is not in province 12: refused
		wantStatus  int
		wantHandled int
		wantAgents  int
	}{
		{"FailNext", func(s *flipkyctest.Server) { s.FailNext(flipkyctest.RouteCreateAgent, 1, 502) }, "184", 502, 0, 0},
		{"DropNext", func(s *flipkyctest.Server) { s.DropNext(flipkyctest.RouteCreateAgent, 1) }, "184", 0, 0, 0},
		{"FailNextAfterApplying", func(s *flipkyctest.Server) { s.FailNextAfterApplying(flipkyctest.RouteCreateAgent, 1, 502) }, "184", 502, 200, 1},
		{"DropNextAfterApplying", func(s *flipkyctest.Server) { s.DropNextAfterApplying(flipkyctest.RouteCreateAgent, 1) }, "184", 0, 200, 1},
		{"FailNextAfterApplying refused", func(s *flipkyctest.Server) { s.FailNextAfterApplying(flipkyctest.RouteCreateAgent, 1, 504) }, "150", 504, 422, 0},
		{"DropNextAfterApplying refused", func(s *flipkyctest.Server) { s.DropNextAfterApplying(flipkyctest.RouteCreateAgent, 1) }, "150", 0, 422, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := flipkyctest.NewServer(t)
			tt.inject(srv)
			form := url.Values{"name": {"Siti Rahayu"}, "identity_type": {"ktp"}, "identity_number": {"3201000000000801"},
				"birth_date": {"14-03-1992"}, "birth_place": {"Depok"}, "country_id": {"1"}, "province_id": {"12"},
				"city_id": {tt.city}, "district_id": {"1234"}, "address": {"Jalan Margonda Raya 100"},
				"gender": {"female"}, "occupation": {"others"}, "phone_number": {"081200000801"}}
			req, err := http.NewRequest("POST", srv.AgentsURL+"/agents", strings.NewReader(form.Encode()))
			require.NoError(t, err)
			req.SetBasicAuth(srv.SecretKey(), "")
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := http.DefaultClient.Do(req)
			if tt.wantStatus == 0 {
				require.Error(t, err, "connection dropped")
			} else {
				require.NoError(t, err)
				var body map[string]any
				assert.NoError(t, json.NewDecoder(resp.Body).Decode(&body), "a JSON error body")
				_ = resp.Body.Close()
				assert.Equal(t, tt.wantStatus, resp.StatusCode)
				assert.Equal(t, float64(tt.wantStatus), body["status"], "the v2 family's error body")
			}
			reqs := srv.Requests()
			require.Len(t, reqs, 1)
			assert.Equal(t, tt.wantStatus, reqs[0].Status)
			assert.Equal(t, tt.wantHandled, reqs[0].Handled)
			assert.Len(t, srv.Agents(), tt.wantAgents)
		})
	}
}
