package fleet

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// DefaultRetain is how long a run keeps an agent's personal data after the
// agent reached a final state (approved, rejected, upload check failed,
// parked), unless Config.Retain says otherwise: long enough to repair a
// rejection or answer a question about the decision, short enough that a
// finished run does not keep thousands of people's data for good.
const DefaultRetain = 30 * 24 * time.Hour

// Why an agent's personal data was erased, as recorded in fleet_erasures.
const (
	ReasonRequest   = "request"   // Forget: the agent asked, or the operator decided
	ReasonRetention = "retention" // the retention period after a final state ended
)

// Forget names the agent whose personal data to erase: by its identity
// number (needs the data key), its CSV line or Flip's agent id. Exactly
// one is set.
type Forget struct {
	IdentityNumber string
	Line           int
	AgentID        int64
}

// Erasure is an erasure the run did (fleet_erasures): which agent, what
// kinds of data, why and when. It holds no personal data.
type Erasure struct {
	Line    int    `json:"line"`
	AgentID int64  `json:"agent_id,omitempty"`
	State   string `json:"state"` // the agent's state when erased
	// Fields are the kinds of personal data erased (PersonalField names,
	// and "correction" for a pending correction).
	Fields []string  `json:"fields"`
	Reason string    `json:"reason"`
	At     time.Time `json:"erased_at"`
	// Already reports an agent erased before this call (At is then the
	// first erasure's time).
	Already bool `json:"already,omitempty"`
}

// ErrNoSuchAgent is returned by DB.Forget when no agent of the run matches.
var ErrNoSuchAgent = errors.New("fleet: no agent of this run matches")

// Forget erases the personal data of the agent sel names (its sealed row
// and any pending correction) and records the erasure. What stays is what
// the operator needs afterwards: the agent's key (a keyed hash), line,
// state, KYC status, rejection code, Request-IDs and times. An agent still
// being onboarded is parked: the run cannot go on without its data.
func (d *DB) Forget(ctx context.Context, sel Forget) (Erasure, error) {
	var where string
	var arg any
	switch {
	case sel.IdentityNumber != "":
		if d.key == nil {
			return Erasure{}, ErrNoDataKey
		}
		where, arg = "key = ?", d.key.agentKey(sel.IdentityNumber)
	case sel.Line > 0:
		where, arg = "line = ?", sel.Line
	case sel.AgentID > 0:
		where, arg = "agent_id = ?", sel.AgentID
	default:
		return Erasure{}, errors.New("fleet: Forget needs an identity number, a line or an agent id")
	}
	var e Erasure
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		var keys []string
		if err := collect(ctx, tx, d.rebind("SELECT key FROM fleet_agents WHERE "+where+" LIMIT 2"), func(s scanner) error {
			var k string
			err := s.Scan(&k)
			keys = append(keys, k)
			return err
		}, arg); err != nil {
			return err
		}
		switch {
		case len(keys) == 0:
			return ErrNoSuchAgent
		case len(keys) > 1:
			return fmt.Errorf("fleet: line %d names 2 agents or more (a CSV imported again after an erasure): give the agent id", sel.Line)
		}
		var err error
		e, err = d.erase(ctx, tx, keys[0], ReasonRequest)
		return err
	})
	if err == nil {
		d.scrubWAL(ctx)
	}
	return e, err
}

// EraseExpired erases the personal data of every agent that reached a
// final state longer than retain ago, records each erasure, and returns
// how many it erased. It also drops the corrections that were sent (of
// agents no longer waiting to send one or to upload with one), which the
// run no longer needs.
func (d *DB) EraseExpired(ctx context.Context, retain time.Duration) (int, error) {
	cutoff := nowMillis() - retain.Milliseconds()
	final := []any{StateApproved, StateRejected, StateUploadFailed, StateAttention, cutoff}
	n := 0
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		// A correction is still needed while it is queued or being sent,
		// and, for an agent taken on from its uploads, until they are done.
		if _, err := d.exec(ctx, tx, "UPDATE fleet_agents SET repair = '' WHERE repair <> '' AND state NOT IN (?, ?, ?, ?, ?, ?)",
			StateRepairQueued, StateRepairing, StateCreated, StateUploadingIdentity, StateIdentityUploaded, StateUploadingSelfie); err != nil {
			return err
		}
		var keys []string
		if err := collect(ctx, tx, d.rebind("SELECT key FROM fleet_agents WHERE state IN (?, ?, ?, ?) AND updated_at < ? AND erased_at = 0"),
			collectString(&keys), final...); err != nil {
			return err
		}
		for _, k := range keys {
			if _, err := d.erase(ctx, tx, k, ReasonRetention); err != nil {
				return err
			}
		}
		n = len(keys)
		return nil
	})
	if err == nil && n > 0 {
		d.scrubWAL(ctx)
	}
	return n, err
}

// erase erases one agent's personal data in tx and records it.
func (d *DB) erase(ctx context.Context, tx *sql.Tx, key, reason string) (Erasure, error) {
	lock := ""
	if d.postgres {
		lock = " FOR UPDATE"
	}
	var e Erasure
	var id sql.NullInt64
	var fields int
	var erasedAt int64
	var repair string
	err := d.queryRow(ctx, tx, "SELECT line, agent_id, state, personal_fields, erased_at, repair FROM fleet_agents WHERE key = ?"+lock, key).
		Scan(&e.Line, &id, &e.State, &fields, &erasedAt, &repair)
	if err != nil {
		return e, err
	}
	e.AgentID, e.Reason = id.Int64, reason
	if erasedAt != 0 {
		var names string
		err := d.queryRow(ctx, tx, "SELECT fields, reason, erased_at FROM fleet_erasures WHERE agent_key = ?", key).Scan(&names, &e.Reason, &erasedAt)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return e, err
		}
		e.Fields, e.At, e.Already = splitNonEmpty(names), time.UnixMilli(erasedAt), true
		return e, nil
	}
	names := fieldNames(fields)
	if repair != "" {
		names = strings.TrimPrefix(names+",correction", ",")
	}
	now := nowMillis()
	state, attention := e.State, ""
	if !Final(e.State) {
		state = StateAttention
		attention = fmt.Sprintf("personal data erased while the agent was %s: the run does not go on with it", e.State)
	}
	if _, err := d.exec(ctx, tx, "UPDATE fleet_agents SET row = '', repair = '', personal_fields = 0, phone_key = '', erased_at = ?, state = ?, attention = CASE WHEN ? = '' THEN attention ELSE ? END WHERE key = ?",
		now, state, attention, attention, key); err != nil {
		return e, err
	}
	if _, err := d.exec(ctx, tx, "INSERT INTO fleet_erasures (agent_key, line, agent_id, state, fields, reason, erased_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
		key, e.Line, id, e.State, names, reason, now); err != nil {
		return e, err
	}
	// The journal stays: it holds no personal value.
	actor := actorOf(ctx)
	if reason == ReasonRetention {
		actor = "retention period"
	}
	if err := d.note(ctx, tx, key, Entry{Kind: EntryAction, Operation: opErase, Result: fmt.Sprintf("personal data erased (%s), reason: %s", names, reason), Actor: actor}); err != nil {
		return e, err
	}
	e.Fields, e.At = splitNonEmpty(names), time.UnixMilli(now)
	return e, nil
}

func splitNonEmpty(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// Erasures returns the erasures the run recorded, oldest first.
func (d *DB) Erasures(ctx context.Context) ([]Erasure, error) {
	rows, err := d.sql.QueryContext(ctx, "SELECT line, agent_id, state, fields, reason, erased_at FROM fleet_erasures ORDER BY erased_at, line")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Erasure
	for rows.Next() {
		var e Erasure
		var id sql.NullInt64
		var names string
		var at int64
		if err := rows.Scan(&e.Line, &id, &e.State, &names, &e.Reason, &at); err != nil {
			return nil, err
		}
		e.AgentID, e.Fields, e.At = id.Int64, splitNonEmpty(names), time.UnixMilli(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// scrubWAL empties a SQLite run's write-ahead log, which may still hold
// pages written before an erasure; best effort (a reader may hold it).
func (d *DB) scrubWAL(ctx context.Context) {
	if !d.postgres {
		_, _ = d.sql.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	}
}
