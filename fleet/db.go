package fleet

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for Postgres
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// DB is a run's durable state: River's job tables and the fleet's own
// (agents, callback events, the shared rate limit, live processes), in one
// SQLite file or one Postgres database.
type DB struct {
	sql      *sql.DB
	postgres bool
	// rebound maps a query to its Postgres form (rebind), for about
	// rebindCacheSize queries (reboundCount; goroutines storing at the
	// bound at once may each add one).
	rebound      sync.Map
	reboundCount atomic.Int64
	driver       riverdriver.Driver[*sql.Tx]
	dsn          string
	// notices are what Open changed that the user should know (Notices).
	notices []string
	// Statements are prepared once per connection: on SQLite by the
	// connection itself (sqliteConnector), by pgx on Postgres.
	// key is the run's data key; nil when opened without one (counts and
	// callbacks need none).
	key *DataKey
	// lock is the SQLite file opened for the one-process lock (claim),
	// closed only after the database.
	lock *os.File
	// listen is the Postgres pool of River's LISTEN connection.
	listen *pgxpool.Pool
	// reading: opened ForReading, nothing of a run at schema version 1 or
	// later is changed.
	reading bool
	// group shares SQLite transactions between steps (inTx).
	group commitGroup
}

// OpenOption configures Open.
type OpenOption func(*DB)

// WithDataKey gives Open the run's data key, without which the personal
// fields cannot be sealed or read (Import, Run, Repair, identity numbers
// in Records, Forget by identity number). A run converted from an earlier
// schema needs it to be opened at all.
func WithDataKey(k *DataKey) OpenOption { return func(d *DB) { d.key = k } }

// ForReading makes Open leave a run of an earlier schema version as it is,
// for a command that only reads it (status): its tables are not upgraded,
// River's are not migrated and no check value is stored; what only a
// later version keeps (the journal) cannot be read from it. A run made before the schema
// had a version, with personal data in clear, is still converted, which
// needs the data key: leaving it in clear is the worse choice.
func ForReading() OpenOption { return func(d *DB) { d.reading = true } }

// IsPostgres reports whether dsn names a Postgres database rather than a
// SQLite file: a postgres:// or postgresql:// URL, the scheme in any case.
func IsPostgres(dsn string) bool {
	lower := strings.ToLower(dsn)
	return strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://")
}

// lowerScheme returns a Postgres URL with its scheme in lower case, as pgx
// reads it; other DSNs as they are.
func lowerScheme(dsn string) string {
	if !IsPostgres(dsn) {
		return dsn
	}
	i := strings.Index(dsn, "://")
	return strings.ToLower(dsn[:i]) + dsn[i:]
}

// sqliteHeader starts every SQLite database file.
const sqliteHeader = "SQLite format 3\x00"

// IsSQLiteFile reports whether path is an existing SQLite database file, by
// its first bytes.
func IsSQLiteFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, len(sqliteHeader))
	_, err = io.ReadFull(f, head)
	return err == nil && string(head) == sqliteHeader
}

// Open opens (and creates or migrates) the database dsn: a Postgres URL
// (postgres://…) or the path of a SQLite file, created when missing.
func Open(ctx context.Context, dsn string, opts ...OpenOption) (*DB, error) {
	dsn = lowerScheme(dsn)
	d := &DB{dsn: dsn, postgres: IsPostgres(dsn)}
	for _, o := range opts {
		o(d)
	}
	var err error
	if d.postgres {
		if d.sql, err = sql.Open("pgx", dsn); err != nil {
			return nil, err
		}
		// Idle connections are kept, not closed and opened again (each a
		// new Postgres backend) as the workers come and go.
		d.sql.SetMaxOpenConns(20)
		d.sql.SetMaxIdleConns(20)
		// River fetches as soon as a job is inserted (LISTEN/NOTIFY) on a
		// connection of its own, taken from this pool (lazily: a process
		// that never starts River never connects it); the jobs' work stays
		// on database/sql, so steps keep their *sql.Tx.
		pc, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			d.sql.Close()
			return nil, err
		}
		pc.MinConns, pc.MaxConns = 0, 1
		if d.listen, err = pgxpool.NewWithConfig(ctx, pc); err != nil {
			d.sql.Close()
			return nil, err
		}
		d.driver = riverdatabasesql.NewWithPgxListener(d.sql, d.listen)
	} else {
		// WAL lets callbacks, status and onboarding read and write the
		// same file; synchronous=NORMAL in WAL mode loses nothing when a
		// process is killed (only on power loss may the last commits go).
		// The WAL is copied back into the file every 4,000 pages (16 MB;
		// SQLite's default is 1,000): a run rewrites the same few pages
		// (its agents', its jobs' and their indexes) commit after commit,
		// and a checkpoint copies each once, however often it changed.
		q := url.Values{"_pragma": {"busy_timeout(20000)", "journal_mode(WAL)", "synchronous(NORMAL)", "foreign_keys(on)", "wal_autocheckpoint(4000)"}}
		if d.reading {
			// A run's file keeps the journal mode it was made with (WAL
			// is recorded in the file): setting it would be a write.
			q["_pragma"] = slices.DeleteFunc(q["_pragma"], func(p string) bool { return p == "journal_mode(WAL)" })
		}
		// Erased personal data is overwritten in the file, not only freed.
		q.Add("_pragma", "secure_delete(on)")
		if !d.reading {
			// A transaction takes the write lock as it begins (BEGIN
			// IMMEDIATE), waiting (busy_timeout) for another process's:
			// one that read first and wrote later would fail at its write
			// (SQLITE_BUSY, which no wait cures) once another process had
			// written meanwhile. A shared transaction (commitGroup) has
			// members that write only after others read.
			q.Set("_txlock", "immediate")
		}
		// So may several processes on one SQLite file (Open takes turns
		// for its whole: River's migration checks for its tables and then
		// creates them, outside any transaction), and one reading it
		// (OpenRun) must not find it half made.
		unlock, err := migrationTurn(ctx, dsn)
		if err != nil {
			return nil, err
		}
		defer unlock()
		if err := notAnotherProgramsDatabase(ctx, dsn); err != nil {
			return nil, err
		}
		if d.notices, err = ownerOnly(dsn); err != nil {
			return nil, err
		}
		uri, err := sqliteURI(dsn, q)
		if err != nil {
			return nil, err
		}
		d.sql = sql.OpenDB(sqliteConnector{uri})
		d.sql.SetMaxOpenConns(1) // SQLite writes one at a time; River's advice
		d.driver = riversqlite.New(d.sql)
	}
	if err := d.migrate(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("preparing the database: %w", err)
	}
	return d, nil
}

// sqliteURI is the SQLite URI of the file at path with the query q. The
// path is escaped, so that a '#', '?', '%' or space in it names that file
// and does not end the path or start the query.
func sqliteURI(path string, q url.Values) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}).String(), nil
}

// companions are the suffixes of the files SQLite and the run keep beside
// a run's database.
var companions = []string{"", "-wal", "-shm", "-journal", ".lock"}

// ownerOnly creates the SQLite file at path readable and writable by its
// owner only, whatever the umask (SQLite creates the -wal and -shm files
// with the mode of the database), and takes group and other permissions
// away from an existing database and its companions. It returns one
// notice when it had to.
func ownerOnly(path string) ([]string, error) {
	// An existing file is a run's database only if it is a regular file
	// that is empty (a run about to start) or SQLite's: anything else (an
	// image, a CSV, a device) is left as it is.
	if st, err := os.Stat(path); err == nil {
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("%s is not a regular file: give the path of a run's SQLite database", filepath.Base(path))
		}
		if st.Size() > 0 && !IsSQLiteFile(path) {
			return nil, fmt.Errorf("%s is not a SQLite database: give the path of a run's database, or of a new file", filepath.Base(path))
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var fixed []string
	for _, suffix := range companions {
		name := path + suffix
		st, err := os.Stat(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !st.Mode().IsRegular() || st.Mode().Perm()&0o077 == 0 {
			continue
		}
		if err := os.Chmod(name, 0o600); err != nil {
			return nil, err
		}
		fixed = append(fixed, fmt.Sprintf("%s%s was %v", filepath.Base(path), suffix, st.Mode().Perm()))
	}
	if len(fixed) == 0 {
		return nil, nil
	}
	return []string{fmt.Sprintf("the run's database could be read by other users (%s): made readable by its owner only", strings.Join(fixed, ", "))}, nil
}

// Notices returns what Open changed that the user should be told, such as
// the permissions of a run's database it made the owner's only.
func (d *DB) Notices() []string { return d.notices }

// ErrNotARun is matched by OpenRun's error for a database that holds no
// run.
var ErrNotARun = errors.New("fleet: not a run's database")

// OpenRun opens an existing run's database dsn to read it, and writes
// nothing to it: it is neither created nor migrated, and a SQLite file is
// first looked at read-only. A file or database without a run is
// ErrNotARun.
func OpenRun(ctx context.Context, dsn string) (*DB, error) {
	dsn = lowerScheme(dsn)
	d := &DB{dsn: dsn, postgres: IsPostgres(dsn)}
	if d.postgres {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, err
		}
		d.sql, d.driver = db, riverdatabasesql.New(db)
		if err := d.checkRun(ctx, "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'fleet_agents'"); err != nil {
			return nil, err
		}
		return d, nil
	}
	if _, err := os.Stat(dsn); err != nil {
		return nil, err
	}
	// A run another process is making is read once it is made.
	unlock, err := migrationTurn(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer unlock()
	open := func(q url.Values) error {
		uri, err := sqliteURI(dsn, q)
		if err != nil {
			return err
		}
		db := sql.OpenDB(sqliteConnector{uri})
		db.SetMaxOpenConns(1)
		d.sql, d.driver = db, riversqlite.New(db)
		return nil
	}
	// Read-only first: a file that is not a run is never written. A run is
	// then opened as its processes open it (without migrating), so that
	// closing it leaves no -wal or -shm file behind.
	if err := open(readOnly()); err != nil {
		return nil, err
	}
	if err := d.checkRun(ctx, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'fleet_agents'"); err != nil {
		return nil, err
	}
	d.sql.Close()
	if err := open(url.Values{"_pragma": {"busy_timeout(20000)"}}); err != nil {
		return nil, err
	}
	return d, nil
}

// readOnly is the URI query that opens a SQLite file only to look at it:
// read-only, waiting out a moment's lock (a process closing the run holds
// it for its checkpoint).
func readOnly() url.Values {
	return url.Values{"mode": {"ro"}, "_pragma": {"busy_timeout(20000)"}}
}

// ErrAnotherProgramsDatabase is matched by Open's error for a SQLite file
// that holds tables and no run: another program's database, which Open
// does not write to.
var ErrAnotherProgramsDatabase = errors.New("fleet: the SQLite database holds another program's tables, not a run's")

// notAnotherProgramsDatabase refuses an existing SQLite file that holds
// tables but none of a run's (fleet_agents, or River's, of a run whose
// making stopped), looked at read-only; a new file, an empty one or one
// without tables may become a run.
func notAnotherProgramsDatabase(ctx context.Context, path string) error {
	if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() || st.Size() == 0 || !IsSQLiteFile(path) {
		return nil // ownerOnly refuses what is not a SQLite file
	}
	uri, err := sqliteURI(path, readOnly())
	if err != nil {
		return err
	}
	db := sql.OpenDB(sqliteConnector{uri})
	defer db.Close()
	var tables, runs int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*), COUNT(*) FILTER (WHERE name = 'fleet_agents' OR name GLOB 'river_*') FROM sqlite_master WHERE type = 'table' AND name NOT GLOB 'sqlite_*'").Scan(&tables, &runs); err != nil {
		return fmt.Errorf("reading %s: %w", filepath.Base(path), err)
	}
	if tables > 0 && runs == 0 {
		return fmt.Errorf("%w (%s): give the path of a run's database, or of a new file", ErrAnotherProgramsDatabase, filepath.Base(path))
	}
	return nil
}

// checkRun runs q, which counts the run's agents tables, and closes the
// database unless it found one.
func (d *DB) checkRun(ctx context.Context, q string) error {
	var n int
	err := d.sql.QueryRowContext(ctx, q).Scan(&n)
	if err == nil && n > 0 {
		return nil
	}
	d.sql.Close()
	if err == nil || strings.Contains(err.Error(), "not a database") {
		return ErrNotARun
	}
	return err
}

// Close closes the database.
func (d *DB) Close() error {
	err := d.sql.Close()
	if d.listen != nil {
		d.listen.Close()
	}
	if d.lock != nil {
		d.lock.Close()
	}
	return err
}

// SQL returns the database handle, for reading the fleet's tables.
func (d *DB) SQL() *sql.DB { return d.sql }

func (d *DB) migrate(ctx context.Context) error {
	if d.reading {
		switch version, err := d.schemaVersion(ctx); {
		case err != nil:
			return err
		case version > schemaVersion:
			return newerSchema(version)
		case version >= 1:
			return d.checkKey(ctx)
		}
	}
	if d.postgres {
		// Several machines may start at once: migrate one at a time.
		conn, err := d.sql.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(727113)"); err != nil {
			return err
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(727113)") //nolint:errcheck
	}
	m, err := rivermigrate.New(d.driver, nil)
	if err != nil {
		return err
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return err
	}
	if err := d.migrateFleet(ctx); err != nil {
		return err
	}
	_, err = d.exec(ctx, d.sql, "INSERT INTO fleet_rate (id, next_at) VALUES (1, 0) ON CONFLICT (id) DO NOTHING")
	return err
}

// schema is the fleet's own tables at schemaVersion, in SQL both SQLite
// and Postgres run. Times are Unix milliseconds. An agent's key is the
// keyed hash of its identity number (DataKey.agentKey); row and repair
// hold its CSV row and its pending correction sealed with the data key,
// and are empty once erased; personal_fields says which kinds of personal
// data row holds (PersonalField bits).
var schema = []string{
	`CREATE TABLE IF NOT EXISTS fleet_agents (
		key TEXT PRIMARY KEY,
		line INTEGER NOT NULL,
		row TEXT NOT NULL,
		state TEXT NOT NULL,
		agent_id BIGINT,
		kyc_status TEXT NOT NULL DEFAULT '',
		rejection_code INTEGER NOT NULL DEFAULT 0,
		create_request_id TEXT NOT NULL DEFAULT '',
		step_request_id TEXT NOT NULL DEFAULT '',
		identity_uploaded INTEGER NOT NULL DEFAULT 0,
		selfie_uploaded INTEGER NOT NULL DEFAULT 0,
		repair TEXT NOT NULL DEFAULT '',
		attention TEXT NOT NULL DEFAULT '',
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL,
		polled_at BIGINT NOT NULL DEFAULT 0,
		personal_fields INTEGER NOT NULL DEFAULT 0,
		erased_at BIGINT NOT NULL DEFAULT 0,
		lease_job BIGINT,
		lease_attempt INTEGER,
		parked_from TEXT NOT NULL DEFAULT ''
	)`,
	`CREATE UNIQUE INDEX IF NOT EXISTS fleet_agents_agent_id ON fleet_agents (agent_id)`,
	`CREATE INDEX IF NOT EXISTS fleet_agents_state ON fleet_agents (state, updated_at)`,
	`CREATE TABLE IF NOT EXISTS fleet_events (
		key TEXT PRIMARY KEY,
		agent_id BIGINT NOT NULL,
		kyc_status TEXT NOT NULL,
		rejection_code INTEGER NOT NULL DEFAULT 0,
		raw_sha256 TEXT NOT NULL,
		applied INTEGER NOT NULL DEFAULT 0,
		received_at BIGINT NOT NULL
	)`,
	`CREATE TABLE IF NOT EXISTS fleet_rate (id INTEGER PRIMARY KEY, next_at BIGINT NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS fleet_processes (id TEXT PRIMARY KEY, heartbeat_at BIGINT NOT NULL, job_timeout_ms BIGINT NOT NULL DEFAULT 0)`,
}

// tablesV1 are the tables added by schema version 1: the versions applied,
// the key check value, the erasures done, the exports written, and Flip's
// location lists.
var tablesV1 = []string{
	// Flip's location lists (Locations): kind is country, province, city
	// or district, parent_id the id of the place they are in (0 for
	// countries). fleet_location_lists marks each list kept whole, once
	// per parent, so that an empty list is not asked for again.
	`CREATE TABLE IF NOT EXISTS fleet_locations (
		kind TEXT NOT NULL,
		parent_id BIGINT NOT NULL,
		id BIGINT NOT NULL,
		name TEXT NOT NULL,
		PRIMARY KEY (kind, parent_id, id)
	)`,
	`CREATE TABLE IF NOT EXISTS fleet_location_lists (
		kind TEXT NOT NULL,
		parent_id BIGINT NOT NULL,
		fetched_at BIGINT NOT NULL,
		PRIMARY KEY (kind, parent_id)
	)`,
	`CREATE TABLE IF NOT EXISTS fleet_schema (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS fleet_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS fleet_erasures (
		agent_key TEXT PRIMARY KEY,
		line INTEGER NOT NULL,
		agent_id BIGINT,
		state TEXT NOT NULL,
		fields TEXT NOT NULL,
		reason TEXT NOT NULL,
		erased_at BIGINT NOT NULL
	)`,
	`CREATE TABLE IF NOT EXISTS fleet_exports (
		path TEXT NOT NULL,
		written_at BIGINT NOT NULL,
		agents INTEGER NOT NULL,
		revealed INTEGER NOT NULL,
		PRIMARY KEY (path, written_at)
	)`,
}

// querier is *sql.DB or *sql.Tx.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// rebind turns the ? placeholders into Postgres's $n. The fleet's
// queries are a fixed set, each run many times: about the first
// rebindCacheSize rebound are kept (DB.rebound), so a query is rewritten
// once, not at every statement.
func (d *DB) rebind(q string) string {
	if !d.postgres {
		return q
	}
	if r, ok := d.rebound.Load(q); ok {
		return r.(string)
	}
	b := make([]byte, 0, len(q)+16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b = strconv.AppendInt(append(b, '$'), int64(n), 10)
			continue
		}
		b = append(b, q[i])
	}
	r := string(b)
	if d.reboundCount.Load() < rebindCacheSize {
		if _, loaded := d.rebound.LoadOrStore(q, r); !loaded {
			d.reboundCount.Add(1)
		}
	}
	return r
}

// rebindCacheSize bounds DB.rebound: queries built with a varying number
// of placeholders (a console filter's) could otherwise grow it.
const rebindCacheSize = 1024

func (d *DB) exec(ctx context.Context, q querier, query string, args ...any) (int64, error) {
	res, err := q.ExecContext(ctx, d.rebind(query), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (d *DB) queryRow(ctx context.Context, q querier, query string, args ...any) *sql.Row {
	return q.QueryRowContext(ctx, d.rebind(query), args...)
}

func (d *DB) query(ctx context.Context, q querier, query string, args ...any) (*sql.Rows, error) {
	return q.QueryContext(ctx, d.rebind(query), args...)
}

// nowMillis is this process's clock in Unix milliseconds, for what no
// other process compares (the location cache); agents are stamped with
// Fleet.nowMillis.
func nowMillis() int64 { return time.Now().UnixMilli() }

// nowSQL is the database's clock in Unix milliseconds, as SQL: the time
// processes of a run compare, never their own clocks.
func (d *DB) nowSQL() string {
	if d.postgres {
		return "(extract(epoch from clock_timestamp()) * 1000)::bigint"
	}
	return "CAST(unixepoch('subsec') * 1000 AS INTEGER)"
}

// inTx runs f in a transaction and commits it: on SQLite in a savepoint of
// a transaction it may share with other steps (commitGroup), committed
// before inTx returns.
func (d *DB) inTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	if !d.postgres {
		return d.group.run(ctx, d.sql, f)
	}
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		// A panic in f rolls the transaction back before it goes on,
		// and its connection goes back to the pool.
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

var errNotFound = errors.New("fleet: no such agent in this run")

// HasIdentity reports whether the run has an agent with the identity
// number, and the CSV line it came from.
// The run keys agents by a keyed hash of the number, so this needs the
// run's data key (ErrNoDataKey without it).
func (d *DB) HasIdentity(ctx context.Context, number string) (line int, found bool, err error) {
	if d.key == nil {
		return 0, false, ErrNoDataKey
	}
	err = d.queryRow(ctx, d.sql, "SELECT line FROM fleet_agents WHERE key = ?", d.key.agentKey(number)).Scan(&line)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return line, err == nil, err
}

// InRun checks rows against the run, as Import would. A row whose identity
// number the run already has (HasIdentity) is noted: onboard would resume
// that agent and not use the row; so is its phone number when the agent
// is parked with the way out repair (onboard would take the changed row
// as its correction) and the number changed to one another agent of the
// run has, or a correction queued for another agent (TakeChanges would
// not take it). A row of a new agent whose phone number an agent of the
// run, or a queued correction, has is refused: Import would not take it,
// as Flip registers a phone number once.
func (d *DB) InRun(ctx context.Context, rows []Row) (refused, noted []RowError, err error) {
	if d.key == nil {
		return nil, nil, ErrNoDataKey
	}
	// The numbers of corrections queued for agents count as theirs.
	queued, err := d.queuedPhones(ctx)
	if err != nil {
		return nil, nil, err
	}
	var fresh []Row
	for _, r := range rows {
		key := d.key.agentKey(r.Params.IdentityNumber)
		var line int
		var phoneKey, state, from, reason, rid string
		var agentID sql.NullInt64
		err := d.queryRow(ctx, d.sql, "SELECT line, phone_key, state, parked_from, attention, create_request_id, agent_id FROM fleet_agents WHERE key = ?", key).
			Scan(&line, &phoneKey, &state, &from, &reason, &rid, &agentID)
		if errors.Is(err, sql.ErrNoRows) {
			fresh = append(fresh, r)
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		noted = append(noted, RowError{r.Line, "identity_number", fmt.Sprintf("already in the run, from line %d of its CSV: onboard resumes that agent and does not use this row, unless the agent is parked at its uploads and the row changed (its correction)", line)})
		// A changed row is taken as a correction only for an agent parked
		// with the way out repair (TakeChanges), and not with a number
		// another agent has.
		pk := d.key.phoneKey(r.Params.PhoneNumber)
		if phoneKey == "" || pk == phoneKey || state != StateAttention || wayOut(from, rid, agentID.Int64, reason) != WayOutRepair {
			continue
		}
		taken, err := d.phoneOfAnother(ctx, queued, r.Line, key, r.Params.PhoneNumber)
		if err != nil {
			return nil, nil, err
		}
		if taken.Rule != "" {
			taken.Rule = "changed, but " + taken.Rule + ": onboard does not take it as a correction"
			noted = append(noted, taken)
		}
	}
	if len(fresh) == 0 {
		return nil, noted, nil
	}
	taken, err := d.phonesTaken(ctx, d.sql, queued, fresh)
	if err != nil {
		return nil, nil, err
	}
	for i, h := range taken {
		if h.line != 0 {
			refused = append(refused, RowError{fresh[i].Line, "phone_number", h.rule()})
		}
	}
	return refused, noted, nil
}

// RunExists reports whether dsn holds a run: a SQLite file with the
// fleet's tables, or a Postgres database with them. A SQLite file that
// exists and holds no run (an empty file, another program's database, not
// a database at all) is ErrNotARun. It creates and changes nothing.
func RunExists(ctx context.Context, dsn string) (bool, error) {
	if !IsPostgres(dsn) {
		_, err := os.Stat(dsn)
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		d, err := OpenRun(ctx, dsn)
		if err != nil {
			return false, err
		}
		return true, d.Close()
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return false, err
	}
	defer db.Close()
	var exists bool
	err = db.QueryRowContext(ctx, "SELECT to_regclass('fleet_agents') IS NOT NULL").Scan(&exists)
	return exists, err
}
