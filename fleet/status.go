package fleet

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/internal/redact"
)

// Counts is how many agents of a run are in each state.
type Counts map[string]int

// Total is the number of agents.
func (c Counts) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// Active is the number of agents the run is still working on.
func (c Counts) Active() int {
	n := 0
	for s, v := range c {
		if !Final(s) {
			n += v
		}
	}
	return n
}

// Counts returns the number of agents in each state.
func (d *DB) Counts(ctx context.Context) (Counts, error) {
	rows, err := d.sql.QueryContext(ctx, "SELECT state, COUNT(*) FROM fleet_agents GROUP BY state")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	c := Counts{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		c[s] = n
	}
	return c, rows.Err()
}

// activeStates are the states that are not Final.
var activeStates = func() []any {
	var out []any
	for _, s := range States {
		if !Final(s) {
			out = append(out, s)
		}
	}
	return out
}()

// anyActive reports whether an agent of the run is not final: one row
// found through the state index, where Counts reads every row.
func (d *DB) anyActive(ctx context.Context) (bool, error) {
	q := "SELECT 1 FROM fleet_agents WHERE state IN (?" + strings.Repeat(", ?", len(activeStates)-1) + ") LIMIT 1"
	var one int
	err := d.queryRow(ctx, d.sql, q, activeStates...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// Record is one agent of a run, as status reports it.
type Record struct {
	// Line is the agent's line in the onboarding CSV.
	Line int `json:"line"`
	// IdentityNumber is the agent's identity number, the run's key for it.
	// Record prints it masked; json.Marshal keeps it, for an export.
	IdentityNumber string `json:"identity_number"`
	// AgentID is Flip's id for the agent; 0 before it was created.
	AgentID int64 `json:"agent_id,omitempty"`
	// State is where the agent is in the run (StateApproved, …).
	State string `json:"state"`
	// KYCStatus is the agent's KYC status at Flip, as last seen.
	KYCStatus string `json:"kyc_status,omitempty"`
	// RejectionCode, Rejection and Fix are Flip's rejection code, its
	// text and what the code calls for, for a rejected agent.
	RejectionCode flipkyc.RejectionCode `json:"rejection_code,omitempty"`
	Rejection     string                `json:"rejection,omitempty"`
	Fix           []flipkyc.Fix         `json:"fix,omitempty"`
	// Attention says why a parked agent needs a person, and what to do;
	// the paths of the agent's images it quotes are masked of the agent's
	// personal values.
	Attention string `json:"attention,omitempty"`
	// CreateRequestID is the Request-ID of the agent's create.
	CreateRequestID string `json:"create_request_id,omitempty"`
	// Erased marks an agent whose personal data was erased (Forget, or
	// the retention period): IdentityNumber is empty.
	Erased bool `json:"erased,omitempty"`
	// WayOut is what takes a parked agent on: WayOutResume,
	// WayOutAgentID or WayOutRepair.
	WayOut string `json:"way_out,omitempty"`
}

// Format prints the record with its identity number masked, under every
// verb.
func (r Record) Format(f fmt.State, _ rune) {
	if r.IdentityNumber != "" {
		r.IdentityNumber = "[masked]"
	}
	type plain Record // without this method
	fmt.Fprintf(f, "%+v", plain(r))
}

// LogValue logs the record with its identity number masked.
func (r Record) LogValue() slog.Value { return slog.StringValue(fmt.Sprint(r)) }

// Records returns every agent of the run, by CSV line. Identity numbers
// are read from the sealed rows: they are empty for erased agents, and for
// every agent when the DB was opened without its data key.
func (d *DB) Records(ctx context.Context) ([]Record, error) {
	return d.records(ctx, d.key != nil)
}

// records reads every agent, opening their rows for their identity
// numbers when withIdentity.
func (d *DB) records(ctx context.Context, withIdentity bool) ([]Record, error) {
	rows, err := d.sql.QueryContext(ctx, "SELECT "+recordColumns+" FROM fleet_agents ORDER BY line")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r, err := d.scanRecord(rows, withIdentity)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// recordColumns are the columns scanRecord reads.
const recordColumns = "line, key, row, erased_at, agent_id, state, kyc_status, rejection_code, attention, create_request_id, parked_from"

// scanRecord reads one agent's Record from recordColumns, opening its row
// for its identity number when withIdentity.
func (d *DB) scanRecord(s scanner, withIdentity bool) (Record, error) {
	var r Record
	var key, row string
	var id sql.NullInt64
	var code int
	var erasedAt int64
	var from string
	if err := s.Scan(&r.Line, &key, &row, &erasedAt, &id, &r.State, &r.KYCStatus, &code, &r.Attention, &r.CreateRequestID, &from); err != nil {
		return Record{}, err
	}
	r.Erased = erasedAt != 0
	if withIdentity {
		// A row that cannot be read leaves the number out; its
		// agent's step parks it saying so.
		if opened, err := d.key.openRow(key, row, r.Line); err == nil {
			r.IdentityNumber = opened.Params.IdentityNumber
			if r.Attention != "" {
				// A reason written by an earlier version may quote
				// a photo's path, named after the agent.
				r.Attention = maskImagePaths(r.Attention, &opened)
			}
		}
	}
	r.AgentID = id.Int64
	if r.State == StateAttention {
		r.WayOut = wayOut(from, r.CreateRequestID, r.AgentID, r.Attention)
	}
	if r.State == StateRejected || r.State == StateUploadFailed {
		r.RejectionCode = flipkyc.RejectionCode(code)
		r.Rejection = r.RejectionCode.Message()
		r.Fix = FixFor(r.State, r.RejectionCode)
	}
	return r, nil
}

// maskImagePaths returns text, a reason stored for an agent, with each path
// of the agent's images it quotes (absolute, or inside the images directory
// as a failed open names it) masked of the agent's own personal values
// (identity number, phone, e-mail, birth date, the words of its name, birth
// place and addresses, in any letter case): a photo is often named after
// its agent. The rest of text is left as written.
func maskImagePaths(text string, r *Row) string {
	p := r.Params
	whole := []string{p.IdentityNumber, p.PhoneNumber, p.Email}
	if !p.BirthDate.IsZero() {
		whole = append(whole, p.BirthDate.String(), p.BirthDate.Time().Format("2006-01-02"))
	}
	mask := redact.KnownValues(redact.ValuesAndWords(whole, p.Name, p.BirthPlace, p.Address, p.ResidenceAddress))
	var paths []string
	add := func(dir string, files ...string) {
		for _, f := range files {
			if f == "" {
				continue
			}
			paths = append(paths, f)
			if rel, err := filepath.Rel(dir, f); dir != "" && err == nil {
				paths = append(paths, rel)
			}
		}
	}
	add(r.Images, r.IdentityImage, r.SelfieImage)
	slices.SortStableFunc(paths, func(a, b string) int { return len(b) - len(a) })
	for _, path := range paths {
		if strings.Contains(text, path) {
			text = strings.ReplaceAll(text, path, mask(path))
		}
	}
	return text
}

// FixFor says what answers an agent in state rejected or upload_failed:
// the fixes of its rejection code, or supporting documents after a failed
// upload check.
func FixFor(state string, code flipkyc.RejectionCode) []flipkyc.Fix {
	if state == StateUploadFailed {
		return []flipkyc.Fix{flipkyc.FixSupportingDocuments}
	}
	return code.Fixes()
}

// Summary is a run's state for people: counts, rejections by code, and the
// agents that need attention.
type Summary struct {
	// Counts is how many agents are in each state.
	Counts Counts `json:"counts"`
	// Total is the run's agents; Active those not final nor parked.
	Total  int `json:"total"`
	Active int `json:"active"`
	// Rejections counts the rejected agents by code.
	Rejections []RejectionLine `json:"rejections"`
	// Attention is the agents parked for a person, without their identity
	// numbers.
	Attention []Record `json:"attention"`
	// KYCStatuses is how many agents are in each KYC status at Flip, as
	// last seen ("" for agents not created yet).
	KYCStatuses Counts `json:"kyc_statuses"`
	// FinishedLastMinute and FinishedLast10Minutes are how many agents
	// reached a final state (approved, rejected, upload check failed,
	// parked) in the last minute and the last 10 minutes, on the
	// database's clock: the rate of a live run.
	FinishedLastMinute    int `json:"finished_last_minute"`
	FinishedLast10Minutes int `json:"finished_last_10_minutes"`
}

// RejectionLine counts the agents rejected with one code.
type RejectionLine struct {
	// State is StateRejected, or StateUploadFailed for a failed upload
	// check.
	State string `json:"state"`
	// Code is Flip's rejection code; Message its text; Fix what it calls
	// for.
	Code    flipkyc.RejectionCode `json:"code"`
	Message string                `json:"message"`
	Fix     []flipkyc.Fix         `json:"fix"`
	// Agents is how many agents were rejected with Code.
	Agents int `json:"agents"`
}

// Summarize reads the run's Summary.
func (d *DB) Summarize(ctx context.Context) (Summary, error) {
	recs, err := d.records(ctx, false)
	if err != nil {
		return Summary{}, err
	}
	s := Summary{Counts: Counts{}, KYCStatuses: Counts{}, Rejections: []RejectionLine{}, Attention: []Record{}}
	idx := map[[2]any]int{}
	for _, r := range recs {
		s.Counts[r.State]++
		s.KYCStatuses[r.KYCStatus]++
		switch r.State {
		case StateRejected, StateUploadFailed:
			k := [2]any{r.State, r.RejectionCode}
			i, ok := idx[k]
			if !ok {
				i = len(s.Rejections)
				idx[k] = i
				s.Rejections = append(s.Rejections, RejectionLine{State: r.State, Code: r.RejectionCode, Message: r.Rejection, Fix: r.Fix})
			}
			s.Rejections[i].Agents++
		case StateAttention:
			r.IdentityNumber = "" // a summary is for printing; Records keeps it
			s.Attention = append(s.Attention, r)
		}
	}
	slices.SortFunc(s.Rejections, func(a, b RejectionLine) int { return int(a.Code) - int(b.Code) })
	s.Total, s.Active = s.Counts.Total(), s.Counts.Active()
	s.FinishedLastMinute, s.FinishedLast10Minutes, err = d.finishedRecently(ctx)
	return s, err
}

// finishedRecently counts the agents that reached a final state in the
// last minute and the last 10 minutes, by the database's clock, through
// the index on (state, updated_at).
func (d *DB) finishedRecently(ctx context.Context) (lastMinute, last10 int, err error) {
	q := "SELECT COALESCE(SUM(CASE WHEN updated_at >= t - 60000 THEN 1 ELSE 0 END), 0), COUNT(*) FROM fleet_agents, (SELECT " + d.nowSQL() + " AS t) now " +
		"WHERE state IN (?, ?, ?, ?) AND updated_at >= t - 600000"
	err = d.queryRow(ctx, d.sql, q, StateApproved, StateRejected, StateUploadFailed, StateAttention).Scan(&lastMinute, &last10)
	return lastMinute, last10, err
}
