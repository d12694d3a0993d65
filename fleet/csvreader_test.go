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
		row(6, nik(1), phone(1), "31-10-1990") // line 9: line 3's numbers, but line 3 was bad
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
		{[]int{9}, nil, 7},
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

// A line the CSV reader cannot parse stops the reading, naming the line;
// the batches before it were read.
func TestCSVReaderParseError(t *testing.T) {
	dir := t.TempDir()
	path := writeRun(t, dir, 2, nil)
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
	if _, _, err := c.Next(2); err == nil || !strings.Contains(err.Error(), "CSV line 4") {
		t.Errorf("got %v, want an error naming CSV line 4", err)
	}
}
