package flipkyc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc/internal/redact"
)

// Distinctive personal data: TestMain fails the run if any of it appears in
// a log line or a recorded error of any test.
var distinctive = struct {
	name, number, phone, email, birthPlace, address string
	birth                                           Date
}{
	name: "Zephyrina Quellbottom", number: "3171099988776655", phone: "+6281299887766",
	email: "zephyrina.q@pii-test.example", birthPlace: "Kampung Zephyrbirth",
	address: "Jalan Zephyrstreet Nomor 77", birth: NewDate(1961, time.August, 17),
}

// distinctiveValues lists the personal data and the forms a reply could echo
// it in.
func distinctiveValues() []string {
	d := distinctive
	return []string{d.name, d.number, d.phone, d.email, d.birthPlace, d.address, d.birth.String(),
		"Zephyrina", "Quellbottom", "Zephyrstreet", "Zephyrbirth", "99887766", "88776655", "pii-test.example"}
}

func distinctiveAgent() AgentParams {
	d := distinctive
	p := validAgent()
	p.Name, p.IdentityNumber, p.PhoneNumber, p.Email = d.name, d.number, d.phone, d.email
	p.BirthPlace, p.Address, p.BirthDate = d.birthPlace, d.address, d.birth
	return p
}

func distinctiveRepair() RepairDataParams {
	d := distinctive
	return RepairDataParams{Name: d.name, IdentityType: IdentityKTP, IdentityNumber: d.number, PhoneNumber: d.phone,
		BirthPlace: d.birthPlace, Address: d.address, BirthDate: d.birth}
}

// distinctiveAgentJSON is an agent reply that carries the personal data.
func distinctiveAgentJSON() string {
	d := distinctive
	b, _ := json.Marshal(map[string]any{"id": 1, "name": d.name, "identity_number": d.number,
		"phone_number": d.phone, "email": d.email, "birth_place": d.birthPlace, "address": d.address,
		"birth_date": d.birth.String(), "kyc_status": "REJECTED"})
	return string(b)
}

// uEscape writes every character of s as a JSON \u escape.
func uEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		fmt.Fprintf(&b, `\u%04x`, r)
	}
	return b.String()
}

// TestPersonalDataNeverPrinted sends distinctive personal data through every
// method and every failure, the client logging at debug level, with servers
// that echo the request back in every form; it then scans every error (all
// verbs and JSON) and every log line for the data.
func TestPersonalDataNeverPrinted(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slogTo(lockedWriter{&mu, &logs})
	var echoed atomic.Bool // the servers did see the data: the scan is not vacuous

	echo := func(r *http.Request) string {
		body, _ := io.ReadAll(r.Body)
		text := string(body)
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			form, _ := url.ParseQuery(text)
			text = fmt.Sprint(form)
		}
		if strings.Contains(text, distinctive.name) {
			echoed.Store(true)
		}
		return text
	}
	failures := map[string]http.HandlerFunc{
		"422 echoing the request in its message": func(w http.ResponseWriter, r *http.Request) {
			msg, _ := json.Marshal(echo(r))
			writeReply(w, 422, `{"code":"VALIDATION_ERROR","errors":[{"attribute":"name","code":1025,"message":`+string(msg)+`}]}`)
		},
		"400 echoing the request \\u-escaped": func(w http.ResponseWriter, r *http.Request) {
			writeReply(w, 400, `{"errors":[{"code":4001,"message":"`+uEscape(echo(r))+`"}]}`)
		},
		"502 HTML echoing the raw body": func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			writeReply(w, 502, "<html>"+string(body)+"</html>")
		},
		"200 agent cut short": func(w http.ResponseWriter, r *http.Request) {
			echo(r)
			writeReply(w, 200, strings.Replace(distinctiveAgentJSON(), `"id":1`, `"id":"one"`, 1)[:120])
		},
		"200 error shape echoing": func(w http.ResponseWriter, r *http.Request) {
			msg, _ := json.Marshal(echo(r) + " " + distinctiveAgentJSON())
			writeReply(w, 200, `{"errors":[{"code":4003,"message":`+string(msg)+`}]}`)
		},
		"200 not JSON with the agent": func(w http.ResponseWriter, r *http.Request) {
			echo(r)
			writeReply(w, 200, "agent: "+distinctiveAgentJSON()+" <- not what you asked")
		},
		"429 echoing, then 503": func(w http.ResponseWriter, r *http.Request) {
			msg, _ := json.Marshal(echo(r))
			writeReply(w, 429, `{"name":"Too Many","message":`+string(msg)+`,"status":429}`)
		},
	}
	img := jpegImage(t, 300, 300)
	calls := map[string]func(context.Context, *Client) error{
		"CreateAgent": func(ctx context.Context, c *Client) error {
			_, err := c.CreateAgent(ctx, distinctiveAgent())
			return err
		},
		"UpdateAgent": func(ctx context.Context, c *Client) error {
			_, err := c.UpdateAgent(ctx, 1, distinctiveAgent())
			return err
		},
		"GetAgent": func(ctx context.Context, c *Client) error { _, err := c.GetAgent(ctx, 1); return err },
		"RepairData": func(ctx context.Context, c *Client) error {
			_, err := c.RepairData(ctx, 1, distinctiveRepair())
			return err
		},
		"SubmitKYC": func(ctx context.Context, c *Client) error { _, err := c.SubmitKYC(ctx, 1); return err },
		"UploadIdentityImage": func(ctx context.Context, c *Client) error {
			_, err := c.UploadIdentityImage(ctx, 1, IdentityKTP, Image{distinctive.name + ".jpg", bytes.NewReader(img)})
			return err
		},
		"WaitForAgent": func(ctx context.Context, c *Client) error {
			ctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
			_, err := c.WaitForAgent(ctx, 1, UntilFinal)
			return err
		},
	}
	var collected []string
	for fname, h := range failures {
		srv := httptest.NewServer(h)
		c, err := New(testKey, WithBaseURLs(srv.URL, srv.URL), WithLogger(logger), withClock(newFakeClock()),
			WithRetryPolicy(RetryPolicy{MaxAttempts: 2}))
		require.NoError(t, err)
		for cname, call := range calls {
			err := call(context.Background(), c)
			if err == nil {
				// A 2xx, whatever its body, is a state change's success.
				require.True(t, strings.HasPrefix(fname, "200"), "%s / %s", fname, cname)
				continue
			}
			recordErr(err)
			js, _ := json.Marshal(err)
			collected = append(collected, fmt.Sprintf("%s / %s: %v|%+v|%#v|%s|%q|%s", fname, cname, err, err, err, err, err, js))
		}
		srv.Close()
	}
	require.True(t, echoed.Load(), "the servers received the personal data")
	mu.Lock()
	collected = append(collected, logs.String())
	mu.Unlock()
	for _, text := range collected {
		for _, v := range distinctiveValues() {
			if !assert.NotContains(t, redact.Unescape(text), v) {
				t.Logf("in: %s", text)
			}
		}
	}
}

func TestErrorBodiesAreMaskedNotDropped(t *testing.T) {
	key := newSecretKey(testKey)
	clean := func(s string) string { return key.clean(s, nil) }
	tests := []struct {
		name, body string
		keep       []string // what stays readable
	}{
		{"JSON agent", distinctiveAgentJSON(), []string{`"kyc_status":"REJECTED"`, `"id":1`, `"name":"[masked]"`}},
		{"JSON cut short", distinctiveAgentJSON()[:90], []string{`"address":"[masked]"`}},
		{"HTML page", "<html><title>502 Bad Gateway</title>" + distinctive.email + " " + distinctive.phone + "</html>", []string{"502 Bad Gateway"}},
		{"key echoed with slashes escaped", `{"message":"` + strings.ReplaceAll(testKey, "-", `\u002d`) + `"}`, []string{"[redacted]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := flipPersonal.Body([]byte(tt.body), excerptLimit, clean)
			for _, v := range append(distinctiveValues(), testKey) {
				assert.NotContains(t, got, v)
			}
			for _, k := range tt.keep {
				assert.Contains(t, got, k)
			}
		})
	}
}

func TestDataTypesPrintWithoutPersonalData(t *testing.T) {
	a := &Agent{ID: 7, Name: distinctive.name, IdentityNumber: distinctive.number, PhoneNumber: distinctive.phone,
		Email: distinctive.email, Address: distinctive.address, BirthPlace: distinctive.birthPlace,
		BirthDate: distinctive.birth, KYCStatus: StatusApproved}
	u := &KYCUser{UserID: 7, Name: distinctive.name, NIK: distinctive.number, Address: distinctive.address}
	p := distinctiveAgent()
	r := distinctiveRepair()
	values := []any{a, *a, u, *u, p, &p, r, &r, []*Agent{a}, map[string]Agent{"x": *a}}
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			out := fmt.Sprintf(verb, v)
			for _, d := range distinctiveValues() {
				assert.NotContains(t, out, d, "%T under %s", v, verb)
			}
		}
	}
	assert.Contains(t, fmt.Sprint(a), "ID: 7")
	assert.Contains(t, fmt.Sprint(a), "KYCStatus: APPROVED")
	assert.Contains(t, fmt.Sprint(a), "Name: [masked]")
	// JSON is how a caller stores the data on purpose: it stays whole.
	b, err := json.Marshal(a)
	require.NoError(t, err)
	assert.Contains(t, string(b), distinctive.name)
}

func TestMaskText(t *testing.T) {
	tests := []struct {
		in    string
		known []string
		want  string
	}{
		{"Agent ID is not found", nil, "Agent ID is not found"},
		{"code 4010 at step 19", nil, "code 4010 at step 19"},
		{"NIK 3171099988776655 taken", nil, "NIK [masked] taken"},
		{"call +62 812-9988-7766 now", nil, "call [masked] now"},
		{"born 17-08-1961", nil, "born [masked]"},
		{"mail zephyrina.q@pii-test.example", nil, "mail [masked]"},
		{"Zephyrina Quellbottom is registered", []string{"Zephyrina Quellbottom"}, "[masked] is registered"},
		{"name=Zephyrina+Quellbottom", []string{"Zephyrina Quellbottom"}, "name=[masked]"},
		{"Al is short", []string{"Al"}, "Al is short"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, flipPersonal.Text(tt.in, tt.known), tt.in)
	}
}

// TestLogLinesCarryOnlyCallFacts: every attribute the client logs is one of
// the call's facts, never a header or a body.
func TestLogLinesCarryOnlyCallFacts(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := &agentServer{lost: lostReplies[0], status: StatusPending}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	c, _ := newTestClient(t, ts.URL, ts.URL, WithLogger(logger), WithRetryPolicy(RetryPolicy{MaxAttempts: 2}))
	_, err := c.SubmitKYC(context.Background(), 1) // a 502, a read, a confirmation
	require.NoError(t, err)
	_, _ = c.GetAgent(context.Background(), 2) // retried
	allowed := map[string]bool{"time": true, "level": true, "msg": true, "method": true, "path": true,
		"request_id": true, "attempt": true, "status": true, "elapsed": true, "wait": true, "error": true,
		"op": true, "agent_id": true, "kyc_status": true, "code": true}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	require.Greater(t, len(lines), 3)
	for _, line := range lines {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec))
		for k := range rec {
			assert.True(t, allowed[k], "log attribute %q in %s", k, line)
		}
	}
}

func TestTextsTakenFromARepliesAreCut(t *testing.T) {
	long := strings.Repeat("very long message ", 1000)
	srv := httptest.NewServer(&recorder{replies: []reply{{status: 400, body: `{"errors":[{"code":4001,"message":"` + long + `"}],"message":"` + long + `"}`}}})
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL, srv.URL)
	_, err := c.GetAgent(context.Background(), 1)
	var e *APIError
	require.ErrorAs(t, err, &e)
	assert.LessOrEqual(t, len(e.Message), excerptLimit+len("…"))
	assert.LessOrEqual(t, len(e.Errors[0].Message), excerptLimit+len("…"))
	assert.Less(t, len(err.Error()), 3*excerptLimit)
}

// TestDataTypesLogWithoutPersonalData: slog's handlers, which do not use
// fmt's Format, log the data types masked too.
func TestDataTypesLogWithoutPersonalData(t *testing.T) {
	a := Agent{ID: 7, Name: distinctive.name, IdentityNumber: distinctive.number, PhoneNumber: distinctive.phone}
	img := Image{Name: distinctive.name + ".jpg", Content: strings.NewReader("x")}
	values := []any{a, &a, distinctiveAgent(), KYCUser{Name: distinctive.name}, distinctiveRepair(), img,
		Document{Type: DocumentNPWP, Image: img}}
	for _, handler := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	} {
		for _, v := range values {
			var b bytes.Buffer
			slog.New(handler(&b)).Info("value", "v", v)
			for _, d := range distinctiveValues() {
				assert.NotContains(t, b.String(), d, "%T", v)
			}
		}
	}
	js, err := json.Marshal(Document{Type: DocumentNPWP, Image: img})
	require.NoError(t, err)
	assert.NotContains(t, string(js), "Zephyrina", "an Image marshals without its file name")
}

// TestEchoesInOtherCaseOrWordsAreMasked: Flip, or a gateway, may echo what
// was sent in capitals, a word at a time, or a date in words.
func TestEchoesInOtherCaseOrWordsAreMasked(t *testing.T) {
	p := distinctiveAgent()
	known := p.personalValues()
	for _, echo := range []string{
		"name: Agent ZEPHYRINA QUELLBOTTOM already registered",
		"zephyrina quellbottom duplicate",
		"Name Zephyrina is not on the identity card",
		"address Zephyrstreet Nomor is too short",
		"birth place KAMPUNG ZEPHYRBIRTH unknown",
		"born 17 August 1961",
		"name=Zephyrina+Quellbottom&x=1",
	} {
		got := flipPersonal.Text(echo, known)
		for _, d := range []string{"Zephyrina", "ZEPHYRINA", "zephyrina", "Quellbottom", "Zephyrstreet", "ZEPHYRBIRTH", "August 1961"} {
			assert.NotContains(t, got, d, echo)
		}
	}
}
