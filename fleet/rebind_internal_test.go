package fleet

import (
	"fmt"
	"testing"
)

func TestRebind(t *testing.T) {
	pg, lite := &DB{postgres: true}, &DB{}
	cases := []struct{ query, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT key FROM fleet_agents WHERE key = ?", "SELECT key FROM fleet_agents WHERE key = $1"},
		{"UPDATE t SET a = ?, b = ? WHERE c IN (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "UPDATE t SET a = $1, b = $2 WHERE c IN ($3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"},
		{"SELECT 'ä' || ?", "SELECT 'ä' || $1"},
	}
	for _, c := range cases {
		for range 2 { // rewritten, then from the cache
			if got := pg.rebind(c.query); got != c.want {
				t.Errorf("rebind(%q) = %q, want %q", c.query, got, c.want)
			}
		}
		if got := lite.rebind(c.query); got != c.query {
			t.Errorf("SQLite rebind(%q) = %q, want it unchanged", c.query, got)
		}
	}
}

// TestRebindCacheBounded: queries past the cache's size are still
// rewritten, and the cache does not grow past it.
func TestRebindCacheBounded(t *testing.T) {
	pg := &DB{postgres: true}
	for i := range rebindCacheSize + 10 {
		q := fmt.Sprintf("SELECT %d, ?", i)
		if got, want := pg.rebind(q), fmt.Sprintf("SELECT %d, $1", i); got != want {
			t.Fatalf("rebind(%q) = %q, want %q", q, got, want)
		}
	}
	if n := pg.reboundCount.Load(); n > rebindCacheSize {
		t.Errorf("%d queries cached, want at most %d", n, rebindCacheSize)
	}
	var stored int64
	pg.rebound.Range(func(any, any) bool { stored++; return true })
	if stored > rebindCacheSize {
		t.Errorf("%d queries stored, want at most %d", stored, rebindCacheSize)
	}
}

// BenchmarkRebind compares a query's rebinding from the cache with its
// rewriting (a DB whose cache is full), in the same run.
func BenchmarkRebind(b *testing.B) {
	q := "UPDATE fleet_agents SET state = ?, step_request_id = ?, identity_uploaded = 1, kyc_status = ?, repair = ?, updated_at = ? WHERE key = ? AND state = ? AND lease_job = ? AND lease_attempt = ?"
	cached, full := &DB{postgres: true}, &DB{postgres: true}
	full.reboundCount.Store(rebindCacheSize)
	for _, c := range []struct {
		name string
		d    *DB
	}{{"cached", cached}, {"rewritten", full}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.d.rebind(q)
			}
		})
	}
}
