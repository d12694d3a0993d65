package fleet

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// A process whose clock is off stamps agents on the database's clock: the
// times the run compares (a callback's lateness, the age of a read) do not
// depend on which process stamped them.
func TestStampsOnTheDatabasesClock(t *testing.T) {
	for _, skew := range []time.Duration{30 * time.Second, -30 * time.Second} {
		t.Run(skew.String(), func(t *testing.T) {
			db, err := Open(context.Background(), filepath.Join(t.TempDir(), "run.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			f, err := New(Config{DB: db, Clock: func() time.Time { return time.Now().Add(skew) }})
			if err != nil {
				t.Fatal(err)
			}
			if off := time.Duration(f.nowMillis()-time.Now().UnixMilli()) * time.Millisecond; off < -time.Second || off > time.Second {
				t.Errorf("stamps %v off the database's clock, want within 1s", off)
			}
		})
	}
}
