package fleet_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/fleet"
)

// BenchmarkLimitedByFlip runs the fleet against the in-process fake at a
// configured rate (Config.Rate, as --rate) with the command's settings
// (10 workers, 100 ms poll) and reports the request rate it achieved as a
// fraction of it ("of-rate"; the goal is at least 0.9). The rate is
// measured while there is work to send: from the first request's reply to
// the last create's, when agents still wait for their first step; after
// it, the run only finishes the agents under way.
//
//	go test -run '^$' -bench LimitedByFlip -benchtime 1x ./fleet
func BenchmarkLimitedByFlip(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		for _, rate := range []float64{20, 100, 500} {
			b.Run(fmt.Sprintf("%s/%g", db, rate), func(b *testing.B) {
				for range b.N {
					achieved, requests := limitedRun(b, db, rate)
					b.ReportMetric(achieved, "req/s")
					b.ReportMetric(achieved/rate, "of-rate")
					b.ReportMetric(float64(requests), "requests")
				}
			})
		}
	}
}

// limitedRun onboards enough agents to keep the fleet busy for about 10 s
// at rate and returns the request rate achieved (see BenchmarkLimitedByFlip)
// and the requests it counted.
func limitedRun(b *testing.B, db string, rate float64) (float64, int) {
	dir := b.TempDir()
	dsn := filepath.Join(dir, "run.db")
	if db == "postgres" {
		dsn = postgresDSN(b)
	}
	n := int(rate * 2.5) // about 4 requests per agent
	csv := writeRun(b, dir, n, nil)
	var mu sync.Mutex
	var first, lastCreate time.Time
	var at []time.Time
	hook := func(_ context.Context, a flipkyc.Attempt) {
		now := time.Now()
		mu.Lock()
		defer mu.Unlock()
		if first.IsZero() {
			first = now
		}
		if a.Operation == "CreateAgent" {
			lastCreate = now
		}
		at = append(at, now)
	}
	h := newHarnessConfig(b, dsn, fleet.Config{Workers: 10, Rate: rate, PollInterval: 100 * time.Millisecond,
		StaleAfter: time.Minute, ReconcileEvery: 30 * time.Second, ClientOptions: []flipkyc.Option{flipkyc.WithAttemptHook(hook)}})
	ctx := context.Background()
	if _, err := h.f.Import(ctx, readRows(b, csv)); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	run, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if err := h.f.Run(run, nil); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if c, _ := h.db.Counts(ctx); c[fleet.StateApproved] != n {
		b.Fatalf("counts %v", c)
	}
	mu.Lock()
	defer mu.Unlock()
	counted := 0
	for _, t := range at {
		if t.After(first) && !t.After(lastCreate) {
			counted++
		}
	}
	return float64(counted) / lastCreate.Sub(first).Seconds(), counted
}
