package fleet_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flipkyc/flipkyc/fleet"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// A run made by main before the journal (schema version 1) is converted
// to version 3 the first time it is opened: the journal and the agent
// list's indexes are added (version 2), then the phone numbers' keys
// (version 3); its agents are as they were, and what is done from then on
// goes to their timelines. On Postgres, a version-1 run is made from a new
// one by taking the later versions' additions away.
func TestMigrateV1(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			ctx := context.Background()
			dsn := filepath.Join(t.TempDir(), "run.db")
			if db == "postgres" {
				dsn = postgresDSN(t)
				d, err := fleet.Open(ctx, dsn, fleet.WithDataKey(testDataKey(t)))
				if err != nil {
					t.Fatal(err)
				}
				for _, q := range []string{"DROP INDEX fleet_agents_phone_key", "ALTER TABLE fleet_agents DROP COLUMN phone_key", "DROP TABLE fleet_journal", "DROP INDEX fleet_agents_line", "DROP INDEX fleet_agents_state_line",
					"DROP INDEX fleet_agents_kyc_status_line", "DROP INDEX fleet_agents_code_line", "UPDATE fleet_schema SET version = 1"} {
					if _, err := d.SQL().Exec(q); err != nil {
						t.Fatal(err)
					}
				}
				d.Close()
			} else {
				copyFixture(t, "main-v1.fleet.db", dsn)
			}
			h := newHarness(t, dsn)
			var version, journal int
			must(t, h.db.SQL().QueryRow("SELECT MAX(version) FROM fleet_schema").Scan(&version))
			must(t, h.db.SQL().QueryRow("SELECT COUNT(*) FROM fleet_journal").Scan(&journal))
			if version != 3 || journal != 0 {
				t.Fatalf("schema version %d with %d journal entries; want 3, an empty journal", version, journal)
			}
			if db == "postgres" {
				return // no agents: the tables and the version are what matter
			}
			var withPhoneKey, holding int
			must(t, h.db.SQL().QueryRow("SELECT COUNT(*) FROM fleet_agents WHERE phone_key <> ''").Scan(&withPhoneKey))
			must(t, h.db.SQL().QueryRow("SELECT COUNT(*) FROM fleet_agents WHERE row <> ''").Scan(&holding))
			if withPhoneKey != holding || holding == 0 {
				t.Errorf("%d of the %d agents holding their data have their phone number's key", withPhoneKey, holding)
			}
			page, next, err := h.f.Agents(ctx, fleet.AgentFilter{})
			if err != nil || next != 0 || len(page) != 4 {
				t.Fatalf("Agents: %d agents, next %d, %v; want the fixture's 4", len(page), next, err)
			}
			want := []string{fleet.StateApproved, fleet.StateRejected, fleet.StateApproved, fleet.StateRejected}
			for i, r := range page {
				if r.Line != i+2 || r.State != want[i] {
					t.Errorf("agent %d: line %d %s; want line %d %s", i, r.Line, r.State, i+2, want[i])
				}
			}
			rows := readRows(t, writeRun(t, t.TempDir(), 4, map[int]int{1: 10, 3: 14}))
			row, err := h.f.Reveal(fleet.WithActor(ctx, "auditor"), 3)
			if err != nil || row.Params.IdentityNumber != rows[1].Params.IdentityNumber {
				t.Fatalf("Reveal(3) after the conversion: %v; want the CSV's row", err)
			}
			if _, tl := agentOf(t, h.f, 3); len(tl) != 1 || tl[0].Kind != fleet.EntryReveal || tl[0].Actor != "auditor" {
				t.Errorf("timeline after the conversion and a reveal: %+v", tl)
			}
		})
	}
}

// ResumeAgent takes on one parked agent whose way out is resume, with the
// callback stored while it was parked applied, and records who did it;
// an agent that is not parked, or whose way out is another, is refused
// with ErrNotResumable and left as it is.
func TestResumeAgent(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn, dir string) {
		ctx := fleet.WithActor(context.Background(), "console resume")
		h := newHarness(t, dsn)
		importCSV(t, h.f, writeRun(t, dir, 2, nil))
		// Flip takes the submissions but their replies are lost as a 400
		// (parked, way out resume); the decisions' callbacks are held
		// until the agents are parked.
		h.fake.FailNextAfterApplying(flipkyctest.RouteSubmit, 2, 400)
		held := make(chan struct{})
		h.hold.Store(&held)
		outs := parkedWayOuts(t, h)
		close(held)
		if len(outs) != 2 || outs[0] != fleet.WayOutResume || outs[1] != fleet.WayOutResume {
			t.Fatalf("parked with ways out %v; want 2 × resume", outs)
		}
		waitFor(t, func() bool {
			var n int
			_ = h.db.SQL().QueryRow("SELECT COUNT(*) FROM fleet_events WHERE kyc_status = 'APPROVED' AND applied = 0").Scan(&n)
			return n == 2
		})
		var parked []int
		for _, r := range records(t, h.db) {
			if r.State == fleet.StateAttention {
				parked = append(parked, r.Line)
			}
		}
		if err := h.f.ResumeAgent(ctx, parked[0]); err != nil {
			t.Fatalf("ResumeAgent(%d): %v", parked[0], err)
		}
		for _, line := range []int{parked[0], 99} {
			if err := h.f.ResumeAgent(ctx, line); !errors.Is(err, fleet.ErrNotResumable) && !errors.Is(err, fleet.ErrNoSuchAgent) {
				t.Errorf("ResumeAgent(%d) again: %v; want ErrNotResumable or ErrNoSuchAgent", line, err)
			}
		}
		h.run(h.f)
		rec, tl := agentOf(t, h.f, parked[0])
		if rec.State != fleet.StateApproved {
			t.Fatalf("line %d: %s; want approved", parked[0], rec.State)
		}
		if e, ok := findEntry(tl, fleet.EntryAction, "resume", "back to submitting"); !ok || e.Actor != "console resume" {
			t.Errorf("no resume by the console in:\n%s", timelineText(tl))
		}
		for _, result := range []string{"status APPROVED: stored while the agent is parked", "stored while parked, applied now: status APPROVED"} {
			if _, ok := findEntry(tl, fleet.EntryCallback, "callback", result); !ok {
				t.Errorf("no callback %q in:\n%s", result, timelineText(tl))
			}
		}
		if other, _ := agentOf(t, h.f, parked[1]); other.State != fleet.StateAttention {
			t.Errorf("line %d: %s; want still parked (only one agent resumed)", parked[1], other.State)
		}
		if n := len(h.fake.RequestsTo(flipkyctest.RouteSubmit)); n != 2 {
			t.Errorf("%d submissions; want 2 (none sent again)", n)
		}

		// An agent parked with way out repair is not resumed.
		h2 := newHarness(t, filepath.Join(t.TempDir(), "other.db"))
		importCSV(t, h2.f, writeRun(t, dir, 1, nil))
		must(t, os.Remove(filepath.Join(dir, "ktp.png")))
		if outs := parkedWayOuts(t, h2); len(outs) != 1 || outs[0] != fleet.WayOutRepair {
			t.Fatalf("ways out %v; want repair", outs)
		}
		if err := h2.f.ResumeAgent(ctx, 2); !errors.Is(err, fleet.ErrNotResumable) || !strings.Contains(err.Error(), "repair") {
			t.Errorf("ResumeAgent of an agent with way out repair: %v; want ErrNotResumable naming repair", err)
		}
	})
}

// Reveal returns the agent's row and records who revealed it; the
// timeline, the agent list and the log never hold its values. An erased
// agent is ErrErased; a run opened without its data key reveals nothing.
func TestReveal(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn, dir string) {
		ctx := context.Background()
		h := newHarness(t, dsn)
		rows := readRows(t, writeRun(t, dir, 2, nil))
		if _, _, err := h.f.Import(ctx, rows); err != nil {
			t.Fatal(err)
		}
		row, err := h.f.Reveal(fleet.WithActor(ctx, "console 10.0.0.9 token#ab12"), 3)
		if err != nil || row.Params != rows[1].Params {
			t.Fatalf("Reveal(3): %+v, %v; want line 3's row", row.Params, err)
		}
		_, tl := agentOf(t, h.f, 3)
		if len(tl) != 2 || tl[0].Operation != "imported" || tl[1].Kind != fleet.EntryReveal || tl[1].Actor != "console 10.0.0.9 token#ab12" || tl[1].At.IsZero() {
			t.Errorf("timeline after a reveal: %+v; want the import, then the reveal, who and when", tl)
		}
		if _, err := h.f.Reveal(ctx, 99); !errors.Is(err, fleet.ErrNoSuchAgent) {
			t.Errorf("Reveal(99): %v; want ErrNoSuchAgent", err)
		}
		page, _, err := h.f.Agents(ctx, fleet.AgentFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprintf("%+v", page) == "" || strings.Contains(fmt.Sprintf("%#v", page), rows[1].Params.IdentityNumber) {
			t.Errorf("the agent list holds an identity number")
		}
		scanForPersonalData(t, "the journal", []byte(journalText(t, h.db)), personalForms(rows))

		if _, err := h.db.Forget(ctx, fleet.Forget{Line: 3}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.f.Reveal(ctx, 3); !errors.Is(err, fleet.ErrErased) {
			t.Errorf("Reveal of an erased agent: %v; want ErrErased", err)
		}
		if _, tl := agentOf(t, h.f, 3); tl[len(tl)-1].Actor != fleet.CommandActor {
			t.Errorf("erasure without WithActor: actor %q; want %q", tl[len(tl)-1].Actor, fleet.CommandActor)
		}

		keyless, err := fleet.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer keyless.Close()
		f, err := fleet.New(fleet.Config{DB: keyless})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Reveal(ctx, 2); !errors.Is(err, fleet.ErrNoDataKey) {
			t.Errorf("Reveal without the data key: %v; want ErrNoDataKey", err)
		}
	})
}

// insertAgents writes n agents straight into the run's table (lines 2 to
// n+1), in four kinds: approved, rejected with code 14 or 10, in review,
// parked. Their rows are empty: the list never opens them.
func insertAgents(t testing.TB, db *fleet.DB, postgres bool, n int) {
	t.Helper()
	tx, err := db.SQL().Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck
	const cols = 9
	for start := 0; start < n; start += 500 {
		end := min(start+500, n)
		var b strings.Builder
		b.WriteString("INSERT INTO fleet_agents (key, line, row, state, agent_id, kyc_status, rejection_code, created_at, updated_at) VALUES ")
		var args []any
		for i := start; i < end; i++ {
			if i > start {
				b.WriteString(", ")
			}
			b.WriteString("(")
			for c := range cols {
				if c > 0 {
					b.WriteString(", ")
				}
				if postgres {
					fmt.Fprintf(&b, "$%d", len(args)+c+1)
				} else {
					b.WriteString("?")
				}
			}
			b.WriteString(")")
			state, status, code := agentKind(i)
			args = append(args, fmt.Sprintf("bench-%07d", i), i+2, "", state, int64(1001+i), status, code, int64(1), int64(1))
		}
		if _, err := tx.Exec(b.String(), args...); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if postgres {
		if _, err := db.SQL().Exec("ANALYZE fleet_agents"); err != nil {
			t.Fatal(err)
		}
	}
}

// agentKind is the state, KYC status and rejection code of inserted agent
// i.
func agentKind(i int) (string, string, int) {
	switch i % 4 {
	case 0:
		return fleet.StateApproved, "APPROVED", 0
	case 1:
		if i%8 == 1 {
			return fleet.StateRejected, "REJECTED", 14
		}
		return fleet.StateRejected, "REJECTED", 10
	case 2:
		return fleet.StateInReview, "PENDING", 0
	}
	return fleet.StateAttention, "", 0
}

// Agents pages through the run in line order with each filter, every
// agent once; a page's size is 50 by default and at most 500.
func TestAgentsFilterAndPaging(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn, dir string) {
		ctx := context.Background()
		h := newHarness(t, dsn)
		const n = 1203
		insertAgents(t, h.db, strings.HasPrefix(dsn, "postgres"), n)
		all := func(filter fleet.AgentFilter) []int {
			t.Helper()
			var lines []int
			for pages := 0; ; pages++ {
				page, next, err := h.f.Agents(ctx, filter)
				if err != nil {
					t.Fatal(err)
				}
				if pages > n {
					t.Fatal("paging does not end")
				}
				for _, r := range page {
					lines = append(lines, r.Line)
				}
				if next == 0 {
					return lines
				}
				if len(page) == 0 || next != page[len(page)-1].Line {
					t.Fatalf("next %d after a page ending at line %d", next, page[len(page)-1].Line)
				}
				filter.AfterLine = next
			}
		}
		want := func(keep func(i int) bool) []int {
			var lines []int
			for i := range n {
				if keep(i) {
					lines = append(lines, i+2)
				}
			}
			return lines
		}
		cases := []struct {
			name   string
			filter fleet.AgentFilter
			keep   func(i int) bool
		}{
			{"all", fleet.AgentFilter{Limit: 100}, func(int) bool { return true }},
			{"state", fleet.AgentFilter{State: fleet.StateRejected, Limit: 77}, func(i int) bool { return i%4 == 1 }},
			{"kyc status", fleet.AgentFilter{KYCStatus: "PENDING"}, func(i int) bool { return i%4 == 2 }},
			{"code", fleet.AgentFilter{Code: 14, Limit: 500}, func(i int) bool { return i%8 == 1 }},
			{"state and code", fleet.AgentFilter{State: fleet.StateRejected, Code: 10}, func(i int) bool { return i%8 == 5 }},
			{"attention", fleet.AgentFilter{Attention: true, Limit: 1000}, func(i int) bool { return i%4 == 3 }},
			{"line", fleet.AgentFilter{Line: 700}, func(i int) bool { return i == 698 }},
			{"agent id", fleet.AgentFilter{AgentID: 1001 + 40}, func(i int) bool { return i == 40 }},
			{"after a line", fleet.AgentFilter{AfterLine: 1100}, func(i int) bool { return i+2 > 1100 }},
			{"no match", fleet.AgentFilter{State: fleet.StateNew}, func(int) bool { return false }},
		}
		for _, c := range cases {
			got, wantLines := all(c.filter), want(c.keep)
			if fmt.Sprint(got) != fmt.Sprint(wantLines) {
				t.Errorf("%s: %d lines (first %v); want %d (first %v)", c.name, len(got), got[:min(3, len(got))], len(wantLines), wantLines[:min(3, len(wantLines))])
			}
		}
		for limit, size := range map[int]int{0: fleet.DefaultPage, 10_000: fleet.MaxPage, 7: 7} {
			page, next, err := h.f.Agents(ctx, fleet.AgentFilter{Limit: limit})
			if err != nil || len(page) != size || next != page[size-1].Line {
				t.Errorf("Limit %d: %d agents, next %d, %v; want %d", limit, len(page), next, err, size)
			}
		}
		page, _, err := h.f.Agents(ctx, fleet.AgentFilter{State: fleet.StateRejected, Limit: 1})
		if err != nil || page[0].RejectionCode != 14 || page[0].Rejection == "" || len(page[0].Fix) == 0 || page[0].AgentID != 1002 {
			t.Errorf("a rejected agent in the list: %+v, %v; want its code, text, fix and agent id", page, err)
		}
	})
}

// Summary counts the KYC statuses beside the states, and the agents that
// reached a final state in the last minute and the last 10 minutes (the
// rate of a live run), by the database's clock.
func TestSummaryStatusesAndRate(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn, dir string) {
		ctx := context.Background()
		h := newHarness(t, dsn)
		postgres := strings.HasPrefix(dsn, "postgres")
		insertAgents(t, h.db, postgres, 8) // 2 of each kind
		var now int64
		q := "SELECT CAST(unixepoch('subsec') * 1000 AS INTEGER)"
		if postgres {
			q = "SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint"
		}
		must(t, h.db.SQL().QueryRow(q).Scan(&now))
		// Final: lines 2 and 6 approved, 3 and 7 rejected, 5 and 9 parked;
		// 4 and 8 in review are not final.
		at := map[int]int64{2: now - 20_000, 3: now - 5*60_000, 6: now - 30*60_000, 7: now - 50_000, 5: now - 9*60_000, 9: now - 11*60_000, 4: now, 8: now}
		for line, ms := range at {
			arg := "?"
			if postgres {
				arg = "$1"
			}
			if _, err := h.db.SQL().Exec("UPDATE fleet_agents SET updated_at = "+arg+" WHERE line = "+fmt.Sprint(line), ms); err != nil {
				t.Fatal(err)
			}
		}
		sum, err := h.f.Summary(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if sum.FinishedLastMinute != 2 || sum.FinishedLast10Minutes != 4 {
			t.Errorf("finished in the last minute %d, 10 minutes %d; want 2 and 4", sum.FinishedLastMinute, sum.FinishedLast10Minutes)
		}
		if want := (fleet.Counts{"APPROVED": 2, "REJECTED": 2, "PENDING": 2, "": 2}); fmt.Sprint(sum.KYCStatuses) != fmt.Sprint(want) {
			t.Errorf("KYC statuses %v; want %v", sum.KYCStatuses, want)
		}
		if sum.Total != 8 || len(sum.Attention) != 2 {
			t.Errorf("total %d, attention %d; want 8 and 2", sum.Total, len(sum.Attention))
		}
	})
}

// Requests whose reply is lost are journaled with their Request-ID: a
// correction the SDK confirmed by reading the agent (sent once), and a
// create whose outcome is unknown, parked with its reason, then taken on
// by a person giving the agent id or confirming that Flip created
// nothing: each action is in the timeline with its actor, and no create is
// sent again without the confirmation.
func TestJournalLostReplies(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn, dir string) {
		ctx := fleet.WithActor(context.Background(), "console")
		h := newHarness(t, dsn)
		rows := readRows(t, writeRun(t, dir, 3, map[int]int{0: 14}))
		if _, _, err := h.f.Import(ctx, rows[:1]); err != nil {
			t.Fatal(err)
		}
		h.run(h.f) // line 2 rejected
		// Lines 3 and 4: one created with its reply lost, the other not
		// created (a 504 before Flip looked).
		h.fake.FailNextAfterApplying(flipkyctest.RouteCreateAgent, 1, 504)
		h.fake.FailNext(flipkyctest.RouteCreateAgent, 1, 504)
		if _, _, err := h.f.Import(ctx, rows[1:]); err != nil {
			t.Fatal(err)
		}
		h.run(h.f)

		// Line 2's correction: Flip applies it, the reply is lost.
		h.fake.DropNextAfterApplying(flipkyctest.RouteRepairPhoto, 1)
		if bad, err := h.f.Repair(ctx, []fleet.Repair{{Line: 2, AgentLine: 2, IdentityImageData: pngBytes(t, 5)}}); err != nil || len(bad) > 0 {
			t.Fatalf("Repair: %v %v", err, bad)
		}
		var parked []fleet.Record
		for _, r := range records(t, h.db) {
			if r.State == fleet.StateAttention {
				parked = append(parked, r)
			}
		}
		if len(parked) != 2 || parked[0].WayOut != fleet.WayOutAgentID {
			t.Fatalf("parked %+v; want 2 at their create", parked)
		}
		// Which of the two Flip created: the fake has one agent more than
		// the run knows.
		var created, notCreated fleet.Record
		var createdID int64
		for _, a := range h.fake.Agents() {
			for i, p := range parked {
				if a.IdentityNumber == p.IdentityNumber {
					created, notCreated, createdID = p, parked[1-i], a.ID
				}
			}
		}
		if createdID == 0 {
			t.Fatal("Flip created neither parked agent")
		}
		_, tl := agentOf(t, h.f, created.Line)
		sending, _ := findEntry(tl, fleet.EntryRequest, "create", "sending")
		if e, ok := findEntry(tl, fleet.EntryRequest, "create", "outcome unknown: HTTP 504"); !ok || e.RequestID != sending.RequestID || e.RequestID != created.CreateRequestID {
			t.Errorf("line %d: no create with outcome unknown under its Request-ID in:\n%s", created.Line, timelineText(tl))
		}
		if _, ok := findEntry(tl, fleet.EntryState, "parked", "create outcome unknown"); !ok {
			t.Errorf("line %d: not parked in the timeline:\n%s", created.Line, timelineText(tl))
		}
		bad, err := h.f.Repair(ctx, []fleet.Repair{
			{Line: created.Line, AgentLine: created.Line, AgentID: createdID},
			{Line: notCreated.Line, AgentLine: notCreated.Line, NotCreated: notCreated.CreateRequestID},
		})
		if err != nil || len(bad) > 0 {
			t.Fatalf("Repair: %v %v", err, bad)
		}
		h.run(h.f)
		if c, _ := h.db.Counts(ctx); c[fleet.StateApproved] != 3 {
			t.Fatalf("counts %v; want 3 approved", c)
		}
		if n := len(h.fake.RequestsTo(flipkyctest.RouteRepairPhoto)); n != 1 {
			t.Errorf("%d identity photo repairs sent; want 1", n)
		}
		if n := len(h.fake.RequestsTo(flipkyctest.RouteCreateAgent)); n != 4 {
			t.Errorf("%d creates sent; want 4 (the one Flip did not make sent again, no other)", n)
		}
		_, tl = agentOf(t, h.f, 2)
		if _, ok := findEntry(tl, fleet.EntryRequest, "repair identity image", "accepted: the reply was lost"); !ok {
			t.Errorf("line 2: the lost reply is not in:\n%s", timelineText(tl))
		}
		_, tl = agentOf(t, h.f, created.Line)
		if e, ok := findEntry(tl, fleet.EntryAction, "agent_id", fmt.Sprintf("agent %d checked with Flip", createdID)); !ok || e.Actor != "console" {
			t.Errorf("line %d: no agent_id action by the console in:\n%s", created.Line, timelineText(tl))
		}
		_, tl = agentOf(t, h.f, notCreated.Line)
		if e, ok := findEntry(tl, fleet.EntryAction, "not_created", "Flip created no agent"); !ok || e.Actor != "console" || e.RequestID != notCreated.CreateRequestID {
			t.Errorf("line %d: no not_created action by the console in:\n%s", notCreated.Line, timelineText(tl))
		}
		if e, ok := findEntry(tl, fleet.EntryRequest, "create", "created: agent"); !ok || e.RequestID == notCreated.CreateRequestID {
			t.Errorf("line %d: the second create is not under a new Request-ID:\n%s", notCreated.Line, timelineText(tl))
		}
	})
}

// BenchmarkAgentsPage reads one page of 50 agents of a run of 50,000
// inserted directly: the first page, a page deep in the list (after line
// 49,000), and the same two with a filter on the state. Keyset paging on
// indexes makes a deep page cost about what the first does: compare
// ns/op of deep and first.
func BenchmarkAgentsPage(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			ctx := context.Background()
			dsn := runDSN(b, db, b.TempDir())
			d, err := fleet.Open(ctx, dsn, fleet.WithDataKey(testDataKey(b)))
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			insertAgents(b, d, db == "postgres", 50_000)
			f, err := fleet.New(fleet.Config{DB: d})
			if err != nil {
				b.Fatal(err)
			}
			for _, c := range []struct {
				name   string
				filter fleet.AgentFilter
			}{
				{"first", fleet.AgentFilter{}},
				{"deep", fleet.AgentFilter{AfterLine: 49_000}},
				{"state/first", fleet.AgentFilter{State: fleet.StateRejected}},
				{"state/deep", fleet.AgentFilter{State: fleet.StateRejected, AfterLine: 49_000}},
			} {
				b.Run(c.name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						page, _, err := f.Agents(ctx, c.filter)
						if err != nil || len(page) == 0 {
							b.Fatal(len(page), err)
						}
					}
				})
			}
		})
	}
}

// Rekey renames the agents by the new key's hash in the journal too: each
// agent keeps its timeline.
func TestRekeyKeepsTimelines(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn, dir string) {
		ctx := context.Background()
		h := newHarness(t, dsn)
		importCSV(t, h.f, writeRun(t, dir, 2, nil))
		if _, err := h.f.Reveal(fleet.WithActor(ctx, "auditor"), 3); err != nil {
			t.Fatal(err)
		}
		_, before := agentOf(t, h.f, 3)
		next, err := fleet.NewDataKey([]byte(strings.Repeat("k", fleet.DataKeySize)))
		if err != nil {
			t.Fatal(err)
		}
		if err := h.db.Rekey(ctx, next); err != nil {
			t.Fatal(err)
		}
		d, err := fleet.Open(ctx, dsn, fleet.WithDataKey(next))
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		f, err := fleet.New(fleet.Config{DB: d})
		if err != nil {
			t.Fatal(err)
		}
		_, after := agentOf(t, f, 3)
		if len(before) != 2 || fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("timeline after Rekey:\n%s\nwant as before:\n%s", timelineText(after), timelineText(before))
		}
	})
}
