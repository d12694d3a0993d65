package fleet_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flipkyc/flipkyc/fleet"
)

// CSVReader reads the CSV a batch at a time: each Next reads at most the
// rows asked for, bad rows are reported by line, field and rule in the
// batch that reads them, and a row that repeats the identity or phone
// number of a row of an earlier batch is bad.
func TestCSVReaderReadsInBatches(t *testing.T) {
	dir := t.TempDir()
	path := writeRun(t, dir, 0, nil) // the images
	head := "name,identity_type,identity_number,birth_date,birth_place,gender,occupation,country_id,province_id,city_id,district_id,address,phone_number,email,identity_image,selfie_image\n"
	row := func(i int, nik, phone, date string) string {
		return fmt.Sprintf("Agent Number %d,ktp,%s,%s,Kota Depok,male,entrepreneur,1,12,184,1234,Jalan Margonda Raya %d,%s,,ktp.png,selfie.png\n", i, nik, date, i, phone)
	}
	nik := func(i int) string { return fmt.Sprintf("3201%08d0000", i) }
	phone := func(i int) string { return fmt.Sprintf("08%010d", i) }
	csv := head +
		row(0, nik(0), phone(0), "31-10-1990") + // line 2
		row(1, nik(1), phone(1), "31-13-1990") + // line 3: bad date
		row(2, nik(2), phone(2), "31-10-1990") + // line 4
		"\n" + // line 5: blank, skipped
		row(3, nik(0), phone(3), "31-10-1990") + // line 6: line 2's identity number
		row(4, nik(4), phone(2), "31-10-1990") + // line 7: line 4's phone
		row(5, nik(5), phone(5), "31-10-1990") + // line 8
		row(6, nik(1), phone(1), "31-10-1990") + // line 9: line 3's numbers: the same agent, though line 3 was bad
		row(7, nik(7), "+62"+strings.TrimPrefix(phone(5), "0"), "31-10-1990") // line 10: line 8's phone as Flip stores it
	c, err := fleet.NewCSVReader(strings.NewReader(csv), filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want := []struct {
		lines []int
		bad   []string
		read  int
	}{
		{[]int{2, 4}, []string{"line 3: birth_date: want DD-MM-YYYY or YYYY-MM-DD, a real calendar day"}, 3},
		{[]int{8}, []string{
			"line 6: identity_number: the same as line 2's: one agent per identity number",
			"line 7: phone_number: the same as line 4's: Flip registers a phone number once",
		}, 6},
		{nil, []string{
			"line 9: identity_number: the same as line 3's: one agent per identity number",
			"line 9: phone_number: the same as line 3's: Flip registers a phone number once",
			"line 10: phone_number: the same as line 8's: Flip registers a phone number once",
		}, 8},
	}
	for i, w := range want {
		rows, bad, err := c.Next(3)
		if err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		lines, got := lineNumbers(rows), rowErrors(bad)
		if fmt.Sprint(lines) != fmt.Sprint(w.lines) || got != strings.Join(w.bad, "\n") || c.Rows() != w.read {
			t.Errorf("batch %d: good lines %v, bad %q, %d rows read; want %v, %q, %d", i, lines, got, c.Rows(), w.lines, w.bad, w.read)
		}
	}
	if rows, bad, err := c.Next(3); !errors.Is(err, io.EOF) || rows != nil || bad != nil {
		t.Errorf("after the last row: %v %v %v, want io.EOF", rows, bad, err)
	}
}

// A line the CSV reader cannot parse is a bad row, named by the line its
// record starts on and where the parse failed, and the reading goes on
// after it; a quoted field left open, which takes the lines after it as
// its value, stops the reading with an error naming the line.
func TestCSVReaderParseError(t *testing.T) {
	dir := t.TempDir()
	path := writeRun(t, dir, 3, nil) // lines 2 to 4
	head, err := os.ReadFile(path)
	must(t, err)
	lines := strings.SplitAfter(string(head), "\n")
	good := lines[1]
	for _, tc := range []struct {
		name, bad string
		want      []string
		after     int // the good rows read after the bad line
	}{
		{"bare quote", "Agent \"quoted\" badly,ktp\n",
			[]string{"line 5: row: cannot be read as CSV (byte 7): bare \" in non-quoted-field"}, 1},
		{"quote left open", "\"Agent quoted,ktp\n",
			[]string{"CSV line 5: a quoted field opened there is still open at line 6: the lines after it were read as its value"}, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			after := strings.Replace(strings.Replace(good, "3201", "3209", 1), ",08", ",09", 1) // another agent
			data := string(head) + tc.bad + after
			c, err := fleet.NewCSVReader(strings.NewReader(data), dir)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var rows []fleet.Row
			var bad []string
			for {
				r, b, err := c.Next(2)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil && tc.after < 0 {
					if err.Error() != tc.want[0] {
						t.Errorf("got %v, want %q", err, tc.want[0])
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				rows = append(rows, r...)
				for _, e := range b {
					bad = append(bad, e.Error())
				}
			}
			if len(rows) != 3+tc.after {
				t.Errorf("%d good rows, want %d", len(rows), 3+tc.after)
			}
			if len(bad) != 1 || !strings.HasPrefix(bad[0], tc.want[0]) {
				t.Errorf("bad rows %q, want one starting %q", bad, tc.want[0])
			}
		})
	}
}

// The rows that broke a rule outside their location columns are kept for
// their locations to be checked too; a row whose location column is bad
// is not.
func TestCSVReaderBadRowPlaces(t *testing.T) {
	dir := t.TempDir()
	path := writeRun(t, dir, 0, nil) // the images
	head := "name,identity_type,identity_number,birth_date,birth_place,gender,occupation,province_id,province,city,district,address,phone_number,identity_image,selfie_image\n"
	csv := head +
		"Agent A,ktp,3201000000010000,31-02-1990,Kota Depok,male,entrepreneur,,Jawa Barat,Jakarta,Beji,Jalan Margonda 1,081111111111,ktp.png,selfie.png\n" + // line 2: bad date
		"Agent B,ktp,3201000000020000,31-10-1990,Kota Depok,male,entrepreneur,,Jawa Barat,Kota Depok,Beji,Jalan Margonda 2,082222222222,ktp.png,selfie.png\n" + // line 3: good
		"Agent C,ktp,3201000000030000,31-10-1990,Kota Depok,male,entrepreneur,,Jawa Barat,Kota Depok,Beji,Jalan Margonda 3,083333333333,missing.png,selfie.png\n" + // line 4: no image
		"Agent D,ktp,3201000000040000,31-02-1990,Kota Depok,male,entrepreneur,12,Jawa Barat,Kota Depok,Beji,Jalan Margonda 4,084444444444,ktp.png,selfie.png\n" // line 5: bad date, and its province twice
	c, err := fleet.NewCSVReader(strings.NewReader(csv), filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rows, bad, err := c.Next(10)
	if err != nil || len(rows) != 1 || len(bad) != 4 {
		t.Fatalf("Next: %d good, %v bad, %v; want line 3 good, lines 2, 4 and 5 bad", len(rows), bad, err)
	}
	var lines []int
	for _, r := range c.BadRowPlaces() {
		lines = append(lines, r.Line)
		if r.Places.Province != "Jawa Barat" {
			t.Errorf("line %d: places %+v", r.Line, r.Places)
		}
	}
	if fmt.Sprint(lines) != "[2 4]" {
		t.Errorf("bad rows to locate: lines %v, want [2 4]", lines)
	}
	if _, _, err := c.Next(10); !errors.Is(err, io.EOF) || len(c.BadRowPlaces()) != 0 {
		t.Errorf("after the end: %v, %d bad rows to locate; want io.EOF and none", err, len(c.BadRowPlaces()))
	}
}

// A row's every problem is reported at once (a date that cannot be read
// does not hide the phone and e-mail after it); a row of empty fields (a
// spreadsheet's empty row) is skipped like a blank line; a row with more
// or fewer fields than the header is one problem, not one per column;
// phone numbers written with spaces, dashes or brackets are compared as
// Flip registers them.
func TestCSVReaderRowProblems(t *testing.T) {
	dir := t.TempDir()
	path := writeRun(t, dir, 0, nil) // the images
	head := "name,identity_type,identity_number,birth_date,birth_place,gender,occupation,country_id,province_id,city_id,district_id,address,phone_number,email,identity_image,selfie_image\n"
	row := func(nik, date, phone, email string) string {
		return fmt.Sprintf("Agent Number,ktp,%s,%s,Kota Depok,male,entrepreneur,1,12,184,1234,Jalan Margonda Raya 1,%s,%s,ktp.png,selfie.png\n", nik, date, phone, email)
	}
	for _, tc := range []struct {
		name, rows string
		good       []int
		bad        []string
	}{
		{"every problem of a row", row("3201000000010000", "1-1-90", "628123456789", "not-an-email"), nil, []string{
			"line 2: birth_date: want DD-MM-YYYY or YYYY-MM-DD, a real calendar day",
			"line 2: phone_number: must start with 0 or + (a country code follows +, as in +62…)",
			"line 2: email: must be an email address: a name, then @, then a domain with a dot",
		}},
		{"empty row", ",,,,,,,,,,,,,,,\n" + row("3201000000010000", "31-10-1990", "081200000001", ""), []int{3}, nil},
		{"spare empty fields", strings.TrimSuffix(row("3201000000010000", "31-10-1990", "081200000001", ""), "\n") + ",,\n", []int{2}, nil},
		{"fields missing", "Agent Number,ktp,3201000000010000\n", nil, []string{
			"line 2: row: has 3 fields, the header 16: a separator too many or too few?",
		}},
		{"a field too many", strings.TrimSuffix(row("3201000000010000", "31-10-1990", "081200000001", ""), "\n") + ",extra\n", nil, []string{
			"line 2: row: has 17 fields, the header 16: a separator too many or too few?",
		}},
		{"numbers a spreadsheet wrote in scientific notation", row("3.20101E+15", "31-10-1990", "6.28123E+11", ""), nil, []string{
			"line 2: identity_number: written as a number in scientific notation (E+) by a spreadsheet, which lost its last digits: format the column as text and export the CSV again",
			"line 2: phone_number: written as a number in scientific notation (E+) by a spreadsheet, which lost its last digits: format the column as text and export the CSV again",
		}},
		{"phone written with separators", row("3201000000010000", "31-10-1990", "0812-0000-0001", "") + row("3201000000020000", "31-10-1990", "+62 812 0000 0001", ""), []int{2}, []string{
			"line 3: phone_number: the same as line 2's: Flip registers a phone number once",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, bad, err := fleet.ReadCSV(strings.NewReader(head+tc.rows), filepath.Dir(path))
			if err != nil {
				t.Fatal(err)
			}
			lines, got := lineNumbers(rows), rowErrors(bad)
			if fmt.Sprint(lines) != fmt.Sprint(tc.good) || got != strings.Join(tc.bad, "\n") {
				t.Errorf("good lines %v, bad %q; want %v, %q", lines, got, tc.good, tc.bad)
			}
		})
	}
}

// The header: an empty file, a CSV separated by semicolons and missing
// columns (all of them named at once, a location by id or by name) are
// errors; a column onboard does not read is a note, naming the column it
// likely misspells.
func TestCSVHeader(t *testing.T) {
	dir := t.TempDir()
	writeRun(t, dir, 0, nil) // the images
	const full = "name,identity_type,identity_number,birth_date,birth_place,gender,occupation,province,city_id,district,address,phone_number,identity_image,selfie_image"
	for _, tc := range []struct {
		name, header, err string
		notes             []string
	}{
		{"empty", "", "the CSV is empty: its first line must name its columns", nil},
		{"semicolons", strings.ReplaceAll(full, ",", ";"), "the header is one column with ';' or tabs in it: the CSV's fields must be separated by commas", nil},
		{"missing columns", strings.NewReplacer("birth_date,", "", "phone_number,", "").Replace(full), "the CSV has none of the columns birth_date, phone_number", nil},
		{"missing columns and a location", strings.NewReplacer("birth_date,", "", "province,", "").Replace(full), "the CSV has none of the columns birth_date, province_id or province", nil},
		{"a column twice", full + ",phone_number", "the header names the column phone_number twice", nil},
		{"a location neither by id nor by name", strings.Replace(full, "province,", "", 1), "the CSV has no province_id or province column", nil},
		{"columns it does not read", full + ",emial,notes", "", []string{
			"line 1: column 15: not a column onboard reads: ignored; is it email misspelt?",
			"line 1: column 16: not a column onboard reads: ignored",
		}},
		{"the header after blank lines", "\n\n" + full + ",notes", "", []string{"line 3: column 15: not a column onboard reads: ignored"}},
		{"a control character in a name", full + ",\"x\x1b[2J\ny\"", "", []string{"line 1: column 15: not a column onboard reads: ignored"}},
		{"a heading it does not read twice", full + ",notes,Notes", "", []string{
			"line 1: column 15: not a column onboard reads: ignored",
			"line 1: column 16: not a column onboard reads: ignored",
		}},
		// A row joined to the header line, or no header line: the values
		// are never printed.
		{"an identity number in the header", full + ",Siti Rahayu,3201010101900002", "line 1, column 16: the header holds a value (a long number, a date or an e-mail address), not a column name: is the header line missing, or a row joined to it?", nil},
		{"a phone number in the header", full + ",Jalan Pajajaran 22,+62 812 0000 0002", "line 1, column 16: the header holds a value", nil},
		{"a birth date in the header", full + ",02-03-1988", "line 1, column 15: the header holds a value", nil},
		{"a date the other way round", full + ",1988/3/2", "line 1, column 15: the header holds a value", nil},
		{"an e-mail address in the header", full + ",siti@example.com", "line 1, column 15: the header holds a value", nil},
		{"no header line", "Siti Rahayu,ktp,3201010101900002,02-03-1988,Kota Depok,female,x,Jawa Barat,Kota Depok,Beji,Jalan Pajajaran 22,081200000002,ktp.png,selfie.png,Kota Depok", "line 1, column 3: the header holds a value", nil},
		{"a name given twice, not a column", "Kota Depok,Kota Depok," + full, "", []string{
			"line 1: column 1: not a column onboard reads: ignored",
			"line 1: column 2: not a column onboard reads: ignored",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := fleet.NewCSVReader(strings.NewReader(tc.header), dir)
			if tc.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
					t.Fatalf("got %v, want an error starting %q", err, tc.err)
				}
				for _, data := range []string{"siti", "3201", "0002", "1988", "pajajaran", "example", "depok"} {
					if strings.Contains(strings.ToLower(err.Error()), data) {
						t.Errorf("the error %q quotes the header's data %q", err, data)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var got []string
			for _, n := range c.HeaderNotes() {
				got = append(got, n.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tc.notes, "\n") {
				t.Errorf("notes %q, want %q", got, tc.notes)
			}
		})
	}
}

// A row may leave out optional columns at its end (a last e-mail column),
// but not a required one.
func TestCSVRowLeavesOutOptionalColumns(t *testing.T) {
	dir := t.TempDir()
	writeRun(t, dir, 0, nil) // the images
	head := "name,identity_type,identity_number,birth_date,birth_place,gender,occupation,province_id,city_id,district_id,address,identity_image,selfie_image,phone_number,email\n"
	base := "Agent Number,ktp,3201000000010000,31-10-1990,Kota Depok,male,entrepreneur,12,184,1234,Jalan Margonda Raya 1,ktp.png,selfie.png"
	rows, bad, err := fleet.ReadCSV(strings.NewReader(head+base+",081200000001\n"+strings.Replace(base, "3201000000010000", "3201000000020000", 1)+"\n"), dir)
	if err != nil {
		t.Fatal(err)
	}
	got := rowErrors(bad)
	if len(rows) != 1 || rows[0].Line != 2 || got != "line 3: row: has 13 fields, the header 15: a separator too many or too few?" {
		t.Errorf("%d good rows, bad %q; want line 2 good (its e-mail left out) and line 3 bad (its phone left out)", len(rows), got)
	}
}
