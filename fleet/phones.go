package fleet

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// phonesTaken returns, for each row, the CSV line of the agent of the run
// that has its phone number (0 for none), read on q: Flip registers a
// number once in a company, and would refuse a new agent's create with
// it (2002). The run finds them by their keyed hash (phone_key), as it
// finds agents by their identity number's. The rows must be of agents the
// run does not have.
func (d *DB) phonesTaken(ctx context.Context, q querier, rows []Row) ([]int, error) {
	if d.key == nil {
		return nil, ErrNoDataKey
	}
	keys := make([]string, len(rows))
	var args []any
	for i, r := range rows {
		if keys[i] = d.key.phoneKey(r.Params.PhoneNumber); keys[i] != "" {
			args = append(args, keys[i])
		}
	}
	lines := map[string]int{}
	for start := 0; start < len(args); start += 200 {
		chunk := args[start:min(start+200, len(args))]
		err := collect(ctx, q, d.rebind("SELECT phone_key, MIN(line) FROM fleet_agents WHERE phone_key IN (?"+strings.Repeat(", ?", len(chunk)-1)+") GROUP BY phone_key"), func(s scanner) error {
			var key string
			var line int
			err := s.Scan(&key, &line)
			lines[key] = line
			return err
		}, chunk...)
		if err != nil {
			return nil, err
		}
	}
	taken := make([]int, len(rows))
	for i, k := range keys {
		taken[i] = lines[k]
	}
	return taken, nil
}

// phoneTakenError is the RowError of a row whose phone number the agent of
// the run's line has.
func phoneTakenError(row Row, line int) RowError {
	return RowError{row.Line, "phone_number", fmt.Sprintf("the same as the agent's of line %d of the run, who has another identity number: Flip registers a phone number once", line)}
}

// fillPhoneKeys stores the keyed hash of each agent's phone number that
// the run does not have yet: those of a run made before schema version 3,
// and of a run converted by a process without the data key. A row this
// key cannot open is left as it is.
func (d *DB) fillPhoneKeys(ctx context.Context) error {
	return d.inTx(ctx, func(tx *sql.Tx) error {
		type stored struct {
			key, row string
			line     int
		}
		var agents []stored
		// Erased agents have no row, and so no number.
		if err := collect(ctx, tx, "SELECT key, row, line FROM fleet_agents WHERE phone_key = '' AND row <> ''", func(s scanner) error {
			var a stored
			err := s.Scan(&a.key, &a.row, &a.line)
			agents = append(agents, a)
			return err
		}); err != nil {
			return err
		}
		for _, a := range agents {
			r, err := d.key.openRow(a.key, a.row, a.line)
			if err != nil {
				continue // unreadable: the step that reads it parks the agent
			}
			if pk := d.key.phoneKey(r.Params.PhoneNumber); pk != "" {
				if _, err := d.exec(ctx, tx, "UPDATE fleet_agents SET phone_key = ? WHERE key = ?", pk, a.key); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// phoneOfAnother returns the RowError, on line, of a phone number that an
// agent of the run other than agentKey's has: a correction to it would be
// refused by Flip. It is the zero RowError for a number no other agent
// has, or none.
func (d *DB) phoneOfAnother(ctx context.Context, line int, agentKey, phone string) (RowError, error) {
	pk := d.key.phoneKey(phone)
	if pk == "" {
		return RowError{}, nil
	}
	var other sql.NullInt64
	if err := d.queryRow(ctx, d.sql, "SELECT MIN(line) FROM fleet_agents WHERE phone_key = ? AND key <> ?", pk, agentKey).Scan(&other); err != nil || !other.Valid {
		return RowError{}, err
	}
	return RowError{line, "phone_number", fmt.Sprintf("the agent's of line %d of the run has it: Flip registers a phone number once", other.Int64)}, nil
}
