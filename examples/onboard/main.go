// Command onboard takes one agent through Flip's whole KYC flow: look up the
// location ids, create the agent, upload the identity image and the selfie
// with identity, wait for the upload check, submit, and wait for Flip's
// decision. It prints one line per step and the final KYC status.
//
//	go run ./examples/onboard
//
// With no configuration it runs against the built-in fake Flip
// (flipkyctest) and receives the callbacks itself, in-process. With
// FLIP_SECRET_KEY set it runs the same flow against Flip's sandbox (or
// FLIP_API_BASE_URL / FLIP_KYC_BASE_URL where set) and waits by polling the
// agent's status, since a local program has no public callback URL. Each run
// uses a fresh identity number and phone number.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// The example's photos: an identity card and a selfie holding it.
var (
	//go:embed ktp.jpg
	identityJPEG []byte
	//go:embed selfie.jpg
	selfieJPEG []byte
)

func main() {
	timeout := flag.Duration("timeout", 10*time.Minute, "give up after this long")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	status, err := run(ctx, os.Stdout, os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "onboard:", err)
		os.Exit(1)
	}
	if !status.IsFinal() {
		os.Exit(1)
	}
}

// backend is where the flow runs: the fake with an in-process callback
// receiver, or Flip itself.
type backend struct {
	client *flipkyc.Client
	// events delivers the callbacks; nil when waiting must poll.
	events <-chan flipkyc.Event
	close  func()
}

// run takes one agent through the flow and returns its final KYC status.
func run(ctx context.Context, out io.Writer, getenv func(string) string) (flipkyc.KYCStatus, error) {
	b, err := connect(getenv, out)
	if err != nil {
		return "", err
	}
	defer b.close()
	step := func(n int, format string, args ...any) {
		fmt.Fprintf(out, "%d/7 "+format+"\n", append([]any{n}, args...)...)
	}
	c := b.client

	country, province, city, district, err := lookUpLocations(ctx, c)
	if err != nil {
		return "", err
	}
	step(1, "locations: %s (%d) / %s (%d) / %s (%d) / %s (%d)", country.Name, country.ID,
		province.Name, province.ID, city.Name, city.ID, district.Name, district.ID)

	params, err := newAgent(country.ID, province.ID, city.ID, district.ID)
	if err != nil {
		return "", err
	}
	agent, err := c.CreateAgent(ctx, params)
	if err != nil {
		return "", fmt.Errorf("create agent: %w", err)
	}
	step(2, "created agent %d: %s", agent.ID, agent.KYCStatus)

	up, err := c.UploadIdentityImage(ctx, agent.ID, params.IdentityType, flipkyc.Image{Name: "ktp.jpg", Content: bytes.NewReader(identityJPEG)})
	if err != nil {
		return "", fmt.Errorf("upload identity image: %w", err)
	}
	step(3, "uploaded identity image: %s", up.ImageURL)

	up, err = c.UploadSelfieWithIdentity(ctx, agent.ID, params.IdentityType, flipkyc.Image{Name: "selfie.jpg", Content: bytes.NewReader(selfieJPEG)})
	if err != nil {
		return "", fmt.Errorf("upload selfie with identity: %w", err)
	}
	step(4, "uploaded selfie with identity: %s", up.ImageURL)

	checked, err := b.wait(ctx, agent.ID, flipkyc.UntilStatus(flipkyc.StatusUploadIdentitySelfieSuccess, flipkyc.StatusUploadIdentitySelfieFailed))
	if err != nil {
		return "", fmt.Errorf("wait for the upload check: %w", err)
	}
	step(5, "upload check: %s", checked)
	if checked != flipkyc.StatusUploadIdentitySelfieSuccess {
		return checked, fmt.Errorf("the images were refused (%s): send supporting documents", checked)
	}

	sub, err := c.SubmitKYC(ctx, agent.ID)
	if err != nil {
		return "", fmt.Errorf("submit: %w", err)
	}
	step(6, "submitted: %s", sub.Message)

	final, err := b.wait(ctx, agent.ID, flipkyc.UntilFinal)
	if err != nil {
		return "", fmt.Errorf("wait for the decision: %w", err)
	}
	step(7, "decision: %s", final)
	fmt.Fprintf(out, "final KYC status: %s\n", final)
	return final, nil
}

// wait returns the agent's status once until holds: from the callbacks when
// there are any, else by polling.
func (b *backend) wait(ctx context.Context, agentID int64, until func(*flipkyc.Agent) bool) (flipkyc.KYCStatus, error) {
	if b.events == nil {
		a, err := b.client.WaitForAgent(ctx, agentID, until)
		if err != nil {
			return "", err
		}
		return a.KYCStatus, nil
	}
	for {
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case ev := <-b.events:
			if ev.AgentID == agentID && until(&flipkyc.Agent{ID: ev.AgentID, KYCStatus: ev.KYCStatus}) {
				return ev.KYCStatus, nil
			}
		}
	}
}

// connect picks the back end: Flip when FLIP_SECRET_KEY is set, else the fake.
func connect(getenv func(string) string, out io.Writer) (*backend, error) {
	if getenv(flipkyc.EnvSecretKey) != "" {
		agentsURL, kycURL := getenv(flipkyc.EnvAPIBaseURL), getenv(flipkyc.EnvKYCBaseURL)
		opts := []flipkyc.Option{}
		if agentsURL != "" || kycURL != "" {
			if agentsURL == "" || kycURL == "" {
				return nil, errors.New("set both FLIP_API_BASE_URL and FLIP_KYC_BASE_URL, or neither")
			}
			opts = append(opts, flipkyc.WithBaseURLs(agentsURL, kycURL))
		}
		c, err := flipkyc.New(getenv(flipkyc.EnvSecretKey), opts...)
		if err != nil {
			return nil, err
		}
		fmt.Fprintln(out, "running against Flip at", agentsURLOrDefault(agentsURL))
		return &backend{client: c, close: func() {}}, nil
	}
	return startFake(out)
}

// startFake starts a callback receiver on loopback and the fake Flip
// sending its callbacks there.
func startFake(out io.Writer) (*backend, error) {
	const token = "onboard-example-token"
	events := make(chan flipkyc.Event, 16)
	receiver, err := flipkyc.NewCallbackHandler(token, func(ctx context.Context, ev flipkyc.Event) error {
		select {
		case events <- ev: // a real receiver stores the event here
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: receiver, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	fake := flipkyctest.NewServer(nil, flipkyctest.WithCallbacks("http://"+ln.Addr().String()+"/flip/kyc", token))
	c, err := fake.NewClient()
	if err != nil {
		fake.Close()
		_ = srv.Close()
		return nil, err
	}
	fmt.Fprintln(out, "running against the built-in fake Flip at", fake.URL, "(set FLIP_SECRET_KEY to use Flip's sandbox)")
	return &backend{client: c, events: events, close: func() {
		fake.Close()
		_ = srv.Close()
	}}, nil
}

// lookUpLocations walks the location look-ups down to one district, taking
// Jawa Barat / Kota Depok where Flip offers them and the first entry
// otherwise.
func lookUpLocations(ctx context.Context, c *flipkyc.Client) (country, province, city, district flipkyc.Location, err error) {
	pick := func(what string, list []flipkyc.Location, err error, prefer string) (flipkyc.Location, error) {
		if err != nil {
			return flipkyc.Location{}, fmt.Errorf("list %s: %w", what, err)
		}
		if len(list) == 0 {
			return flipkyc.Location{}, fmt.Errorf("list %s: none", what)
		}
		for _, l := range list {
			if l.Name == prefer {
				return l, nil
			}
		}
		return list[0], nil
	}
	countries, err := c.ListCountries(ctx)
	if country, err = pick("countries", countries, err, "Indonesia"); err != nil {
		return
	}
	provinces, err := c.ListProvinces(ctx, country.ID)
	if province, err = pick("provinces", provinces, err, "Jawa Barat"); err != nil {
		return
	}
	cities, err := c.ListCities(ctx, province.ID)
	if city, err = pick("cities", cities, err, "Kota Depok"); err != nil {
		return
	}
	districts, err := c.ListDistricts(ctx, city.ID)
	district, err = pick("districts", districts, err, "Sukmajaya")
	return
}

// newAgent returns an agent with a fresh identity number and phone number.
func newAgent(country, province, city, district int64) (flipkyc.AgentParams, error) {
	nik, err := digits(14)
	if err != nil {
		return flipkyc.AgentParams{}, err
	}
	phone, err := digits(10)
	if err != nil {
		return flipkyc.AgentParams{}, err
	}
	return flipkyc.AgentParams{
		Name:           "Siti Rahayu",
		IdentityType:   flipkyc.IdentityKTP,
		IdentityNumber: "32" + nik,
		BirthDate:      flipkyc.NewDate(1992, time.March, 14),
		BirthPlace:     "Kota Depok",
		CountryID:      country, ProvinceID: province, CityID: city, DistrictID: district,
		Address:            "Jalan Margonda Raya No. 100",
		Gender:             flipkyc.GenderFemale,
		Occupation:         flipkyc.OccupationEntrepreneur,
		PhoneNumber:        "08" + phone,
		UseIdentityAddress: flipkyc.Ptr(true),
	}, nil
}

// digits returns n random decimal digits.
func digits(n int) (string, error) {
	b := make([]byte, n)
	for i := range b {
		d, err := rand.Int(rand.Reader, big.NewInt(10))
		if err != nil {
			return "", err
		}
		b[i] = byte('0' + d.Int64())
	}
	return string(b), nil
}

func agentsURLOrDefault(u string) string {
	if u == "" {
		return "Flip's sandbox"
	}
	return u
}
