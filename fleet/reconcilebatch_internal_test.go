package fleet

import (
	"testing"
	"time"
)

// The reconciler reads late agents at the pace of the rate: by default
// half the requests the rate allows between two of its rounds, from 50 to
// 5,000 agents a round; a batch given is kept.
func TestReconcileBatchFollowsTheRate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want int
	}{
		{Config{}, 50}, // 5 requests/s, every 15 s: 37, at least 50
		{Config{Rate: 100}, 750},
		{Config{Rate: 100, ReconcileEvery: time.Minute}, 3000},
		{Config{Rate: 1e6}, 5000},
		{Config{Rate: 100, ReconcileBatch: 20}, 20},
	} {
		tc.cfg.setDefaults()
		if tc.cfg.ReconcileBatch != tc.want {
			t.Errorf("rate %g, every %v: batch %d, want %d", tc.cfg.Rate, tc.cfg.ReconcileEvery, tc.cfg.ReconcileBatch, tc.want)
		}
	}
}
