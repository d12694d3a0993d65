package flipkyc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const docToken = "YOUR_VALIDATION_TOKEN_KEY"

func callbackRequest(body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/flip/kyc", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

func TestParseDocumentedCallbacks(t *testing.T) {
	tests := []struct {
		file, token string
		check       func(t *testing.T, ev Event)
	}{
		{"callback_upload_success.form", docToken, func(t *testing.T, ev Event) {
			assert.Equal(t, int64(1), ev.AgentID)
			assert.Equal(t, StatusUploadIdentitySelfieSuccess, ev.KYCStatus)
			assert.Equal(t, RejectionCode(0), ev.RejectedReasonCode)
			assert.Equal(t, "", ev.RejectedReason)
			assert.True(t, ev.SubmittedAt.IsZero())
			assert.Equal(t, "1/UPLOAD_IDENTITY_SELFIE_SUCCESS/2022-03-17 09:48:58", ev.Key())
		}},
		{"callback_upload_failed.form", docToken, func(t *testing.T, ev Event) {
			assert.Equal(t, int64(2), ev.AgentID)
			assert.Equal(t, "John ", ev.AgentName, "kept as sent")
			assert.Equal(t, StatusUploadIdentitySelfieFailed, ev.KYCStatus)
			assert.Equal(t, RejectionCode(10), ev.RejectedReasonCode, "number")
			assert.Equal(t, []Fix{FixRepairData}, ev.RejectedReasonCode.Fixes())
		}},
		{"callback_approved.form", docToken, func(t *testing.T, ev Event) {
			assert.Equal(t, StatusApproved, ev.KYCStatus)
			want := time.Date(2022, 2, 18, 10, 1, 0, 0, time.FixedZone("", 7*3600))
			assert.True(t, want.Equal(ev.VerifiedAt.Time), "zone-less times are UTC+7: %v", ev.VerifiedAt)
		}},
		{"callback_rejected.form", docToken, func(t *testing.T, ev Event) {
			assert.Equal(t, StatusRejected, ev.KYCStatus)
			assert.Equal(t, RejectionCode(17), ev.RejectedReasonCode, "numeric string")
			assert.Contains(t, ev.RejectedReason, "can’t be read")
		}},
		{"callback_legacy_raw.form", "yourvalidationtoken", func(t *testing.T, ev Event) {
			assert.Equal(t, StatusUploadIdentitySelfieFailed, ev.KYCStatus)
			assert.True(t, ev.VerifiedAt.Before(ev.CreatedAt.Time), "out-of-order example times decode as sent")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p, err := NewCallbackParser(tt.token)
			require.NoError(t, err)
			body := string(fixture(t, tt.file))
			ev, err := p.Parse(callbackRequest(body))
			require.NoError(t, err)
			tt.check(t, ev)

			form, err := url.ParseQuery(body)
			require.NoError(t, err)
			ev2, err := p.ParseValues(form)
			require.NoError(t, err)
			assert.Equal(t, ev, ev2, "both parsers agree")
		})
	}
}

func TestCallbackParserRefusals(t *testing.T) {
	good := string(fixture(t, "callback_approved.form"))
	withData := func(data string) string {
		return url.Values{"data": {data}, "token": {docToken}}.Encode()
	}
	tests := []struct {
		name   string
		req    func() *http.Request
		status int
		is     error
		reason string
	}{
		{"wrong token", func() *http.Request {
			return callbackRequest(strings.Replace(good, "token="+docToken, "token=guess", 1))
		}, 403, ErrInvalidToken, "wrong token"},
		{"token of another length", func() *http.Request {
			return callbackRequest(strings.Replace(good, "token="+docToken, "token=YOUR_VALIDATION_TOKEN_KEYX", 1))
		}, 403, ErrInvalidToken, "wrong token"},
		{"no token", func() *http.Request { return callbackRequest(strings.Replace(good, "&token="+docToken, "", 1)) }, 401, ErrInvalidToken, "no token"},
		{"empty token", func() *http.Request { return callbackRequest(strings.Replace(good, "token="+docToken, "token=", 1)) }, 401, ErrInvalidToken, "no token"},
		{"token twice", func() *http.Request { return callbackRequest(good + "&token=" + docToken) }, 403, ErrInvalidToken, "wrong token"},
		{"no data", func() *http.Request { return callbackRequest("token=" + docToken) }, 400, ErrMalformedCallback, "no data"},
		{"broken JSON", func() *http.Request { return callbackRequest(withData(`{"agent_id":1,`)) }, 400, ErrMalformedCallback, "cannot be decoded"},
		{"JSON array", func() *http.Request { return callbackRequest(withData(`[{"agent_id":1}]`)) }, 400, ErrMalformedCallback, "not a JSON object"},
		{"agent id is an object", func() *http.Request {
			return callbackRequest(withData(`{"agent_id":{},"kyc_status":"APPROVED"}`))
		}, 400, ErrMalformedCallback, "cannot be decoded"},
		{"agent name is a number", func() *http.Request {
			return callbackRequest(withData(`{"agent_id":1,"agent_name":5,"kyc_status":"APPROVED"}`))
		}, 400, ErrMalformedCallback, "agent_name has the wrong type"},
		{"no agent id", func() *http.Request { return callbackRequest(withData(`{"kyc_status":"APPROVED"}`)) }, 400, ErrMalformedCallback, "agent_id"},
		{"no status", func() *http.Request { return callbackRequest(withData(`{"agent_id":3}`)) }, 400, ErrMalformedCallback, "kyc_status"},
		{"reason code not a number", func() *http.Request {
			return callbackRequest(withData(`{"agent_id":1,"kyc_status":"REJECTED","rejected_reason_code":"abc"}`))
		}, 400, ErrMalformedCallback, "rejected_reason_code"},
		{"oversize body", func() *http.Request {
			return callbackRequest(good + "&pad=" + strings.Repeat("x", DefaultCallbackMaxBytes))
		}, 413, ErrMalformedCallback, "larger than"},
		{"GET", func() *http.Request { return httptest.NewRequest(http.MethodGet, "/flip/kyc?"+good, nil) }, 405, ErrMalformedCallback, "POST"},
		{"JSON content type", func() *http.Request {
			r := callbackRequest(good)
			r.Header.Set("Content-Type", "application/json")
			return r
		}, 415, ErrMalformedCallback, "content type"},
		{"bad form escape", func() *http.Request { return callbackRequest("data=%zz&token=" + docToken) }, 400, ErrMalformedCallback, "not a valid form"},
	}
	p, err := NewCallbackParser(docToken)
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.Parse(tt.req())
			var ce *CallbackError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.status, ce.Status)
			assert.ErrorIs(t, err, tt.is)
			assert.Contains(t, err.Error(), tt.reason)
			assert.NotContains(t, err.Error(), docToken)
		})
	}
}

func TestCallbackTokenMustBeConfigured(t *testing.T) {
	_, err := NewCallbackParser("")
	assert.Error(t, err)
	_, err = NewCallbackHandler("", func(context.Context, Event) error { return nil })
	assert.Error(t, err, "fails closed")
	_, err = NewCallbackHandler(docToken, nil)
	assert.Error(t, err)
	_, err = NewCallbackHandler(docToken, func(context.Context, Event) error { return nil }, WithCallbackMaxBytes(0))
	assert.Error(t, err)
	p, err := NewCallbackParser(docToken)
	require.NoError(t, err)
	for _, verb := range []string{"%v", "%+v", "%#v"} {
		assert.NotContains(t, fmt.Sprintf(verb, p), docToken)
	}
}

// TestCallbackMaxBytes: limits up to math.MaxInt64 accept a normal callback,
// and a small limit refuses a body one byte over it.
func TestCallbackMaxBytes(t *testing.T) {
	good := string(fixture(t, "callback_rejected.form"))
	n := int64(len(good))
	tests := []struct {
		name   string
		limit  int64
		status int
	}{
		{"MaxInt64", math.MaxInt64, 200},
		{"MaxInt64-1", math.MaxInt64 - 1, 200},
		{"MaxInt64/2", math.MaxInt64 / 2, 200},
		{"exactly the body", n, 200},
		{"one byte under the body", n - 1, 413},
		{"1", 1, 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called := 0
			h, err := NewCallbackHandler(docToken, func(context.Context, Event) error { called++; return nil },
				WithCallbackMaxBytes(tt.limit))
			require.NoError(t, err)
			for _, knownLength := range []bool{true, false} {
				r := callbackRequest(good)
				if !knownLength {
					r.ContentLength = -1
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				assert.Equal(t, tt.status, w.Code, "known length %v: %s", knownLength, w.Body)
			}
			if tt.status == 200 {
				assert.Equal(t, 2, called)
			} else {
				assert.Zero(t, called)
			}
		})
	}
}

func TestCallbackHandlerStatusCodes(t *testing.T) {
	good := string(fixture(t, "callback_rejected.form"))
	var logs bytes.Buffer
	var mu sync.Mutex
	var stored []Event
	failNext := false
	h, err := NewCallbackHandler(docToken, func(ctx context.Context, ev Event) error {
		mu.Lock()
		defer mu.Unlock()
		if failNext {
			failNext = false
			return errors.New("database is down")
		}
		stored = append(stored, ev)
		return nil
	}, WithCallbackLogger(slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))), WithCallbackMaxBytes(4096))
	require.NoError(t, err)

	tests := []struct {
		name   string
		req    *http.Request
		fail   bool
		status int
	}{
		{"accepted", callbackRequest(good), false, 200},
		{"user code fails", callbackRequest(good), true, 500},
		{"wrong method", httptest.NewRequest(http.MethodPut, "/", strings.NewReader(good)), false, 405},
		{"too large", callbackRequest(good + "&pad=" + strings.Repeat("x", 4096)), false, 413},
		{"no token", callbackRequest(strings.Replace(good, "&token="+docToken, "", 1)), false, 401},
		{"wrong token", callbackRequest(strings.Replace(good, "token="+docToken, "token=nope", 1)), false, 403},
		{"broken data", callbackRequest("data=%7B&token=" + docToken), false, 400},
		{"no content type", httptest.NewRequest(http.MethodPost, "/", strings.NewReader(good)), false, 415},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			failNext = tt.fail
			before := len(stored)
			mu.Unlock()
			w := httptest.NewRecorder()
			h.ServeHTTP(w, tt.req)
			assert.Equal(t, tt.status, w.Code, w.Body.String())
			mu.Lock()
			defer mu.Unlock()
			if tt.status == 200 {
				assert.Len(t, stored, before+1, "acknowledged only after it was stored")
			} else {
				assert.Len(t, stored, before, "nothing stored")
			}
			if tt.status == 405 {
				assert.Equal(t, "POST", w.Header().Get("Allow"))
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Contains(t, logs.String(), "agent_id=1", "a failure of user code is logged with the agent id")
	assert.Contains(t, logs.String(), "database is down")
	assert.NotContains(t, logs.String(), docToken)
	_, _ = sinkWriter{}.Write(logs.Bytes())
}

func TestNewCallbackRequestRoundTrips(t *testing.T) {
	p, err := NewCallbackParser("tok")
	require.NoError(t, err)
	body := string(fixture(t, "callback_rejected.form"))
	form, _ := url.ParseQuery(body)
	form.Set("token", "tok")
	want, err := p.ParseValues(form)
	require.NoError(t, err)

	req, err := NewCallbackRequest(context.Background(), "http://receiver.test/kyc", want, "tok")
	require.NoError(t, err)
	got, err := p.Parse(req)
	require.NoError(t, err)
	assert.Equal(t, want.Key(), got.Key())
	assert.Equal(t, want.RejectedReasonCode, got.RejectedReasonCode)
	assert.Equal(t, want.UpdatedAt.Time, got.UpdatedAt.Time)

	// The JSON form uses Flip's names, the reason code as a number.
	b, err := json.Marshal(got)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"agent_id":1`)
	assert.Contains(t, string(b), `"rejected_reason_code":17`)
	assert.Contains(t, string(b), `"updated_at":"2022-02-18 09:48:58"`)
	assert.Contains(t, string(b), `"submitted_at":null`)
}

// agentSequence serves GET /agents/{id} with the given statuses in turn, the
// last one repeating; a status "" answers 503.
func agentSequence(t *testing.T, statuses ...KYCStatus) (*httptest.Server, func() int) {
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		s := statuses[min(n, len(statuses)-1)]
		n++
		mu.Unlock()
		if s == "" {
			w.WriteHeader(503)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"id": 7, "name": "A", "kyc_status": s})
	}))
	t.Cleanup(srv.Close)
	return srv, func() int { mu.Lock(); defer mu.Unlock(); return n }
}

func TestWaitForAgent(t *testing.T) {
	srv, calls := agentSequence(t, StatusUploadIdentitySelfieSuccess, StatusPending, "", StatusPending, StatusApproved)
	c, clk := newTestClient(t, srv.URL, srv.URL, WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
	a, err := c.WaitForAgent(context.Background(), 7, UntilFinal)
	require.NoError(t, err)
	assert.Equal(t, StatusApproved, a.KYCStatus)
	assert.Equal(t, 5, calls(), "a passing 503 does not end the wait")
	waits := clk.waits()
	require.Len(t, waits, 4)
	assert.GreaterOrEqual(t, waits[0], pollFirst/2)
	assert.LessOrEqual(t, waits[0], pollFirst)
	assert.Greater(t, waits[3], waits[0], "polls back off")

	srv2, _ := agentSequence(t, StatusPending)
	c2, _ := newTestClient(t, srv2.URL, srv2.URL)
	a, err = c2.WaitForAgent(context.Background(), 7, UntilStatus(StatusPending))
	require.NoError(t, err)
	assert.Equal(t, StatusPending, a.KYCStatus)
}

func TestWaitForAgentEndsWithTheContext(t *testing.T) {
	srv, calls := agentSequence(t, StatusPending)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := New(testKey, WithBaseURLs(srv.URL, srv.URL), WithLogger(testLogger()),
		withClock(&cancellingClock{fakeClock: newFakeClock(), cancel: cancel}))
	require.NoError(t, err)
	a, err := c.WaitForAgent(ctx, 7, UntilFinal)
	assert.ErrorIs(t, err, context.Canceled)
	require.NotNil(t, a, "the last agent seen is returned")
	assert.Equal(t, StatusPending, a.KYCStatus)
	assert.Equal(t, 1, calls())
}

func TestWaitForAgentStopsOnRefusal(t *testing.T) {
	srv := httptest.NewServer(&recorder{replies: []reply{{status: 404, body: string(fixture(t, "error_agents_404.json"))}}})
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL, srv.URL)
	a, err := c.WaitForAgent(context.Background(), 7, UntilFinal)
	assert.Nil(t, a)
	assert.ErrorIs(t, err, ErrNotFound)
}

// TestEventPrintsWithoutPersonalData: every fmt verb and both slog handlers
// show an event's agent id, status and times but not the agent's name, and
// a failure of user code that names the agent is logged masked.
func TestEventPrintsWithoutPersonalData(t *testing.T) {
	const name = "Zarathustra Quixbee"
	ev := Event{AgentID: 9, AgentName: name + " ", KYCStatus: StatusRejected, RejectedReasonCode: 17,
		RejectedReason: "Photo of " + name + " is blurred"}
	ev.UpdatedAt, _ = ParseTimestamp("2022-02-18 09:48:58")
	var out bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x"} {
		fmt.Fprintf(&out, verb+"\n", ev)
		fmt.Fprintf(&out, verb+"\n", &ev)
	}
	fmt.Fprintln(&out, ev, []Event{ev}, struct{ E Event }{ev})
	slog.New(slog.NewTextHandler(&out, nil)).Info("event", "ev", ev)
	slog.New(slog.NewJSONHandler(&out, nil)).Info("event", "ev", ev)

	h, err := NewCallbackHandler(docToken, func(ctx context.Context, ev Event) error {
		return fmt.Errorf("store %q for %s failed", ev.AgentName, strings.TrimSpace(ev.AgentName))
	}, WithCallbackLogger(slog.New(slog.NewTextHandler(&out, nil))))
	require.NoError(t, err)
	req, err := NewCallbackRequest(context.Background(), "http://receiver.test/", ev, docToken)
	require.NoError(t, err)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	assert.Equal(t, http.StatusInternalServerError, w.Code)

	printed := out.String()
	for _, personal := range []string{name, "Zarathustra", "Quixbee"} {
		assert.NotContains(t, printed, personal)
	}
	assert.Contains(t, printed, "AgentID: 9")
	assert.Contains(t, printed, `KYCStatus: "REJECTED"`)
	assert.Contains(t, printed, `UpdatedAt: "2022-02-18 09:48:58"`)
	assert.Contains(t, printed, "agent_id=9")
	assert.Contains(t, printed, "callback handler failed")
	assert.Contains(t, printed, masked)

	b, err := json.Marshal(ev)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"agent_name":"`+name+` "`, "the JSON form keeps the wire values")
}
