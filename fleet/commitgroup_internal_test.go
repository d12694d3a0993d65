package fleet

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"modernc.org/sqlite"
)

// groupTestDB is a new run's SQLite database with a table t (n INTEGER).
func groupTestDB(t *testing.T) *DB {
	t.Helper()
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "run.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.sql.ExecContext(ctx, "CREATE TABLE t (n INTEGER)"); err != nil {
		t.Fatal(err)
	}
	return d
}

// stored is the values of t, in order.
func stored(t *testing.T, d *DB) []int {
	t.Helper()
	rows, err := d.sql.Query("SELECT n FROM t ORDER BY n")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []int
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		got = append(got, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// untilWaiting returns once n members wait for the group's turn, or fails
// the test after a minute.
func untilWaiting(t *testing.T, g *commitGroup, n int) {
	deadline := time.Now().Add(time.Minute)
	for {
		g.mu.Lock()
		w := g.waiting
		g.mu.Unlock()
		if w >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%d steps wait for their turn after a minute, want %d", w, n)
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func insert(tx *sql.Tx, n int) error {
	_, err := tx.Exec("INSERT INTO t (n) VALUES (?)", n)
	return err
}

// commitCount counts the commits of d's one SQLite connection, from now.
func commitCount(t *testing.T, d *DB) *atomic.Int64 {
	t.Helper()
	var n atomic.Int64
	conn, err := d.sql.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(*cachingConn).conn.(interface {
			RegisterCommitHook(sqlite.CommitHookFn)
		})
		if !ok {
			return errors.New("the SQLite connection has no commit hook")
		}
		c.RegisterCommitHook(func() int32 { n.Add(1); return 0 })
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return &n
}

// Steps that wait for the connection together share one transaction and
// one commit; each runs in a savepoint of its own, so a step that fails or
// panics leaves nothing, and the others' work is committed; each returns
// its own outcome only once the commit is done.
func TestStepsWaitingTogetherShareOneCommit(t *testing.T) {
	d := groupTestDB(t)
	commits := commitCount(t, d)
	ctx := context.Background()
	errRefused := errors.New("refused")
	steps := []func(tx *sql.Tx) error{
		func(tx *sql.Tx) error { return insert(tx, 2) },
		func(tx *sql.Tx) error {
			if err := insert(tx, 3); err != nil {
				return err
			}
			return errRefused
		},
		func(tx *sql.Tx) error {
			if err := insert(tx, 4); err != nil {
				return err
			}
			panic("a step's bug")
		},
		func(tx *sql.Tx) error { return insert(tx, 5) },
	}
	results := make([]any, len(steps)+1)
	var wg sync.WaitGroup
	started := make(chan struct{})
	wg.Go(func() {
		// The first step holds the turn until every other waits for it.
		results[0] = d.inTx(ctx, func(tx *sql.Tx) error {
			close(started)
			untilWaiting(t, &d.group, len(steps))
			return insert(tx, 1)
		})
	})
	<-started
	for i, step := range steps {
		wg.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					results[i+1] = fmt.Sprint("panic: ", p)
				}
			}()
			results[i+1] = d.inTx(ctx, step)
		})
	}
	wg.Wait()
	want := []any{nil, nil, errRefused, "panic: a step's bug", nil}
	for i, r := range results {
		if err, ok := r.(error); ok && errors.Is(err, errRefused) {
			r = errRefused
		}
		if r != want[i] {
			t.Errorf("step %d returned %v, want %v", i+1, r, want[i])
		}
	}
	if got := stored(t, d); !slices.Equal(got, []int{1, 2, 5}) {
		t.Errorf("stored %v, want [1 2 5]: the failed and the panicked step's rows rolled back alone", got)
	}
	if n := commits.Load(); n != 1 {
		t.Errorf("%d commits, want 1 for the 5 steps", n)
	}
}

// A step whose context ends after it wrote is refused its next statement,
// and its savepoint is rolled back; the steps it shared its transaction
// with are committed.
func TestCancelledStepLeavesItsGroupCommitted(t *testing.T) {
	d := groupTestDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var cancelled, other error
	started := make(chan struct{})
	wg.Go(func() {
		cancelled = d.inTx(ctx, func(tx *sql.Tx) error {
			close(started)
			if err := insert(tx, 1); err != nil {
				return err
			}
			untilWaiting(t, &d.group, 1)
			cancel()
			_, err := tx.ExecContext(ctx, "INSERT INTO t (n) VALUES (?)", 2)
			return err
		})
	})
	<-started
	wg.Go(func() { other = d.inTx(context.Background(), func(tx *sql.Tx) error { return insert(tx, 3) }) })
	wg.Wait()
	if !errors.Is(cancelled, context.Canceled) {
		t.Errorf("the cancelled step returned %v, want context.Canceled", cancelled)
	}
	if other != nil {
		t.Errorf("the other step returned %v", other)
	}
	if got := stored(t, d); !slices.Equal(got, []int{3}) {
		t.Errorf("stored %v, want [3]", got)
	}
}

// A write whose context ends while it runs is not interrupted, run as it
// is or from a prepared statement: SQLite would roll back the whole
// transaction, with the work of the steps that share it, which had
// returned from their turn already.
func TestWriteRunsToItsEndInASharedTransaction(t *testing.T) {
	const slowInsert = `INSERT INTO t (n) WITH RECURSIVE c(x) AS
		(SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50000) SELECT x FROM c`
	for _, prepared := range []bool{false, true} {
		t.Run(fmt.Sprintf("prepared %v", prepared), func(t *testing.T) {
			d := groupTestDB(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var wg sync.WaitGroup
			var first, slow error
			started := make(chan struct{})
			wg.Go(func() {
				first = d.inTx(context.Background(), func(tx *sql.Tx) error {
					close(started)
					untilWaiting(t, &d.group, 1)
					return insert(tx, -1)
				})
			})
			<-started
			wg.Go(func() {
				slow = d.inTx(ctx, func(tx *sql.Tx) error {
					run := func() error {
						_, err := tx.ExecContext(ctx, slowInsert)
						return err
					}
					if prepared {
						st, err := tx.PrepareContext(ctx, slowInsert)
						if err != nil {
							return err
						}
						defer st.Close()
						run = func() error {
							_, err := st.ExecContext(ctx)
							return err
						}
					}
					stop := time.AfterFunc(5*time.Millisecond, cancel)
					defer stop.Stop()
					return run()
				})
			})
			wg.Wait()
			if first != nil {
				t.Errorf("the first step returned %v, want its commit", first)
			}
			t.Logf("the slow step returned %v", slow)
			var n, lowest int
			if err := d.sql.QueryRow("SELECT COUNT(*), COALESCE(MIN(n), 0) FROM t").Scan(&n, &lowest); err != nil {
				t.Fatal(err)
			}
			if lowest != -1 {
				t.Errorf("the first step's row is gone (%d rows, lowest %d)", n, lowest)
			}
			if slow == nil && n != 50001 {
				t.Errorf("%d rows, want the slow step's 50,000 and the first step's", n)
			}
		})
	}
}

// When the shared transaction ends under a step (SQLite rolls back a
// transaction whose write fails: a full disk, an I/O error), every step of
// the group fails, those that had ended their turn too, and none of their
// work is in the database; the next step starts a new transaction.
func TestBrokenGroupFailsEveryMember(t *testing.T) {
	d := groupTestDB(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	var first, breaking error
	started := make(chan struct{})
	wg.Go(func() {
		first = d.inTx(ctx, func(tx *sql.Tx) error {
			close(started)
			untilWaiting(t, &d.group, 1)
			return insert(tx, 1)
		})
	})
	<-started
	wg.Go(func() {
		breaking = d.inTx(ctx, func(tx *sql.Tx) error {
			if err := insert(tx, 2); err != nil {
				return err
			}
			_, err := tx.Exec("ROLLBACK") // as SQLite does when a write fails
			return err
		})
	})
	wg.Wait()
	for name, err := range map[string]error{"first": first, "breaking": breaking} {
		if err == nil {
			t.Errorf("the %s step returned nil, want the group's failure", name)
		}
	}
	if got := stored(t, d); len(got) != 0 {
		t.Errorf("stored %v, want nothing", got)
	}
	if err := d.inTx(ctx, func(tx *sql.Tx) error { return insert(tx, 3) }); err != nil {
		t.Fatal(err)
	}
	if got := stored(t, d); !slices.Equal(got, []int{3}) {
		t.Errorf("stored %v, want [3]", got)
	}
}

// A shared transaction takes the write lock as it begins (BEGIN
// IMMEDIATE): another process's write waits for its commit. Begun
// deferred, a member writing after a read would fail (SQLITE_BUSY, which
// no wait cures) once the other process had written.
func TestSharedTransactionHoldsTheWriteLock(t *testing.T) {
	d := groupTestDB(t)
	uri, err := sqliteURI(d.dsn, url.Values{"_pragma": {"busy_timeout(20000)"}})
	if err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open("sqlite", uri) // as another process would
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	wrote := make(chan error, 1)
	err = d.inTx(context.Background(), func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRow("SELECT COUNT(*) FROM t").Scan(&n); err != nil {
			return err
		}
		go func() {
			_, err := other.Exec("INSERT INTO t (n) VALUES (100)")
			wrote <- err
		}()
		select {
		case err := <-wrote:
			return fmt.Errorf("another process wrote (%v) while the transaction was open", err)
		case <-time.After(time.Second): // it waits for the lock
		}
		return insert(tx, 1)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-wrote; err != nil {
		t.Fatalf("the other process's write, once the transaction committed: %v", err)
	}
	if got := stored(t, d); !slices.Equal(got, []int{1, 100}) {
		t.Errorf("stored %v, want [1 100]", got)
	}
}
