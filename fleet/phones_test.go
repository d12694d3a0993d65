package fleet_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flipkyc/flipkyc/fleet"
)

// A new agent whose phone number an agent of the run has, written as Flip
// stores it or not, is refused by Import and by InRun before anything is
// sent; so is a second new row with one number. An agent already in the
// run keeps its own number. The numbers are read from the run's sealed
// rows by another process too; an erased agent's row has none.
func TestImportRefusesAPhoneTheRunHas(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn, dir string) {
		ctx := context.Background()
		rows := readRows(t, writeRun(t, dir, 3, nil)) // lines 2 to 4; phones 080000000000…
		h := newHarness(t, dsn)
		if n, refused, err := h.f.Import(ctx, rows[:2]); err != nil || n != 2 || len(refused) > 0 {
			t.Fatalf("Import: %d %v %v", n, refused, err)
		}
		if _, err := h.db.Forget(ctx, fleet.Forget{Line: rows[1].Line}); err != nil {
			t.Fatal(err)
		}
		newRow := func(line int, phone string) fleet.Row {
			r := rows[2]
			r.Line, r.Params.IdentityNumber, r.Params.PhoneNumber = line, fmt.Sprintf("32019999%04d0000", line), phone
			return r
		}
		local := rows[0].Params.PhoneNumber // 0800…
		batch := []fleet.Row{
			rows[0], // the run's agent, its own number
			newRow(10, "+62 "+local[1:4]+"-"+local[4:]), // line 2's number, as Flip stores it
			newRow(11, rows[1].Params.PhoneNumber),      // the erased agent's
			newRow(12, "081200001111"),
			newRow(13, "0812-0000-1111"), // line 12's
		}
		want := []string{
			"line 10: phone_number: another agent of the run has it (line 2): Flip registers a phone number once",
			"line 13: phone_number: the same as line 12's: Flip registers a phone number once",
		}
		for _, fresh := range []bool{false, true} {
			db := h.db
			if fresh { // another process: the numbers come from the sealed rows
				db = openTestRun(t, dsn)
			}
			refused, noted, err := db.InRun(ctx, batch[:4])
			if err != nil {
				t.Fatal(err)
			}
			if got := rowErrors(refused); got != want[0] {
				t.Errorf("InRun (another process %v) refused:\n%s\nwant\n%s", fresh, got, want[0])
			}
			if len(noted) != 1 || noted[0].Line != rows[0].Line {
				t.Errorf("InRun noted %v, want line %d (in the run)", noted, rows[0].Line)
			}
		}
		f := h.newFleet(fleet.Config{})
		n, refused, err := f.Import(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		if got := rowErrors(refused); n != 2 || got != strings.Join(want, "\n") {
			t.Errorf("Import: %d added, refused:\n%s\nwant 2 (lines 11 and 12), refused:\n%s", n, got, strings.Join(want, "\n"))
		}
		// What was imported counts for the next rows.
		if _, refused, err := f.Import(ctx, []fleet.Row{newRow(14, "+6281200001111")}); err != nil || len(refused) != 1 || !strings.Contains(refused[0].Rule, "(line 12)") {
			t.Errorf("Import of line 12's number again: %v %v", refused, err)
		}
		var lines []int
		for _, r := range records(t, h.db) {
			lines = append(lines, r.Line)
		}
		slices.Sort(lines)
		if fmt.Sprint(lines) != "[2 3 11 12]" {
			t.Errorf("the run's agents are of lines %v, want [2 3 11 12]", lines)
		}
	})
}

// A run of schema version 2 (before the phone numbers' keys) is converted
// to version 3 by the first process that opens it, with the data key or
// not; its agents' phone numbers are found once a process with the key
// has opened it, and a new agent with one of them is refused. A run of
// version 2 is made from a new one by taking version 3's column away.
func TestMigrateV2PhoneKeys(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn, dir string) {
		ctx := context.Background()
		rows := readRows(t, writeRun(t, dir, 3, nil))
		h := newHarness(t, dsn)
		if n, _, err := h.f.Import(ctx, rows[:2]); err != nil || n != 2 {
			t.Fatalf("Import: %d %v", n, err)
		}
		for _, q := range []string{"DROP INDEX fleet_agents_phone_key", "ALTER TABLE fleet_agents DROP COLUMN phone_key", "UPDATE fleet_schema SET version = 2"} {
			if _, err := h.db.SQL().Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		h.db.Close()
		count := func(d *fleet.DB) (version, keys int) {
			t.Helper()
			if err := d.SQL().QueryRow("SELECT MAX(version) FROM fleet_schema").Scan(&version); err != nil {
				t.Fatal(err)
			}
			if err := d.SQL().QueryRow("SELECT COUNT(*) FROM fleet_agents WHERE phone_key <> ''").Scan(&keys); err != nil {
				t.Fatal(err)
			}
			return version, keys
		}
		// A process without the key (listen) converts it; the keys wait.
		d, err := fleet.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		if v, keys := count(d); v != 3 || keys != 0 {
			t.Errorf("opened without the key: version %d, %d phone keys; want 3, none", v, keys)
		}
		d.Close()
		d = openTestRun(t, dsn)
		if v, keys := count(d); v != 3 || keys != 2 {
			t.Errorf("opened with the key: version %d, %d phone keys; want 3, 2", v, keys)
		}
		fresh := rows[2]
		fresh.Params.PhoneNumber = rows[1].Params.PhoneNumber
		if refused, _, err := d.InRun(ctx, []fleet.Row{fresh}); err != nil || rowErrors(refused) != "line 4: phone_number: another agent of the run has it (line 3): Flip registers a phone number once" {
			t.Errorf("InRun of a new agent with line 3's phone number: %v %v", refused, err)
		}
	})
}

// A correction to a phone number another agent of the run has, or a
// correction queued for another agent, is refused before anything is
// sent, from a repair CSV and from a changed row of the onboarding CSV,
// and --check (InRun) notes it; a new agent with a queued correction's
// number is refused too. The agent's own number, or a new one, is taken.
func TestCorrectionToAPhoneOfTheRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	h := newHarness(t, filepath.Join(dir, "run.db"))
	rows := readRows(t, writeRun(t, dir, 3, map[int]int{2: 10})) // line 4 rejected: its data
	// Another agent, outside the run, holds line 2's phone number: its
	// create is refused, and it is parked for a repair.
	onboardWithPhoneTaken(t, h, rows[0], filepath.Join(dir, "agents.csv"))
	nik, line3Phone := rows[0].Params.IdentityNumber, rows[1].Params.PhoneNumber
	sent := len(h.fake.Requests())
	line3 := records(t, h.db)[1]
	want := fmt.Sprintf("phone_number: another agent of the run has it (line 3, Flip's agent %d): Flip registers a phone number once", line3.AgentID)
	bad, err := h.f.Repair(ctx, readRepairs(t, "identity_number,phone_number\n"+nik+",+62"+line3Phone[1:]+"\n", dir))
	if err != nil || rowErrors(bad) != "line 2: "+want {
		t.Errorf("Repair to line 3's phone number: %v %v; want %q", bad, err, "line 2: "+want)
	}
	changed := rows[0]
	changed.Params.PhoneNumber = line3Phone
	n, ignored, err := h.f.TakeChanges(ctx, []fleet.Row{changed})
	if err != nil || n != 0 || len(ignored) != 1 || !strings.Contains(ignored[0].Rule, want) {
		t.Errorf("TakeChanges of a row with line 3's phone number: %d taken, %v, %v; want it left, saying %q", n, ignored, err, want)
	}
	// --check notes it as onboard does.
	if refused, noted, err := h.db.InRun(ctx, []fleet.Row{changed}); err != nil || len(refused) > 0 || len(noted) != 2 || noted[1].Rule != "changed, but "+want[len("phone_number: "):]+": onboard does not take it as a correction" {
		t.Errorf("InRun of the changed row: refused %v, noted %v, %v; want the row in the run and its phone number noted: %q", refused, noted, err, want)
	}
	// A correction queued for line 4, not yet sent, holds its number.
	const queuedPhone = "081255550000"
	if bad, err := h.f.Repair(ctx, readRepairs(t, "identity_number,phone_number\n"+rows[2].Params.IdentityNumber+","+queuedPhone+"\n", dir)); err != nil || len(bad) > 0 {
		t.Fatalf("Repair of line 4: %v %v", err, bad)
	}
	line4 := records(t, h.db)[2]
	queued := fmt.Sprintf("a correction queued for another agent of the run has it (line 4, Flip's agent %d): Flip registers a phone number once", line4.AgentID)
	changed.Params.PhoneNumber = queuedPhone
	if n, ignored, err := h.f.TakeChanges(ctx, []fleet.Row{changed}); err != nil || n != 0 || len(ignored) != 1 || !strings.Contains(ignored[0].Rule, queued) {
		t.Errorf("TakeChanges of a row with line 4's queued number: %d taken, %v, %v; want it left, saying %q", n, ignored, err, queued)
	}
	if _, noted, err := h.db.InRun(ctx, []fleet.Row{changed}); err != nil || len(noted) != 2 || !strings.Contains(noted[1].Rule, queued) {
		t.Errorf("InRun of the row with line 4's queued number: noted %v, %v; want it noted: %q", noted, err, queued)
	}
	fresh := rows[1]
	fresh.Line, fresh.Params.IdentityNumber, fresh.Params.PhoneNumber = 9, "3201999999980000", queuedPhone
	if n, refused, err := h.f.Import(ctx, []fleet.Row{fresh}); err != nil || n != 0 || rowErrors(refused) != "line 9: phone_number: "+queued {
		t.Errorf("Import of a new agent with line 4's queued number: %d added, %v, %v; want it refused: %q", n, refused, err, queued)
	}
	// The agent of line 3 is not parked: onboard would not take its
	// changed row, and --check notes no number for it.
	moved := rows[1]
	moved.Params.PhoneNumber = queuedPhone
	if _, noted, err := h.db.InRun(ctx, []fleet.Row{moved}); err != nil || len(noted) != 1 {
		t.Errorf("InRun of line 3's changed row: noted %v, %v; want only that the run has it", noted, err)
	}
	if got := len(h.fake.Requests()); got != sent {
		t.Errorf("%d requests sent for the refused corrections", got-sent)
	}
	if bad, err := h.f.Repair(ctx, readRepairs(t, "identity_number,phone_number\n"+nik+",081234567890\n", dir)); err != nil || len(bad) > 0 {
		t.Fatalf("Repair to a new number: %v %v", err, bad)
	}
	h.run(h.f)
	if c, _ := h.db.Counts(ctx); c[fleet.StateApproved] != 3 {
		t.Fatalf("counts %v, want all 3 approved once corrected", c)
	}
}

// Two corrections to one phone number are not both queued: the second
// names the agent whose correction has it, in the same repair CSV or a
// later one while that correction waits to be sent, and then the agent
// that has it.
func TestRepairsToOnePhone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	h := newHarness(t, filepath.Join(dir, "run.db"))
	rows := readRows(t, writeRun(t, dir, 3, map[int]int{0: 10, 1: 10, 2: 10}))
	importCSV(t, h.f, filepath.Join(dir, "agents.csv"))
	h.run(h.f)
	recs := records(t, h.db)
	for _, r := range recs {
		if r.State != fleet.StateRejected {
			t.Fatalf("agent of line %d %s, want rejected", r.Line, r.State)
		}
	}
	const phone = "081277770000"
	repair := func(rows ...fleet.Row) string {
		t.Helper()
		csv := "identity_number,phone_number\n"
		for _, r := range rows {
			csv += r.Params.IdentityNumber + "," + phone + "\n"
		}
		bad, err := h.f.Repair(ctx, readRepairs(t, csv, dir))
		if err != nil {
			t.Fatal(err)
		}
		return rowErrors(bad)
	}
	queued := fmt.Sprintf("phone_number: a correction queued for another agent of the run has it (line 2, Flip's agent %d): Flip registers a phone number once", recs[0].AgentID)
	if got := repair(rows[0], rows[1]); got != "line 3: "+queued {
		t.Errorf("one repair CSV giving two agents one number: %q, want the second refused: %q", got, "line 3: "+queued)
	}
	if got := repair(rows[2]); got != "line 2: "+queued {
		t.Errorf("a later repair CSV giving a third agent the number: %q, want %q", got, "line 2: "+queued)
	}
	h.run(h.newFleet(fleet.Config{}))
	has := fmt.Sprintf("phone_number: another agent of the run has it (line 2, Flip's agent %d): Flip registers a phone number once", recs[0].AgentID)
	if got := repair(rows[2]); got != "line 2: "+has {
		t.Errorf("once the correction was sent: %q, want %q", got, "line 2: "+has)
	}
	if c, _ := h.db.Counts(ctx); c[fleet.StateApproved] != 1 || c[fleet.StateRejected] != 2 {
		t.Errorf("counts %v, want the corrected agent approved and the other two rejected", c)
	}
}

// TestOpenNewRunAtOnce opens a brand-new SQLite run from two handles at
// once (two processes starting on one CSV): River's migration and the
// fleet's take turns, and both open it.
func TestOpenNewRunAtOnce(t *testing.T) {
	t.Parallel()
	for round := range 8 {
		openTwiceAtOnce(t, round, filepath.Join(t.TempDir(), "run.db"))
	}
}

// openTwiceAtOnce opens the run at dsn from two handles at once, and
// closes them.
func openTwiceAtOnce(t *testing.T, round int, dsn string) {
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			d, err := fleet.Open(context.Background(), dsn, fleet.WithDataKey(testDataKey(t)))
			if err == nil {
				err = d.Close()
			}
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("round %d: %v", round, err)
		}
	}
}

// Two processes opening a SQLite run of schema version 2 at once both
// open it: the second finds it converted in its transaction and starts
// again from there.
func TestOpenOlderRunAtOnce(t *testing.T) {
	t.Parallel()
	for round := range 5 {
		dsn := filepath.Join(t.TempDir(), "run.db")
		d := openTestRun(t, dsn)
		for _, q := range []string{"DROP INDEX fleet_agents_repair", "DROP INDEX fleet_agents_phone_key", "ALTER TABLE fleet_agents DROP COLUMN phone_key", "UPDATE fleet_schema SET version = 2"} {
			if _, err := d.SQL().Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		d.Close()
		openTwiceAtOnce(t, round, dsn)
	}
}
