package flipkyc_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// dispatcher hands each agent's callbacks to the worker waiting for them.
type dispatcher struct {
	mu    sync.Mutex
	chans map[int64]chan flipkyc.Event
}

func (d *dispatcher) ch(id int64) chan flipkyc.Event {
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.chans[id]
	if !ok {
		c = make(chan flipkyc.Event, 4)
		d.chans[id] = c
	}
	return c
}

// BenchmarkBulkOnboarding takes b.N agents through the whole flow (create,
// identity image, selfie, upload callback, submit, decision callback)
// against flipkyctest, with a bounded number of concurrent workers, and
// reports agents per second.
func BenchmarkBulkOnboarding(b *testing.B) {
	photo, err := os.ReadFile("examples/onboard/ktp.jpg")
	if err != nil {
		b.Fatal(err)
	}
	for _, workers := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			d := &dispatcher{chans: map[int64]chan flipkyc.Event{}}
			receiver, err := flipkyc.NewCallbackHandler("bench", func(ctx context.Context, ev flipkyc.Event) error {
				d.ch(ev.AgentID) <- ev
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			cb := httptest.NewServer(receiver)
			defer cb.Close()
			fake := flipkyctest.NewServer(b, flipkyctest.WithCallbacks(cb.URL, "bench"))
			client, err := fake.NewClient()
			if err != nil {
				b.Fatal(err)
			}
			var next atomic.Int64
			work := make(chan struct{})
			errs := make(chan error, workers)
			var wg sync.WaitGroup
			for range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range work {
						if err := onboardOne(client, d, photo, next.Add(1)); err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				select {
				case work <- struct{}{}:
				case err := <-errs:
					b.Fatal(err)
				}
			}
			close(work)
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "agents/s")
			select {
			case err := <-errs:
				b.Fatal(err)
			default:
			}
		})
	}
}

// onboardOne takes agent n through the flow and waits for its decision.
func onboardOne(c *flipkyc.Client, d *dispatcher, photo []byte, n int64) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := flipkyc.AgentParams{
		Name: "Bulk Agent", IdentityType: flipkyc.IdentityKTP, IdentityNumber: fmt.Sprintf("31%014d", n),
		BirthDate: flipkyc.NewDate(1990, time.January, 2), BirthPlace: "Kota Depok",
		CountryID: 1, ProvinceID: 12, CityID: 184, DistrictID: 1234,
		Address: "Jalan Margonda Raya 1", Gender: flipkyc.GenderMale,
		Occupation: flipkyc.OccupationOthers, PhoneNumber: fmt.Sprintf("08%010d", n),
	}
	a, err := c.CreateAgent(ctx, p)
	if err != nil {
		return err
	}
	events := d.ch(a.ID)
	wait := func() (flipkyc.KYCStatus, error) {
		select {
		case ev := <-events:
			return ev.KYCStatus, nil
		case <-ctx.Done():
			return "", fmt.Errorf("agent %d: %w", a.ID, ctx.Err())
		}
	}
	if _, err := c.UploadIdentityImage(ctx, a.ID, flipkyc.IdentityKTP, flipkyc.Image{Name: "ktp.jpg", Content: bytes.NewReader(photo)}); err != nil {
		return err
	}
	if _, err := c.UploadSelfieWithIdentity(ctx, a.ID, flipkyc.IdentityKTP, flipkyc.Image{Name: "selfie.jpg", Content: bytes.NewReader(photo)}); err != nil {
		return err
	}
	if st, err := wait(); err != nil || st != flipkyc.StatusUploadIdentitySelfieSuccess {
		return fmt.Errorf("agent %d: upload check %s: %v", a.ID, st, err)
	}
	if _, err := c.SubmitKYC(ctx, a.ID); err != nil {
		return err
	}
	if st, err := wait(); err != nil || !st.IsFinal() {
		return fmt.Errorf("agent %d: decision %s: %v", a.ID, st, err)
	}
	return nil
}
