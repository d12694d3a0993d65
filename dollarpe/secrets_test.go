package dollarpe

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
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

// A distinctive person and credentials, which must never appear in an
// error, a log line or a printed value.
const (
	leakKey     = "pk_ZEBEDIAH_key_5f3a9c"
	leakSecret  = "sk_QUIXOTE_secret_8e1d2b"
	leakName    = "Zebediah Quixote-Farnsworth"
	leakEmail   = "zebediah.q@example.org"
	leakPhone   = "+919876501234"
	leakAddress = "77 Lotus Lane, Kochi"
	leakPAN     = "QZXPF4321K"
	leakDocNo   = "998877665544"
	leakFront   = "https://cdn.example.net/zebediah/front.jpg"
	leakBack    = "https://cdn.example.net/zebediah/back.png"
	leakSelfie  = "https://cdn.example.net/zebediah/selfie.pdf"
	leakJob     = "Lighthouse keeper of Tern Rock"
)

var leakDOB = Date{1983, 7, 19}

// echoModes are the ways the echo server throws the request back.
var echoModes = []string{"400-envelope", "500-string", "200-false", "200-garbage", "401-auth", "429", "502-html",
	"400-escaped", "redirect"}

// echoServer answers each request by quoting it (body and headers) in the
// reply, in the shape of mode.
func echoServer(t *testing.T, mode *string, mu *sync.Mutex, signatures *[]string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		m := *mode
		*signatures = append(*signatures, r.Header.Get("X-SIGNATURE"))
		mu.Unlock()
		var fields map[string]any
		_ = json.Unmarshal(body, &fields)
		headers := fmt.Sprintf("%v", r.Header)
		errs := map[string][]string{}
		for k, v := range fields {
			errs[k] = []string{fmt.Sprintf("%v is invalid", v)}
		}
		errs["X-API-KEY"] = []string{r.Header.Get("X-API-KEY")}
		errs["signature"] = []string{r.Header.Get("X-SIGNATURE")}
		w.Header().Set("X-Echo", r.Header.Get("X-API-KEY")+" "+r.Header.Get("X-SIGNATURE"))
		write := func(status int, v any) {
			w.WriteHeader(status)
			b, _ := json.Marshal(v)
			_, _ = w.Write(b)
		}
		switch m {
		case "400-envelope":
			write(400, map[string]any{"status": false, "message": string(body), "data": nil, "errors": errs, "err_code": r.Header.Get("X-API-KEY")})
		case "500-string":
			write(500, map[string]any{"success": false, "message": headers, "errors": string(body)})
		case "200-false":
			write(200, map[string]any{"status": false, "message": "echo " + string(body) + headers, "errors": errs})
		case "200-garbage":
			w.WriteHeader(200)
			_, _ = w.Write([]byte("<pre>" + string(body) + headers + "</pre>"))
		case "401-auth":
			write(401, map[string]any{"status": false, "err_code": "AUTH_" + r.Header.Get("X-API-KEY"), "message": "bad key " + r.Header.Get("X-API-KEY")})
		case "429":
			w.Header().Set("Retry-After", "1")
			write(429, map[string]any{"status": false, "message": string(body)})
		case "502-html":
			w.WriteHeader(502)
			_, _ = w.Write([]byte("<html>" + url.QueryEscape(string(body)) + base64.StdEncoding.EncodeToString([]byte(leakKey)) + "</html>"))
		case "400-escaped":
			var b bytes.Buffer
			for _, r := range string(body) + headers {
				fmt.Fprintf(&b, "\\u%04x", r)
			}
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`{"status":false,"message":"` + b.String() + `"}`))
		case "redirect":
			http.Redirect(w, r, "http://"+leakKey+".example/?"+url.QueryEscape(string(body)), http.StatusFound)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestNoLeaks pushes a distinctive person and credentials through every
// call and every failure and checks that none of it appears in an error
// (under every verb), a log line, response metadata or a printed value.
func TestNoLeaks(t *testing.T) {
	var mu sync.Mutex
	mode := ""
	var signatures []string
	srv := echoServer(t, &mode, &mu, &signatures)
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := New(leakKey, leakSecret, WithBaseURL(srv.URL), WithLogger(logger), WithClock(newFakeClock()),
		WithRetryPolicy(RetryPolicy{MaxAttempts: 2}))
	require.NoError(t, err)
	ctx := context.Background()

	info := map[string]any{"occupation": leakJob}
	create := CreateCustomerParams{FullName: leakName, Email: leakEmail, Phone: leakPhone, CountryCode: "IND", ClientReferenceID: "ref-1"}
	kyc := AddKYCDataParams{CustomerID: testID, FullName: leakName, Phone: leakPhone, FullAddress: leakAddress, DOB: leakDOB,
		TaxNumber: leakPAN, DocumentType: DocumentPassport, DocumentFrontImageURL: leakFront, DocumentBackImageURL: leakBack,
		DocumentDetails: DocumentDetails{DocumentNumber: leakDocNo, AdditionalData: info}, SelfieURL: leakSelfie, AdditionalInfo: info}
	doc := UpdateDocumentInfoParams{CustomerID: testID, FullAddress: leakAddress, DocumentType: DocumentPassport,
		DocumentFrontImageURL: leakFront, DocumentBackImageURL: leakBack, DocumentDetails: kyc.DocumentDetails}
	tax := UpdateTaxInfoParams{CustomerID: testID, TaxNumber: leakPAN}
	add := UpdateAdditionalInfoParams{CustomerID: testID, AdditionalInfo: info}
	selfie := UpdateSelfieInfoParams{CustomerID: testID, SelfieURL: leakSelfie}

	var texts []string
	keep := func(err error, meta Response) {
		if err != nil {
			texts = append(texts, err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
		}
		texts = append(texts, fmt.Sprintf("%+v", meta), fmt.Sprintf("%#v", meta))
	}
	calls := []func(opts ...CallOption) error{
		func(o ...CallOption) error { _, err := c.CreateCustomer(ctx, create, o...); return err },
		func(o ...CallOption) error { _, err := c.GetCustomer(ctx, testID, o...); return err },
		func(o ...CallOption) error { _, err := c.GetKYCConfiguration(ctx, testID, o...); return err },
		func(o ...CallOption) error { _, err := c.AddKYCData(ctx, kyc, o...); return err },
		func(o ...CallOption) error { _, err := c.UpdateDocumentInfo(ctx, doc, o...); return err },
		func(o ...CallOption) error { _, err := c.UpdateTaxInfo(ctx, tax, o...); return err },
		func(o ...CallOption) error { _, err := c.UpdateAdditionalInfo(ctx, add, o...); return err },
		func(o ...CallOption) error { _, err := c.UpdateSelfieInfo(ctx, selfie, o...); return err },
		func(o ...CallOption) error { _, err := c.ResetKYC(ctx, testID, o...); return err },
		func(o ...CallOption) error { _, err := c.MockKYCStatus(ctx, testID, MockVerified, o...); return err },
	}
	for _, m := range echoModes {
		mu.Lock()
		mode = m
		mu.Unlock()
		for i, call := range calls {
			var meta Response
			err := call(ResponseInto(&meta))
			require.Error(t, err, "mode %s call %d", m, i)
			keep(err, meta)
		}
	}
	// Validation failures, with the personal values in the wrong places.
	bad := kyc
	bad.CustomerID = leakName
	bad.SelfieURL = leakSelfie + ".gif"
	_, err = c.AddKYCData(ctx, bad)
	keep(err, Response{})
	badCreate := create
	badCreate.CountryCode = leakName
	_, err = c.CreateCustomer(ctx, badCreate)
	keep(err, Response{})

	// Printed values.
	cust := Customer{ID: testID, FullName: leakName, Email: leakEmail, Phone: leakPhone, Raw: json.RawMessage(`{"full_name":"` + leakName + `"}`)}
	for _, v := range []any{c, *c, create, kyc, doc, tax, add, selfie, cust, &cust, leakDOB, kyc.DocumentDetails,
		KYCResult{ID: testID, Raw: json.RawMessage(leakName)}} {
		texts = append(texts, fmt.Sprintf("%v", v), fmt.Sprintf("%+v", v), fmt.Sprintf("%#v", v), fmt.Sprintf("%s", v))
		logger.Info("value", "v", v)
	}

	// Webhooks carrying the person, refused and accepted.
	body := `{"type":"CUSTOMER","id":"` + testID + `","event":"FAILED","metadata":{"full_name":"` + leakName +
		`","email":"` + leakEmail + `","failure_reason":"KYC_FAILED"},"` + "pan" + `":"` + leakPAN + `"}`
	h, err := NewWebhookHandler(leakKey, leakSecret, func(_ context.Context, ev Event) error {
		texts = append(texts, fmt.Sprintf("%v", ev), fmt.Sprintf("%+v", ev), fmt.Sprintf("%#v", ev))
		logger.Info("event", "ev", ev)
		return fmt.Errorf("stored")
	}, WithWebhookLogger(logger), WithWebhookClock(func() time.Time { return hookNow }))
	require.NoError(t, err)
	for _, ts := range []int64{vectorTime, vectorTime - 1000} {
		canon, _ := Canonicalize([]byte(body))
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.Header.Set("X-TIMESTAMP", fmt.Sprint(ts))
		r.Header.Set("X-SIGNATURE", Sign(leakKey, leakSecret, ts, canon))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		texts = append(texts, w.Body.String())
		v, _ := NewWebhookVerifier(leakKey, leakSecret)
		texts = append(texts, fmt.Sprintf("%#v", v))
	}
	texts = append(texts, logs.String())

	forbidden := []string{leakKey, leakSecret, leakName, "Zebediah", "Quixote", leakEmail, leakPhone, "9876501234", leakAddress, "Lotus Lane",
		leakPAN, leakDocNo, leakFront, leakBack, leakSelfie, "cdn.example.net/zebediah", leakJob, "19-07-1983", "1983-07-19",
		base64.StdEncoding.EncodeToString([]byte(leakKey))}
	mu.Lock()
	for _, s := range signatures {
		if s != "" {
			forbidden = append(forbidden, s)
		}
	}
	mu.Unlock()
	all := strings.Join(texts, "\n")
	for _, f := range forbidden {
		for _, text := range texts {
			if strings.Contains(strings.ToLower(text), strings.ToLower(f)) {
				t.Errorf("leak of %q in: %.600s", f, text)
				break
			}
		}
	}
	assert.Contains(t, all, "[masked]")
	assert.Contains(t, logs.String(), `"op":"AddKYCData"`)
}
