package flipkyc

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// write is what Flip does with one state change it receives.
type write int

const (
	failBefore   write = iota // a gateway answers 503; Flip never saw it
	applyAndLose              // Flip applies it; the reply is lost (504)
	applyAndOK                // Flip applies it and answers 200
	landLate                  // 504 at once; Flip applies it right after the next read
)

// stateMachine is a fake Flip agent that follows Flip's rules for state
// changes: a change is accepted only from its starting state, else it is
// refused (4010 for a submission, 4006 for a repair).
type stateMachine struct {
	t      *testing.T
	start  KYCStatus     // where the change starts from
	code   RejectionCode // the rejection code while at start
	refuse int           // 4010 or 4006
	script []write       // what happens to each change received, in order

	mu       sync.Mutex
	status   KYCStatus
	late     bool // a change landed late is applied after the next read
	writes   []string
	reads    int
	requests []string      // Request-IDs of the changes received
	wrote    chan struct{} // if not nil, told of each change received
}

func (m *stateMachine) counts() (writes, reads int, ids []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.writes), m.reads, append([]string(nil), m.requests...)
}

func (m *stateMachine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	m.mu.Lock()
	defer m.mu.Unlock()
	if r.Method == http.MethodGet {
		m.reads++
		code := ""
		if m.status == StatusRejected {
			code = `,"rejected_reason_code":` + strconv.Itoa(int(m.code))
		}
		writeReply(w, 200, `{"id":1,"company_id":1,"name":"John Doe","identity_type":"ktp",`+
			`"identity_number":"1234567890123456","phone_number":"+628123456789","kyc_status":"`+string(m.status)+`"`+code+`}`)
		if m.late {
			m.late, m.status = false, StatusPending
		}
		return
	}
	m.writes = append(m.writes, r.URL.Path)
	m.requests = append(m.requests, r.Header.Get("Request-ID"))
	if m.wrote != nil {
		defer func() { m.wrote <- struct{}{} }() // once answered
	}
	if m.status != m.start {
		writeReply(w, 400, `{"errors":[{"code":`+strconv.Itoa(m.refuse)+`,"message":"refused"}]}`)
		return
	}
	step := applyAndOK
	if n := len(m.writes) - 1; n < len(m.script) {
		step = m.script[n]
	}
	switch step {
	case failBefore:
		writeReply(w, 503, "<html>Service Unavailable</html>")
	case applyAndLose:
		m.status = StatusPending
		writeReply(w, 504, "")
	case landLate:
		m.late = true
		writeReply(w, 504, "")
	case applyAndOK:
		m.status = StatusPending
		writeReply(w, 200, `{"message":"success","user_id":1,"name":"John Doe","status":1}`)
	}
}

// settledChange is a submission or repair with the state it starts from.
type settledChange struct {
	stateChange
	start  KYCStatus
	code   RejectionCode
	refuse int
}

func settledChanges(t *testing.T) []settledChange {
	sc := stateChanges(t)
	return []settledChange{
		{sc[0], StatusUploadIdentitySelfieSuccess, 0, 4010},
		{sc[1], StatusRejected, 10, 4006},
		{sc[2], StatusRejected, 14, 4006},
		{sc[3], StatusRejected, 23, 4006},
	}
}

func TestStateChangeThatAReadProvesNotMadeIsSentAgain(t *testing.T) {
	rows := []struct {
		name      string
		script    []write
		opts      []CallOption
		wantErr   bool
		confirmed bool
		writes    int
		reads     int
	}{
		{name: "failed before Flip saw it, then accepted", script: []write{failBefore}, writes: 2, reads: 1},
		{name: "applied, reply lost: confirmed, not sent again", script: []write{applyAndLose}, confirmed: true, writes: 1, reads: 1},
		{name: "failed, then applied with the reply lost again", script: []write{failBefore, applyAndLose},
			confirmed: true, writes: 2, reads: 2},
		{name: "in flight at Flip during the read: the resend is refused, a second read confirms", script: []write{landLate},
			confirmed: true, writes: 2, reads: 2},
		{name: "failed every time: sent as often as the policy allows", script: []write{failBefore, failBefore, failBefore},
			wantErr: true, writes: 3, reads: 3},
		{name: "retries off: read, not sent again", script: []write{failBefore}, opts: []CallOption{Retry(RetryPolicy{MaxAttempts: 1})},
			wantErr: true, writes: 1, reads: 1},
		{name: "policy of 5 attempts", script: []write{failBefore, failBefore, failBefore, failBefore},
			opts: []CallOption{Retry(RetryPolicy{MaxAttempts: 5})}, writes: 5, reads: 4},
	}
	for _, sc := range settledChanges(t) {
		for _, row := range rows {
			t.Run(sc.name+"/"+row.name, func(t *testing.T) {
				m := &stateMachine{t: t, start: sc.start, code: sc.code, refuse: sc.refuse, script: row.script, status: sc.start}
				ts := httptest.NewServer(m)
				defer ts.Close()
				c, clk := newTestClient(t, ts.URL, ts.URL)
				var resp Response
				confirmed, err := sc.call(context.Background(), c, append(row.opts, ResponseInto(&resp))...)
				recordErr(err)
				writes, reads, ids := m.counts()
				assert.Equal(t, row.writes, writes, "changes sent")
				assert.Equal(t, row.reads, reads, "reads")
				for _, id := range ids {
					assert.Equal(t, ids[0], id, "every sending carries the call's Request-ID")
				}
				assert.Equal(t, resp.RequestID, ids[0])
				assert.Equal(t, row.writes, resp.Attempts, "Attempts counts every sending")
				for _, d := range clk.waits() {
					assert.GreaterOrEqual(t, d, SettleDelay, "each deciding read waits for a request still in flight")
				}
				if row.wantErr {
					require.ErrorIs(t, err, ErrOutcomeUnknown)
					var oe *OutcomeUnknownError
					require.ErrorAs(t, err, &oe)
					assert.Equal(t, sc.start, oe.Status)
					assert.Equal(t, ids[0], oe.RequestID)
					return
				}
				require.NoError(t, err)
				assert.Equal(t, row.confirmed, confirmed, "ConfirmedByRead")
				assert.Equal(t, row.confirmed, resp.ConfirmedByRead)
				m.mu.Lock()
				assert.Equal(t, StatusPending, m.status, "the change was made once")
				m.mu.Unlock()
			})
		}
	}
}

func TestResendWaitEndsWithTheContext(t *testing.T) {
	sc := settledChanges(t)[0]
	m := &stateMachine{t: t, start: sc.start, refuse: sc.refuse, script: []write{failBefore}, status: sc.start,
		wrote: make(chan struct{}, 1)}
	ts := httptest.NewServer(m)
	defer ts.Close()
	// The real clock: the settle wait is what the deadline ends.
	c, err := New(testKey, WithBaseURLs(ts.URL, ts.URL), WithLogger(testLogger()))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Cancelled while the call waits to read: nothing is read or sent.
	go func() {
		<-m.wrote
		cancel()
	}()
	_, err = sc.call(ctx, c)
	recordErr(err)
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.Contains(t, err.Error(), "context ended")
	writes, reads, _ := m.counts()
	assert.Equal(t, 1, writes)
	assert.Zero(t, reads, "no read after the context ended")
}

func TestNoTimeLeftToWaitReadsButDoesNotResend(t *testing.T) {
	// The deadline ends before the settle wait would: the agent is read at
	// once, so the error says where it stands, and nothing more is sent.
	sc := settledChanges(t)[0]
	m := &stateMachine{t: t, start: sc.start, refuse: sc.refuse, script: []write{failBefore}, status: sc.start}
	ts := httptest.NewServer(m)
	defer ts.Close()
	c, clk := newTestClient(t, ts.URL, ts.URL)
	ctx, cancel := context.WithTimeout(context.Background(), SettleDelay/2)
	defer cancel()
	_, err := sc.call(ctx, c)
	recordErr(err)
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	var oe *OutcomeUnknownError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, sc.start, oe.Status)
	writes, reads, _ := m.counts()
	assert.Equal(t, 1, writes)
	assert.Equal(t, 1, reads)
	assert.Empty(t, clk.waits())
}

func TestPlainStreamRepairIsReadNotResent(t *testing.T) {
	// A repair photo from a reader that cannot be rewound cannot be sent
	// again: the read still settles what it can.
	img := jpegImage(t, 300, 300)
	m := &stateMachine{t: t, start: StatusRejected, code: 14, refuse: 4006, script: []write{failBefore}, status: StatusRejected}
	ts := httptest.NewServer(m)
	defer ts.Close()
	c, _ := newTestClient(t, ts.URL, ts.URL)
	_, err := c.RepairIdentityImage(context.Background(), 1, Image{"k.jpg", io.MultiReader(bytes.NewReader(img))})
	recordErr(err)
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	writes, reads, _ := m.counts()
	assert.Equal(t, 1, writes)
	assert.Equal(t, 1, reads)
}

func TestRepairDataKeepsWhatFlipSent(t *testing.T) {
	rows := []struct {
		name     string
		body     string
		check    func(t *testing.T, u *KYCUser)
		problems []string
	}{
		{name: "the page's schema example, user_id 0", body: string(fixture(t, "repair_response_schema.json")),
			check: func(t *testing.T, u *KYCUser) {
				assert.Equal(t, int64(1001), u.UserID, "the agent repaired")
				assert.Equal(t, "string", u.Name, "what Flip sent is kept")
				assert.Equal(t, "string", u.BirthPlace)
				assert.Equal(t, "string", u.Address)
				assert.Equal(t, "string", u.ResidenceAddress)
				assert.True(t, u.BasicDataFilled)
				assert.Equal(t, 2024, u.CreatedAt.Year())
				assert.False(t, u.ConfirmedByRead)
			},
			problems: []string{"user_id: missing or 0 in the reply; the agent's id from the call is used",
				"status: 0 is not a KYC status Flip documents"}},
		{name: "no user_id", body: `{"name":"Budi","status":20}`,
			check: func(t *testing.T, u *KYCUser) {
				assert.Equal(t, int64(1001), u.UserID)
				assert.Equal(t, "Budi", u.Name)
				assert.Equal(t, StatusPending, u.Status)
			},
			problems: []string{"user_id: missing or 0 in the reply; the agent's id from the call is used"}},
		{name: "well formed", body: `{"user_id":1001,"name":"Budi","status":20}`,
			check: func(t *testing.T, u *KYCUser) { assert.Equal(t, "Budi", u.Name) }},
		{name: "not JSON", body: `<html>ok</html>`,
			check: func(t *testing.T, u *KYCUser) {
				assert.Equal(t, int64(1001), u.UserID)
				assert.Equal(t, "Siti Rahayu", u.Name, "the data sent")
				assert.Equal(t, StatusPending, u.Status)
			},
			problems: []string{"reply: the body could not be read; the record holds the data sent and StatusPending"}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				writeReply(w, 200, row.body)
			}))
			defer ts.Close()
			c, _ := newTestClient(t, ts.URL, ts.URL)
			u, err := c.RepairData(context.Background(), 1001, RepairDataParams{Name: "Siti Rahayu"})
			require.NoError(t, err)
			row.check(t, u)
			assert.Equal(t, row.problems, u.Problems)
			assert.NotContains(t, fmt.Sprint(u.Problems), "Siti")
		})
	}
}
