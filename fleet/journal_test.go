package fleet_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/fleet"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// forEachDB runs f on a new SQLite run and on a new Postgres run.
func forEachDB(t *testing.T, f func(t *testing.T, dsn, dir string)) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			dir := t.TempDir()
			dsn := runDSN(t, db, dir)
			f(t, dsn, dir)
		})
	}
}

// agentOf returns the agent of line and its timeline.
func agentOf(t *testing.T, f *fleet.Fleet, line int) (fleet.Record, []fleet.Entry) {
	t.Helper()
	r, tl, err := f.Agent(context.Background(), line)
	if err != nil {
		t.Fatalf("Agent(%d): %v", line, err)
	}
	return r, tl
}

// findEntry returns the first entry of the timeline of kind and operation
// whose result starts with result.
func findEntry(timeline []fleet.Entry, kind, operation, result string) (fleet.Entry, bool) {
	for _, e := range timeline {
		if e.Kind == kind && e.Operation == operation && strings.HasPrefix(e.Result, result) {
			return e, true
		}
	}
	return fleet.Entry{}, false
}

// requestIDs returns the Request-IDs the fake received on the routes.
func requestIDs(fake *flipkyctest.Server, routes ...flipkyctest.Route) []string {
	var ids []string
	for _, r := range routes {
		for _, req := range fake.RequestsTo(r) {
			ids = append(ids, req.Header.Get("Request-ID"))
		}
	}
	return ids
}

// stateChanging are the routes of the requests that change an agent at
// Flip.
var stateChanging = []flipkyctest.Route{flipkyctest.RouteCreateAgent, flipkyctest.RouteUpdateAgent, flipkyctest.RouteUploadImage,
	flipkyctest.RouteDocuments, flipkyctest.RouteSubmit, flipkyctest.RouteRepairData, flipkyctest.RouteRepairPhoto, flipkyctest.RouteRepairSelfie}

// journalText is every entry of the run's journal as text, one line each.
func journalText(t *testing.T, db *fleet.DB) string {
	t.Helper()
	rows, err := db.SQL().Query("SELECT agent_key, at, kind, operation, request_id, result, actor FROM fleet_journal ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var key, kind, op, rid, result, actor string
		var at int64
		if err := rows.Scan(&key, &at, &kind, &op, &rid, &result, &actor); err != nil {
			t.Fatal(err)
		}
		b.WriteString(strings.Join([]string{key, kind, op, rid, result, actor}, "|") + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// A whole run leaves in each agent's timeline every request sent for it,
// with the Request-ID Flip received, its intent before it and its result
// after, the callbacks and the final state, oldest first; every
// state-changing request Flip received is in the journal. Erasing an
// agent's personal data keeps its timeline (with the erasure in it), and
// no personal value is anywhere in the journal.
func TestJournalOfARun(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn, dir string) {
		ctx := context.Background()
		h := newHarness(t, dsn)
		rows := readRows(t, writeRun(t, dir, 3, map[int]int{1: 14}))
		if _, _, err := h.f.Import(ctx, rows); err != nil {
			t.Fatal(err)
		}
		h.run(h.f)

		rec, tl := agentOf(t, h.f, 2)
		if rec.State != fleet.StateApproved || rec.IdentityNumber != "" {
			t.Fatalf("line 2: %+v; want approved, no identity number", rec)
		}
		for i := 1; i < len(tl); i++ {
			if tl[i].At.Before(tl[i-1].At) {
				t.Errorf("timeline not oldest first at %d: %v after %v", i, tl[i].At, tl[i-1].At)
			}
		}
		if len(tl) == 0 || tl[0].Kind != fleet.EntryState || tl[0].Operation != "imported" || tl[0].Actor != fleet.CommandActor {
			t.Errorf("line 2's timeline does not start with its import by the command:\n%s", timelineText(tl))
		}
		for _, want := range []struct{ kind, op, result string }{
			{fleet.EntryRequest, "create", "sending"},
			{fleet.EntryRequest, "create", "created: agent "},
			{fleet.EntryRequest, "upload identity image", "sending"},
			{fleet.EntryRequest, "upload identity image", "accepted"},
			{fleet.EntryRequest, "upload selfie", "sending"},
			{fleet.EntryRequest, "upload selfie", "accepted"},
			{fleet.EntryRequest, "submit", "sending"},
			{fleet.EntryRequest, "submit", "accepted: in review"},
			{fleet.EntryState, fleet.StateApproved, "status APPROVED"},
		} {
			if _, ok := findEntry(tl, want.kind, want.op, want.result); !ok {
				t.Errorf("line 2's timeline has no %s %q %q…:\n%s", want.kind, want.op, want.result, timelineText(tl))
			}
		}
		// Each request's intent and result carry the same Request-ID,
		// the one Flip received.
		received := requestIDs(h.fake, stateChanging...)
		for _, op := range []string{"create", "upload identity image", "upload selfie", "submit"} {
			sending, _ := findEntry(tl, fleet.EntryRequest, op, "sending")
			var done fleet.Entry
			for _, e := range tl {
				if e.Kind == fleet.EntryRequest && e.Operation == op && e.Result != "sending" {
					done = e
				}
			}
			if sending.RequestID == "" || done.RequestID != sending.RequestID || !slices.Contains(received, sending.RequestID) {
				t.Errorf("%s: intent Request-ID %q, result %q; want the same, one Flip received", op, sending.RequestID, done.RequestID)
			}
		}
		// The decision came by callback or by a read: either is there.
		_, byCallback := findEntry(tl, fleet.EntryCallback, "callback", "status APPROVED")
		_, byRead := findEntry(tl, fleet.EntryRequest, "get agent", "status APPROVED")
		if !byCallback && !byRead {
			t.Errorf("line 2's timeline has neither the APPROVED callback nor a read of it:\n%s", timelineText(tl))
		}
		_, rejected := agentOf(t, h.f, 3)
		if _, ok := findEntry(rejected, fleet.EntryState, fleet.StateRejected, "status REJECTED, rejection code 14"); !ok {
			t.Errorf("line 3's timeline has no rejection:\n%s", timelineText(rejected))
		}
		// Every state-changing request Flip received is journaled.
		journal := journalText(t, h.db)
		for _, id := range received {
			if !strings.Contains(journal, id) {
				t.Errorf("Request-ID %s that Flip received is not in the journal", id)
			}
		}

		// Erasure keeps the journal, and records itself in it.
		if _, err := h.db.Forget(fleet.WithActor(ctx, "operator test"), fleet.Forget{Line: 2}); err != nil {
			t.Fatal(err)
		}
		_, after := agentOf(t, h.f, 2)
		if len(after) != len(tl)+1 {
			t.Errorf("after the erasure the timeline has %d entries, want %d (all kept, and the erasure)", len(after), len(tl)+1)
		}
		if e := after[len(after)-1]; e.Kind != fleet.EntryAction || e.Operation != "erase" || e.Actor != "operator test" {
			t.Errorf("last entry %+v; want the erasure by operator test", e)
		}
		scanForPersonalData(t, "the journal", []byte(journalText(t, h.db)), personalForms(rows))
	})
}

func timelineText(tl []fleet.Entry) string {
	var b strings.Builder
	for _, e := range tl {
		b.WriteString(strings.Join([]string{e.At.Format("15:04:05.000"), e.Kind, e.Operation, e.RequestID, e.Result, e.Actor}, " | ") + "\n")
	}
	return b.String()
}

// pngBytes is a PNG meeting Flip's image rules (256×256), its pixels
// varied by seed so that each is a new file.
func pngBytes(t *testing.T, seed uint8) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 256, 256))
	for x := 0; x < 256; x++ {
		img.Set(x, 255-x, color.RGBA{seed, uint8(x), 0, 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// tinyPNG is a PNG too small for Flip's image rules.
func tinyPNG(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The console's corrections: photos and documents given as bytes, the
// agent named by its line. Bytes that break Flip's image rules, and a line
// no agent has, are refused per field before anything is stored or sent.
// Good ones are queued in one transaction with their job (stored sealed:
// the bytes are nowhere in the database file in clear), sent once, and
// dropped once sent; the timeline shows who queued each and the request
// that sent it with the Request-ID Flip received.
func TestConsoleRepairs(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn, dir string) {
		h := newHarness(t, dsn)
		// Line 3: identity photo (14), line 4: selfie (23), line 5:
		// supporting documents (11).
		importCSV(t, h.f, writeRun(t, dir, 4, map[int]int{1: 14, 2: 23, 3: 11}))
		h.run(h.f)
		ctx := fleet.WithActor(context.Background(), "console 127.0.0.1 token#test")

		bad, err := h.f.Repair(ctx, []fleet.Repair{
			{Line: 3, AgentLine: 3, IdentityImageData: tinyPNG(t)},
			{Line: 4, AgentLine: 4, SelfieImageData: []byte("not an image at all")},
			{Line: 5, AgentLine: 5, Documents: []fleet.DocumentFile{{Type: flipkyc.DocumentFamilyCard, Data: tinyPNG(t)}}},
			{Line: 99, AgentLine: 99, IdentityImageData: pngBytes(t, 1)},
		})
		if err != nil {
			t.Fatal(err)
		}
		var fields []string
		for _, b := range bad {
			fields = append(fields, b.Error())
		}
		want := []string{"line 3: identity_image: Flip's image rules", "line 4: selfie_image: ", "line 5: documents: Flip's image rules", "line 99: line: no agent"}
		if len(fields) != len(want) {
			t.Fatalf("refused %q; want %d", fields, len(want))
		}
		for i, w := range want {
			if !strings.HasPrefix(fields[i], w) {
				t.Errorf("refusal %d: %q; want %q…", i, fields[i], w)
			}
		}
		if c, _ := h.db.Counts(ctx); c[fleet.StateRejected] != 3 {
			t.Fatalf("after refused corrections: %v; want the 3 still rejected", c)
		}

		photo, selfie, doc := pngBytes(t, 7), pngBytes(t, 8), pngBytes(t, 9)
		bad, err = h.f.Repair(ctx, []fleet.Repair{
			{Line: 3, AgentLine: 3, IdentityImageData: photo},
			{Line: 4, AgentLine: 4, SelfieImageData: selfie},
			{Line: 5, AgentLine: 5, Documents: []fleet.DocumentFile{{Type: flipkyc.DocumentFamilyCard, Data: doc}}},
		})
		if err != nil || len(bad) > 0 {
			t.Fatalf("Repair: %v %v", err, bad)
		}
		var queued, jobs int
		must(t, h.db.SQL().QueryRow("SELECT COUNT(*) FROM fleet_agents WHERE state = 'repair_queued' AND repair <> ''").Scan(&queued))
		must(t, h.db.SQL().QueryRow("SELECT COUNT(*) FROM river_job WHERE kind = 'fleet_repair' AND state = 'available'").Scan(&jobs))
		if queued != 3 || jobs != 3 {
			t.Fatalf("%d corrections queued with %d jobs; want 3 and 3", queued, jobs)
		}
		if !strings.HasPrefix(dsn, "postgres") {
			h.db.SQL().Exec("PRAGMA wal_checkpoint(TRUNCATE)") //nolint:errcheck
			files, _ := filepath.Glob(dsn + "*")
			for _, file := range files {
				b, _ := os.ReadFile(file)
				for _, img := range [][]byte{photo, selfie, doc} {
					if bytes.Contains(b, img[len(img)-200:]) {
						t.Errorf("%s holds an uploaded image in clear", filepath.Base(file))
					}
				}
			}
		}

		h.run(h.f)
		if c, _ := h.db.Counts(ctx); c[fleet.StateApproved] != 4 {
			t.Fatalf("after the corrections: %v; want 4 approved", c)
		}
		for route, n := range map[flipkyctest.Route]int{flipkyctest.RouteRepairPhoto: 1, flipkyctest.RouteRepairSelfie: 1, flipkyctest.RouteDocuments: 1} {
			if got := len(h.fake.RequestsTo(route)); got != n {
				t.Errorf("%s: %d requests, want %d", route, got, n)
			}
		}
		if sizes := h.fake.RequestsTo(flipkyctest.RouteRepairPhoto)[0].Files; len(sizes) != 1 || !slices.Contains(mapValues(sizes), int64(len(photo))) {
			t.Errorf("the identity photo sent: %v; want the %d bytes given", sizes, len(photo))
		}
		var left int
		must(t, h.db.SQL().QueryRow("SELECT COUNT(*) FROM fleet_agents WHERE repair <> ''").Scan(&left))
		if left != 0 {
			t.Errorf("%d corrections kept after they were sent; want none", left)
		}
		received := requestIDs(h.fake, flipkyctest.RouteRepairPhoto, flipkyctest.RouteRepairSelfie, flipkyctest.RouteDocuments)
		for line, op := range map[int]string{3: "repair identity image", 4: "repair selfie", 5: "upload documents"} {
			_, tl := agentOf(t, h.f, line)
			queuedEntry, ok := findEntry(tl, fleet.EntryRepair, "correction", "queued: ")
			if !ok || queuedEntry.Actor != "console 127.0.0.1 token#test" {
				t.Errorf("line %d: repair entry %+v; want one by the console", line, queuedEntry)
			}
			sent, ok := findEntry(tl, fleet.EntryRequest, op, "accepted")
			if !ok || !slices.Contains(received, sent.RequestID) {
				t.Errorf("line %d: %s entry %+v; want accepted, with a Request-ID Flip received", line, op, sent)
			}
		}
	})
}

func mapValues[K comparable, V any](m map[K]V) []V {
	var out []V
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// An agent parked after its uploads can be given a photo as bytes too:
// the photo is sent from the sealed correction, and the correction is
// dropped once the uploads are done.
func TestConsolePhotoForParkedUploads(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn, dir string) {
		h := newHarness(t, dsn)
		importCSV(t, h.f, writeRun(t, dir, 1, nil))
		must(t, os.Remove(filepath.Join(dir, "selfie.png")))
		if outs := parkedWayOuts(t, h); len(outs) != 1 || outs[0] != fleet.WayOutRepair {
			t.Fatalf("ways out %v; want repair", outs)
		}
		ctx := fleet.WithActor(context.Background(), "console test")
		if bad, err := h.f.Repair(ctx, []fleet.Repair{{Line: 2, AgentLine: 2, SelfieImageData: pngBytes(t, 3)}}); err != nil || len(bad) > 0 {
			t.Fatalf("Repair: %v %v", err, bad)
		}
		h.run(h.f)
		rec, tl := agentOf(t, h.f, 2)
		if rec.State != fleet.StateApproved {
			t.Fatalf("line 2 %s (%s); want approved", rec.State, rec.Attention)
		}
		if e, ok := findEntry(tl, fleet.EntryRepair, "correction", "queued for the uploads, from uploading_selfie: selfie"); !ok || e.Actor != "console test" {
			t.Errorf("no correction by the console in:\n%s", timelineText(tl))
		}
		var left int
		must(t, h.db.SQL().QueryRow("SELECT COUNT(*) FROM fleet_agents WHERE repair <> ''").Scan(&left))
		if left != 0 {
			t.Errorf("the correction is kept after the uploads")
		}
	})
}

// A correction that could not be read (its file vanished) parks the agent
// with way out repair; the console's photo as bytes replaces it, and the
// timeline shows both corrections, the parking and who replaced it.
func TestConsoleReplacesFailedCorrection(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn, dir string) {
		h := newHarness(t, dsn)
		importCSV(t, h.f, writeRun(t, dir, 1, map[int]int{0: 14}))
		h.run(h.f)
		copyFile(t, filepath.Join(dir, "ktp.png"), filepath.Join(dir, "ktp2.png"))
		reps := readRepairs(t, "identity_number,identity_image\n3201000000009914,ktp2.png\n", dir)
		if bad, err := h.f.Repair(context.Background(), reps); err != nil || len(bad) > 0 {
			t.Fatalf("Repair: %v %v", err, bad)
		}
		must(t, os.Remove(filepath.Join(dir, "ktp2.png")))
		if outs := parkedWayOuts(t, h); len(outs) != 1 || outs[0] != fleet.WayOutRepair {
			t.Fatalf("ways out %v; want repair", outs)
		}
		ctx := fleet.WithActor(context.Background(), "console replace")
		if bad, err := h.f.Repair(ctx, []fleet.Repair{{Line: 2, AgentLine: 2, IdentityImageData: pngBytes(t, 11)}}); err != nil || len(bad) > 0 {
			t.Fatalf("Repair: %v %v", err, bad)
		}
		h.run(h.f)
		rec, tl := agentOf(t, h.f, 2)
		if rec.State != fleet.StateApproved {
			t.Fatalf("line 2: %s (%s); want approved", rec.State, rec.Attention)
		}
		for _, want := range []struct{ kind, op, result, actor string }{
			{fleet.EntryRepair, "correction", "queued: repair_identity_image", fleet.CommandActor},
			{fleet.EntryState, "parked", "", ""},
			{fleet.EntryRepair, "correction", "queued in place of the correction that failed", "console replace"},
			{fleet.EntryRequest, "repair identity image", "accepted", ""},
		} {
			if e, ok := findEntry(tl, want.kind, want.op, want.result); !ok || e.Actor != want.actor {
				t.Errorf("no %s %q %q by %q in:\n%s", want.kind, want.op, want.result, want.actor, timelineText(tl))
			}
		}
		if n := len(h.fake.RequestsTo(flipkyctest.RouteRepairPhoto)); n != 1 {
			t.Errorf("%d identity photo repairs sent; want 1", n)
		}
	})
}

// Entries recorded together (a request's result with the next request's
// intent) are written in one statement and read back in the order given,
// each stamped, none before the one before it; no entries write nothing.
func TestEntriesRecordedTogether(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn, dir string) {
		ctx := context.Background()
		d, err := fleet.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if err := fleet.NoteForTest(ctx, d, "agent-a"); err != nil {
			t.Fatal(err)
		}
		want := []fleet.Entry{
			{Kind: fleet.EntryRequest, Operation: "create", RequestID: "r1", Result: "created: agent 7, status UPLOAD_IDENTITY_SELFIE_PROGRESS"},
			{Kind: fleet.EntryRequest, Operation: "upload identity image", RequestID: "r2", Result: "sending"},
			{Kind: fleet.EntryCallback, Operation: "callback", Result: "status PENDING", Actor: "someone"},
		}
		if err := fleet.NoteForTest(ctx, d, "agent-a", want[:1]...); err != nil {
			t.Fatal(err)
		}
		if err := fleet.NoteForTest(ctx, d, "agent-b", want[2]); err != nil {
			t.Fatal(err)
		}
		if err := fleet.NoteForTest(ctx, d, "agent-a", want[1:]...); err != nil {
			t.Fatal(err)
		}
		got, err := fleet.TimelineForTest(ctx, d, "agent-a")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("timeline has %d entries, want %d:\n%s", len(got), len(want), timelineText(got))
		}
		for i, e := range got {
			if e.At.IsZero() || (i > 0 && e.At.Before(got[i-1].At)) {
				t.Errorf("entry %d stamped %v after %v", i, e.At, got[max(i-1, 0)].At)
			}
			e.At = time.Time{}
			if e != want[i] {
				t.Errorf("entry %d = %+v, want %+v", i, e, want[i])
			}
		}
		if other, err := fleet.TimelineForTest(ctx, d, "agent-b"); err != nil || len(other) != 1 {
			t.Errorf("agent-b's timeline = %v, %v; want its one entry", other, err)
		}
	})
}

// A change recorded with its entries (one statement on Postgres) writes
// the entries given always whatever it changed, and the others only when
// it changed the agent, in their order, and says how many rows it changed.
func TestChangeRecordedWithItsEntries(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn, dir string) {
		ctx := context.Background()
		h := newHarness(t, dsn)
		if _, _, err := h.f.Import(ctx, readRows(t, writeRun(t, dir, 1, nil))); err != nil {
			t.Fatal(err)
		}
		var key string
		if err := h.db.SQL().QueryRowContext(ctx, "SELECT key FROM fleet_agents").Scan(&key); err != nil {
			t.Fatal(err)
		}
		// The agent is held by job 7's first attempt: a step's change is
		// fenced by its lease.
		if _, err := h.db.SQL().ExecContext(ctx, "UPDATE fleet_agents SET lease_job = 7, lease_attempt = 1"); err != nil {
			t.Fatal(err)
		}
		result := func(r string) fleet.Entry { return fleet.Entry{Kind: fleet.EntryRequest, Operation: "test", Result: r} }
		for _, c := range []struct {
			state     string // the change's condition
			job       int64  // the lease the change is made under (0: none)
			attempt   int
			always    []fleet.Entry
			ifChanged []fleet.Entry
			changed   int64
			want      []string // the results recorded
		}{
			{state: "nope", always: []fleet.Entry{result("a1"), result("a2")}, ifChanged: []fleet.Entry{result("c1")}, want: []string{"a1", "a2"}},
			{state: fleet.StateNew, always: []fleet.Entry{result("a3")}, ifChanged: []fleet.Entry{result("c2"), result("c3")}, changed: 1, want: []string{"a3", "c2", "c3"}},
			{state: fleet.StateNew, ifChanged: []fleet.Entry{result("c4")}, changed: 1, want: []string{"c4"}},
			{state: "nope", ifChanged: []fleet.Entry{result("c5")}},
			{state: fleet.StateNew, changed: 1},
			{state: fleet.StateNew, job: 7, attempt: 1, always: []fleet.Entry{result("a4")}, ifChanged: []fleet.Entry{result("c6")}, changed: 1, want: []string{"a4", "c6"}},
			{state: fleet.StateNew, job: 7, attempt: 2, always: []fleet.Entry{result("a5")}, ifChanged: []fleet.Entry{result("c7")}, want: []string{"a5"}},
			{state: fleet.StateNew, job: 8, attempt: 1, ifChanged: []fleet.Entry{result("c8")}},
		} {
			before, err := fleet.TimelineForTest(ctx, h.db, key)
			if err != nil {
				t.Fatal(err)
			}
			n, err := fleet.ChangeNotingForTest(ctx, h.f, c.job, c.attempt, key, c.always, c.ifChanged, "UPDATE fleet_agents SET polled_at = polled_at + 1 WHERE key = ? AND state = ?", key, c.state)
			if err != nil {
				t.Fatal(err)
			}
			after, err := fleet.TimelineForTest(ctx, h.db, key)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range after[len(before):] {
				if e.At.IsZero() || e.Operation != "test" {
					t.Errorf("entry %+v: want a stamped test entry", e)
				}
				got = append(got, e.Result)
			}
			if n != c.changed || !slices.Equal(got, c.want) {
				t.Errorf("state %q, lease %d/%d: changed %d, recorded %q; want %d, %q", c.state, c.job, c.attempt, n, got, c.changed, c.want)
			}
		}
	})
}
