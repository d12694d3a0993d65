package flipkyc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
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

// formBody is a form-encoded callback body.
func formBody(data, token string) string {
	return url.Values{"data": {data}, "token": {token}}.Encode()
}

// multipartCallback is a multipart/form-data callback body and its content type.
func multipartCallback(t testing.TB, fields ...[2]string) (string, string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, f := range fields {
		require.NoError(t, mw.WriteField(f[0], f[1]))
	}
	require.NoError(t, mw.Close())
	return b.String(), mw.FormDataContentType()
}

// fixtureData is the data field of a testdata callback.
func fixtureData(t testing.TB, name string) string {
	form, err := url.ParseQuery(string(fixture(t, name)))
	require.NoError(t, err)
	return form.Get("data")
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
			assert.Empty(t, ev.Problems)
			assert.Equal(t, fixtureData(t, tt.file), ev.Raw, "the data as received")

			form, err := url.ParseQuery(body)
			require.NoError(t, err)
			ev2, err := p.ParseValues(form)
			require.NoError(t, err)
			assert.Equal(t, ev, ev2, "both parsers agree")
		})
	}
}

// TestCallbackParserRefusals: only a missing or wrong token, an oversize
// body and a failed read are refused.
func TestCallbackParserRefusals(t *testing.T) {
	good := string(fixture(t, "callback_approved.form"))
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
		{"token twice, once wrong", func() *http.Request { return callbackRequest(good + "&token=guess") }, 403, ErrInvalidToken, "wrong token"},
		{"token twice, empty then wrong", func() *http.Request {
			return callbackRequest(strings.Replace(good, "token="+docToken, "token=&token=guess", 1))
		}, 403, ErrInvalidToken, "wrong token"},
		{"wrong token in white space", func() *http.Request {
			return callbackRequest(strings.Replace(good, "token="+docToken, "token=+guess%0D%0A", 1))
		}, 403, ErrInvalidToken, "wrong token"},
		{"token with white space inside", func() *http.Request {
			return callbackRequest(strings.Replace(good, "token="+docToken, "token=YOUR_VALIDATION+TOKEN_KEY", 1))
		}, 403, ErrInvalidToken, "wrong token"},
		{"only empty tokens", func() *http.Request {
			return callbackRequest(strings.Replace(good, "token="+docToken, "token=&token=", 1))
		}, 401, ErrInvalidToken, "no token"},
		{"token of white space only", func() *http.Request {
			return callbackRequest(strings.Replace(good, "token="+docToken, "token=+%09%0D%0A", 1))
		}, 401, ErrInvalidToken, "no token"},
		{"no token", func() *http.Request { return callbackRequest(strings.Replace(good, "&token="+docToken, "", 1)) }, 401, ErrInvalidToken, "no token"},
		{"empty token", func() *http.Request { return callbackRequest(strings.Replace(good, "token="+docToken, "token=", 1)) }, 401, ErrInvalidToken, "no token"},
		{"empty body", func() *http.Request { return callbackRequest("") }, 401, ErrInvalidToken, "no token"},
		{"no body", func() *http.Request { return httptest.NewRequest(http.MethodPost, "/", nil) }, 401, ErrInvalidToken, "no token"},
		{"token only in the query string", func() *http.Request {
			return httptest.NewRequest(http.MethodGet, "/flip/kyc?"+good, nil)
		}, 401, ErrInvalidToken, "no token"},
		{"multipart, wrong token, no content type", func() *http.Request {
			body, _ := multipartCallback(t, [2]string{"token", "guess"}, [2]string{"data", "{}"})
			return httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		}, 403, ErrInvalidToken, "wrong token"},
		{"multipart, right and wrong token", func() *http.Request {
			body, ct := multipartCallback(t, [2]string{"token", docToken}, [2]string{"token", "guess"})
			r := callbackRequest(body)
			r.Header.Set("Content-Type", ct)
			return r
		}, 403, ErrInvalidToken, "wrong token"},
		{"multipart that also reads as a form with the right token: read as multipart", func() *http.Request {
			body, _ := multipartCallback(t, [2]string{"token", "guess"}, [2]string{"data", "{}"})
			return callbackRequest(body + "&token=" + docToken)
		}, 403, ErrInvalidToken, "wrong token"},
		{"multipart, empty token, labelled a form", func() *http.Request {
			body, _ := multipartCallback(t, [2]string{"token", ""}, [2]string{"data", "{}"})
			return callbackRequest(body)
		}, 401, ErrInvalidToken, "no token"},
		{"token in a JSON body, wrong", func() *http.Request {
			return callbackRequest(`{"token":"guess","data":{}}`)
		}, 403, ErrInvalidToken, "wrong token"},
		{"token in a JSON body, right then wrong", func() *http.Request {
			return callbackRequest(`{"token":"` + docToken + `","token":"guess","data":{}}`)
		}, 403, ErrInvalidToken, "wrong token"},
		{"token in a JSON body, a number", func() *http.Request {
			return callbackRequest(`{"token":12345,"data":{}}`)
		}, 403, ErrInvalidToken, "wrong token"},
		{"token in a JSON body, an object", func() *http.Request {
			return callbackRequest(`{"token":{"v":"` + docToken + `"},"data":{}}`)
		}, 403, ErrInvalidToken, "wrong token"},
		{"token in a JSON body, empty", func() *http.Request {
			return callbackRequest(`{"token":"","data":{}}`)
		}, 401, ErrInvalidToken, "no token"},
		{"token in a JSON body, null", func() *http.Request {
			return callbackRequest("\xEF\xBB\xBF" + `{"token":null,"data":{}}`)
		}, 401, ErrInvalidToken, "no token"},
		{"token only in a second JSON value", func() *http.Request {
			return callbackRequest(`{"data":{}}{"token":"` + docToken + `"}`)
		}, 401, ErrInvalidToken, "no token"},
		{"oversize body", func() *http.Request {
			return callbackRequest(good + "&pad=" + strings.Repeat("x", DefaultCallbackMaxBytes))
		}, 413, ErrMalformedCallback, "larger than"},
		{"oversize Content-Length", func() *http.Request {
			r := callbackRequest(good)
			r.ContentLength = DefaultCallbackMaxBytes + 1
			return r
		}, 413, ErrMalformedCallback, "larger than"},
		{"read fails", func() *http.Request {
			r := callbackRequest("")
			r.Body = io.NopCloser(io.MultiReader(strings.NewReader(good), iotestErrReader{}))
			return r
		}, 400, ErrMalformedCallback, "reading body failed"},
		{"read times out", func() *http.Request {
			r := callbackRequest("")
			r.Body = io.NopCloser(io.MultiReader(strings.NewReader(good), iotestErrReader{os.ErrDeadlineExceeded}))
			return r
		}, 408, ErrMalformedCallback, "read timeout"},
	}
	p, err := NewCallbackParser(docToken)
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := p.Parse(tt.req())
			var ce *CallbackError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.status, ce.Status)
			assert.ErrorIs(t, err, tt.is)
			assert.Contains(t, err.Error(), tt.reason)
			assert.NotContains(t, err.Error(), docToken)
			assert.Empty(t, ev.Raw, "a refused callback carries no data")
		})
	}
}

// TestCallbackReviewedForms: the authentic callbacks an outside review found
// refused (each carries the right token) are answered 200 and handed to user
// code once, with the event they carry; over a recorder and over loopback.
func TestCallbackReviewedForms(t *testing.T) {
	const token = "$2y$13$abcdefghijklmnopqrstuv" // Flip's tokens look like this
	const data = `{"agent_id":17.0,"agent_name":"Bambang Sutrisno","kyc_status":"APPROVED",` +
		`"rejected_reason_code":null,"updated_at":"2024-01-02 03:04:05"}`
	mpBody, mpType := multipartCallback(t, [2]string{"token", token}, [2]string{"data", data})
	form := formBody(data, token) // data first, token last
	envelope := `{"token":"` + token + `","data":` + data + `}`
	tests := []struct{ name, contentType, body string }{
		{"multipart, content type without boundary", "multipart/form-data", mpBody},
		{"multipart, content type with a wrong boundary", "multipart/form-data; boundary=xyz", mpBody},
		{"multipart, labelled form-encoded", "application/x-www-form-urlencoded", mpBody},
		{"multipart, no content type", "", mpBody},
		{"JSON after a UTF-8 byte order mark", "application/json", "\xEF\xBB\xBF" + envelope},
		{"JSON followed by trailing bytes", "application/json", envelope + "x"},
		{"JSON followed by a second object", "application/json", envelope + `{}`},
		{"form ending in CRLF", "application/x-www-form-urlencoded", form + "\r\n"},
		{"form with the right token and an empty duplicate", "application/x-www-form-urlencoded", form + "&token="},
	}
	require.True(t, strings.HasPrefix(mpType, "multipart/form-data; boundary="))

	var mu sync.Mutex
	var got []Event
	h, err := NewCallbackHandler(token, func(ctx context.Context, ev Event) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, ev)
		return nil
	}, WithCallbackLogger(testLogger()))
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"recorder", "loopback"} {
				mu.Lock()
				got = nil
				mu.Unlock()
				var status int
				if path == "recorder" {
					r := httptest.NewRequest(http.MethodPost, "/flip/kyc", strings.NewReader(tt.body))
					if tt.contentType != "" {
						r.Header.Set("Content-Type", tt.contentType)
					}
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					status = w.Code
				} else {
					r, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(tt.body))
					require.NoError(t, err)
					if tt.contentType != "" {
						r.Header.Set("Content-Type", tt.contentType)
					}
					resp, err := srv.Client().Do(r)
					require.NoError(t, err)
					_ = resp.Body.Close()
					status = resp.StatusCode
				}
				assert.Equal(t, http.StatusOK, status, path)
				mu.Lock()
				handed := append([]Event(nil), got...)
				mu.Unlock()
				require.Len(t, handed, 1, "%s: handed to user code once", path)
				ev := handed[0]
				assert.Equal(t, data, ev.Raw, path)
				assert.Empty(t, ev.Problems, path)
				assert.Equal(t, int64(17), ev.AgentID, path)
				assert.Equal(t, "Bambang Sutrisno", ev.AgentName, path)
				assert.Equal(t, StatusApproved, ev.KYCStatus, path)
				assert.Equal(t, "17/APPROVED/2024-01-02 03:04:05", ev.Key(), path)
			}
		})
	}
}

// iotestErrReader fails every read with err, or a generic error.
type iotestErrReader struct{ err error }

func (r iotestErrReader) Read([]byte) (int, error) {
	if r.err == nil {
		return 0, errors.New("connection reset")
	}
	return 0, r.err
}

// TestCallbackAcceptsAnyForm: a callback with the right token is handed to
// the user's function whatever its method, content type and encoding, with
// the data kept as received; through a recorder and over loopback.
func TestCallbackAcceptsAnyForm(t *testing.T) {
	data := fixtureData(t, "callback_rejected.form")
	form := formBody(data, docToken)
	mpBody, mpType := multipartCallback(t, [2]string{"data", data}, [2]string{"token", docToken})
	mpTokenFirst, mpType2 := multipartCallback(t, [2]string{"token", docToken}, [2]string{"other", "x"}, [2]string{"data", data})
	envelope, err := json.Marshal(map[string]string{"data": data, "token": docToken})
	require.NoError(t, err)
	tests := []struct {
		name, method, contentType, body string
		raw                             string // the Raw expected
	}{
		{"documented form", "POST", "application/x-www-form-urlencoded", form, data},
		{"no content type", "POST", "", form, data},
		{"text/plain", "POST", "text/plain", form, data},
		{"application/json with a form body", "POST", "application/json", form, data},
		{"charset parameter", "POST", "application/x-www-form-urlencoded; charset=UTF-8", form, data},
		{"upper case", "POST", "APPLICATION/X-WWW-FORM-URLENCODED", form, data},
		{"broken content type", "POST", "form;;;=", form, data},
		{"multipart", "POST", mpType, mpBody, data},
		{"multipart, token first, other fields", "POST", mpType2, mpTokenFirst, data},
		{"multipart, content type without boundary", "POST", "multipart/form-data", mpBody, data},
		{"multipart, content type with another boundary", "POST", "multipart/form-data; boundary=zzz", mpBody, data},
		{"multipart, labelled a form", "POST", "application/x-www-form-urlencoded", mpBody, data},
		{"multipart, labelled JSON", "POST", "application/json", mpBody, data},
		{"multipart, no content type", "POST", "", mpBody, data},
		{"multipart after blank lines", "POST", "", "\r\n\r\n" + mpBody, data},
		{"multipart after a byte order mark", "POST", mpType, "\xEF\xBB\xBF" + mpBody, data},
		{"multipart with LF line ends", "POST", "", strings.ReplaceAll(mpBody, "\r\n", "\n"), data},
		{"multipart with padding after the boundary", "POST", "",
			strings.Replace(mpBody, "\r\n", " \t\r\n", 1), data},
		{"multipart without closing delimiter", "POST", "", mpBody[:strings.LastIndex(mpBody, "\r\n--")], data},
		{"multipart with a preamble, declared boundary", "POST", mpType, "preamble\r\n" + mpBody, data},
		{"multipart that also reads as a form: read as multipart", "POST", "application/x-www-form-urlencoded",
			mpBody + "&token=guess&data=other", data},
		{"labelled multipart, sent as a form", "POST", "multipart/form-data; boundary=zzz", form, data},
		{"multipart without boundary", "POST", "multipart/form-data", form, data},
		{"JSON body, data as a string", "POST", "application/json", string(envelope), data},
		{"JSON body, data as an object", "POST", "application/json", `{"token":"` + docToken + `","data":` + data + `}`, data},
		{"JSON body after a byte order mark", "POST", "application/json", "\xEF\xBB\xBF" + string(envelope), data},
		{"JSON body in white space", "POST", "application/json", "\r\n " + string(envelope) + "\r\n", data},
		{"JSON body, trailing bytes", "POST", "application/json", string(envelope) + "x&token=guess", data},
		{"JSON body, a second object", "POST", "application/json", string(envelope) + `{"token":"guess","data":{}}`, data},
		{"JSON body, keys in another case", "POST", "", `{"Token":"` + docToken + `","DATA":` + data + `}`, data},
		{"JSON body, token twice, once empty", "POST", "", `{"token":"","data":` + data + `,"token":"` + docToken + `"}`, data},
		{"JSON body, token twice, once null", "POST", "", `{"token":null,"data":` + data + `,"token":"` + docToken + `"}`, data},
		{"JSON body, token padded", "POST", "", `{"token":" ` + docToken + `\r\n","data":` + data + `}`, data},
		{"JSON body, data twice: the first", "POST", "", `{"token":"` + docToken + `","data":` + data + `,"data":"other"}`, data},
		{"JSON body, broken after the data", "POST", "", `{"token":"` + docToken + `","data":` + data + `,"x":`, data},
		{"JSON body without token, form after it", "POST", "", `{"a":1}&data=` + url.QueryEscape(data) + "&token=" + docToken, data},
		{"unescaped JSON in the form", "POST", "application/x-www-form-urlencoded", "data=" + data + "&token=" + docToken, data},
		{"bad escape in the data", "POST", "", "data=%7B%zz%7D&token=" + docToken, "{%zz}"},
		{"token twice", "POST", "", form + "&token=" + docToken, data},
		{"token twice, once empty", "POST", "", form + "&token=", data},
		{"empty token first", "POST", "", "token=&" + form, data},
		{"form ending in CRLF, token last", "POST", "application/x-www-form-urlencoded", form + "\r\n", data},
		{"token in white space", "POST", "", "data=" + url.QueryEscape(data) + "&token=%09+" + docToken + "+%0A", data},
		{"data twice", "POST", "", form + "&data=other", data},
		{"PUT", "PUT", "", form, data},
		{"GET with a body", "GET", "", form, data},
		{"no data", "POST", "", "token=" + docToken, ""},
		{"empty data", "POST", "", "data=&token=" + docToken, ""},
		{"data null", "POST", "", formBody("null", docToken), "null"},
		{"data garbage", "POST", "", formBody("<html>not json", docToken), "<html>not json"},
		{"data broken JSON", "POST", "", formBody(`{"agent_id":1,`, docToken), `{"agent_id":1,`},
		{"data an array", "POST", "", formBody(`[`+data+`]`, docToken), `[` + data + `]`},
		{"data with unexpected types", "POST", "", formBody(`{"agent_id":{},"agent_name":[],"kyc_status":false}`, docToken),
			`{"agent_id":{},"agent_name":[],"kyc_status":false}`},
	}
	var mu sync.Mutex
	var got []Event
	h, err := NewCallbackHandler(docToken, func(ctx context.Context, ev Event) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, ev)
		return nil
	}, WithCallbackLogger(testLogger()))
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"recorder", "loopback"} {
				mu.Lock()
				got = nil
				mu.Unlock()
				var status int
				if path == "recorder" {
					r := httptest.NewRequest(tt.method, "/flip/kyc", strings.NewReader(tt.body))
					if tt.contentType != "" {
						r.Header.Set("Content-Type", tt.contentType)
					}
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					status = w.Code
				} else {
					r, err := http.NewRequest(tt.method, srv.URL, strings.NewReader(tt.body))
					require.NoError(t, err)
					if tt.contentType != "" {
						r.Header.Set("Content-Type", tt.contentType)
					}
					resp, err := srv.Client().Do(r)
					require.NoError(t, err)
					_ = resp.Body.Close()
					status = resp.StatusCode
				}
				assert.Equal(t, http.StatusOK, status, path)
				mu.Lock()
				handed := append([]Event(nil), got...)
				mu.Unlock() // before require, which would leave it locked for the next case
				require.Len(t, handed, 1, "%s: handed to user code", path)
				assert.Equal(t, tt.raw, handed[0].Raw, path)
				assert.NotEmpty(t, handed[0].Key())
			}
		})
	}
}

// TestDecodeEventTolerance decodes data field by field: every number form,
// nulls, wrong types and unknown values give an event, with what could not
// be decoded in Problems and the other fields kept.
func TestDecodeEventTolerance(t *testing.T) {
	const rest = `,"kyc_status":"REJECTED","updated_at":"2022-02-18 09:48:58"`
	tests := []struct {
		name     string
		data     string
		agentID  int64
		status   KYCStatus
		code     RejectionCode
		name_    string
		problems []string
	}{
		{"agent id number", `{"agent_id":1` + rest + `}`, 1, StatusRejected, 0, "", nil},
		{"agent id string", `{"agent_id":"1"` + rest + `}`, 1, StatusRejected, 0, "", nil},
		{"agent id 1.0", `{"agent_id":1.0` + rest + `}`, 1, StatusRejected, 0, "", nil},
		{"agent id \"1.0\"", `{"agent_id":"1.0"` + rest + `}`, 1, StatusRejected, 0, "", nil},
		{"agent id 1e0", `{"agent_id":1e0` + rest + `}`, 1, StatusRejected, 0, "", nil},
		{"agent id spaced string", `{"agent_id":" 7 "` + rest + `}`, 7, StatusRejected, 0, "", nil},
		{"agent id large", `{"agent_id":9223372036854775807` + rest + `}`, math.MaxInt64, StatusRejected, 0, "", nil},
		{"code 10", `{"agent_id":1,"rejected_reason_code":10` + rest + `}`, 1, StatusRejected, 10, "", nil},
		{"code \"17\"", `{"agent_id":1,"rejected_reason_code":"17"` + rest + `}`, 1, StatusRejected, 17, "", nil},
		{"code 17.0", `{"agent_id":1,"rejected_reason_code":17.0` + rest + `}`, 1, StatusRejected, 17, "", nil},
		{"code \"17.0\"", `{"agent_id":1,"rejected_reason_code":"17.0"` + rest + `}`, 1, StatusRejected, 17, "", nil},
		{"code 1.7e1", `{"agent_id":1,"rejected_reason_code":1.7e1` + rest + `}`, 1, StatusRejected, 17, "", nil},
		{"code 170E-1", `{"agent_id":1,"rejected_reason_code":170E-1` + rest + `}`, 1, StatusRejected, 17, "", nil},
		{"code null", `{"agent_id":1,"rejected_reason_code":null` + rest + `}`, 1, StatusRejected, 0, "", nil},
		{"code empty", `{"agent_id":1,"rejected_reason_code":""` + rest + `}`, 1, StatusRejected, 0, "", nil},
		{"status in lower case", `{"agent_id":1,"kyc_status":"approved"}`, 1, StatusApproved, 0, "", nil},
		{"status as code", `{"agent_id":1,"kyc_status":40}`, 1, StatusApproved, 0, "", nil},
		{"status as code string 40.0", `{"agent_id":1,"kyc_status":"40.0"}`, 1, StatusApproved, 0, "", nil},
		{"unknown status kept as received", `{"agent_id":1,"kyc_status":"Under_Review"}`, 1, "Under_Review", 0, "", nil},
		{"unknown fields", `{"agent_id":1,"kyc_status":"APPROVED","extra":{"a":[1,2]},"nik":"3171234567890123"}`, 1, StatusApproved, 0, "", nil},
		{"keys in another case", `{"AGENT_ID":5,"Kyc_Status":"APPROVED"}`, 5, StatusApproved, 0, "", nil},
		{"name as a number", `{"agent_id":1,"agent_name":5,"kyc_status":"APPROVED"}`, 1, StatusApproved, 0, "5", nil},
		{"nulls everywhere", `{"agent_id":null,"agent_name":null,"kyc_status":null,"rejected_reason_code":null,"rejected_reason":null,"created_at":null,"updated_at":null,"submitted_at":null,"verified_at":null}`,
			0, "", 0, "", []string{"agent_id: missing", "kyc_status: missing"}},
		{"empty object", `{}`, 0, "", 0, "", []string{"agent_id: missing", "kyc_status: missing"}},
		{"agent id an object, the rest kept", `{"agent_id":{},"agent_name":"Ann","kyc_status":"REJECTED","rejected_reason_code":"17"}`,
			0, StatusRejected, 17, "Ann", []string{"agent_id: want a whole number, got an object"}},
		{"agent id a fraction", `{"agent_id":1.5,"kyc_status":"APPROVED"}`, 0, StatusApproved, 0, "", []string{"agent_id: want a whole number"}},
		{"agent id out of range", `{"agent_id":1e400,"kyc_status":"APPROVED"}`, 0, StatusApproved, 0, "", []string{"agent_id: want a whole number"}},
		{"agent id negative", `{"agent_id":-4,"kyc_status":"APPROVED"}`, -4, StatusApproved, 0, "", []string{"agent_id: not positive"}},
		{"agent id boolean", `{"agent_id":true,"kyc_status":"APPROVED"}`, 0, StatusApproved, 0, "", []string{"agent_id: want a whole number, got a boolean"}},
		{"name an array, the rest kept", `{"agent_id":3,"agent_name":["x"],"kyc_status":"APPROVED"}`, 3, StatusApproved, 0, "", []string{"agent_name: want a string, got an array"}},
		{"code text", `{"agent_id":1,"kyc_status":"REJECTED","rejected_reason_code":"abc"}`, 1, StatusRejected, 0, "", []string{"rejected_reason_code: want a whole number"}},
		{"status an object", `{"agent_id":1,"kyc_status":{"v":1}}`, 1, "", 0, "", []string{"kyc_status: want a string, got an object"}},
		{"status a boolean", `{"agent_id":1,"kyc_status":true}`, 1, "", 0, "", []string{"kyc_status: want a string, got a boolean"}},
		{"status a boolean, false", `{"agent_id":1,"kyc_status":false}`, 1, "", 0, "", []string{"kyc_status: want a string, got a boolean"}},
		{"name with invalid UTF-8", "{\"agent_id\":1,\"agent_name\":\"Ann\xff\xfe\",\"kyc_status\":\"APPROVED\"}", 1, StatusApproved, 0, "Ann\uFFFD\uFFFD",
			[]string{"agent_name: not valid UTF-8; each invalid byte replaced with U+FFFD"}},
		{"name with invalid UTF-8 and an escape", "{\"agent_id\":1,\"agent_name\":\"Ann\xff\xfe\\u0041\",\"kyc_status\":\"APPROVED\"}", 1, StatusApproved, 0, "Ann\uFFFD\uFFFDA",
			[]string{"agent_name: not valid UTF-8; each invalid byte replaced with U+FFFD"}},
		{"name with U+FFFD sent as such", `{"agent_id":1,"agent_name":"Ann\ufffd","kyc_status":"APPROVED"}`, 1, StatusApproved, 0, "Ann\uFFFD", nil},
		{"reason with invalid UTF-8", "{\"agent_id\":1,\"rejected_reason\":\"bad\xc3\",\"kyc_status\":\"REJECTED\"}", 1, StatusRejected, 0, "",
			[]string{"rejected_reason: not valid UTF-8; each invalid byte replaced with U+FFFD"}},
		{"unknown time layout", `{"agent_id":1,"kyc_status":"APPROVED","created_at":"yesterday"}`, 1, StatusApproved, 0, "", []string{"created_at: unknown timestamp layout"}},
		{"time an array", `{"agent_id":1,"kyc_status":"APPROVED","verified_at":[]}`, 1, StatusApproved, 0, "", []string{"verified_at: want a timestamp, got an array"}},
		{"null", `null`, 0, "", 0, "", []string{"data: not a JSON object"}},
		{"array", `[{"agent_id":1}]`, 0, "", 0, "", []string{"data: not a JSON object"}},
		{"string", `"x"`, 0, "", 0, "", []string{"data: not a JSON object"}},
		{"broken JSON", `{"agent_id":1,`, 0, "", 0, "", []string{"data: not valid JSON"}},
		{"trailing garbage", `{"agent_id":1} x`, 0, "", 0, "", []string{"data: not valid JSON"}},
		{"not JSON", `agent_id=1`, 0, "", 0, "", []string{"data: not valid JSON"}},
		{"blank", "  ", 0, "", 0, "", []string{"data: empty"}},
	}
	p, err := NewCallbackParser(docToken)
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := p.ParseValues(url.Values{"data": {tt.data}, "token": {docToken}})
			require.NoError(t, err, "an authentic callback is never refused")
			assert.Equal(t, tt.agentID, ev.AgentID)
			assert.Equal(t, tt.status, ev.KYCStatus)
			assert.Equal(t, tt.code, ev.RejectedReasonCode)
			assert.Equal(t, tt.name_, ev.AgentName)
			assert.Equal(t, tt.problems, ev.Problems)
			assert.Equal(t, tt.data, ev.Raw)
			if ev.AgentName != "" {
				// The decoded name survives a round trip through JSON unchanged.
				b, err := json.Marshal(ev)
				require.NoError(t, err)
				var again Event
				require.NoError(t, json.Unmarshal(b, &again))
				assert.Equal(t, ev.AgentName, again.AgentName, "the name changed on a round trip")
			}
			if tt.name == "unknown time layout" {
				assert.Equal(t, "yesterday", ev.CreatedAt.Raw, "kept as received")
			}

			var viaJSON Event
			if json.Valid([]byte(tt.data)) && strings.HasPrefix(strings.TrimSpace(tt.data), "{") {
				require.NoError(t, json.Unmarshal([]byte(tt.data), &viaJSON), "UnmarshalJSON never fails")
				assert.Equal(t, ev, viaJSON, "UnmarshalJSON decodes as the parser does")
			}
		})
	}
	t.Run("missing data", func(t *testing.T) {
		ev, err := p.ParseValues(url.Values{"token": {docToken}})
		require.NoError(t, err)
		assert.Equal(t, []string{"data: missing"}, ev.Problems)
	})
	t.Run("null into an event is a no-op", func(t *testing.T) {
		ev := Event{AgentID: 4}
		require.NoError(t, json.Unmarshal([]byte("null"), &ev))
		assert.Equal(t, int64(4), ev.AgentID)
	})
}

func TestParseWhole(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"17", 17, true}, {"+17", 17, true}, {"-3", -3, true}, {"17.0", 17, true}, {"17.000", 17, true},
		{"1.7e1", 17, true}, {"1.7E+1", 17, true}, {"170e-1", 17, true}, {"0", 0, true}, {"-0.0", 0, true},
		{"0e99999999999", 0, true}, {"1e0", 1, true}, {"1e00", 1, true}, {".5e1", 5, true}, {"5.", 5, true},
		{"9223372036854775807", math.MaxInt64, true}, {"-9223372036854775808", math.MinInt64, true},
		{"9.223372036854775807e18", math.MaxInt64, true},
		{"9223372036854775808", 0, false}, {"-9223372036854775809", 0, false}, {"1e19", 0, false},
		{"1.5", 0, false}, {"17e-1", 0, false}, {"1e400", 0, false}, {"1e-400", 0, false}, {"1e99999999999", 0, false},
		{"", 0, false}, {"-", 0, false}, {".", 0, false}, {"e1", 0, false}, {"1e", 0, false}, {"1e+", 0, false},
		{"0x10", 0, false}, {"NaN", 0, false}, {"Infinity", 0, false}, {"1 7", 0, false}, {"abc", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseWhole(tt.in)
		assert.Equal(t, tt.ok, ok, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
}

// TestCallbackTokenTrimmed: a configured token read with a trailing newline
// matches the token sent, with or without surrounding white space.
func TestCallbackTokenTrimmed(t *testing.T) {
	p, err := NewCallbackParser(docToken + "\n")
	require.NoError(t, err)
	data := fixtureData(t, "callback_approved.form")
	for _, sent := range []string{docToken, docToken + "\r\n", " " + docToken + "\t"} {
		ev, err := p.ParseValues(url.Values{"data": {data}, "token": {sent}})
		require.NoError(t, err, "%q", sent)
		assert.Equal(t, StatusApproved, ev.KYCStatus)
	}
	_, err = p.ParseValues(url.Values{"data": {data}, "token": {docToken + "\n" + docToken}})
	assert.ErrorIs(t, err, ErrInvalidToken, "white space inside is kept")
}

func TestCallbackOptions(t *testing.T) {
	ok := func(context.Context, Event) error { return nil }
	_, err := NewCallbackParser("")
	assert.Error(t, err)
	tests := []struct {
		name  string
		token string
		fn    func(context.Context, Event) error
		opts  []CallbackOption
		valid bool
	}{
		{"defaults", docToken, ok, nil, true},
		{"empty token fails closed", "", ok, nil, false},
		{"white-space token fails closed", " \t\r\n", ok, nil, false},
		{"nil function", docToken, nil, nil, false},
		{"nil logger", docToken, ok, []CallbackOption{WithCallbackLogger(nil)}, false},
		{"max bytes 0", docToken, ok, []CallbackOption{WithCallbackMaxBytes(0)}, false},
		{"max bytes negative", docToken, ok, []CallbackOption{WithCallbackMaxBytes(math.MinInt64)}, false},
		{"max bytes 1", docToken, ok, []CallbackOption{WithCallbackMaxBytes(1)}, true},
		{"max bytes MaxInt64", docToken, ok, []CallbackOption{WithCallbackMaxBytes(math.MaxInt64)}, true},
		{"read timeout 0", docToken, ok, []CallbackOption{WithCallbackReadTimeout(0)}, false},
		{"read timeout negative", docToken, ok, []CallbackOption{WithCallbackReadTimeout(-time.Second)}, false},
		{"read timeout", docToken, ok, []CallbackOption{WithCallbackReadTimeout(time.Hour)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := NewCallbackHandler(tt.token, tt.fn, tt.opts...)
			if tt.valid {
				assert.NoError(t, err)
				assert.NotNil(t, h)
			} else {
				assert.Error(t, err)
				assert.Nil(t, h)
			}
		})
	}
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
		{"other method", httptest.NewRequest(http.MethodPut, "/", strings.NewReader(good)), false, 200},
		{"too large", callbackRequest(good + "&pad=" + strings.Repeat("x", 4096)), false, 413},
		{"no token", callbackRequest(strings.Replace(good, "&token="+docToken, "", 1)), false, 401},
		{"wrong token", callbackRequest(strings.Replace(good, "token="+docToken, "token=nope", 1)), false, 403},
		{"broken data", callbackRequest("data=%7B&token=" + docToken), false, 200},
		{"broken data, user code fails", callbackRequest("data=%7B&token=" + docToken), true, 500},
		{"no content type", httptest.NewRequest(http.MethodPost, "/", strings.NewReader(good)), false, 200},
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
			if tt.status == 413 {
				assert.Equal(t, "close", w.Header().Get("Connection"), "a body not read whole ends the connection")
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Contains(t, logs.String(), "agent_id=1", "a failure of user code is logged with the agent id")
	assert.Contains(t, logs.String(), "database is down")
	assert.Contains(t, logs.String(), "callback accepted with problems")
	assert.Contains(t, logs.String(), "data: not valid JSON")
	assert.NotContains(t, logs.String(), docToken)
	_, _ = sinkWriter{}.Write(logs.Bytes())
}

// trickle sends a callback's headers to addr, then its body one byte at a
// time, and returns how the connection ended: nil when the server closed it,
// an error when it was still open after limit (a generous upper bound).
func trickle(t *testing.T, addr string, limit time.Duration) (string, error) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "POST /flip/kyc HTTP/1.1\r\nHost: receiver.test\r\n"+
		"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n")
	require.NoError(t, err)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := conn.Write([]byte("x")); err != nil {
					return
				}
			}
		}
	}()
	defer wg.Wait()
	defer close(stop)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(limit)))
	reply, err := io.ReadAll(conn)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return string(reply), err
	}
	return string(reply), nil // closed: EOF, or a reset because bytes were left unread
}

// TestCallbackReadTimeout: a client that trickles its body is cut off by the
// handler's own read timeout, over real loopback; and a server ReadTimeout
// shorter than the handler's is kept.
func TestCallbackReadTimeout(t *testing.T) {
	tests := []struct {
		name          string
		handlerTO     time.Duration
		serverTO      time.Duration
		wantStatusPfx string
	}{
		{"handler's timeout", 200 * time.Millisecond, 0, "HTTP/1.1 408"},
		{"server's shorter ReadTimeout kept", time.Hour, 200 * time.Millisecond, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called := false
			h, err := NewCallbackHandler(docToken, func(context.Context, Event) error { called = true; return nil },
				WithCallbackReadTimeout(tt.handlerTO), WithCallbackLogger(testLogger()))
			require.NoError(t, err)
			srv := httptest.NewUnstartedServer(h)
			srv.Config.ReadTimeout = tt.serverTO
			srv.Start()
			defer srv.Close()
			reply, err := trickle(t, srv.Listener.Addr().String(), 10*time.Second)
			require.NoError(t, err, "the connection must end well before the upper bound")
			if tt.wantStatusPfx != "" && reply != "" { // a reset may lose the reply
				assert.True(t, strings.HasPrefix(reply, tt.wantStatusPfx), reply)
			}
			assert.False(t, called)
		})
	}
}

// TestCallbackReadTimeoutWithoutDeadlines: where the ResponseWriter cannot
// set a read deadline, the handler still stops waiting for the body.
func TestCallbackReadTimeoutWithoutDeadlines(t *testing.T) {
	h, err := NewCallbackHandler(docToken, func(context.Context, Event) error { return nil },
		WithCallbackReadTimeout(100*time.Millisecond))
	require.NoError(t, err)
	pr, pw := io.Pipe()
	defer pw.Close() // ends the abandoned read
	r := httptest.NewRequest(http.MethodPost, "/", pr)
	w := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(w, r)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler still waits for the body")
	}
	assert.Equal(t, http.StatusRequestTimeout, w.Code)
}

// TestCallbackReadDeadlineClearedForUserCode: once the body is read, the
// read timeout no longer applies, so user code slower than it keeps a live
// context.
func TestCallbackReadDeadlineClearedForUserCode(t *testing.T) {
	const readTimeout = 100 * time.Millisecond
	var ctxErr error
	h, err := NewCallbackHandler(docToken, func(ctx context.Context, ev Event) error {
		// Wait until well past the read deadline (a lower bound only).
		for end := time.Now().Add(4 * readTimeout); time.Now().Before(end); {
			time.Sleep(10 * time.Millisecond)
		}
		ctxErr = ctx.Err()
		return ctxErr
	}, WithCallbackReadTimeout(readTimeout))
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := srv.Client().Post(srv.URL, "application/x-www-form-urlencoded",
		strings.NewReader(string(fixture(t, "callback_approved.form"))))
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.NoError(t, ctxErr)
}

// TestCallbackKey: well-formed events keep their documented key; malformed
// ones get distinct keys, the same for a repeat.
func TestCallbackKey(t *testing.T) {
	p, err := NewCallbackParser(docToken)
	require.NoError(t, err)
	parse := func(data string) Event {
		ev, err := p.ParseValues(url.Values{"data": {data}, "token": {docToken}})
		require.NoError(t, err)
		return ev
	}
	good := parse(fixtureData(t, "callback_approved.form"))
	assert.Equal(t, "1/APPROVED/2022-02-18 09:48:58", good.Key())
	a, b := parse(`{"kyc_status":"APPROVED","x":1}`), parse(`{"kyc_status":"APPROVED","x":2}`)
	assert.NotEqual(t, a.Key(), b.Key(), "different malformed callbacks")
	assert.Equal(t, a.Key(), parse(`{"kyc_status":"APPROVED","x":1}`).Key(), "a repeat")
	assert.True(t, strings.HasPrefix(a.Key(), "0/APPROVED//"), a.Key())
	assert.Equal(t, "0//", Event{}.Key(), "an event built by hand")
}

// TestCallbackPersonalDataNeverPrinted runs the handler through acceptance,
// refusals and failures of user code that echo the event, with debug logging,
// and checks that no log line, reply, error or printed event holds the
// token, the agent's name or the raw data's personal fields.
func TestCallbackPersonalDataNeverPrinted(t *testing.T) {
	const (
		token = "cbtok-PERSONAL-7Hq2-DISTINCTIVE"
		name  = "Zarathustra Quixbee-Okonkwo"
		nik   = "3171234567890123"
		email = "zara.quixbee@example.id"
	)
	data := `{"agent_id":9,"agent_name":"` + name + ` ","kyc_status":"REJECTED","rejected_reason_code":"17.0",` +
		`"rejected_reason":"Name ` + name + ` does not match","nik":"` + nik + `","email":"` + email + `",` +
		`"created_at":"2022-02-18 05:03:32","updated_at":"2022-02-18 09:48:58"}`
	malformed := `{"agent_id":{"x":"` + name + `"},"agent_name":"` + name + `","kyc_status":["` + name + `"],"created_at":"` + name + `",` +
		`"updated_at":"` + nik + `","submitted_at":"` + email + `"}`

	var logs bytes.Buffer
	var mu sync.Mutex
	text := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	jsonLog := slog.New(slog.NewJSONHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var failWith func(ev Event) error
	var events []Event
	handle := func(ctx context.Context, ev Event) error {
		events = append(events, ev)
		text.InfoContext(ctx, "user code got", "event", ev)
		jsonLog.InfoContext(ctx, "user code got", "event", ev)
		if failWith != nil {
			return failWith(ev)
		}
		return nil
	}
	handlers := map[string]http.Handler{}
	for label, logger := range map[string]*slog.Logger{"text": text, "json": jsonLog} {
		h, err := NewCallbackHandler(token, handle, WithCallbackLogger(logger), WithCallbackMaxBytes(4096))
		require.NoError(t, err)
		handlers[label] = h
	}
	p, err := NewCallbackParser(token)
	require.NoError(t, err)

	bodies := map[string]string{
		"good":        formBody(data, token),
		"malformed":   formBody(malformed, token),
		"wrong token": formBody(data, token+"x"),
		"no token":    url.Values{"data": {data}}.Encode(),
		"oversize":    formBody(data+strings.Repeat(" ", 4096), token),
	}
	failures := map[string]func(Event) error{
		"none": nil,
		"name in error": func(ev Event) error {
			return fmt.Errorf("store %s (%s): failed", ev.AgentName, strings.TrimSpace(ev.AgentName))
		},
		"event in error": func(ev Event) error { return fmt.Errorf("store %v / %+v / %#v / %s: failed", ev, ev, ev, ev) },
		"raw in error":   func(ev Event) error { return fmt.Errorf("cannot store %s", ev.Raw) },
	}
	var collected []string
	for _, h := range handlers {
		for _, fail := range failures {
			failWith = fail
			for _, body := range bodies {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, callbackRequest(body))
				collected = append(collected, w.Body.String())
				_, err := p.Parse(callbackRequest(body))
				collected = append(collected, fmt.Sprintf("%v|%+v|%#v|%s", err, err, err, err))
			}
		}
	}
	require.NotEmpty(t, events)
	for _, ev := range events {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x"} {
			collected = append(collected, fmt.Sprintf(verb, ev), fmt.Sprintf(verb, &ev))
		}
		collected = append(collected, fmt.Sprint(ev), fmt.Sprintln(ev), strings.Join(ev.Problems, "\n"))
	}
	mu.Lock()
	collected = append(collected, logs.String())
	mu.Unlock()
	assert.Contains(t, logs.String(), "callback refused")
	assert.Contains(t, logs.String(), "callback accepted with problems")
	assert.Contains(t, logs.String(), "callback handler failed")
	all := strings.Join(collected, "\n")
	for _, secret := range []string{token, token[:12], name, "Zarathustra", "Quixbee", "Okonkwo", nik, email} {
		assert.NotContains(t, all, secret)
	}
	assert.Contains(t, all, "[masked]", "the check is not vacuous")
	assert.Contains(t, all, "agent_id=9")

	// The JSON form, which NewCallbackRequest sends, keeps the real values.
	var good Event
	for _, ev := range events {
		if ev.AgentID == 9 {
			good = ev
		}
	}
	b, err := json.Marshal(good)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"agent_name":"`+name+` "`)
	assert.NotContains(t, string(b), nik, "Raw is not part of the JSON form")
}

func TestNewCallbackRequestRoundTrips(t *testing.T) {
	p, err := NewCallbackParser("tok")
	require.NoError(t, err)
	body := string(fixture(t, "callback_rejected.form"))
	form, _ := url.ParseQuery(body)
	form.Set("token", "tok")
	want, err := p.ParseValues(form)
	require.NoError(t, err)

	req, err := newCallbackRequest(context.Background(), "http://receiver.test/kyc", want, "tok")
	require.NoError(t, err)
	got, err := p.Parse(req)
	require.NoError(t, err)
	assert.Equal(t, want.Key(), got.Key())
	assert.Equal(t, want.RejectedReasonCode, got.RejectedReasonCode)
	assert.Equal(t, want.UpdatedAt.Time, got.UpdatedAt.Time)
	assert.Empty(t, got.Problems)

	// The JSON form uses Flip's names, the reason code as a number.
	b, err := json.Marshal(got)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"agent_id":1`)
	assert.Contains(t, string(b), `"rejected_reason_code":17`)
	assert.Contains(t, string(b), `"updated_at":"2022-02-18 09:48:58"`)
	assert.Contains(t, string(b), `"submitted_at":null`)
	assert.NotContains(t, string(b), "Problems")
	assert.Equal(t, got.Raw, string(b), "the data sent is exactly the JSON form")
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
	req, err := newCallbackRequest(context.Background(), "http://receiver.test/", ev, docToken)
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

func TestCallbackParserTakesTheSizeOption(t *testing.T) {
	p, err := NewCallbackParser("tok", WithCallbackMaxBytes(10))
	require.NoError(t, err)
	req, err := newCallbackRequest(context.Background(), "http://receiver.test/", Event{AgentID: 1, KYCStatus: StatusApproved}, "tok")
	require.NoError(t, err)
	_, err = p.Parse(req)
	var ce *CallbackError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, http.StatusRequestEntityTooLarge, ce.Status)
	_, err = NewCallbackParser("tok", WithCallbackMaxBytes(0))
	assert.ErrorContains(t, err, "WithCallbackMaxBytes")
}

// TestEventMasked: the copy for people masks the name, Raw and the personal
// data a callback's free text may carry, and keeps what is not personal.
func TestEventMasked(t *testing.T) {
	const name = "Zarathustra Quixbee"
	ev := Event{AgentID: 9, AgentName: name, KYCStatus: "NIK 3201987654320001", RejectedReasonCode: 10,
		RejectedReason: "Quixbee (zq@example.com, 081299887766) does not match", Raw: `{"agent_name":"` + name + `"}`,
		CreatedAt: Timestamp{Raw: "call 081299887766"}, Problems: []string{"agent_name: " + name}}
	ev.UpdatedAt, _ = ParseTimestamp("2022-02-18 09:48:58")
	got := ev.Masked()
	assert.Equal(t, masked, got.AgentName)
	assert.Equal(t, masked, got.Raw)
	assert.Equal(t, KYCStatus("NIK "+masked), got.KYCStatus)
	assert.Equal(t, masked+" ("+masked+", "+masked+") does not match", got.RejectedReason)
	assert.Equal(t, "call "+masked, got.CreatedAt.Raw)
	assert.Equal(t, "2022-02-18 09:48:58", got.UpdatedAt.Raw, "a timestamp is kept")
	assert.Equal(t, []string{"agent_name: " + masked}, got.Problems)
	assert.Equal(t, int64(9), got.AgentID)
	assert.Equal(t, RejectionCode(10), got.RejectedReasonCode)
	assert.Equal(t, name, ev.AgentName, "the event itself is unchanged")
	assert.Equal(t, Event{}, Event{}.Masked(), "nothing to mask")
}
