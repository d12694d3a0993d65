package fleet_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/flipkyc/flipkyc/fleet"
)

// BenchmarkCSVReaderImages reads a CSV of 10,000 rows as onboard --check
// does (every row parsed, both its images checked against Flip's rules),
// each row naming photos of about 1.4 MB, as a camera takes them: it
// reports the time and bytes allocated per row, and the largest heap seen
// between batches, which stays flat however many rows are read.
//
//	go test -run '^$' -bench CSVReaderImages -benchmem ./fleet
func BenchmarkCSVReaderImages(b *testing.B) {
	for _, kind := range []string{"jpeg", "png"} {
		b.Run(kind, func(b *testing.B) {
			const rows = 10_000
			dir := b.TempDir()
			photo := benchPhoto(b, kind)
			for _, name := range []string{"ktp", "selfie"} {
				if err := os.WriteFile(filepath.Join(dir, name+"."+kind), photo, 0o600); err != nil {
					b.Fatal(err)
				}
			}
			var csv strings.Builder
			csv.WriteString("name,identity_type,identity_number,birth_date,birth_place,gender,occupation,country_id,province_id,city_id,district_id,address,phone_number,identity_image,selfie_image\n")
			for i := range rows {
				fmt.Fprintf(&csv, "Agent Number %d,ktp,3201%08d0000,31-10-1990,Kota Depok,male,entrepreneur,1,12,184,1234,Jalan Margonda Raya %d,08%010d,ktp.%s,selfie.%s\n", i, i, i, i, kind, kind)
			}
			b.ReportAllocs()
			var peak uint64
			for b.Loop() {
				r, err := fleet.NewCSVReader(strings.NewReader(csv.String()), dir)
				if err != nil {
					b.Fatal(err)
				}
				read := 0
				for {
					good, bad, err := r.Next(200)
					if err != nil {
						break
					}
					if len(bad) > 0 {
						b.Fatal(bad[0])
					}
					read += len(good)
					if read%2000 == 0 {
						var m runtime.MemStats
						runtime.ReadMemStats(&m)
						peak = max(peak, m.HeapInuse)
					}
				}
				_ = r.Close()
				if read != rows {
					b.Fatalf("read %d rows", read)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*rows), "µs/row")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(len(photo))/(1<<20), "photo-MiB")
		})
	}
}

// benchPhoto returns a PNG or JPEG of noise, about the size a phone's
// camera gives: 1.3 to 1.5 MB, which compression cannot shrink.
func benchPhoto(b *testing.B, kind string) []byte {
	rnd := rand.New(rand.NewPCG(1, 2))
	var buf bytes.Buffer
	if kind == "png" {
		img := image.NewRGBA(image.Rect(0, 0, 600, 600))
		for i := range img.Pix {
			img.Pix[i] = byte(rnd.Uint32())
		}
		if err := png.Encode(&buf, img); err != nil {
			b.Fatal(err)
		}
		return buf.Bytes()
	}
	img := image.NewRGBA(image.Rect(0, 0, 1200, 1200))
	for i := 0; i < len(img.Pix); i += 4 {
		c := color.RGBA{byte(rnd.Uint32()), byte(rnd.Uint32()), byte(rnd.Uint32()), 255}
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 75}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}
