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
		row(6, nik(1), phone(1), "31-10-1990") + // line 9: line 3's numbers, but line 3 was bad
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
		{[]int{9}, []string{"line 10: phone_number: the same as line 8's: Flip registers a phone number once"}, 8},
	}
	for i, w := range want {
		rows, bad, err := c.Next(3)
		if err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		var lines []int
		for _, r := range rows {
			lines = append(lines, r.Line)
		}
		var got []string
		for _, b := range bad {
			got = append(got, b.Error())
		}
		if fmt.Sprint(lines) != fmt.Sprint(w.lines) || strings.Join(got, "\n") != strings.Join(w.bad, "\n") || c.Rows() != w.read {
			t.Errorf("batch %d: good lines %v, bad %q, %d rows read; want %v, %q, %d", i, lines, got, c.Rows(), w.lines, w.bad, w.read)
		}
	}
	if rows, bad, err := c.Next(3); !errors.Is(err, io.EOF) || rows != nil || bad != nil {
		t.Errorf("after the last row: %v %v %v, want io.EOF", rows, bad, err)
	}
}

// A line the CSV reader cannot parse stops the reading, naming the line
// and the byte in it; the batches before it were read, and the rows before it in
// its batch are returned with the error.
func TestCSVReaderParseError(t *testing.T) {
	dir := t.TempDir()
	path := writeRun(t, dir, 3, nil)
	head, err := os.ReadFile(path)
	must(t, err)
	data := string(head) + "Agent \"quoted\" badly,ktp\n"
	c, err := fleet.NewCSVReader(strings.NewReader(data), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if rows, _, err := c.Next(2); err != nil || len(rows) != 2 {
		t.Fatalf("first batch: %d rows, %v", len(rows), err)
	}
	rows, _, err := c.Next(2)
	if err == nil || !strings.Contains(err.Error(), "CSV line 5 at byte 7:") {
		t.Errorf("got %v, want an error naming CSV line 5 at byte 7", err)
	}
	if len(rows) != 1 || rows[0].Line != 4 {
		t.Errorf("with the error: %d rows; want line 4's", len(rows))
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
