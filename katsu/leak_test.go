package katsu_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc/internal/redact"
	"github.com/flipkyc/flipkyc/katsu"
)

// secrets are the texts that must appear in no error, log line or printed
// value: the token, the BVN, the name and its longer words.
var secrets = append([]string{testToken, testBVN, testName, base64.StdEncoding.EncodeToString([]byte(testToken))},
	strings.Fields(strings.ReplaceAll(testName, "-", " "))...)

// echoRequest is the request as an echoing server would quote it.
func echoRequest(r *http.Request) string {
	body, _ := io.ReadAll(r.Body)
	return r.Method + " " + r.URL.String() + " Authorization: " + r.Header.Get("Authorization") + " body: " + string(body)
}

// personRecord is the distinctive person's record as JSON.
func personRecord() json.RawMessage { return json.RawMessage(recordJSON) }

// echoes are servers that repeat everything they received, and the person,
// in every way a reply can.
var echoes = map[string]http.HandlerFunc{
	"400 envelope quoting the request": func(w http.ResponseWriter, r *http.Request) {
		e := echoRequest(r)
		b, _ := json.Marshal(map[string]any{"succeeded": false, "message": e, "errors": []string{e, url.QueryEscape(e)},
			"data": personRecord()})
		w.Header().Set("X-Echo", r.Header.Get("Authorization"))
		w.WriteHeader(400)
		_, _ = w.Write(b)
	},
	"500 plain text": func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		_, _ = io.WriteString(w, "panic: "+echoRequest(r)+" bvn "+testBVN+" token "+base64.URLEncoding.EncodeToString([]byte(testToken)))
	},
	"200 succeeded false naming the person": func(w http.ResponseWriter, r *http.Request) {
		msg := "KYC of " + testName + " (BVN " + testBVN + ") refused for token " + base64.StdEncoding.EncodeToString([]byte(testToken))
		b, _ := json.Marshal(map[string]any{"succeeded": false, "message": msg,
			"errors": []string{strings.ToUpper(testName) + " already approved", echoRequest(r)}, "data": personRecord()})
		_, _ = w.Write(b)
	},
	"200 not JSON": func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "<html>"+echoRequest(r)+"</html>")
	},
	"200 escaped echo": func(w http.ResponseWriter, r *http.Request) {
		esc := func(s string) string {
			var b strings.Builder
			for _, c := range s {
				fmt.Fprintf(&b, `\u%04x`, c)
			}
			return b.String()
		}
		_, _ = io.WriteString(w, `{"succeeded":false,"message":"`+esc(r.Header.Get("Authorization"))+`","errors":["`+esc(testBVN)+`"],"data":{"name":"`+esc(testName)+`"}}`)
	},
	"problem details": func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(422)
		b, _ := json.Marshal(map[string]any{"title": echoRequest(r), "errors": map[string][]string{testBVN: {testToken}, "bvn": {testBVN}}})
		_, _ = w.Write(b)
	},
	"429 forever": func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(429)
		_, _ = io.WriteString(w, `{"succeeded":false,"message":"`+r.Header.Get("Authorization")+`"}`)
	},
	"hang up": hangUp,
}

func TestNothingPersonalOrSecretLeaks(t *testing.T) {
	calls := map[string]func(context.Context, *katsu.Client, ...katsu.CallOption) error{
		"Update": func(ctx context.Context, c *katsu.Client, o ...katsu.CallOption) error {
			_, err := c.Update(ctx, katsu.UpdateParams{KYCID: kycID, Tier: katsu.Tier2, BVN: testBVN}, o...)
			return err
		},
		"Approve": func(ctx context.Context, c *katsu.Client, o ...katsu.CallOption) error {
			_, err := c.Approve(ctx, kycID, approver, o...)
			return err
		},
		"Get": func(ctx context.Context, c *katsu.Client, o ...katsu.CallOption) error {
			_, err := c.Get(ctx, kycID, o...)
			return err
		},
		"List": func(ctx context.Context, c *katsu.Client, o ...katsu.CallOption) error {
			_, err := c.List(ctx, katsu.ListParams{OwnerID: ownerID, PageSize: 5}, o...)
			return err
		},
		"All": func(ctx context.Context, c *katsu.Client, o ...katsu.CallOption) error {
			for _, err := range c.All(ctx, katsu.ListParams{}, o...) {
				if err != nil {
					return err
				}
			}
			return nil
		},
	}
	for echoName, echo := range echoes {
		for callName, call := range calls {
			t.Run(echoName+"/"+callName, func(t *testing.T) {
				var logs bytes.Buffer
				logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
				c, _ := newClient(t, echo, katsu.WithLogger(logger))
				var meta katsu.Response
				err := call(context.Background(), c, katsu.ResponseInto(&meta))
				require.Error(t, err)
				texts := []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), logs.String(),
					fmt.Sprint(meta.Header), meta.Message}
				var apiErr *katsu.APIError
				if assertAs(err, &apiErr) {
					texts = append(texts, apiErr.Body, apiErr.Message, strings.Join(apiErr.Errors, "|"), fmt.Sprintf("%#v", *apiErr))
				}
				var decErr *katsu.DecodeError
				if assertAs(err, &decErr) {
					texts = append(texts, decErr.Body, fmt.Sprintf("%#v", *decErr))
				}
				logger.Info("failed", "err", err)
				texts = append(texts, logs.String())
				for _, text := range texts {
					for _, s := range secrets {
						assert.NotContains(t, text, s)
						assert.NotContains(t, strings.ToLower(redact.Unescape(text)), strings.ToLower(s))
					}
				}
			})
		}
	}
}

// assertAs is errors.As without a test failure.
func assertAs[T error](err error, target *T) bool {
	for e := err; e != nil; {
		if t, ok := e.(T); ok {
			*target = t
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}

func TestPrintedValuesMaskPersonalData(t *testing.T) {
	var rec katsu.Record
	require.NoError(t, json.Unmarshal([]byte(recordJSON), &rec))
	params := katsu.UpdateParams{KYCID: kycID, Tier: katsu.Tier1, BVN: testBVN}
	page := katsu.Page{Records: []katsu.Record{rec}, PageNumber: 1}
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	logger.Info("values", "record", rec, "params", params, "page", page, "ptr", &rec)
	// A text handler prints a slice of records with fmt, which masks them.
	// (A JSON handler encodes a plain slice with encoding/json, which keeps
	// the data, as JSON encoding is for storing on purpose: log a
	// katsu.Records, as Page.Records is, or a Page instead.)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("text", slog.Any("records", []katsu.Record{rec}))
	texts := []string{logs.String()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		for _, v := range []any{rec, &rec, params, &params, page, []katsu.Record{rec}, map[string]katsu.Record{"a": rec}} {
			texts = append(texts, fmt.Sprintf(verb, v))
		}
	}
	for _, text := range texts {
		for _, s := range secrets {
			assert.NotContains(t, text, s)
		}
	}
	assert.Equal(t, "katsu.Record{ID: "+kycID+", Tier: Tier1, Name: [masked], TenantID: "+tenantID+", OwnerID: "+ownerID+
		", Approved: true, IsTenant: false, IsAddressVerified: true, ApprovedOn: 2024-08-06T22:14:12Z, BVN: [masked], Status: Approved}", fmt.Sprint(rec))
	assert.Equal(t, "katsu.UpdateParams{KYCID: "+kycID+", Tier: Tier1, AddressVerified: false, BVN: [masked]}", fmt.Sprint(params))
	// JSON keeps the data: it is how a caller stores a record on purpose.
	b, err := json.Marshal(rec)
	require.NoError(t, err)
	assert.Contains(t, string(b), testBVN)
	assert.Contains(t, string(b), `"tier":1`)
}

// The records the package returns log masked under a JSON handler too,
// logged the natural way, while json.Marshal keeps them for storing.
func TestReturnedRecordsLogMaskedAsJSON(t *testing.T) {
	page, err := katsu.DecodePage([]byte(`{"succeeded":true,"data":[`+recordJSON+`]}`), 0)
	require.NoError(t, err)
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	logger.Info("x", "records", page.Records)
	logger.Info("x", slog.Any("records", page.Records), slog.Any("converted", katsu.Records([]katsu.Record{page.Records[0]})))
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "records", page.Records)
	for _, s := range secrets {
		assert.NotContains(t, logs.String(), s)
	}
	assert.Contains(t, logs.String(), `"records":[{"id":"`+kycID+`","tier":1,"name":"[masked]"`)
	assert.Contains(t, logs.String(), kycID)
	assert.Equal(t, "[katsu.Record{ID: "+kycID, fmt.Sprint(page.Records)[:len(kycID)+18])

	b, err := json.Marshal(page.Records)
	require.NoError(t, err)
	assert.Contains(t, string(b), testBVN, "json.Marshal keeps the data, for storing")
}

// Status and an unreadable tier's text are Katsu's free text: they print
// masked.
func TestRecordPrintsStatusMasked(t *testing.T) {
	rec := katsu.Record{ID: kycID, Name: testName, BVN: testBVN, Tier: katsu.TierUnknown,
		TierText: "gold for " + testBVN, Status: "held: " + testName + " ada@example.com"}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "rec", rec)
	for _, text := range []string{fmt.Sprint(rec), fmt.Sprintf("%+v", rec), logs.String()} {
		for _, s := range append(secrets, "ada@example.com") {
			assert.NotContains(t, text, s)
		}
		assert.Contains(t, text, "held: [masked]")
	}
}
