package fleet_test

import (
	"context"
	"net/http"
	"path/filepath"
	"sync"
	"testing"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/fleet"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// A submission whose reply is lost does not hold the run up: one Flip never
// applied is sent again with its Request-ID, one it applied is confirmed by
// reading; every agent is approved after exactly one review.
func TestLostSubmissionRepliesFinish(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		fault  func(*flipkyctest.Server)
		writes int // submissions the fake receives for the faulted agent
	}{
		{"503 before Flip applied it", func(s *flipkyctest.Server) { s.FailNext(flipkyctest.RouteSubmit, 1, http.StatusServiceUnavailable) }, 2},
		{"applied, then the reply lost", func(s *flipkyctest.Server) {
			s.FailNextAfterApplying(flipkyctest.RouteSubmit, 1, http.StatusGatewayTimeout)
		}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			csv := writeRun(t, dir, 3, nil)
			var mu sync.Mutex
			reviews := map[int64]int{}
			h := newHarness(t, filepath.Join(dir, "run.db"), flipkyctest.WithReviewer(func(a flipkyc.Agent, n int) flipkyctest.Decision {
				mu.Lock()
				reviews[a.ID]++
				mu.Unlock()
				return flipkyctest.DefaultReviewer(a, n)
			}))
			tc.fault(h.fake)
			importCSV(t, h.f, csv)
			h.run(h.f)
			sum, err := h.db.Summarize(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if sum.Counts[fleet.StateApproved] != 3 || len(sum.Attention) != 0 {
				t.Fatalf("summary %+v", sum)
			}
			mu.Lock()
			for id, n := range reviews {
				if n != 1 {
					t.Errorf("agent %d: %d reviews, want 1", id, n)
				}
			}
			mu.Unlock()
			byPath := map[string][]string{}
			for _, r := range h.fake.RequestsTo(flipkyctest.RouteSubmit) {
				byPath[r.Path] = append(byPath[r.Path], r.Header.Get("Request-ID"))
			}
			faulted := 0
			for path, ids := range byPath {
				for _, id := range ids {
					if id != ids[0] {
						t.Errorf("%s: submissions with Request-IDs %v, want one", path, ids)
					}
				}
				if len(ids) == tc.writes && tc.writes > 1 {
					faulted++
				}
			}
			if tc.writes > 1 && faulted != 1 {
				t.Errorf("submissions per agent %v: want one agent's sent %d times", byPath, tc.writes)
			}
			checkFake(t, h.fake, records(t, h.db))
			// The SDK settled the submission within its call: no job of the
			// run failed and waited for River's retry.
			var failed int
			if err := h.db.SQL().QueryRow("SELECT COUNT(*) FROM river_job WHERE attempt > 1 OR errors IS NOT NULL AND errors != '[]' AND errors != 'null'").Scan(&failed); err != nil {
				t.Fatal(err)
			}
			if failed != 0 {
				t.Errorf("%d jobs failed an attempt", failed)
			}
		})
	}
}
