package flipkyc

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stateChange is a call that moves an agent's KYC status, with what it
// returns on success.
type stateChange struct {
	name string
	// call makes the change and reports whether the result says it was
	// confirmed by reading.
	call func(context.Context, *Client, ...CallOption) (confirmed bool, err error)
	path string
}

func stateChanges(t *testing.T) []stateChange {
	img := jpegImage(t, 300, 300)
	return []stateChange{
		{"SubmitKYC", func(ctx context.Context, c *Client, opts ...CallOption) (bool, error) {
			r, err := c.SubmitKYC(ctx, 1, opts...)
			return r != nil && r.ConfirmedByRead, err
		}, "/users/1/submit"},
		{"RepairData", func(ctx context.Context, c *Client, opts ...CallOption) (bool, error) {
			u, err := c.RepairData(ctx, 1, RepairDataParams{Name: "John Doe"}, opts...)
			if u != nil {
				assert.Equal(t, "John Doe", u.Name)
			}
			return u != nil && u.ConfirmedByRead, err
		}, "/users/1/repair"},
		{"RepairIdentityImage", func(ctx context.Context, c *Client, opts ...CallOption) (bool, error) {
			r, err := c.RepairIdentityImage(ctx, 1, Image{"k.jpg", bytes.NewReader(img)}, opts...)
			return r != nil && r.ConfirmedByRead, err
		}, "/users/1/repairPhoto"},
		{"RepairSelfieWithIdentity", func(ctx context.Context, c *Client, opts ...CallOption) (bool, error) {
			r, err := c.RepairSelfieWithIdentity(ctx, 1, Image{"s.jpg", bytes.NewReader(img)}, opts...)
			return r != nil && r.ConfirmedByRead, err
		}, "/users/1/repairSelfie"},
	}
}

// lostReply is how the reply to a state change that Flip received gets
// lost on the way back.
type lostReply struct {
	name  string
	write func(w http.ResponseWriter)
}

var lostReplies = []lostReply{
	{"502 from a gateway", func(w http.ResponseWriter) { writeReply(w, 502, "<html>Bad Gateway</html>") }},
	{"503", func(w http.ResponseWriter) { writeReply(w, 503, "") }},
	{"504 from a gateway", func(w http.ResponseWriter) { writeReply(w, 504, "") }},
	{"500", func(w http.ResponseWriter) { writeReply(w, 500, `{"errors":[{"code":500,"message":"oops"}]}`) }},
	{"connection reset after the request arrived", func(w http.ResponseWriter) {
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			_ = conn.Close()
		}
	}},
}

// cutOff is a 2xx whose body breaks off: a success for every state change
// but a create, whose result is the agent's id.
var cutOff = lostReply{"200 cut off mid-body", resetMidResponse}

// agentServer answers state changes with the lost reply and reads of agent 1
// with the given status (or a 503 when status is empty), counting both.
type agentServer struct {
	lost   lostReply
	status KYCStatus
	mu     sync.Mutex
	writes []string // paths of the state changes received
	reads  int
}

// seen returns the state changes and the reads received so far.
func (s *agentServer) seen() (writes []string, reads int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.writes...), s.reads
}

func (s *agentServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Method == http.MethodGet {
		s.reads++
		if s.status == "" {
			writeReply(w, 503, "")
			return
		}
		writeReply(w, 200, `{"id":1,"company_id":1,"name":"John Doe","identity_type":"ktp",`+
			`"identity_number":"1234567890123456","phone_number":"+628123456789","kyc_status":"`+string(s.status)+`"}`)
		return
	}
	s.writes = append(s.writes, r.URL.Path)
	s.lost.write(w)
}

func TestAmbiguousStateChangesAreResolvedByReading(t *testing.T) {
	type outcome int
	const (
		confirmed outcome = iota
		unknown
		unknownUnread
	)
	reads := []struct {
		name   string
		status KYCStatus // "" makes every read fail
		want   outcome
	}{
		{"agent pending review", StatusPending, confirmed},
		{"agent approved", StatusApproved, confirmed},
		{"agent flagged for checking", StatusNeedToCheck, confirmed},
		{"agent rejected (maybe the old verdict)", StatusRejected, unknown},
		{"the read fails too", "", unknownUnread},
	}
	for _, sc := range stateChanges(t) {
		for _, lost := range lostReplies {
			for _, rd := range reads {
				t.Run(sc.name+"/"+lost.name+"/"+rd.name, func(t *testing.T) {
					srv := &agentServer{lost: lost, status: rd.status}
					ts := httptest.NewServer(srv)
					defer ts.Close()
					var logs bytes.Buffer
					c, _ := newTestClient(t, ts.URL, ts.URL, WithLogger(slogTo(&logs)))
					got, err := sc.call(context.Background(), c)
					recordErr(err)
					writes, reads := srv.seen()
					assert.Equal(t, []string{sc.path}, writes, "the state change is sent exactly once")
					switch rd.want {
					case confirmed:
						require.NoError(t, err)
						assert.True(t, got, "the result says it was confirmed by reading")
						assert.Equal(t, 1, reads)
						assert.Contains(t, logs.String(), "confirmed by reading")
					case unknown, unknownUnread:
						require.ErrorIs(t, err, ErrOutcomeUnknown)
						var oe *OutcomeUnknownError
						require.ErrorAs(t, err, &oe)
						assert.Equal(t, int64(1), oe.AgentID)
						assert.Regexp(t, requestIDShape, oe.RequestID)
						assert.NotEmpty(t, oe.Next)
						assert.Contains(t, err.Error(), oe.RequestID)
						assert.Contains(t, err.Error(), "again only if it is still")
						if rd.want == unknown {
							assert.Equal(t, 1, reads, "read once: the agent is neither where the change starts nor where it leads")
							assert.Equal(t, rd.status, oe.Status)
							assert.Contains(t, err.Error(), "the agent is now "+string(rd.status))
							assert.NoError(t, oe.ReadErr)
						} else {
							assert.ErrorIs(t, oe.ReadErr, ErrServer)
							assert.Empty(t, oe.Status)
						}
					}
				})
			}
		}
	}
}

func TestRepairDataIsConfirmedOnlyWhenTheAgentShowsTheDataSent(t *testing.T) {
	srv := &agentServer{lost: lostReplies[0], status: StatusPending}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	c, _ := newTestClient(t, ts.URL, ts.URL)
	// The read shows "John Doe", not the corrected name: the repair may not
	// have been applied.
	_, err := c.RepairData(context.Background(), 1, RepairDataParams{Name: "Johnny Doe"})
	recordErr(err)
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	writes, _ := srv.seen()
	assert.Len(t, writes, 1)
}

func TestStateChangeAfterTheContextEndedIsNotRead(t *testing.T) {
	// The reply never comes; the deadline ends the call after the request
	// was written. The agent cannot be read with an ended context.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.Method == http.MethodGet {
			t.Error("the agent was read with an ended context")
		}
		<-r.Context().Done()
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := c.SubmitKYC(ctx, 1)
	recordErr(err)
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "context ended")
}

func TestAmbiguousCreateIsReportedNeverResent(t *testing.T) {
	for _, lost := range append(lostReplies, cutOff) {
		t.Run(lost.name, func(t *testing.T) {
			srv := &agentServer{lost: lost, status: StatusBasicData}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			c, _ := newTestClient(t, ts.URL, ts.URL)
			a, err := c.CreateAgent(context.Background(), validAgent())
			recordErr(err)
			assert.Nil(t, a)
			require.ErrorIs(t, err, ErrOutcomeUnknown)
			var oe *OutcomeUnknownError
			require.ErrorAs(t, err, &oe)
			assert.Regexp(t, requestIDShape, oe.RequestID)
			assert.Contains(t, err.Error(), "may exist")
			assert.Contains(t, err.Error(), oe.RequestID)
			writes, reads := srv.seen()
			assert.Equal(t, []string{"/agents"}, writes, "sent once")
			assert.Zero(t, reads, "Flip has no look-up that could settle a create")
		})
	}
}

func TestAmbiguousUploadsAreReportedNeverResent(t *testing.T) {
	img := jpegImage(t, 300, 300)
	calls := map[string]func(context.Context, *Client) error{
		"UploadIdentityImage": func(ctx context.Context, c *Client) error {
			_, err := c.UploadIdentityImage(ctx, 1, IdentityKTP, Image{"k.jpg", bytes.NewReader(img)})
			return err
		},
		"UploadSelfieWithIdentity": func(ctx context.Context, c *Client) error {
			_, err := c.UploadSelfieWithIdentity(ctx, 1, IdentityKTP, Image{"s.jpg", bytes.NewReader(img)})
			return err
		},
		"UploadDocuments": func(ctx context.Context, c *Client) error {
			_, err := c.UploadDocuments(ctx, 1, []Document{{Type: DocumentFamilyCard, Image: Image{"f.jpg", bytes.NewReader(img)}}})
			return err
		},
	}
	for name, call := range calls {
		for _, lost := range lostReplies {
			t.Run(name+"/"+lost.name, func(t *testing.T) {
				srv := &agentServer{lost: lost, status: StatusBasicData}
				ts := httptest.NewServer(srv)
				defer ts.Close()
				c, _ := newTestClient(t, ts.URL, ts.URL)
				err := call(context.Background(), c)
				recordErr(err)
				require.ErrorIs(t, err, ErrOutcomeUnknown)
				var oe *OutcomeUnknownError
				require.ErrorAs(t, err, &oe)
				assert.Equal(t, int64(1), oe.AgentID)
				assert.Contains(t, err.Error(), "before")
				writes, _ := srv.seen()
				assert.Len(t, writes, 1, "sent once")
			})
		}
	}
}

func TestRefusalsAreNotAmbiguous(t *testing.T) {
	// A 4xx is Flip's own answer: the change was not made, and the error
	// says so plainly.
	srv := &agentServer{lost: lostReply{"4010", func(w http.ResponseWriter) {
		writeReply(w, 400, `{"errors":[{"code":4010,"message":"Invalid agent status"}]}`)
	}}, status: StatusPending}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	c, _ := newTestClient(t, ts.URL, ts.URL)
	_, err := c.SubmitKYC(context.Background(), 1)
	require.ErrorIs(t, err, ErrInvalidAgentStatus)
	assert.NotErrorIs(t, err, ErrOutcomeUnknown)
	_, reads := srv.seen()
	assert.Zero(t, reads)
}

// slogTo returns a debug logger writing text lines to w and to the scanned
// sink.
func slogTo(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(io.MultiWriter(w, sinkWriter{}), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func TestOutcomeUnknownErrorText(t *testing.T) {
	e := &OutcomeUnknownError{Op: "SubmitKYC", Method: "PUT", Path: "/users/7/submit", RequestID: "bigflip-x", AgentID: 7,
		Status: StatusUploadIdentitySelfieSuccess, Next: "read it later",
		Err: &APIError{Op: "SubmitKYC", StatusCode: 502, Method: "PUT", Path: "/users/7/submit", RequestID: "bigflip-x"}}
	assert.Equal(t, "flipkyc: SubmitKYC: outcome unknown: flipkyc: SubmitKYC: PUT /users/7/submit: HTTP 502 [Request-ID bigflip-x]; "+
		"the agent is now UPLOAD_IDENTITY_SELFIE_SUCCESS; read it later", e.Error())
	assert.True(t, strings.Count(e.Error(), "bigflip-x") == 1)
	assert.ErrorIs(t, e, ErrServer, "it unwraps to the failure itself")
}

// TestTwoHundredIsSuccessWhateverItsBody: for the state changes whose 2xx
// is their whole answer, a reply whose body is empty, cut off or not JSON
// is still Flip's success: it is returned as one, without a read.
func TestTwoHundredIsSuccessWhateverItsBody(t *testing.T) {
	replies := []lostReply{
		cutOff,
		{"204 without a body", func(w http.ResponseWriter) { w.WriteHeader(204) }},
		{"200 empty", func(w http.ResponseWriter) { w.WriteHeader(200) }},
		{"200 not JSON", func(w http.ResponseWriter) { writeReply(w, 200, "<html>ok</html>") }},
	}
	calls := append(stateChanges(t), stateChange{"UploadIdentityImage", func(ctx context.Context, c *Client, opts ...CallOption) (bool, error) {
		r, err := c.UploadIdentityImage(ctx, 1, IdentityKTP, Image{"k.jpg", bytes.NewReader(jpegImage(t, 300, 300))})
		return r != nil && r.ConfirmedByRead, err
	}, "/users/1/identities"})
	for _, sc := range calls {
		for _, rp := range replies {
			t.Run(sc.name+"/"+rp.name, func(t *testing.T) {
				srv := &agentServer{lost: rp, status: StatusRejected}
				ts := httptest.NewServer(srv)
				defer ts.Close()
				c, _ := newTestClient(t, ts.URL, ts.URL)
				confirmed, err := sc.call(context.Background(), c)
				require.NoError(t, err)
				assert.False(t, confirmed, "Flip's own 2xx, not a read, says it succeeded")
				writes, reads := srv.seen()
				assert.Equal(t, []string{sc.path}, writes)
				assert.Zero(t, reads)
			})
		}
	}
}

// untracedTransport sends each request as a new one, as a transport of
// another HTTP stack would: the SDK's httptrace hooks never fire.
type untracedTransport struct{}

func (untracedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			return nil, err
		}
	}
	out, err := http.NewRequest(r.Method, r.URL.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	out.Header = r.Header.Clone()
	return http.DefaultTransport.RoundTrip(out)
}

// A transport that does not report its progress gives no proof that a
// request was not sent: a state change that failed after connecting is
// never repeated, while one that could not connect is.
func TestUntracedTransportNeverRepeatsAStateChange(t *testing.T) {
	untraced := WithHTTPClient(&http.Client{Transport: untracedTransport{}})
	t.Run("reset after the request arrived", func(t *testing.T) {
		srv := &agentServer{lost: lostReplies[len(lostReplies)-1], status: StatusBasicData}
		ts := httptest.NewServer(srv)
		defer ts.Close()
		c, _ := newTestClient(t, ts.URL, ts.URL, untraced)
		_, err := c.CreateAgent(context.Background(), validAgent())
		recordErr(err)
		require.ErrorIs(t, err, ErrOutcomeUnknown)
		writes, _ := srv.seen()
		assert.Equal(t, []string{"/agents"}, writes, "sent once")

		_, err = c.SubmitKYC(context.Background(), 1)
		recordErr(err)
		require.ErrorIs(t, err, ErrOutcomeUnknown)
		writes, _ = srv.seen()
		assert.Equal(t, []string{"/agents", "/users/1/submit"}, writes, "sent once")
	})
	t.Run("a middleware that says it sent nothing", func(t *testing.T) {
		srv := &agentServer{lost: lostReplies[0], status: StatusBasicData}
		ts := httptest.NewServer(srv)
		defer ts.Close()
		refuse := roundTripFunc(func(*http.Request) (*http.Response, error) {
			return nil, fmt.Errorf("rate limit: %w: %w", context.DeadlineExceeded, ErrNotSent)
		})
		c, clock := newTestClient(t, ts.URL, ts.URL, WithHTTPClient(&http.Client{Transport: refuse}))
		_, err := c.SubmitKYC(context.Background(), 1)
		recordErr(err)
		require.Error(t, err)
		assert.NotErrorIs(t, err, ErrOutcomeUnknown)
		assert.ErrorIs(t, err, ErrNotSent)
		assert.Len(t, clock.waits(), 2, "tried again")
		writes, reads := srv.seen()
		assert.Empty(t, writes)
		assert.Zero(t, reads, "nothing to confirm")
	})
	t.Run("nothing listening", func(t *testing.T) {
		ts := httptest.NewServer(http.NotFoundHandler())
		url := ts.URL
		ts.Close()
		c, clock := newTestClient(t, url, url, untraced)
		_, err := c.CreateAgent(context.Background(), validAgent())
		recordErr(err)
		require.Error(t, err)
		assert.NotErrorIs(t, err, ErrOutcomeUnknown, "a refused connection sent nothing")
		var re *RetryError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, 3, re.Attempts, "and is retried")
		assert.Len(t, clock.waits(), 2)
	})
}
