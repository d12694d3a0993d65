package flipkyc

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc/internal/redact"
)

// testKey is a distinctive secret key used by every test client; TestMain
// fails the run if it, or its Basic-auth encoding, shows up in any log line
// or recorded error.
const testKey = "sk_test_ZQX9-DISTINCTIVE-SECRET-7f3a"

// sink collects every log record and every error the tests record.
var sink = struct {
	sync.Mutex
	bytes.Buffer
}{}

type sinkWriter struct{}

func (sinkWriter) Write(p []byte) (int, error) {
	sink.Lock()
	defer sink.Unlock()
	return sink.Buffer.Write(p)
}

// recordErr adds err's text under every verb to the scanned output.
func recordErr(err error) {
	if err == nil {
		return
	}
	_, _ = fmt.Fprintf(sinkWriter{}, "error: %v | %+v | %#v | %s\n", err, err, err, err.Error())
}

func TestMain(m *testing.M) {
	code := m.Run()
	sink.Lock()
	out := sink.String()
	sink.Unlock()
	auth := base64.StdEncoding.EncodeToString([]byte(testKey + ":"))
	for _, secret := range []string{testKey, auth} {
		if strings.Contains(out, secret) {
			fmt.Fprintf(os.Stderr, "FAIL: a secret appeared in the tests' logs or errors\n")
			code = 1
		}
	}
	for _, v := range distinctiveValues() {
		if strings.Contains(redact.Unescape(out), v) {
			fmt.Fprintf(os.Stderr, "FAIL: personal data (%.4s…) appeared in the tests' logs or errors\n", v)
			code = 1
		}
	}
	os.Exit(code)
}

// testLogger logs at debug level into the scanned sink.
func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(sinkWriter{}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// fakeClock records the waits asked of it and never sleeps.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

func (c *fakeClock) waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// newTestClient returns a client for the given base URLs with the test key,
// the scanned logger and a fake clock.
func newTestClient(t testing.TB, agentsURL, kycURL string, opts ...Option) (*Client, *fakeClock) {
	t.Helper()
	clk := newFakeClock()
	all := append([]Option{WithBaseURLs(agentsURL, kycURL), WithLogger(testLogger()), withClock(clk)}, opts...)
	c, err := New(testKey, all...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, clk
}

// fixture returns the content of testdata/name.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pngImage returns a w×h PNG.
func pngImage(t testing.TB, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, testPicture(w, h)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// jpegImage returns a w×h JPEG.
func jpegImage(t testing.TB, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, testPicture(w, h), &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func testPicture(w, h int) image.Image {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y += 7 {
		for x := 0; x < w; x++ {
			img.SetGray(x, y, color.Gray{Y: uint8(x + y)})
		}
	}
	return img
}

// validAgent returns parameters that pass every rule (the documented example).
func validAgent() AgentParams {
	return AgentParams{
		Name: "John Doe", IdentityType: IdentityKTP, IdentityNumber: "1234567890123456",
		BirthDate: NewDate(1990, time.October, 31), BirthPlace: "Kota Depok",
		CountryID: 1, ProvinceID: 12, CityID: 184, DistrictID: 1234,
		Address: "Jalan Margonda Raya", Gender: GenderMale, Occupation: OccupationEntrepreneur,
		PhoneNumber: "+628123456789", UseIdentityAddress: Ptr(true), Email: "example@mail.com",
	}
}

// recorder is an http.Handler that records the requests it got and answers
// each with the next scripted reply (the last one repeats).
type recorder struct {
	mu       sync.Mutex
	requests []recorded
	replies  []reply
}

type recorded struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
}

type reply struct {
	status int
	header map[string]string
	body   string
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body bytes.Buffer
	_, _ = body.ReadFrom(r.Body)
	rec.mu.Lock()
	rec.requests = append(rec.requests, recorded{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body.Bytes()})
	n := len(rec.requests)
	rp := rec.replies[min(n, len(rec.replies))-1]
	rec.mu.Unlock()
	for k, v := range rp.header {
		w.Header().Set(k, v)
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(rp.status)
	_, _ = w.Write([]byte(rp.body))
}

func (rec *recorder) got() []recorded {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]recorded(nil), rec.requests...)
}

// newCallbackRequest builds the request Flip sends for ev, as
// flipkyctest.NewCallbackRequest does (which these tests cannot import).
func newCallbackRequest(ctx context.Context, target string, ev Event, token string) (*http.Request, error) {
	data, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	body := url.Values{"data": {string(data)}, "token": {token}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}
