package fleet

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"

	"github.com/flipkyc/flipkyc"
)

// HandleEvent stores one of Flip's KYC callbacks and applies it, in one
// transaction: the event (deduplicated by Event.Key, so a repeat changes
// nothing), the agent's new state and the job of its next step. Use it as
// the function of flipkyc.NewCallbackHandler, which answers Flip 200 only
// after it returns nil; or use CallbackHandler. A callback for an agent the
// run does not have is stored all the same (never refused: it is
// authentic) and reported on Config.Logger, by its agent id only.
func (f *Fleet) HandleEvent(ctx context.Context, ev flipkyc.Event) error {
	ctx = context.WithoutCancel(ctx) // a stored event is not rolled back because the sender left
	unknown := false                 // the run has no agent of the event's id
	err := f.db.inTx(ctx, func(tx *sql.Tx) error {
		// The first statement writes: on SQLite it takes the write lock,
		// waiting (busy_timeout) for another process's, where a read
		// first would fail at its first write (SQLITE_BUSY) once another
		// process wrote meanwhile, and Flip does not send a callback twice.
		if err := f.noteCallback(ctx, tx, ev); err != nil {
			return err
		}
		moved, err := f.advance(ctx, tx, ev.AgentID, ev.KYCStatus, ev.RejectedReasonCode)
		if err != nil {
			return err
		}
		// The event is stored last, with whether it was applied, in the
		// same transaction: a repeat of an event already stored (its key)
		// undoes what it did above. The raw callback carries the agent's
		// name and is not needed after it was applied: only its hash is
		// kept.
		applied := 0
		if moved {
			applied = 1
		}
		n, err := f.db.exec(ctx, tx, "INSERT INTO fleet_events (key, agent_id, kyc_status, rejection_code, raw_sha256, received_at, applied) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
			ev.Key(), ev.AgentID, string(ev.KYCStatus), int(ev.RejectedReasonCode), rawHash(ev.Raw), f.nowMillis(), applied)
		switch {
		case err != nil:
			return err
		case n == 0:
			return errRepeatedEvent
		case moved:
			return nil
		}
		var agents int
		if err := f.db.queryRow(ctx, tx, "SELECT COUNT(*) FROM fleet_agents WHERE agent_id = ?", ev.AgentID).Scan(&agents); err != nil {
			return err
		}
		unknown = agents == 0
		return nil
	})
	if errors.Is(err, errRepeatedEvent) {
		return nil // stored before: changes nothing
	}
	if err == nil && unknown {
		// Another run's agent, or one whose create's reply is not
		// recorded yet: kept (committed), not applied, and said loudly.
		f.log.Warn("fleet: callback for an agent this run does not have: stored, not applied; if it is another run's, that run misses it until it reads the agent from Flip (give each run its own callback receiver: onboard --listen)", "agent_id", ev.AgentID)
	}
	return err
}

// errRepeatedEvent rolls back the handling of an event stored before.
var errRepeatedEvent = errors.New("fleet: event stored before")

// noteCallback records a callback in the journal of its agent (none when
// the run does not have it): its status and code, and, for a parked agent,
// that it is stored until the agent is resumed.
func (f *Fleet) noteCallback(ctx context.Context, tx *sql.Tx, ev flipkyc.Event) error {
	result := "status " + string(ev.KYCStatus)
	if ev.RejectedReasonCode != 0 {
		result += fmt.Sprintf(", rejection code %d", ev.RejectedReasonCode)
	}
	_, err := f.db.exec(ctx, tx, "INSERT INTO fleet_journal (agent_key, at, kind, operation, request_id, result, actor) "+
		"SELECT key, "+f.db.nowSQL()+", ?, ?, '', CASE WHEN state = ? THEN ? ELSE ? END, '' FROM fleet_agents WHERE agent_id = ?",
		EntryCallback, opCallback, StateAttention, result+": stored while the agent is parked; applied when it is resumed", result, ev.AgentID)
	return err
}

// CallbackHandler returns an http.Handler for Flip's KYC callbacks that
// stores each one with HandleEvent before answering 200: mount it in your
// own server at the URL set in Flip's dashboard. token is the dashboard's
// validation token.
func (f *Fleet) CallbackHandler(token string, opts ...flipkyc.CallbackOption) (http.Handler, error) {
	return flipkyc.NewCallbackHandler(token, f.HandleEvent, opts...)
}
