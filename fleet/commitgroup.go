package fleet

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// A SQLite run writes through one connection, and each commit writes every
// page its transaction changed to the write-ahead log: the agent's row,
// the journal's last page, River's job and their indexes, about 11 pages.
// commitGroup lets the steps that wait for the connection at the same time
// share one transaction and one commit, which writes a page they share
// once.

// maxGroupMembers bounds the steps of one commit group, so that River's
// own statements, which wait for the connection outside it, are not held
// off for long.
const maxGroupMembers = 16

// commitGroup runs a SQLite database's transactions (DB.inTx) as members of
// a shared one. Members take turns: each runs in a savepoint of its own,
// rolled back alone when it fails or panics, and the member that ends its
// turn with no other waiting (or the group full) commits; every member
// returns only after that commit, with its error. A commit that fails, or
// a shared transaction that ended under a member (SQLite rolls back a
// transaction that fails to write), fails every member of the group: none
// of their changes are in the database, as when a process stops before its
// commit.
type commitGroup struct {
	turn    sync.Mutex // held by the member using the shared transaction
	mu      sync.Mutex // guards waiting
	waiting int        // members waiting for their turn
	open    *sharedTx  // the shared transaction, nil when none; read and written by the turn's holder
}

// sharedTx is one shared transaction and its outcome.
type sharedTx struct {
	tx      *sql.Tx
	members int
	broken  error         // why the transaction cannot commit; nil while it can
	done    chan struct{} // closed once err is set
	err     error         // the outcome of the commit
}

// errPanicked is the error of a member whose function panicked, for its
// savepoint's rollback.
var errPanicked = errors.New("fleet: a step panicked in its transaction")

// run runs f as a member of the shared transaction of db, opened when there
// is none, and returns f's error or the commit's.
func (g *commitGroup) run(ctx context.Context, db *sql.DB, f func(tx *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	g.mu.Lock()
	g.waiting++
	g.mu.Unlock()
	g.turn.Lock()
	g.mu.Lock()
	g.waiting--
	g.mu.Unlock()
	s := g.open
	if s == nil {
		// The shared transaction outlives any one member's context:
		// database/sql rolls a transaction back when the context it was
		// begun with is done.
		tx, err := db.BeginTx(context.WithoutCancel(ctx), nil)
		if err != nil {
			g.turn.Unlock()
			return err
		}
		s = &sharedTx{tx: tx, done: make(chan struct{})}
		g.open = s
	}
	s.members++
	if _, err := s.tx.Exec("SAVEPOINT fleet_member"); err != nil {
		s.fail(err)
		g.leave(s)
		<-s.done
		return s.err
	}
	var ferr error
	func() {
		defer func() {
			if p := recover(); p != nil {
				// The savepoint is rolled back and the turn passed on
				// before the panic goes on: the other members need the
				// connection, as do River's recovery and the deferred
				// calls above (a job's lease release).
				g.end(s, errPanicked)
				g.leave(s)
				panic(p)
			}
		}()
		ferr = f(s.tx)
	}()
	g.end(s, ferr)
	g.leave(s)
	<-s.done
	if ferr != nil {
		return ferr
	}
	return s.err
}

// end ends a member's savepoint: rolled back when its function failed,
// released (kept in the shared transaction) otherwise.
func (g *commitGroup) end(s *sharedTx, ferr error) {
	if ferr != nil {
		if _, err := s.tx.Exec("ROLLBACK TO fleet_member"); err != nil {
			s.fail(err)
		}
	}
	if _, err := s.tx.Exec("RELEASE fleet_member"); err != nil {
		s.fail(err)
	}
}

// leave ends a member's turn: the shared transaction is committed (or, when
// broken, rolled back) when no member waits for it, it is full or broken;
// then the turn goes to the next member.
func (g *commitGroup) leave(s *sharedTx) {
	g.mu.Lock()
	last := g.waiting == 0 || s.members >= maxGroupMembers || s.broken != nil
	g.mu.Unlock()
	if last {
		g.open = nil
		if s.broken != nil {
			_ = s.tx.Rollback()
			s.err = s.broken
		} else {
			s.err = s.tx.Commit()
		}
		close(s.done)
	}
	g.turn.Unlock()
}

// fail marks the shared transaction as not to be committed, for err: a
// savepoint could not be made, rolled back or released, so SQLite may have
// ended the transaction, and what its members wrote cannot be told apart.
func (s *sharedTx) fail(err error) {
	if s.broken == nil {
		s.broken = fmt.Errorf("fleet: the transaction this step shared with others failed: %w", err)
	}
}
