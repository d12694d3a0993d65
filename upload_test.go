package flipkyc

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// discardTransport reads each request body to the end and answers 200 with
// an upload result, without any network.
type discardTransport struct{ read int64 }

func (d *discardTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	n, err := io.Copy(io.Discard, r.Body)
	d.read += n
	_ = r.Body.Close()
	if err != nil {
		return nil, err
	}
	return &http.Response{StatusCode: 200, Header: http.Header{}, Request: r,
		Body: io.NopCloser(strings.NewReader(`{"image_url":"x"}`))}, nil
}

// paddedJPEG returns a valid JPEG header followed by zero bytes, size bytes in all.
func paddedJPEG(t *testing.T, size int) []byte {
	img := jpegImage(t, 300, 300)
	out := make([]byte, size)
	copy(out, img)
	return out
}

// TestUploadMemoryDoesNotGrowWithImageSize measures the bytes allocated by
// one upload of a 100 kB and of a 1.9 MB image, from an in-memory reader
// (sent as it is), a plain stream and a seekable reader that is not in
// memory (both read on a pump goroutine): streaming keeps all of them small
// and about equal. (Allocation counts, not time: nothing here is timed.)
func TestUploadMemoryDoesNotGrowWithImageSize(t *testing.T) {
	sources := []struct {
		name string
		wrap func([]byte) io.Reader
	}{
		{"bytes.Reader", func(b []byte) io.Reader { return bytes.NewReader(b) }},
		{"plain stream", func(b []byte) io.Reader { return struct{ io.Reader }{bytes.NewReader(b)} }},
		{"section reader", func(b []byte) io.Reader { return io.NewSectionReader(bytes.NewReader(b), 0, int64(len(b))) }},
	}
	small, large := paddedJPEG(t, 100_000), paddedJPEG(t, 1_900_000)
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			tr := &discardTransport{}
			c, err := New(testKey, WithHTTPClient(&http.Client{Transport: tr}))
			require.NoError(t, err)
			allocated := func(img []byte) uint64 {
				r := src.wrap(img)
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				_, err := c.UploadIdentityImage(context.Background(), 1, IdentityKTP, Image{"k.jpg", r})
				runtime.ReadMemStats(&after)
				require.NoError(t, err)
				return after.TotalAlloc - before.TotalAlloc
			}
			allocated(small) // warm up
			a, b := allocated(small), allocated(large)
			t.Logf("allocated: %d B for 100 kB, %d B for 1.9 MB", a, b)
			assert.Less(t, b, uint64(256<<10), "a 1.9 MB upload allocates well under its size")
			assert.Less(t, b, a+64<<10, "allocation does not grow with the image")
			assert.GreaterOrEqual(t, tr.read, int64(1_900_000), "the whole image was sent")
		})
	}
}
