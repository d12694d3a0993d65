package fleet_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc/fleet"
)

// BenchmarkOnboard reports agents/s for a whole run (create, two uploads,
// check callback, submit, decision callback) against the in-process fake,
// with no rate limit to speak of, and the memory the run allocated.
//
//	go test -run '^$' -bench Onboard -benchtime 1x ./fleet
func BenchmarkOnboard(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		for _, n := range []int{1000, 10000} {
			b.Run(fmt.Sprintf("%s/%d", db, n), func(b *testing.B) {
				for range b.N {
					dir := b.TempDir()
					dsn := runDSN(b, db, dir)
					csv := writeRun(b, dir, n, nil)
					h := newHarnessConfig(b, dsn, fleet.Config{Workers: 32, Rate: 1e6, StaleAfter: time.Minute})
					rows := readRows(b, csv)
					var before runtime.MemStats
					runtime.ReadMemStats(&before)
					start := time.Now()
					if _, _, err := h.f.Import(context.Background(), rows); err != nil {
						b.Fatal(err)
					}
					if err := h.f.Run(context.Background(), nil); err != nil {
						b.Fatal(err)
					}
					elapsed := time.Since(start)
					var after runtime.MemStats
					runtime.ReadMemStats(&after)
					c, _ := h.db.Counts(context.Background())
					if c[fleet.StateApproved] != n {
						b.Fatalf("counts %v", c)
					}
					b.ReportMetric(float64(n)/elapsed.Seconds(), "agents/s")
					b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(n), "B/agent")
					b.ReportMetric(float64(after.HeapInuse)/(1<<20), "heapMiB")
				}
			})
		}
	}
}
