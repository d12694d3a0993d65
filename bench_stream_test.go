package flipkyc

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkUploadImageFrom uploads 1 MiB with UploadIdentityImage from the
// sources the SDK reads on its pump goroutine (so that a cancelled call
// returns even while a Read blocks): a regular file, and a plain stream with
// no Seek. The raw side reads the same source into a multipart.Writer over a
// bytes.Buffer, as BenchmarkUploadIdentityImage's does.
func BenchmarkUploadImageFrom(b *testing.B) {
	srv := benchServer(b, fixture(b, "upload_response.json"))
	const size = 1 << 20
	img := make([]byte, size)
	copy(img, jpegImage(b, 300, 300))
	path := filepath.Join(b.TempDir(), "ktp.jpg")
	if err := os.WriteFile(path, img, 0o600); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = f.Close() })
	sources := []struct {
		name string
		open func() io.Reader
	}{
		{"file-1MiB", func() io.Reader {
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				b.Fatal(err)
			}
			return f
		}},
		{"stream-1MiB", func() io.Reader { return struct{ io.Reader }{bytes.NewReader(img)} }},
	}
	for _, src := range sources {
		runSides(b, src.name+"/", func(b *testing.B) {
			c := benchClient(b, srv, rawHTTPClient())
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				_, err := c.UploadIdentityImage(context.Background(), 497, IdentityKTP, Image{Name: "ktp.jpg", Content: src.open()})
				if err != nil {
					b.Fatal(err)
				}
			}
		}, func(b *testing.B) {
			hc := rawHTTPClient()
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				var body bytes.Buffer
				w := multipart.NewWriter(&body)
				_ = w.WriteField("user_type", "1")
				_ = w.WriteField("identity_type", "1")
				_ = w.WriteField("selfie", "0")
				part, _ := w.CreateFormFile("image", "ktp.jpg")
				if _, err := io.Copy(part, src.open()); err != nil {
					b.Fatal(err)
				}
				_ = w.Close()
				req, _ := http.NewRequestWithContext(context.Background(), http.MethodPut, srv.URL+"/users/497/identities", &body)
				req.Header.Set("Content-Type", w.FormDataContentType())
				var res struct {
					ImageURL string `json:"image_url"`
				}
				if err := rawDo(hc, req, &res); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
