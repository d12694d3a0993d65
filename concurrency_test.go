package flipkyc_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/flipkyctest"
	"github.com/stretchr/testify/require"
)

// TestOneClientManyGoroutines uses one Client from 100 goroutines across all
// its methods, against the fake; run under -race it shows the client has no
// data races.
func TestOneClientManyGoroutines(t *testing.T) {
	photo, err := os.ReadFile("examples/onboard/ktp.jpg")
	require.NoError(t, err)
	// Every agent is rejected with code 10 at its first review, so the
	// repair path runs too.
	fake := flipkyctest.NewServer(t, flipkyctest.WithReviewer(func(a flipkyc.Agent, review int) flipkyctest.Decision {
		if review == 1 {
			return flipkyctest.Decision{Code: 10}
		}
		return flipkyctest.Decision{}
	}))
	c, err := fake.NewClient(flipkyc.WithRetryPolicy(flipkyc.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}))
	require.NoError(t, err)
	img := func() flipkyc.Image { return flipkyc.Image{Name: "p.jpg", Content: bytes.NewReader(photo)} }
	// waitFor polls the fake, which settles decisions in the background.
	waitFor := func(ctx context.Context, id int64, want flipkyc.KYCStatus) error {
		for {
			a, err := c.GetAgent(ctx, id)
			if err != nil {
				return err
			}
			if a.KYCStatus == want {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("agent %d stuck in %s: %w", id, a.KYCStatus, ctx.Err())
			case <-time.After(2 * time.Millisecond):
			}
		}
	}
	flow := func(n int) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := c.ListCountries(ctx); err != nil {
			return err
		}
		if _, err := c.ListProvinces(ctx, 1); err != nil {
			return err
		}
		if _, err := c.ListCities(ctx, 12); err != nil {
			return err
		}
		if _, err := c.ListDistricts(ctx, 184); err != nil {
			return err
		}
		p := flipkyc.AgentParams{
			Name: "Agent Nomor", IdentityType: flipkyc.IdentityKTP, IdentityNumber: fmt.Sprintf("33%014d", n),
			BirthDate: flipkyc.NewDate(1990, time.January, 2), BirthPlace: "Depok",
			CountryID: 1, ProvinceID: 12, CityID: 184, DistrictID: 1234, Address: "Jalan Raya Bogor 1",
			Gender: flipkyc.GenderMale, Occupation: flipkyc.OccupationOthers, PhoneNumber: fmt.Sprintf("08%010d", n),
		}
		a, err := c.CreateAgent(ctx, p)
		if err != nil {
			return err
		}
		p.Name = "Agent Nomor Dua"
		if _, err := c.UpdateAgent(ctx, a.ID, p); err != nil {
			return err
		}
		if _, err := c.UploadIdentityImage(ctx, a.ID, flipkyc.IdentityKTP, img()); err != nil {
			return err
		}
		if _, err := c.UploadSelfieWithIdentity(ctx, a.ID, flipkyc.IdentityKTP, img()); err != nil {
			return err
		}
		if err := waitFor(ctx, a.ID, flipkyc.StatusUploadIdentitySelfieSuccess); err != nil {
			return err
		}
		if _, err := c.SubmitKYC(ctx, a.ID); err != nil {
			return err
		}
		if err := waitFor(ctx, a.ID, flipkyc.StatusRejected); err != nil {
			return err
		}
		switch n % 4 {
		case 0:
			_, err = c.RepairData(ctx, a.ID, flipkyc.RepairDataParams{Name: "Agent Nomor Tiga"})
		case 1:
			// Code 10 asks for data: the photo repairs are refused, typed.
			if _, err = c.RepairIdentityImage(ctx, a.ID, img()); err == nil {
				return fmt.Errorf("repair photo accepted for code 10")
			}
			_, err = c.RepairData(ctx, a.ID, flipkyc.RepairDataParams{BirthPlace: "Bogor"})
		case 2:
			if _, err = c.RepairSelfieWithIdentity(ctx, a.ID, img()); err == nil {
				return fmt.Errorf("repair selfie accepted for code 10")
			}
			_, err = c.RepairData(ctx, a.ID, flipkyc.RepairDataParams{Gender: flipkyc.GenderFemale})
		default:
			_, err = c.UploadDocuments(ctx, a.ID, []flipkyc.Document{{Type: flipkyc.DocumentFamilyCard, Image: img()}})
		}
		if err != nil {
			return err
		}
		_, err = c.WaitForAgent(ctx, a.ID, flipkyc.UntilFinal)
		return err
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for n := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := flow(n); err != nil {
				errs <- fmt.Errorf("goroutine %d: %w", n, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	require.Len(t, fake.RequestsTo(flipkyctest.RouteCreateAgent), 100)
}
