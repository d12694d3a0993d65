package fleet_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flipkyc/flipkyc/fleet"
)

// testDataKeyText is the data key of the tests' runs, in base64 (as in
// FLIPKYC_DATA_KEY).
const testDataKeyText = "dGVzdCBkYXRhIGtleSBvZiB0aGUgZmxlZXQgdGVzdHM="

// copyFixture copies the run testdata/name (see testdata/README.md) to
// path, owner-only, for a test to open and change.
func copyFixture(t testing.TB, name, path string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func testDataKey(t testing.TB) *fleet.DataKey {
	t.Helper()
	k, err := fleet.ParseDataKey(testDataKeyText)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// openTestRun opens the run at dsn with the test's data key; it is closed
// when t ends.
func openTestRun(t testing.TB, dsn string) *fleet.DB {
	t.Helper()
	db, err := fleet.Open(context.Background(), dsn, fleet.WithDataKey(testDataKey(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// writeRun writes n agents as an onboarding CSV with its two images in
// dir and returns the CSV's path. Identity numbers ending in 99NN are
// rejected with code NN by the fake's default reviewer; reject maps a row
// index to such a code.
func writeRun(t testing.TB, dir string, n int, reject map[int]int) string {
	t.Helper()
	for i, name := range []string{"ktp.png", "selfie.png"} {
		img := image.NewRGBA(image.Rect(0, 0, 256, 256))
		for x := 0; x < 256; x++ {
			img.Set(x, x, color.RGBA{uint8(i * 100), 0, 0, 255})
		}
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var csv strings.Builder
	csv.WriteString("name,identity_type,identity_number,birth_date,birth_place,gender,occupation,country_id,province_id,city_id,district_id,address,phone_number,email,identity_image,selfie_image\n")
	for i := range n {
		nik := fmt.Sprintf("3201%08d0000", i)
		if code, ok := reject[i]; ok {
			nik = fmt.Sprintf("3201%08d99%02d", i, code)
		}
		fmt.Fprintf(&csv, "Agent Number %d,ktp,%s,31-10-1990,Kota Depok,male,entrepreneur,1,12,184,1234,Jalan Margonda Raya %d,08%010d,,ktp.png,selfie.png\n", i, nik, i, i)
	}
	path := filepath.Join(dir, "agents.csv")
	if err := os.WriteFile(path, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// rowErrors is errs one per line, as the command prints them.
func rowErrors(errs []fleet.RowError) string {
	var lines []string
	for _, e := range errs {
		lines = append(lines, e.Error())
	}
	return strings.Join(lines, "\n")
}

// lineNumbers is the CSV line of each of rows.
func lineNumbers(rows []fleet.Row) []int {
	var lines []int
	for _, r := range rows {
		lines = append(lines, r.Line)
	}
	return lines
}
