package fleet

import (
	"context"
	"database/sql/driver"
	"errors"

	"modernc.org/sqlite"
)

// A SQLite connection parses every query it is given anew, River's
// included (its completer, fetcher and inserts), which cost a third of a
// run's CPU. sqliteConnector's connections keep each query they ran
// prepared and run it again from there: the same statements, parsed once
// per connection.

// maxCachedStmts bounds the statements a connection keeps; queries met
// after it fills run as they are.
const maxCachedStmts = 256

// sqliteConnector opens SQLite connections to dsn that keep their
// statements prepared (cachingConn).
type sqliteConnector struct{ dsn string }

func (c sqliteConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.Driver().Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &cachingConn{conn: conn, stmts: map[string]*cachedStmt{}}, nil
}

func (sqliteConnector) Driver() driver.Driver { return &sqlite.Driver{} }

// sqliteConn is what a modernc.org/sqlite connection offers database/sql.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// cachingConn is a SQLite connection that runs each query from a statement
// it prepared the first time (at most maxCachedStmts); a statement whose
// rows are still open (a query run again while its first result is read)
// is not shared: the query then runs as it is. database/sql uses a
// connection from one goroutine at a time.
type cachingConn struct {
	conn  driver.Conn
	stmts map[string]*cachedStmt
	// inTx: a transaction is open. Its statements run to their end
	// whatever their context: SQLite answers a write interrupted (by
	// a context done) by rolling back the whole transaction, and a
	// shared one (commitGroup) holds other steps' work. database/sql
	// refuses a statement whose context is done before it starts.
	inTx bool
}

type cachedStmt struct {
	st   driver.Stmt
	busy bool // its rows are open
}

func (c *cachingConn) sqlite() (sqliteConn, error) {
	s, ok := c.conn.(sqliteConn)
	if !ok {
		return nil, errors.New("fleet: the SQLite driver's connection lacks a method database/sql needs")
	}
	return s, nil
}

// stmt returns the query's statement, prepared now if it is new, or nil
// when the query is to run as it is.
func (c *cachingConn) stmt(ctx context.Context, s sqliteConn, query string) *cachedStmt {
	if cs, ok := c.stmts[query]; ok {
		if cs.busy {
			return nil
		}
		return cs
	}
	if len(c.stmts) >= maxCachedStmts {
		return nil
	}
	st, err := s.PrepareContext(ctx, query)
	if err != nil {
		return nil // run as it is: its error says what is wrong
	}
	cs := &cachedStmt{st: st}
	c.stmts[query] = cs
	return cs
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s, err := c.sqlite()
	if err != nil {
		return nil, err
	}
	ctx = c.stmtContext(ctx)
	if cs := c.stmt(ctx, s, query); cs != nil {
		return cs.st.(driver.StmtExecContext).ExecContext(ctx, args)
	}
	return s.ExecContext(ctx, query, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s, err := c.sqlite()
	if err != nil {
		return nil, err
	}
	ctx = c.stmtContext(ctx)
	cs := c.stmt(ctx, s, query)
	if cs == nil {
		return s.QueryContext(ctx, query, args)
	}
	rows, err := cs.st.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	cs.busy = true
	return &cachedRows{Rows: rows, cs: cs}, nil
}

// stmtContext is the context a statement runs with: ctx, without its
// cancellation inside a transaction (inTx).
func (c *cachingConn) stmtContext(ctx context.Context) context.Context {
	if c.inTx {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// cachedRows frees its statement for the next query when closed.
type cachedRows struct {
	driver.Rows
	cs *cachedStmt
}

func (r *cachedRows) Close() error {
	r.cs.busy = false
	return r.Rows.Close()
}

func (c *cachingConn) Prepare(query string) (driver.Stmt, error) { return c.conn.Prepare(query) }

func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	s, err := c.sqlite()
	if err != nil {
		return nil, err
	}
	st, err := s.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &preparedStmt{Stmt: st, c: c}, nil
}

// preparedStmt is a statement prepared on a cachingConn: run inside a
// transaction, it runs to its end whatever its context (cachingConn.inTx).
type preparedStmt struct {
	driver.Stmt
	c *cachingConn
}

func (p *preparedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	ctx = p.c.stmtContext(ctx)
	return p.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (p *preparedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	ctx = p.c.stmtContext(ctx)
	return p.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}

func (c *cachingConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	s, err := c.sqlite()
	if err != nil {
		return nil, err
	}
	tx, err := s.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	c.inTx = true
	return &cachingTx{Tx: tx, c: c}, nil
}

// cachingTx is a transaction of a cachingConn, which it tells when it ends.
type cachingTx struct {
	driver.Tx
	c *cachingConn
}

func (t *cachingTx) Commit() error {
	t.c.inTx = false
	return t.Tx.Commit()
}

func (t *cachingTx) Rollback() error {
	t.c.inTx = false
	return t.Tx.Rollback()
}

func (c *cachingConn) Ping(ctx context.Context) error {
	s, err := c.sqlite()
	if err != nil {
		return err
	}
	return s.Ping(ctx)
}

func (c *cachingConn) ResetSession(ctx context.Context) error {
	s, err := c.sqlite()
	if err != nil {
		return err
	}
	return s.ResetSession(ctx)
}

func (c *cachingConn) IsValid() bool {
	s, err := c.sqlite()
	return err == nil && s.IsValid()
}

// Close finalizes the statements, then closes the connection.
func (c *cachingConn) Close() error {
	for q, cs := range c.stmts {
		cs.st.Close()
		delete(c.stmts, q)
	}
	return c.conn.Close()
}
