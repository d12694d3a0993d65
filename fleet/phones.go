package fleet

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Flip registers a phone number once in a company: it refuses a create
// with a number another agent has (2002), and a correction to one breaks
// the same rule (whether Flip's repair checks it is not documented). The
// run keeps
// a keyed hash of each agent's number (fleet_agents.phone_key,
// DataKey.phoneKey), as it keeps its identity number's, so that a new
// agent, or a correction, with a number of the run is refused before it
// is sent. An erased agent's hash is erased with its row: its number is
// no longer found, though Flip still has it.

// phoneHolder is the agent of the run that has a phone number: its line in
// the CSV it came from and Flip's id of it (0 until it is created). Line
// 0 is no agent.
type phoneHolder struct {
	line    int
	agentID int64
	// queued: the number is that of a correction queued for the agent,
	// not yet sent.
	queued bool
}

// rule is the RowError's rule of a number the holder has.
func (h phoneHolder) rule() string {
	who := fmt.Sprintf("line %d", h.line)
	if h.agentID != 0 {
		who += fmt.Sprintf(", Flip's agent %d", h.agentID)
	}
	has := "another agent of the run has it"
	if h.queued {
		has = "a correction queued for another agent of the run has it"
	}
	return fmt.Sprintf("%s (%s): Flip registers a phone number once", has, who)
}

// phonesTaken returns, for each row, the agent of the run that has its
// phone number, read on q, or for which a correction with it is queued
// (queued, which may be nil); the zero phoneHolder for none. The rows must
// be of agents the run does not have.
func (d *DB) phonesTaken(ctx context.Context, q querier, queued queuedPhones, rows []Row) ([]phoneHolder, error) {
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
	holders := map[string]phoneHolder{}
	for start := 0; start < len(args); start += 200 {
		chunk := args[start:min(start+200, len(args))]
		err := collect(ctx, q, d.rebind("SELECT phone_key, line, agent_id FROM fleet_agents WHERE phone_key IN (?"+strings.Repeat(", ?", len(chunk)-1)+") ORDER BY line"), func(s scanner) error {
			var key string
			var h phoneHolder
			var id sql.NullInt64
			err := s.Scan(&key, &h.line, &id)
			h.agentID = id.Int64
			if _, ok := holders[key]; !ok {
				holders[key] = h
			}
			return err
		}, chunk...)
		if err != nil {
			return nil, err
		}
	}
	taken := make([]phoneHolder, len(rows))
	for i, k := range keys {
		if taken[i] = holders[k]; taken[i].line == 0 {
			taken[i] = queued.other(k, "")
		}
	}
	return taken, nil
}

// phoneOfAnother returns the RowError, on line, of a phone number that an
// agent of the run other than agentKey's has, or a correction queued for
// one (queued, which may be nil): a correction to it would be refused by
// Flip. It is the zero RowError for a number no other agent has, or none.
func (d *DB) phoneOfAnother(ctx context.Context, queued queuedPhones, line int, agentKey, phone string) (RowError, error) {
	pk := d.key.phoneKey(phone)
	if pk == "" {
		return RowError{}, nil
	}
	var h phoneHolder
	var id sql.NullInt64
	err := d.queryRow(ctx, d.sql, "SELECT line, agent_id FROM fleet_agents WHERE phone_key = ? AND key <> ? ORDER BY line LIMIT 1", pk, agentKey).Scan(&h.line, &id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		h = queued.other(pk, agentKey)
	case err != nil:
		return RowError{}, err
	default:
		h.agentID = id.Int64
	}
	if h.line == 0 {
		return RowError{}, nil
	}
	return RowError{line, "phone_number", h.rule()}, nil
}

// queuedPhone is the phone number of a correction queued for an agent.
type queuedPhone struct {
	agentKey string
	holder   phoneHolder
}

// queuedPhones are the phone numbers of the corrections the run has queued
// and not yet sent, by their keyed hash: read once per call of Import,
// InRun, TakeChanges or Repair (queuedPhones), and kept up to date by
// Repair as it queues more.
type queuedPhones map[string]queuedPhone

// other returns the agent, other than agentKey's, a correction queued for
// which has the number of phoneKey; the zero phoneHolder for none.
func (q queuedPhones) other(phoneKey, agentKey string) phoneHolder {
	if p, ok := q[phoneKey]; ok && phoneKey != "" && p.agentKey != agentKey {
		return p.holder
	}
	return phoneHolder{}
}

// queuedPhones reads the phone numbers of the corrections the run has
// queued and not yet sent: each agent's repair, while the agent is not in
// a final state (a correction Flip refused parks its agent, and goes
// nowhere).
func (d *DB) queuedPhones(ctx context.Context) (queuedPhones, error) {
	phones := queuedPhones{}
	return phones, d.readQueued(ctx, phones, "")
}

// requeue brings q up to date for the agent of agentKey, whose correction
// was just queued, replaced or dropped.
func (d *DB) requeue(ctx context.Context, q queuedPhones, agentKey string) error {
	for pk, p := range q {
		if p.agentKey == agentKey {
			delete(q, pk)
		}
	}
	return d.readQueued(ctx, q, agentKey)
}

// readQueued adds to phones the numbers of the corrections queued and not
// yet sent, for the agent of agentKey or, when it is "", for every agent.
func (d *DB) readQueued(ctx context.Context, phones queuedPhones, agentKey string) error {
	type stored struct {
		key, repair string
		line        int
		agentID     sql.NullInt64
	}
	var queued []stored
	query, args := "SELECT key, repair, line, agent_id FROM fleet_agents WHERE repair <> '' AND erased_at = 0 AND state NOT IN (?, ?, ?, ?)",
		[]any{StateApproved, StateRejected, StateUploadFailed, StateAttention}
	if agentKey != "" {
		query, args = query+" AND key = ?", append(args, agentKey)
	}
	rows, err := d.query(ctx, d.sql, query, args...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var s stored
		if err := rows.Scan(&s.key, &s.repair, &s.line, &s.agentID); err != nil {
			rows.Close()
			return err
		}
		queued = append(queued, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, s := range queued {
		b, err := d.key.open(s.key, s.repair)
		var rp Repair
		if err != nil || json.Unmarshal(b, &rp) != nil || rp.Data == nil {
			continue // none, or unreadable: the step that sends it parks the agent
		}
		if pk := d.key.phoneKey(rp.Data.PhoneNumber); pk != "" {
			phones[pk] = queuedPhone{s.key, phoneHolder{line: s.line, agentID: s.agentID.Int64, queued: true}}
		}
	}
	return nil
}

// fillPhoneKeys stores the keyed hash of each agent's phone number that
// the run does not have yet: those of a run made before schema version 3,
// and of a run converted by a process without the data key. It reads and
// writes 500 agents a transaction, and takes no write lock when there are
// none. A row this key cannot open is left as it is.
func (d *DB) fillPhoneKeys(ctx context.Context) error {
	const missing = "phone_key = '' AND row <> ''" // erased agents have no row, and so no number
	var one int
	err := d.queryRow(ctx, d.sql, "SELECT 1 FROM fleet_agents WHERE "+missing+" LIMIT 1").Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	after := "" // keys ordered: a row left as it is is not read again
	for {
		n := 0
		err := d.inTx(ctx, func(tx *sql.Tx) error {
			type stored struct {
				key, row string
				line     int
			}
			var agents []stored
			if err := collect(ctx, tx, d.rebind("SELECT key, row, line FROM fleet_agents WHERE "+missing+" AND key > ? ORDER BY key LIMIT 500"), func(s scanner) error {
				var a stored
				err := s.Scan(&a.key, &a.row, &a.line)
				agents = append(agents, a)
				return err
			}, after); err != nil {
				return err
			}
			n = len(agents)
			for _, a := range agents {
				after = a.key
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
		if err != nil || n < 500 {
			return err
		}
	}
}
