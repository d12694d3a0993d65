package fleet

import (
	"context"
	"sync"
	"testing"

	"github.com/flipkyc/flipkyc/internal/pgtest"
)

// A Postgres run keeps the connections its workers opened: none is closed
// for being idle and opened again (each a new Postgres backend) when the
// workers come back.
func TestPostgresKeepsIdleConnections(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, err := Open(ctx, pgtest.Database(t, "fleet"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for range 3 {
		var wg sync.WaitGroup
		ready := make(chan struct{})
		for range 10 {
			wg.Go(func() {
				<-ready
				if _, err := d.sql.ExecContext(ctx, "SELECT pg_sleep(0.05)"); err != nil {
					t.Error(err)
				}
			})
		}
		close(ready)
		wg.Wait()
	}
	if s := d.sql.Stats(); s.MaxIdleClosed > 0 {
		t.Errorf("%d connections closed for being idle (of %d opened), want none", s.MaxIdleClosed, s.OpenConnections)
	}
}
