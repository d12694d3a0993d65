package flipkyc

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// The benchmarks below each have an "sdk" and a "raw" side that make the
// same call against the same loopback server. The raw side is the careful
// hand-written net/http code for that call: same headers, same encoding,
// same decoding. cmd/benchratio turns their output into SDK/raw ratios.

// envRawFirst, when set, makes each benchmark run its raw side before its
// sdk side. On a loaded machine the side that a fresh process runs first
// measures slower, so cmd/benchratio sets it on every other pass, putting
// each side first equally often.
const envRawFirst = "FLIPKYC_BENCH_RAW_FIRST"

// runSides runs a benchmark's two sides as prefix+"sdk" and prefix+"raw",
// in the order envRawFirst says.
func runSides(b *testing.B, prefix string, sdk, raw func(*testing.B)) {
	if os.Getenv(envRawFirst) != "" {
		b.Run(prefix+"raw", raw)
		b.Run(prefix+"sdk", sdk)
		return
	}
	b.Run(prefix+"sdk", sdk)
	b.Run(prefix+"raw", raw)
}

// benchServer answers every request with body after reading the request's
// body to the end.
func benchServer(b *testing.B, body []byte) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		_, _ = w.Write(body)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// rawHTTPClient is the http.Client both sides use: the SDK gets it through
// WithHTTPClient.
func rawHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
}

func benchClient(b *testing.B, srv *httptest.Server, hc *http.Client, opts ...Option) *Client {
	c, err := New(testKey, append([]Option{WithBaseURLs(srv.URL, srv.URL), WithHTTPClient(hc)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// rawAgent is what a hand-written client would decode an agent into.
type rawAgent struct {
	ID                  int64   `json:"id"`
	CompanyID           int64   `json:"company_id"`
	Name                string  `json:"name"`
	IdentityType        string  `json:"identity_type"`
	IdentityNumber      string  `json:"identity_number"`
	BirthPlace          string  `json:"birth_place"`
	BirthDate           string  `json:"birth_date"`
	Gender              string  `json:"gender"`
	CountryID           int64   `json:"country_id"`
	CountryName         string  `json:"country_name"`
	ProvinceID          int64   `json:"province_id"`
	ProvinceName        string  `json:"province_name"`
	CityID              int64   `json:"city_id"`
	CityName            string  `json:"city_name"`
	DistrictID          int64   `json:"district_id"`
	DistrictName        string  `json:"district_name"`
	Address             string  `json:"address"`
	ResidenceCountryID  *int64  `json:"residence_country_id"`
	ResidenceProvinceID *int64  `json:"residence_province_id"`
	ResidenceCityID     *int64  `json:"residence_city_id"`
	ResidenceDistrictID *int64  `json:"residence_district_id"`
	ResidenceAddress    string  `json:"residence_address"`
	Occupation          string  `json:"occupation"`
	PhoneNumber         string  `json:"phone_number"`
	Email               string  `json:"email"`
	KYCStatus           string  `json:"kyc_status"`
	RejectedReasonCode  any     `json:"rejected_reason_code"` // Flip sends 10, "17" or null
	RejectedReason      *string `json:"rejected_reason"`
	Status              string  `json:"status"`
	CreatedAt           string  `json:"created_at"`
}

// typed does what the SDK's decoding does beyond encoding/json: the dates
// and times become time.Time, the reason code a number.
func (a *rawAgent) typed() (birth, created time.Time, code int, err error) {
	if a.BirthDate != "" {
		if birth, err = time.Parse("02-01-2006", a.BirthDate); err != nil {
			return
		}
	}
	if a.CreatedAt != "" {
		if created, err = time.ParseInLocation("2006-01-02 15:04:05", a.CreatedAt, wib); err != nil {
			return
		}
	}
	switch v := a.RejectedReasonCode.(type) {
	case float64:
		code = int(v)
	case string:
		code, err = strconv.Atoi(v)
	}
	return
}

// rawDo sends req with the headers Flip wants and decodes a 2xx JSON reply.
func rawDo(hc *http.Client, req *http.Request, out any) error {
	req.SetBasicAuth(testKey, "")
	req.Header.Set("Request-ID", "bigflip-"+uuid.NewString())
	req.Header.Set("User-Agent", "flipkyc-go/"+Version)
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, body)
	}
	return json.Unmarshal(body, out)
}

func BenchmarkCreateAgent(b *testing.B) {
	srv := benchServer(b, fixture(b, "agent_create_response.json"))
	p := validAgent()
	runSides(b, "", func(b *testing.B) {
		c := benchClient(b, srv, rawHTTPClient())
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.CreateAgent(context.Background(), p); err != nil {
				b.Fatal(err)
			}
		}
	}, func(b *testing.B) {
		hc := rawHTTPClient()
		b.ReportAllocs()
		for b.Loop() {
			form := url.Values{
				"name": {p.Name}, "identity_type": {string(p.IdentityType)}, "identity_number": {p.IdentityNumber},
				"birth_date": {p.BirthDate.String()}, "birth_place": {p.BirthPlace},
				"country_id": {"1"}, "province_id": {"12"}, "city_id": {"184"}, "district_id": {"1234"},
				"address": {p.Address}, "gender": {string(p.Gender)}, "occupation": {string(p.Occupation)},
				"phone_number": {p.PhoneNumber}, "use_identity_address": {"1"}, "email": {p.Email},
			}
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+"/agents", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			var a rawAgent
			if err := rawDo(hc, req, &a); err != nil {
				b.Fatal(err)
			}
			if _, _, _, err := a.typed(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkGetAgent(b *testing.B) {
	srv := benchServer(b, fixture(b, "agent_get_response.json"))
	runSides(b, "", func(b *testing.B) {
		c := benchClient(b, srv, rawHTTPClient())
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.GetAgent(context.Background(), 497); err != nil {
				b.Fatal(err)
			}
		}
	}, func(b *testing.B) {
		hc := rawHTTPClient()
		b.ReportAllocs()
		for b.Loop() {
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL+"/agents/497", nil)
			var a rawAgent
			if err := rawDo(hc, req, &a); err != nil {
				b.Fatal(err)
			}
			if _, _, _, err := a.typed(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkUploadIdentityImage(b *testing.B) {
	srv := benchServer(b, fixture(b, "upload_response.json"))
	for _, size := range []int{1 << 20, 16 << 20} {
		img := make([]byte, size)
		copy(img, jpegImage(b, 300, 300))
		name := fmt.Sprintf("%dMiB", size>>20)
		runSides(b, name+"/", func(b *testing.B) {
			c := benchClient(b, srv, rawHTTPClient(), withMaxImageBytes(int64(size)))
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				_, err := c.UploadIdentityImage(context.Background(), 497, IdentityKTP, Image{Name: "ktp.jpg", Content: bytes.NewReader(img)})
				if err != nil {
					b.Fatal(err)
				}
			}
		}, func(b *testing.B) {
			hc := rawHTTPClient()
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				var body bytes.Buffer
				w := multipart.NewWriter(&body)
				_ = w.WriteField("user_type", "1")
				_ = w.WriteField("identity_type", "1")
				_ = w.WriteField("selfie", "0")
				part, _ := w.CreateFormFile("image", "ktp.jpg")
				_, _ = part.Write(img)
				_ = w.Close()
				req, _ := http.NewRequestWithContext(context.Background(), http.MethodPut, srv.URL+"/users/497/identities", &body)
				req.Header.Set("Content-Type", w.FormDataContentType())
				var res struct {
					ImageURL string `json:"image_url"`
				}
				if err := rawDo(hc, req, &res); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// wib is Western Indonesian Time, the zone of Flip's zone-less timestamps.
var wib = time.FixedZone("WIB", 7*3600)

func BenchmarkParseCallback(b *testing.B) {
	body := string(fixture(b, "callback_rejected.form"))
	newRequest := func() *http.Request {
		r, _ := http.NewRequest(http.MethodPost, "http://receiver.test/flip/kyc", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	runSides(b, "", func(b *testing.B) {
		p, err := NewCallbackParser(docToken)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.Parse(newRequest()); err != nil {
				b.Fatal(err)
			}
		}
	}, func(b *testing.B) {
		type event struct {
			AgentID            int64           `json:"agent_id"`
			AgentName          string          `json:"agent_name"`
			KYCStatus          string          `json:"kyc_status"`
			RejectedReasonCode json.RawMessage `json:"rejected_reason_code"`
			RejectedReason     *string         `json:"rejected_reason"`
			CreatedAt          string          `json:"created_at"`
			UpdatedAt          string          `json:"updated_at"`
			SubmittedAt        *string         `json:"submitted_at"`
			VerifiedAt         *string         `json:"verified_at"`
		}
		b.ReportAllocs()
		for b.Loop() {
			r := newRequest()
			r.Body = http.MaxBytesReader(nil, r.Body, DefaultCallbackMaxBytes)
			if err := r.ParseForm(); err != nil {
				b.Fatal(err)
			}
			if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("token")), []byte(docToken)) != 1 {
				b.Fatal("token")
			}
			var ev event
			if err := json.Unmarshal([]byte(r.PostForm.Get("data")), &ev); err != nil {
				b.Fatal(err)
			}
			// The same typed result as the SDK's: the reason code as a
			// number (Flip sends 10 or "17"), the times as time.Time.
			code, err := strconv.Atoi(strings.Trim(string(ev.RejectedReasonCode), `"`))
			if err != nil || code != 17 {
				b.Fatal("reason code", err)
			}
			var times [4]time.Time
			for i, s := range []*string{&ev.CreatedAt, &ev.UpdatedAt, ev.SubmittedAt, ev.VerifiedAt} {
				if s != nil {
					if times[i], err = time.ParseInLocation("2006-01-02 15:04:05", *s, wib); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
	})
}
