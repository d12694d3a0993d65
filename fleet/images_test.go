package fleet_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flipkyc/flipkyc/fleet"
)

// Image columns name files inside the images directory, and each must be a
// PNG or JPEG that meets Flip's rules: anything else is a bad row, found
// while the CSV is read, before any agent is created.
func TestImageColumnsConfinedAndChecked(t *testing.T) {
	base := t.TempDir()
	images := filepath.Join(base, "images")
	if err := os.Mkdir(images, 0o700); err != nil {
		t.Fatal(err)
	}
	writeRun(t, images, 0, nil) // ktp.png and selfie.png
	good, err := os.ReadFile(filepath.Join(images, "ktp.png"))
	if err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(base, "outside.png")
	must(t, os.WriteFile(outside, good, 0o600))
	must(t, os.Symlink(outside, filepath.Join(images, "link.png")))
	must(t, os.Symlink("ktp.png", filepath.Join(images, "inner-link.png")))
	must(t, os.WriteFile(filepath.Join(images, "text.png"), []byte("this is not an image at all"), 0o600))
	must(t, os.WriteFile(filepath.Join(images, "empty.png"), nil, 0o600))
	must(t, os.WriteFile(filepath.Join(images, "tiny.png"), good[:12], 0o600))
	must(t, os.Mkdir(filepath.Join(images, "dir.png"), 0o700))
	must(t, os.WriteFile(filepath.Join(images, "big.png"), append(good, make([]byte, 2_000_000)...), 0o600))
	must(t, os.WriteFile(filepath.Join(images, "half.png"), good[:len(good)/2], 0o600))
	must(t, os.WriteFile(filepath.Join(images, "no-end.png"), good[:len(good)-12], 0o600))
	damaged := append([]byte{}, good...)
	damaged[len(damaged)-20] ^= 0x40 // in the last IDAT chunk
	must(t, os.WriteFile(filepath.Join(images, "damaged.png"), damaged, 0o600))

	tests := []struct{ image, rule string }{
		{"ktp.png", ""},
		{"inner-link.png", ""},
		{"./ktp.png", ""},
		{"../outside.png", "'..' leads out of it"},
		{"sub/../../outside.png", "'..' leads out of it"},
		{outside, "not an absolute path"},
		{filepath.Join(images, "ktp.png"), "not an absolute path"},
		{"link.png", "leads out of the images directory (--images) through a symbolic link"},
		{"text.png", "Flip's image rules: must be a PNG or JPEG image"},
		{"empty.png", "Flip's image rules: is empty"},
		{"tiny.png", "Flip's image rules: has an unreadable png header"},
		{"big.png", "Flip's image rules: must be under 2 MB"},
		{"half.png", "Flip's image rules: is a PNG cut short: it ends before its last chunk (IEND)"},
		{"no-end.png", "Flip's image rules: is a PNG cut short: it ends before its last chunk (IEND)"},
		{"damaged.png", "Flip's image rules: is a damaged PNG: a chunk's checksum (CRC) does not match its content"},
		{"dir.png", "not a regular file"},
		{"missing.png", "file not found in the images directory"},
		{"", "required"},
	}
	var csv strings.Builder
	csv.WriteString("name,identity_type,identity_number,birth_date,birth_place,gender,occupation,country_id,province_id,city_id,district_id,address,phone_number,identity_image,selfie_image\n")
	for i, tt := range tests {
		fmt.Fprintf(&csv, "Agent Number %d,ktp,3201%08d0000,31-10-1990,Kota Depok,male,entrepreneur,1,12,184,1234,Jalan Margonda Raya %d,08%010d,%s,selfie.png\n", i, i, i, i, tt.image)
	}
	rows, bad, err := fleet.ReadCSV(strings.NewReader(csv.String()), images)
	if err != nil {
		t.Fatal(err)
	}
	byLine := map[int]fleet.RowError{}
	for _, b := range bad {
		if _, twice := byLine[b.Line]; twice || b.Field != "identity_image" {
			t.Errorf("unexpected %v", b)
		}
		byLine[b.Line] = b
	}
	accepted := map[int]fleet.Row{}
	for _, r := range rows {
		accepted[r.Line] = r
	}
	for i, tt := range tests {
		line := i + 2
		if tt.rule == "" {
			r, ok := accepted[line]
			if !ok {
				t.Errorf("%q: refused: %v", tt.image, byLine[line])
				continue
			}
			if r.Images != images || !strings.HasPrefix(r.IdentityImage, images+string(filepath.Separator)) {
				t.Errorf("%q: stored %q in %q", tt.image, r.IdentityImage, r.Images)
			}
			continue
		}
		if b, ok := byLine[line]; !ok || !strings.Contains(b.Rule, tt.rule) {
			t.Errorf("%q: got %v, want the rule %q", tt.image, b, tt.rule)
		}
		if strings.Contains(byLine[line].Rule, base) {
			t.Errorf("%q: the rule repeats the path: %v", tt.image, byLine[line])
		}
	}

	// The repair CSV's images and documents follow the same rules.
	repairs, bad, err := fleet.ReadRepairCSV(strings.NewReader("identity_number,identity_image,documents\n"+
		"3201000000010000,../outside.png,\n"+
		"3201000000020000,,family_card=link.png\n"+
		"3201000000030000,text.png,\n"+
		"3201000000040000,,npwp=ktp.png\n"), images)
	if err != nil {
		t.Fatal(err)
	}
	if len(repairs) != 1 || repairs[0].Line != 5 || repairs[0].Images != images {
		t.Errorf("repairs %+v", repairs)
	}
	if len(bad) != 3 || bad[0].Field != "identity_image" || bad[1].Field != "documents" || bad[2].Field != "identity_image" {
		t.Errorf("bad repair rows %v", bad)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
