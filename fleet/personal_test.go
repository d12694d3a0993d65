package fleet_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/fleet"
)

// personalForms are the forms in which a personal value could sit in a
// file: as written, lower-cased, and (for numbers and dates) its digits
// alone; a birth date also in Flip's and ISO order.
func personalForms(rows []fleet.Row, extra ...string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(v string) {
		if len(v) >= 4 && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	digits := regexp.MustCompile(`\D`)
	value := func(v string, number bool) {
		add(v)
		add(strings.ToLower(v))
		if number {
			add(digits.ReplaceAllString(v, ""))
		}
	}
	for _, r := range rows {
		p := r.Params
		value(p.Name, false)
		value(p.IdentityNumber, true)
		value(p.PhoneNumber, true)
		value(p.Address, false)
		value(p.BirthPlace, false)
		value(p.Email, false)
		d := p.BirthDate
		for _, s := range []string{d.String(), fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day), fmt.Sprintf("%04d%02d%02d", d.Year, d.Month, d.Day)} {
			value(s, true)
		}
	}
	for _, v := range extra {
		value(v, true)
	}
	return out
}

// scanForPersonalData fails the test for every form found in data.
func scanForPersonalData(t *testing.T, where string, data []byte, forms []string) {
	t.Helper()
	if len(data) == 0 {
		return
	}
	for _, v := range forms {
		if bytes.Contains(data, []byte(v)) {
			t.Errorf("%s holds the personal value %q", where, v)
		}
	}
}

// After a whole run (with callbacks, a repair of a rejected agent's data
// and a re-import of the same CSV), no personal value of the CSV or the
// correction appears anywhere in the database: every byte of the SQLite
// file and its write-ahead log, or a pg_dump of the Postgres database.
func TestNoPersonalDataAtRest(t *testing.T) {
	t.Parallel()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			dir := t.TempDir()
			dsn := runDSN(t, db, dir)
			ctx := context.Background()
			rows := readRows(t, writeRun(t, dir, 12, map[int]int{4: 10}))
			for i := range rows {
				rows[i].Params.Email = fmt.Sprintf("agent.number%d@example.com", i)
			}
			h := newHarness(t, dsn)
			if n, _, err := h.f.Import(ctx, rows); err != nil || n != len(rows) {
				t.Fatalf("Import: %d, %v", n, err)
			}
			h.run(h.f)
			// Duplicates are found through the keyed hash: nothing new.
			if n, _, err := h.f.Import(ctx, rows); err != nil || n != 0 {
				t.Fatalf("re-Import: %d new, %v; want 0", n, err)
			}
			fixed := "Agent Corrected Fourth"
			fixedPhone := "081234567890"
			bad, err := h.f.Repair(ctx, []fleet.Repair{{Line: 2, IdentityNumber: rows[4].Params.IdentityNumber,
				Data: &flipkyc.RepairDataParams{Name: fixed, PhoneNumber: fixedPhone}}})
			if err != nil || len(bad) > 0 {
				t.Fatalf("Repair: %v %v", bad, err)
			}
			h.run(h.newFleet(fleet.Config{}))
			c, _ := h.db.Counts(ctx)
			if c[fleet.StateApproved] != len(rows) {
				t.Fatalf("counts %v, want all approved", c)
			}
			// The records still give the identity numbers to the holder
			// of the key.
			recs := records(t, h.db)
			if recs[0].IdentityNumber != rows[0].Params.IdentityNumber {
				t.Errorf("Records()[0].IdentityNumber = %q, want the CSV's", recs[0].IdentityNumber)
			}
			var hashes []string
			r, err := h.db.SQL().Query("SELECT raw_sha256 FROM fleet_events")
			if err != nil {
				t.Fatal(err)
			}
			for r.Next() {
				var s string
				r.Scan(&s)
				hashes = append(hashes, s)
			}
			r.Close()
			if len(hashes) < 2*len(rows) || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(hashes[0]) {
				t.Errorf("stored callbacks: %d, first raw hash %q", len(hashes), hashes[0])
			}
			forms := personalForms(rows, fixed, fixedPhone)
			if db == "sqlite" {
				files, _ := filepath.Glob(dsn + "*")
				for _, file := range files {
					b, err := os.ReadFile(file)
					if err != nil {
						t.Fatal(err)
					}
					t.Logf("%s: %d bytes", filepath.Base(file), len(b))
					scanForPersonalData(t, filepath.Base(file), b, forms)
				}
				return
			}
			dump := pgDump(t, dsn)
			if !bytes.Contains(dump, []byte("fleet_agents")) {
				t.Fatalf("pg_dump holds no fleet_agents:\n%.500s", dump)
			}
			scanForPersonalData(t, "pg_dump", dump, forms)
		})
	}
}

// pgDump dumps the Postgres database dsn, data included.
func pgDump(t *testing.T, dsn string) []byte {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_dump")
	if len(bins) == 0 {
		t.Fatal("pg_dump not found under /usr/lib/postgresql")
	}
	var out, errOut bytes.Buffer
	cmd := exec.Command(bins[len(bins)-1], "--no-owner", "--dbname", dsn)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("pg_dump: %v: %s", err, errOut.String())
	}
	return out.Bytes()
}

// A run opened with another data key is refused, without a word of the
// keys; opened without a key, it still counts, and refuses what needs
// the personal data.
func TestWrongDataKeyIsRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dsn := filepath.Join(dir, "run.db")
	h := newHarness(t, dsn)
	rows := readRows(t, writeRun(t, dir, 2, nil))
	if _, _, err := h.f.Import(ctx, rows); err != nil {
		t.Fatal(err)
	}
	h.db.Close()

	other, err := fleet.NewDataKey(bytes.Repeat([]byte{7}, fleet.DataKeySize))
	if err != nil {
		t.Fatal(err)
	}
	if d, err := fleet.Open(ctx, dsn, fleet.WithDataKey(other)); !errors.Is(err, fleet.ErrWrongDataKey) {
		if d != nil {
			d.Close()
		}
		t.Fatalf("Open with another key: %v, want ErrWrongDataKey", err)
	}

	d, err := fleet.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("Open without a key: %v", err)
	}
	defer d.Close()
	if c, err := d.Counts(ctx); err != nil || c.Total() != 2 {
		t.Errorf("Counts without a key: %v, %v", c, err)
	}
	if _, err := d.Summarize(ctx); err != nil {
		t.Errorf("Summarize without a key: %v", err)
	}
	if recs, err := d.Records(ctx); err != nil || len(recs) != 2 || recs[0].IdentityNumber != "" {
		t.Errorf("Records without a key: %+v, %v; want two records without identity numbers", recs, err)
	}
	f, err := fleet.New(fleet.Config{DB: d})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.Import(ctx, rows); !errors.Is(err, fleet.ErrNoDataKey) {
		t.Errorf("Import without a key: %v, want ErrNoDataKey", err)
	}
}

// A key file is created owner-only, read back as the same key, and never
// written over; a malformed key says so without repeating it.
func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.key")
	k1, created, err := fleet.OpenOrCreateKeyFile(path)
	if err != nil || !created {
		t.Fatalf("OpenOrCreateKeyFile: created %v, %v", created, err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v; want 0600", st.Mode().Perm(), err)
	}
	k2, created, err := fleet.OpenOrCreateKeyFile(path)
	if err != nil || created {
		t.Fatalf("second OpenOrCreateKeyFile: created %v, %v", created, err)
	}
	dir := t.TempDir()
	dsn := filepath.Join(dir, "run.db")
	d1, err := fleet.Open(context.Background(), dsn, fleet.WithDataKey(k1))
	if err != nil {
		t.Fatal(err)
	}
	d1.Close()
	d2, err := fleet.Open(context.Background(), dsn, fleet.WithDataKey(k2))
	if err != nil {
		t.Fatalf("the key read back is not the key created: %v", err)
	}
	d2.Close()
	if _, err := fleet.CreateKeyFile(path); err == nil {
		t.Error("CreateKeyFile wrote over an existing key file")
	}
	const secretish = "c2hvcnQ="
	if _, err := fleet.ParseDataKey(secretish); err == nil || strings.Contains(err.Error(), secretish) {
		t.Errorf("ParseDataKey(short) = %v", err)
	}
}

// A photo that cannot be read parks its agent with a reason that does not
// name the file: photo names and directories are often people's names,
// and the reason is stored in clear and printed by status.
func TestUnreadablePhotoReasonLeavesOutThePath(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "Budi Santoso")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	rows := readRows(t, writeRun(t, dir, 1, nil))
	h := newHarness(t, filepath.Join(t.TempDir(), "run.db"))
	if _, _, err := h.f.Import(ctx, rows); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "ktp.png")); err != nil {
		t.Fatal(err)
	}
	h.run(h.f)
	r := records(t, h.db)[0]
	if r.State != fleet.StateAttention || !strings.Contains(r.Attention, "cannot read the identity image") || strings.Contains(r.Attention, "Budi") || strings.Contains(r.Attention, "ktp.png") {
		t.Errorf("agent %s, reason %q; want parked with a reason without the path", r.State, r.Attention)
	}
}

// A key file path that names no regular file (a directory, a device) is
// refused as such before it is read: reading a device such as /dev/zero
// would never end.
func TestKeyFileMustBeARegularFile(t *testing.T) {
	paths := []string{t.TempDir()}
	if _, err := os.Stat(os.DevNull); err == nil {
		paths = append(paths, os.DevNull)
	}
	for _, path := range paths {
		if _, err := fleet.ReadKeyFile(path); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("ReadKeyFile(%s) = %v, want an error saying it is not a regular file", path, err)
		}
		if _, _, err := fleet.OpenOrCreateKeyFile(path); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("OpenOrCreateKeyFile(%s) = %v, want an error saying it is not a regular file", path, err)
		}
	}
}
