package fleet

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
)

// schemaVersion is the version of the fleet's tables this code reads and
// writes, recorded in fleet_schema. Version 0 is the schema before it had
// a version: identity numbers as agent keys and in job arguments, rows
// and callbacks in clear. Version 2 added the journal (fleet_journal) and
// the indexes of the agent list (Fleet.Agents); version 3 the keyed hash
// of each agent's phone number (fleet_agents.phone_key).
const schemaVersion = 3

// ErrConversionNeedsKey is returned by Open for a run made before the
// schema had a version (personal data in clear) when no data key was
// given: the key is needed to convert it.
var ErrConversionNeedsKey = errors.New("fleet: this run was made by an earlier flipkyc, which kept personal data in clear: open it once with a data key (--key-file or " + EnvDataKey + ") to convert it")

// agentJobKinds are the job kinds whose arguments name an agent by key.
var agentJobKinds = []any{"fleet_create", "fleet_upload", "fleet_submit", "fleet_repair", "fleet_poll"}

// migrateFleet creates the fleet's tables, or converts those of an earlier
// version in place in one transaction, and checks the data key against
// the run's check value.
func (d *DB) migrateFleet(ctx context.Context) error {
	version, err := d.schemaVersion(ctx)
	if err != nil {
		return err
	}
	switch {
	case version > schemaVersion:
		return newerSchema(version)
	case version < 0:
		err = d.inTx(ctx, func(tx *sql.Tx) error {
			if err := d.versionStill(ctx, tx, version); err != nil {
				return err
			}
			for _, stmt := range append(append(append(append([]string{}, schema...), tablesV1...), d.tablesV2()...), tablesV3...) {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("%w (in %.60s)", err, stmt)
				}
			}
			return d.setVersion(ctx, tx, schemaVersion)
		})
	case version == 0:
		if d.key == nil {
			return ErrConversionNeedsKey
		}
		if err = d.inTx(ctx, func(tx *sql.Tx) error {
			if err := d.versionStill(ctx, tx, version); err != nil {
				return err
			}
			if err := d.convertV0(ctx, tx); err != nil {
				return err
			}
			if err := d.convertV1(ctx, tx); err != nil {
				return err
			}
			if err := d.convertV2(ctx, tx); err != nil {
				return err
			}
			// The rows are now sealed with this key: the run records
			// it with them, also when opened ForReading.
			return d.storeKeyCheck(ctx, tx)
		}); err == nil {
			d.scrub(ctx)
		}
	case version == 1:
		err = d.inTx(ctx, func(tx *sql.Tx) error {
			if err := d.versionStill(ctx, tx, version); err != nil {
				return err
			}
			if err := d.convertV1(ctx, tx); err != nil {
				return err
			}
			return d.convertV2(ctx, tx)
		})
	case version == 2:
		err = d.inTx(ctx, func(tx *sql.Tx) error {
			if err := d.versionStill(ctx, tx, version); err != nil {
				return err
			}
			return d.convertV2(ctx, tx)
		})
	}
	if errors.Is(err, errVersionMoved) {
		// Another process converted the run between the read and the
		// transaction (on SQLite; on Postgres an advisory lock keeps
		// them apart): start again from its version.
		return d.migrateFleet(ctx)
	}
	if err != nil {
		return err
	}
	if err := d.checkKey(ctx); err != nil {
		return err
	}
	if d.key == nil || d.reading {
		return nil // the phone numbers' keys wait for a process that may store them
	}
	return d.fillPhoneKeys(ctx)
}

// errVersionMoved: the run's schema version is no longer the one read
// before the conversion's transaction.
var errVersionMoved = errors.New("fleet: the run's schema version changed meanwhile")

// versionStill returns errVersionMoved unless the run's schema version,
// read in tx, is still version.
func (d *DB) versionStill(ctx context.Context, tx *sql.Tx, version int) error {
	now, err := d.schemaVersionIn(ctx, tx)
	if err == nil && now != version {
		err = errVersionMoved
	}
	return err
}

// newerSchema is the error for a run whose schema is version, newer than
// this code knows.
func newerSchema(version int) error {
	return fmt.Errorf("the run's schema is version %d, made by a newer flipkyc (this one knows up to %d)", version, schemaVersion)
}

// schemaVersion is the version of the run's fleet tables: -1 when there
// are none yet, 0 for the schema without a version.
func (d *DB) schemaVersion(ctx context.Context) (int, error) {
	return d.schemaVersionIn(ctx, d.sql)
}

// schemaVersionIn is schemaVersion read on q.
func (d *DB) schemaVersionIn(ctx context.Context, q querier) (int, error) {
	if ok, err := d.tableExists(ctx, q, "fleet_schema"); err != nil || ok {
		var v int
		if err == nil {
			err = q.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM fleet_schema").Scan(&v)
		}
		return v, err
	}
	ok, err := d.tableExists(ctx, q, "fleet_agents")
	if err != nil || !ok {
		return -1, err
	}
	return 0, nil
}

func (d *DB) tableExists(ctx context.Context, q querier, name string) (bool, error) {
	query := "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
	if d.postgres {
		query = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?"
	}
	var n int
	err := q.QueryRowContext(ctx, d.rebind(query), name).Scan(&n)
	return n > 0, err
}

func (d *DB) setVersion(ctx context.Context, tx *sql.Tx, v int) error {
	_, err := tx.ExecContext(ctx, d.rebind("INSERT INTO fleet_schema (version, applied_at) VALUES (?, ?)"), v, nowMillis())
	return err
}

// checkKey stores the data key's check value in a run that has none
// (unless opened ForReading), and refuses a key whose check value is not
// the run's.
func (d *DB) checkKey(ctx context.Context) error {
	if d.key == nil {
		return nil
	}
	if !d.reading {
		if err := d.storeKeyCheck(ctx, d.sql); err != nil {
			return err
		}
	}
	var check string
	err := d.sql.QueryRowContext(ctx, "SELECT value FROM fleet_meta WHERE name = 'key_check'").Scan(&check)
	if errors.Is(err, sql.ErrNoRows) && d.reading {
		return nil // a run that never stored one: nothing to check against
	}
	if err != nil {
		return err
	}
	if !d.key.matches(check) {
		return ErrWrongDataKey
	}
	return nil
}

// storeKeyCheck stores the data key's check value in a run that has none.
func (d *DB) storeKeyCheck(ctx context.Context, q querier) error {
	_, err := d.exec(ctx, q, "INSERT INTO fleet_meta (name, value) VALUES ('key_check', ?) ON CONFLICT (name) DO NOTHING", d.key.check)
	return err
}

// convertV0 converts a run of schema version 0 in tx: each agent is named
// by the keyed hash of its identity number (in fleet_agents and in every
// job's arguments), its row and pending correction are sealed, and the
// callbacks keep a hash of their raw data instead of the data.
func (d *DB) convertV0(ctx context.Context, tx *sql.Tx) error {
	exec := func(q string, args ...any) error {
		_, err := tx.ExecContext(ctx, d.rebind(q), args...)
		return err
	}
	for _, stmt := range tablesV1 {
		if err := exec(stmt); err != nil {
			return err
		}
	}
	for _, stmt := range []string{
		"ALTER TABLE fleet_agents ADD COLUMN personal_fields INTEGER NOT NULL DEFAULT 0",
		"ALTER TABLE fleet_agents ADD COLUMN erased_at BIGINT NOT NULL DEFAULT 0",
		"ALTER TABLE fleet_events ADD COLUMN raw_sha256 TEXT NOT NULL DEFAULT ''",
		// The lease that fences a step's writes, and where a parked agent
		// was (see process.go).
		"ALTER TABLE fleet_agents ADD COLUMN lease_job BIGINT",
		"ALTER TABLE fleet_agents ADD COLUMN lease_attempt INTEGER",
		"ALTER TABLE fleet_agents ADD COLUMN parked_from TEXT NOT NULL DEFAULT ''",
		"ALTER TABLE fleet_processes ADD COLUMN job_timeout_ms BIGINT NOT NULL DEFAULT 0",
	} {
		if err := exec(stmt); err != nil {
			return err
		}
	}
	type old struct {
		key, row, repair string
		line             int
	}
	var agents []old
	if err := collect(ctx, tx, "SELECT key, row, repair, line FROM fleet_agents", func(s scanner) error {
		var a old
		agents = append(agents, a)
		p := &agents[len(agents)-1]
		return s.Scan(&p.key, &p.row, &p.repair, &p.line)
	}); err != nil {
		return err
	}
	for _, a := range agents {
		var r Row
		if err := json.Unmarshal([]byte(a.row), &r); err != nil {
			return fmt.Errorf("the stored row of line %d: %w", a.line, err)
		}
		key := d.key.agentKey(a.key)
		// The phone numbers' keys are stored once version 3 has their
		// column (fillPhoneKeys).
		s, err := d.key.sealRow(key, r)
		if err != nil {
			return err
		}
		repair := ""
		if a.repair != "" {
			repair = d.key.seal(key, []byte(a.repair))
		}
		if err := exec("UPDATE fleet_agents SET key = ?, row = ?, repair = ?, personal_fields = ? WHERE key = ?", key, s.row, repair, s.fields, a.key); err != nil {
			return err
		}
	}
	if err := d.rekeyJobs(ctx, tx, func(k string) string { return d.key.agentKey(k) }); err != nil {
		return err
	}
	type event struct{ key, raw string }
	var events []event
	if err := collect(ctx, tx, "SELECT key, raw FROM fleet_events", func(s scanner) error {
		var e event
		err := s.Scan(&e.key, &e.raw)
		events = append(events, e)
		return err
	}); err != nil {
		return err
	}
	for _, e := range events {
		if err := exec("UPDATE fleet_events SET raw_sha256 = ? WHERE key = ?", rawHash(e.raw), e.key); err != nil {
			return err
		}
	}
	if err := exec("ALTER TABLE fleet_events DROP COLUMN raw"); err != nil {
		return err
	}
	return d.setVersion(ctx, tx, 1)
}

// tablesV2 are the table and indexes added by schema version 2: the
// journal of what the run did and saw for each agent (agent_key names the
// agent as fleet_agents.key does; at is Unix ms; id orders the entries of
// one millisecond), and the indexes that keep the agent list's pages
// (Fleet.Agents: by line, after a filter) fast at any depth.
func (d *DB) tablesV2() []string {
	id := "id INTEGER PRIMARY KEY" // SQLite's rowid: ascending
	if d.postgres {
		id = "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
	}
	return []string{
		`CREATE TABLE IF NOT EXISTS fleet_journal (
		` + id + `,
		agent_key TEXT NOT NULL,
		at BIGINT NOT NULL,
		kind TEXT NOT NULL,
		operation TEXT NOT NULL,
		request_id TEXT NOT NULL DEFAULT '',
		result TEXT NOT NULL DEFAULT '',
		actor TEXT NOT NULL DEFAULT ''
	)`,
		`CREATE INDEX IF NOT EXISTS fleet_journal_agent ON fleet_journal (agent_key, id)`,
		`CREATE INDEX IF NOT EXISTS fleet_agents_line ON fleet_agents (line)`,
		`CREATE INDEX IF NOT EXISTS fleet_agents_state_line ON fleet_agents (state, line)`,
		`CREATE INDEX IF NOT EXISTS fleet_agents_kyc_status_line ON fleet_agents (kyc_status, line)`,
		`CREATE INDEX IF NOT EXISTS fleet_agents_code_line ON fleet_agents (rejection_code, line)`,
	}
}

// convertV1 converts a run of schema version 1 to version 2 in tx: the
// journal starts empty (what the run did before it is not known).
func (d *DB) convertV1(ctx context.Context, tx *sql.Tx) error {
	for _, stmt := range d.tablesV2() {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%w (in %.60s)", err, stmt)
		}
	}
	return d.setVersion(ctx, tx, 2)
}

// tablesV3 are the column and indexes added by schema version 3: the
// keyed hash of each agent's phone number (DataKey.phoneKey; "" once
// erased, or until a process with the data key stores it: fillPhoneKeys),
// and the agents with a correction stored (queuedPhones).
var tablesV3 = []string{
	`ALTER TABLE fleet_agents ADD COLUMN phone_key TEXT NOT NULL DEFAULT ''`,
	`CREATE INDEX IF NOT EXISTS fleet_agents_phone_key ON fleet_agents (phone_key)`,
	`CREATE INDEX IF NOT EXISTS fleet_agents_repair ON fleet_agents (key) WHERE repair <> ''`,
}

// convertV2 converts a run of schema version 2 to version 3 in tx. The
// keys of its agents' phone numbers are stored after (fillPhoneKeys).
func (d *DB) convertV2(ctx context.Context, tx *sql.Tx) error {
	for _, stmt := range tablesV3 {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%w (in %.60s)", err, stmt)
		}
	}
	return d.setVersion(ctx, tx, 3)
}

// rawHash is what a run keeps of a callback's raw data: the SHA-256 of its
// fields without their free text (agent_name, rejected_reason). A hash
// over the name would confirm a guessed one: the other fields are stored
// beside it or easily guessed. Raw data that is not a JSON object is not
// hashed ("").
func rawHash(raw string) string {
	var fields map[string]json.RawMessage
	if json.Unmarshal([]byte(raw), &fields) != nil || fields == nil {
		return ""
	}
	delete(fields, "agent_name")
	delete(fields, "rejected_reason")
	b, err := json.Marshal(fields) // keys sorted: the same fields, the same bytes
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// rekeyJobs renames the agents in the arguments of every job that names
// one (waiting, running or finished), by rename.
func (d *DB) rekeyJobs(ctx context.Context, tx *sql.Tx, rename func(string) string) error {
	read, write := "SELECT id, json(args) FROM river_job WHERE kind IN (?, ?, ?, ?, ?)", "UPDATE river_job SET args = jsonb(?) WHERE id = ?"
	if d.postgres {
		read, write = "SELECT id, args::text FROM river_job WHERE kind IN (?, ?, ?, ?, ?)", "UPDATE river_job SET args = ?::jsonb WHERE id = ?"
	}
	type job struct {
		id   int64
		args string
	}
	var jobs []job
	if err := collect(ctx, tx, d.rebind(read), func(s scanner) error {
		var j job
		err := s.Scan(&j.id, &j.args)
		jobs = append(jobs, j)
		return err
	}, agentJobKinds...); err != nil {
		return err
	}
	for _, j := range jobs {
		var args map[string]any
		if err := json.Unmarshal([]byte(j.args), &args); err != nil {
			return fmt.Errorf("the arguments of job %d: %w", j.id, err)
		}
		k, ok := args["Key"].(string)
		if !ok {
			continue
		}
		args["Key"] = rename(k)
		b, err := json.Marshal(args)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, d.rebind(write), string(b), j.id); err != nil {
			return err
		}
	}
	return nil
}

// scanner is *sql.Rows.
type scanner interface{ Scan(...any) error }

// collect runs a query on q and calls each for every row, reading them
// all before the caller writes.
func collect(ctx context.Context, q querier, query string, each func(scanner) error, args ...any) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// collectString returns a collect function that appends each row's one
// text column to list.
func collectString(list *[]string) func(scanner) error {
	return func(s scanner) error {
		var v string
		err := s.Scan(&v)
		*list = append(*list, v)
		return err
	}
}

// scrub removes what a change left of the old values from the database's
// files: on SQLite, VACUUM rewrites the file and the write-ahead log is
// emptied; on Postgres, VACUUM marks the old row versions free (their bytes
// stay in the data files until overwritten, as with any Postgres update).
// It is best effort: a failure leaves the change done.
func (d *DB) scrub(ctx context.Context) {
	if d.postgres {
		_, _ = d.sql.ExecContext(ctx, "VACUUM fleet_agents, fleet_events, river_job")
		return
	}
	_, _ = d.sql.ExecContext(ctx, "VACUUM")
	_, _ = d.sql.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
}
