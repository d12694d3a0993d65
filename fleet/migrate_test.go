package fleet_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/flipkyc/flipkyc/fleet"
)

// schemaV0 is the fleet's tables as today's main created them, before the
// schema had a version (for the Postgres conversion test; the SQLite one
// uses testdata/main-v0.fleet.db, made by that code).
var schemaV0 = []string{
	`CREATE TABLE fleet_agents (
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
		polled_at BIGINT NOT NULL DEFAULT 0
	)`,
	`CREATE UNIQUE INDEX fleet_agents_agent_id ON fleet_agents (agent_id)`,
	`CREATE INDEX fleet_agents_state ON fleet_agents (state, updated_at)`,
	`CREATE TABLE fleet_events (
		key TEXT PRIMARY KEY,
		agent_id BIGINT NOT NULL,
		kyc_status TEXT NOT NULL,
		rejection_code INTEGER NOT NULL DEFAULT 0,
		raw TEXT NOT NULL,
		applied INTEGER NOT NULL DEFAULT 0,
		received_at BIGINT NOT NULL
	)`,
	`CREATE TABLE fleet_rate (id INTEGER PRIMARY KEY, next_at BIGINT NOT NULL)`,
	`CREATE TABLE fleet_processes (id TEXT PRIMARY KEY, heartbeat_at BIGINT NOT NULL)`,
}

// fixtureV0 reads the tables of testdata/main-v0.fleet.db: each table's
// rows as column values, the jobs' arguments as JSON text.
func fixtureV0(t *testing.T, query string) [][]any {
	t.Helper()
	db, err := sql.Open("sqlite", "file:testdata/main-v0.fleet.db?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// postgresV0 makes a Postgres run as today's main left it: River's tables,
// the fleet's tables of schemaV0, and the rows and jobs of the SQLite
// fixture.
func postgresV0(t *testing.T, dsn string) {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m, err := rivermigrate.New(riverdatabasesql.New(db), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%v (in %.80s)", err, q)
		}
	}
	for _, stmt := range schemaV0 {
		exec(stmt)
	}
	for _, r := range fixtureV0(t, "SELECT key, line, row, state, agent_id, kyc_status, rejection_code, create_request_id, step_request_id, identity_uploaded, selfie_uploaded, repair, attention, created_at, updated_at, polled_at FROM fleet_agents") {
		exec(`INSERT INTO fleet_agents (key, line, row, state, agent_id, kyc_status, rejection_code, create_request_id, step_request_id, identity_uploaded, selfie_uploaded, repair, attention, created_at, updated_at, polled_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`, r...)
	}
	for _, r := range fixtureV0(t, "SELECT key, agent_id, kyc_status, rejection_code, raw, applied, received_at FROM fleet_events") {
		exec(`INSERT INTO fleet_events (key, agent_id, kyc_status, rejection_code, raw, applied, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`, r...)
	}
	for _, r := range fixtureV0(t, "SELECT json(args), kind, state, priority FROM river_job") {
		finalized := "NULL"
		if r[2] == "completed" {
			finalized = "now()"
		}
		exec(`INSERT INTO river_job (args, kind, state, priority, max_attempts, queue, scheduled_at, finalized_at)
			VALUES ($1::jsonb, $2, $3::river_job_state, $4, 12, 'default', now(), `+finalized+`)`, r...)
	}
}

// A run made by today's main (identity numbers as keys and in job
// arguments, rows and callbacks in clear) is converted in place when
// opened with a data key: nothing personal is left in the database, the
// records are the same, the same CSV finds its agents again, and the run
// goes on with the agents it had not started.
func TestMigrateV0(t *testing.T) {
	t.Parallel()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			dsn := filepath.Join(dir, "run.db")
			if db == "postgres" {
				dsn = postgresDSN(t)
				postgresV0(t, dsn)
			} else {
				copyFixture(t, "main-v0.fleet.db", dsn)
			}
			// The same agents as the fixture's CSV (writeRun makes the
			// same values).
			rows := readRows(t, writeRun(t, t.TempDir(), 6, map[int]int{1: 10, 3: 14}))

			if d, err := fleet.Open(ctx, dsn); !errors.Is(err, fleet.ErrConversionNeedsKey) {
				if d != nil {
					d.Close()
				}
				t.Fatalf("an old run opened without a data key: %v; want ErrConversionNeedsKey", err)
			}
			h := newHarness(t, dsn)
			var version int
			if err := h.db.SQL().QueryRow("SELECT MAX(version) FROM fleet_schema").Scan(&version); err != nil || version != 3 {
				t.Fatalf("schema version %d, %v; want 3", version, err)
			}
			var withPhoneKey int
			if err := h.db.SQL().QueryRow("SELECT COUNT(*) FROM fleet_agents WHERE phone_key <> ''").Scan(&withPhoneKey); err != nil || withPhoneKey != 6 {
				t.Errorf("%d agents with their phone number's key, %v; want all 6", withPhoneKey, err)
			}
			recs := records(t, h.db)
			wantStates := []string{fleet.StateApproved, fleet.StateRejected, fleet.StateApproved, fleet.StateRejected, fleet.StateNew, fleet.StateNew}
			if len(recs) != 6 {
				t.Fatalf("%d records after the conversion, want 6", len(recs))
			}
			for i, r := range recs {
				if r.Line != i+2 || r.IdentityNumber != rows[i].Params.IdentityNumber || r.State != wantStates[i] {
					t.Errorf("record %d: line %d, identity %q, state %s; want line %d, the CSV's identity number, %s",
						i, r.Line, r.IdentityNumber, r.State, i+2, wantStates[i])
				}
			}
			if recs[1].RejectionCode != 10 || recs[3].RejectionCode != 14 {
				t.Errorf("rejection codes %d, %d; want 10, 14", recs[1].RejectionCode, recs[3].RejectionCode)
			}
			forms := personalForms(rows)
			if db == "sqlite" {
				files, _ := filepath.Glob(dsn + "*")
				for _, file := range files {
					b, _ := os.ReadFile(file)
					scanForPersonalData(t, "converted "+filepath.Base(file), b, forms)
				}
			} else {
				scanForPersonalData(t, "pg_dump of the converted run", pgDump(t, dsn), forms)
			}

			// The same CSV finds every agent: nothing new.
			if n, _, err := h.f.Import(ctx, rows); err != nil || n != 0 {
				t.Fatalf("re-Import after the conversion: %d new, %v; want 0", n, err)
			}
			// The fake is new: it gets the fixture's agent ids first, so
			// the two agents still to create get others.
			c, err := h.fake.NewClient()
			if err != nil {
				t.Fatal(err)
			}
			for i := range 4 {
				p := rows[i].Params
				p.IdentityNumber, p.PhoneNumber = fmt.Sprintf("3202%08d0000", i), fmt.Sprintf("0899%08d", i)
				if _, err := c.CreateAgent(ctx, p); err != nil {
					t.Fatal(err)
				}
			}
			h.run(h.f)
			counts, _ := h.db.Counts(ctx)
			if counts[fleet.StateApproved] != 4 || counts[fleet.StateRejected] != 2 {
				t.Errorf("after going on: %v; want 4 approved, 2 rejected", counts)
			}
		})
	}
}

// A conversion that fails part way changes nothing: it runs in one
// transaction, and the run can be opened again once the cause is fixed.
func TestMigrateV0FailureChangesNothing(t *testing.T) {
	ctx := context.Background()
	dsn := filepath.Join(t.TempDir(), "run.db")
	copyFixture(t, "main-v0.fleet.db", dsn)
	raw, err := sql.Open("sqlite", "file:"+dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var good string
	if err := raw.QueryRow("SELECT row FROM fleet_agents WHERE line = 7").Scan(&good); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("UPDATE fleet_agents SET row = '{' WHERE line = 7"); err != nil {
		t.Fatal(err)
	}
	if d, err := fleet.Open(ctx, dsn, fleet.WithDataKey(testDataKey(t))); err == nil {
		d.Close()
		t.Fatal("converted a run with an unreadable row")
	} else if want := "line 7"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name %s", err, want)
	}
	var keys int
	if err := raw.QueryRow("SELECT COUNT(*) FROM fleet_agents WHERE key LIKE '3201%'").Scan(&keys); err != nil || keys != 6 {
		t.Errorf("%d agents still keyed by identity number, %v; want all 6 (nothing converted)", keys, err)
	}
	if _, err := raw.Exec("UPDATE fleet_agents SET row = ? WHERE line = 7", good); err != nil {
		t.Fatal(err)
	}
	d, err := fleet.Open(ctx, dsn, fleet.WithDataKey(testDataKey(t)))
	if err != nil {
		t.Fatalf("once fixed, the run does not open: %v", err)
	}
	d.Close()
}

// A run of schema version 0 that a reading command (ForReading) converts
// keeps the data key it was converted with, as any conversion does: a
// command that opens it next with another key is refused, and does not
// make its own key the run's while the rows are sealed with the first.
func TestMigrateV0ForReadingKeepsItsKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := filepath.Join(t.TempDir(), "run.db")
	copyFixture(t, "main-v0.fleet.db", dsn)
	keys := make([]*fleet.DataKey, 2)
	for i := range keys {
		raw := make([]byte, fleet.DataKeySize)
		raw[0] = byte(i + 1)
		var err error
		if keys[i], err = fleet.NewDataKey(raw); err != nil {
			t.Fatal(err)
		}
	}
	d, err := fleet.Open(ctx, dsn, fleet.WithDataKey(keys[0]), fleet.ForReading())
	if err != nil {
		t.Fatalf("converting for reading: %v", err)
	}
	d.Close()
	if d, err := fleet.Open(ctx, dsn, fleet.WithDataKey(keys[1])); !errors.Is(err, fleet.ErrWrongDataKey) {
		if d != nil {
			d.Close()
		}
		t.Fatalf("opened with another key than the conversion's: %v; want ErrWrongDataKey", err)
	}
}
