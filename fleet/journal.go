package fleet

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/flipkyc/flipkyc"
)

// The journal: what the run did and saw for each agent (fleet_journal),
// written in the transaction of the state change it describes, so that a
// person can quote the right Request-ID to Flip and prove afterwards what
// was sent when. No entry holds a personal value: requests are named by
// operation and Request-ID, results by HTTP status, Flip's codes and KYC
// statuses, and reasons as status shows them. Erasure keeps the journal.

type actorKey struct{}

// CommandActor is the actor of what a Fleet does without WithActor.
const CommandActor = "command"

// WithActor returns a context naming who acts (e.g. "console 127.0.0.1
// token#3f2a"); Fleet methods that change or reveal an agent record it in
// the agent's timeline. Without it the actor is CommandActor.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// actorOf is the actor ctx names, CommandActor when none.
func actorOf(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok && a != "" {
		return a
	}
	return CommandActor
}

// Entry kinds (Entry.Kind).
const (
	EntryRequest  = "request"  // a request sent to Flip (create, uploads, submit, update, documents, a read that settled something)
	EntryCallback = "callback" // a callback received (stored or applied)
	EntryRepair   = "repair"   // a correction queued (repair CSV, onboard's changed row, console)
	EntryAction   = "action"   // an operator action (resume, confirm not created, give agent id, erase)
	EntryReveal   = "reveal"   // an operator revealed the agent's personal data
	EntryState    = "state"    // the run moved the agent to a new state (parked with why, final, ...)
)

// Entry is one thing the run did or saw for one agent. No field ever holds
// a personal value.
type Entry struct {
	// At is when the run recorded it, on the database's clock.
	At time.Time `json:"at"`
	// Kind is one of the Entry* constants.
	Kind string `json:"kind"`
	// Operation names what was done: "create", "upload identity image",
	// "submit", "update agent", "get agent", "callback", "resume",
	// "reveal", …
	Operation string `json:"operation"`
	// RequestID is the Request-ID sent, for requests.
	RequestID string `json:"request_id,omitempty"`
	// Result is what came of it: "sending" (the intent, recorded before
	// the request), "created: agent 123, status BASIC_DATA", "outcome
	// unknown: HTTP 504", "HTTP 422 VALIDATION_ERROR, code 1001 (name)",
	// "status APPROVED", …
	Result string `json:"result"`
	// Actor is who acted, for repairs, actions and reveals.
	Actor string `json:"actor,omitempty"`
}

// ErrErased is returned by Reveal for an agent whose personal data was
// erased.
var ErrErased = errors.New("fleet: the agent's personal data was erased from this run")

// ErrNotResumable is matched by ResumeAgent's error for an agent that is
// not parked, or whose way out is not WayOutResume.
var ErrNotResumable = errors.New("fleet: the agent cannot be resumed")

// note records entries for the agent key, in their order, stamped with
// the database's clock as they are written, in one statement: an agent's
// entries, written one after another, are stamped in the order they are
// recorded, whichever process wrote them. No entries writes nothing.
func (d *DB) note(ctx context.Context, q querier, key string, entries ...Entry) error {
	if len(entries) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("INSERT INTO fleet_journal (agent_key, at, kind, operation, request_id, result, actor) VALUES ")
	args := make([]any, 0, 6*len(entries))
	for i, e := range entries {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, " + d.nowSQL() + ", ?, ?, ?, ?, ?)")
		args = append(args, key, e.Kind, e.Operation, e.RequestID, e.Result, e.Actor)
	}
	_, err := d.exec(ctx, q, b.String(), args...)
	return err
}

// noteNow records e for the agent key on its own, for what changes no
// state (a request that failed and is tried again); a failure is logged,
// and the step goes on.
func (f *Fleet) noteNow(ctx context.Context, key string, e Entry) {
	if err := f.db.note(context.WithoutCancel(ctx), f.db.sql, key, e); err != nil {
		f.log.Warn("fleet: recording in the journal failed", "operation", e.Operation, "err", err)
	}
}

// changeNoting runs a step's change of the agent key (Fleet.change) and,
// when it changed the agent, records e, in one transaction: on Postgres
// one statement (the UPDATE in a WITH clause, one round trip), on SQLite
// a transaction of two.
func (f *Fleet) changeNoting(ctx context.Context, key string, e Entry, query string, args ...any) (int64, error) {
	if f.db.postgres {
		return f.changeNotingIn(ctx, f.db.sql, key, nil, []Entry{e}, query, args...)
	}
	var n int64
	err := f.db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = f.changeNotingIn(ctx, tx, key, nil, []Entry{e}, query, args...)
		return err
	})
	return n, err
}

// changeNotingIn runs a step's change of the agent key (Fleet.change) in
// q and records in the journal, in their order, always whatever the change
// did and then, when it changed the agent, ifChanged; it returns the rows
// changed. On Postgres it is one statement (the UPDATE and the INSERT in
// WITH clauses, one round trip); on SQLite, two.
func (f *Fleet) changeNotingIn(ctx context.Context, q querier, key string, always, ifChanged []Entry, query string, args ...any) (int64, error) {
	if !f.db.postgres {
		n, err := f.change(ctx, q, query, args...)
		if err != nil {
			return 0, err
		}
		entries := always
		if n > 0 {
			entries = append(always[:len(always):len(always)], ifChanged...)
		}
		return n, f.db.note(ctx, q, key, entries...)
	}
	cond, held := fence(ctx)
	if len(always)+len(ifChanged) == 0 {
		return f.db.exec(ctx, q, query+cond, append(args, held...)...)
	}
	// Data-modifying WITH clauses run once and to the end whatever the
	// main query reads; the entries' order is their insertion's.
	var b strings.Builder
	b.WriteString("WITH changed AS (" + query + cond + " RETURNING 1), noted AS (" +
		"INSERT INTO fleet_journal (agent_key, at, kind, operation, request_id, result, actor) SELECT ?, " + f.db.nowSQL() +
		", v.kind, v.operation, v.request_id, v.result, v.actor FROM (VALUES ")
	all := append(append(append([]any{}, args...), held...), key)
	for i, e := range append(always[:len(always):len(always)], ifChanged...) {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(" + strconv.Itoa(i) + ", ?::boolean, ?, ?, ?, ?, ?)")
		all = append(all, i >= len(always), e.Kind, e.Operation, e.RequestID, e.Result, e.Actor)
	}
	b.WriteString(") AS v (ord, if_changed, kind, operation, request_id, result, actor) " +
		"WHERE NOT v.if_changed OR EXISTS (SELECT 1 FROM changed) ORDER BY v.ord) SELECT COUNT(*) FROM changed")
	var n int64
	err := f.db.queryRow(ctx, q, b.String(), all...).Scan(&n)
	return n, err
}

// Operations of the journal's entries (Entry.Operation).
const (
	opCreate         = "create"
	opUploadIdentity = "upload identity image"
	opUploadSelfie   = "upload selfie"
	opUpdateAgent    = "update agent"
	opSubmit         = "submit"
	opGetAgent       = "get agent"
	opCallback       = "callback"
	opCorrection     = "correction"
	opResume         = "resume"
	opAgentID        = "agent_id"
	opNotCreated     = "not_created"
	opErase          = "erase"
	opParked         = "parked"
	opImported       = "imported"
)

// resultSending is the result of a request's intent, recorded before the
// request is sent; its outcome follows in another entry.
const resultSending = "sending"

// acceptedResult is the result of a submission or correction Flip took:
// by its reply, or, when the reply was lost, by the agent's status the
// SDK read (confirmed).
func acceptedResult(confirmed bool) string {
	if confirmed {
		return "accepted: the reply was lost, and reading the agent showed it took effect; in review"
	}
	return "accepted: in review"
}

// request is the journal entry of a request to Flip with its result.
func request(op, rid, result string) Entry {
	return Entry{Kind: EntryRequest, Operation: op, RequestID: rid, Result: result}
}

// uploadOp is the operation of an agent's upload.
func uploadOp(selfie bool) string {
	if selfie {
		return opUploadSelfie
	}
	return opUploadIdentity
}

// repairOp is the operation that sends the correction rp (a Repair's JSON
// as stored): "repair data", "repair identity image", "repair selfie" or
// "upload documents".
func repairOp(stored string) string {
	var rp Repair
	if json.Unmarshal([]byte(stored), &rp) != nil {
		return "repair"
	}
	switch fix, _ := rp.kind(); fix {
	case flipkyc.FixRepairData:
		return "repair data"
	case flipkyc.FixRepairIdentityImage:
		return "repair identity image"
	case flipkyc.FixRepairSelfie:
		return "repair selfie"
	case flipkyc.FixSupportingDocuments:
		return "upload documents"
	}
	return "repair"
}

// resultOf describes a failed request for the journal from the error's
// typed fields only (HTTP status, Flip's codes and the attributes they
// name, the SDK's rules), never from text a reply carried: Flip's
// messages may repeat a value sent.
func resultOf(err error) string {
	var unknown *flipkyc.OutcomeUnknownError
	var api *flipkyc.APIError
	var ve *flipkyc.ValidationError
	var read *flipkyc.ImageReadError
	switch {
	case errors.As(err, &unknown):
		if errors.As(err, &api) {
			return fmt.Sprintf("outcome unknown: HTTP %d", api.StatusCode)
		}
		if unknown.Status != "" {
			return fmt.Sprintf("outcome unknown: no reply; the agent is now %s", unknown.Status)
		}
		return "outcome unknown: no reply"
	case errors.As(err, &api):
		b := fmt.Sprintf("HTTP %d", api.StatusCode)
		if api.Code != "" {
			b += " " + api.Code
		}
		for _, d := range api.Errors {
			b += fmt.Sprintf(", code %d", d.Code)
			if d.Attribute != "" {
				b += " (" + d.Attribute + ")"
			}
		}
		return b
	case errors.As(err, &ve):
		rules := make([]string, len(ve.Fields))
		for i, fe := range ve.Fields {
			rules[i] = fe.String()
		}
		return "refused by the SDK's rules, not sent: " + strings.Join(rules, "; ")
	case errors.As(err, &read):
		return "not sent: the image could not be read"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "stopped before Flip answered: the step's time ran out or the process stopped"
	}
	return "failed before Flip answered"
}

// AgentFilter selects the agents of one page of the list; zero fields
// select all.
type AgentFilter struct {
	State     string                // a State* constant
	KYCStatus string                // Flip's KYC status as last seen
	Code      flipkyc.RejectionCode // rejection code
	Line      int                   // the CSV line
	AgentID   int64                 // Flip's agent id
	Attention bool                  // only agents parked for a person
	AfterLine int                   // keyset paging: lines after this one
	Limit     int                   // DefaultPage when zero, at most MaxPage
}

// Page sizes of Agents.
const (
	DefaultPage = 50
	MaxPage     = 500
)

// Agents returns one page of the run's agents in line order, and the
// AfterLine of the next page (0 when this is the last). Identity numbers
// are left out (Reveal shows them). Fast at 50,000 agents: keyset paging
// on indexed columns, no OFFSET.
func (f *Fleet) Agents(ctx context.Context, filter AgentFilter) (page []Record, next int, err error) {
	q, args, limit := agentsQuery(filter)
	rows, err := f.db.query(ctx, f.db.sql, q, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		r, err := f.db.scanRecord(rows, false)
		if err != nil {
			return nil, 0, err
		}
		page = append(page, r)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if len(page) > limit {
		page = page[:limit]
		next = page[limit-1].Line
	}
	return page, next, nil
}

// agentsQuery is the query of one page of Agents, its arguments and the
// page's size: one row more than the page, which says whether another
// follows.
func agentsQuery(filter AgentFilter) (string, []any, int) {
	limit := filter.Limit
	if limit <= 0 {
		limit = DefaultPage
	}
	limit = min(limit, MaxPage)
	var where []string
	var args []any
	add := func(cond string, arg any) {
		where = append(where, cond)
		args = append(args, arg)
	}
	if filter.Attention {
		add("state = ?", StateAttention)
	} else if filter.State != "" {
		add("state = ?", filter.State)
	}
	if filter.KYCStatus != "" {
		add("kyc_status = ?", filter.KYCStatus)
	}
	if filter.Code != 0 {
		add("rejection_code = ?", int(filter.Code))
	}
	if filter.Line != 0 {
		add("line = ?", filter.Line)
	}
	if filter.AgentID != 0 {
		add("agent_id = ?", filter.AgentID)
	}
	add("line > ?", filter.AfterLine)
	q := "SELECT " + recordColumns + " FROM fleet_agents WHERE " + strings.Join(where, " AND ") + " ORDER BY line LIMIT ?"
	return q, append(args, limit+1), limit
}

// Agent returns one agent (by CSV line), without its identity number, and
// its timeline in the order recorded (oldest first). ErrNoSuchAgent if none.
func (f *Fleet) Agent(ctx context.Context, line int) (Record, []Entry, error) {
	r, err := f.db.scanRecord(f.db.queryRow(ctx, f.db.sql, "SELECT "+recordColumns+" FROM fleet_agents WHERE line = ? ORDER BY key LIMIT 1", line), false)
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, nil, ErrNoSuchAgent
	}
	if err != nil {
		return Record{}, nil, err
	}
	var key string
	if err := f.db.queryRow(ctx, f.db.sql, "SELECT key FROM fleet_agents WHERE line = ? ORDER BY key LIMIT 1", line).Scan(&key); err != nil {
		return Record{}, nil, err
	}
	timeline, err := f.db.timeline(ctx, key)
	return r, timeline, err
}

// timeline reads the journal of the agent key, oldest first.
func (d *DB) timeline(ctx context.Context, key string) ([]Entry, error) {
	// In the order recorded, which is the order of the stamps too: each
	// entry is stamped by the database's clock as it is written (DB.note).
	rows, err := d.query(ctx, d.sql, "SELECT at, kind, operation, request_id, result, actor FROM fleet_journal WHERE agent_key = ? ORDER BY id", key)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Entry{}
	for rows.Next() {
		var e Entry
		var at int64
		if err := rows.Scan(&at, &e.Kind, &e.Operation, &e.RequestID, &e.Result, &e.Actor); err != nil {
			return nil, err
		}
		e.At = time.UnixMilli(at).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// Reveal returns the agent's personal data (its CSV row as stored: the
// images by path) and records who revealed it (the actor of ctx) in the
// timeline, before anything is returned. ErrNoDataKey without the key;
// an erased agent gives ErrErased, ErrNoSuchAgent none.
func (f *Fleet) Reveal(ctx context.Context, line int) (Row, error) {
	if f.db.key == nil {
		return Row{}, ErrNoDataKey
	}
	a, err := f.db.scanAgent(f.db.queryRow(ctx, f.db.sql, "SELECT "+agentColumns+" FROM fleet_agents WHERE line = ? ORDER BY key LIMIT 1", line))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Row{}, ErrNoSuchAgent
	case err != nil:
		return Row{}, err
	case a.Erased:
		return Row{}, ErrErased
	}
	if err := f.db.note(ctx, f.db.sql, a.Key, Entry{Kind: EntryReveal, Operation: "reveal", Result: "personal data shown", Actor: actorOf(ctx)}); err != nil {
		return Row{}, err
	}
	return a.Row, nil
}

// Summary returns the run's Summary: counts per state and KYC status,
// rejections by code with the fix each calls for, agents needing
// attention, and the run's recent rate.
func (f *Fleet) Summary(ctx context.Context) (Summary, error) {
	return f.db.Summarize(ctx)
}

// ResumeAgent takes one parked agent (by CSV line) on again, as Resume
// does for all, and records it (with the actor of ctx) in its timeline.
// An agent that is not parked, or whose way out is not WayOutResume,
// gives an error matching ErrNotResumable that says its way out.
func (f *Fleet) ResumeAgent(ctx context.Context, line int) error {
	var key, state, from, rid, reason string
	var id sql.NullInt64
	var erasedAt int64
	err := f.db.queryRow(ctx, f.db.sql, "SELECT key, state, parked_from, create_request_id, agent_id, attention, erased_at FROM fleet_agents WHERE line = ? ORDER BY key LIMIT 1", line).
		Scan(&key, &state, &from, &rid, &id, &reason, &erasedAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return ErrNoSuchAgent
	case err != nil:
		return err
	case state != StateAttention:
		return fmt.Errorf("%w: it is %s, not parked", ErrNotResumable, state)
	case erasedAt != 0:
		return fmt.Errorf("%w: its way out is %s (its personal data was erased)", ErrNotResumable, WayOutNewRun)
	case from == "":
		return fmt.Errorf("%w: it was parked by an earlier flipkyc, which did not record where", ErrNotResumable)
	}
	to, ok := resumesTo(from, rid, id.Int64, reason)
	if !ok {
		return fmt.Errorf("%w: its way out is %s", ErrNotResumable, wayOut(from, rid, id.Int64, reason))
	}
	resumed, err := f.resumeParked(ctx, key, to, id)
	if err == nil && !resumed {
		err = fmt.Errorf("%w: it was taken on meanwhile", ErrNotResumable)
	}
	return err
}

// finalEntry is the journal's entry of an agent reaching the final state
// to with the KYC status (and rejection code) that moved it.
func finalEntry(to string, status flipkyc.KYCStatus, code flipkyc.RejectionCode) Entry {
	result := "status " + string(status)
	if to == StateRejected && code != 0 {
		result += fmt.Sprintf(", rejection code %d: %s", code, code.Message())
	}
	return Entry{Kind: EntryState, Operation: to, Result: result}
}

// parkedEntry is the journal's entry of an agent parked with the reason.
func parkedEntry(reason string) Entry {
	return Entry{Kind: EntryState, Operation: opParked, Result: reason}
}
