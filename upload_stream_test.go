package flipkyc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests run on real loopback connections. Their timeouts are only
// generous upper bounds on things that must end; nothing is timed.

// upload is what a multipart server saw of one request.
type upload struct {
	proto    int
	complete bool             // the closing boundary arrived: a whole form
	parts    map[string]int64 // bytes received per part, complete or not
	err      string           // why reading stopped, when it did not complete
}

// uploadServer answers uploads after reading the whole multipart form, and
// reports what it saw of each request on the returned channel. With tls it
// speaks HTTP/2.
func uploadServer(t *testing.T, h2 bool) (*httptest.Server, *http.Client, <-chan upload) {
	t.Helper()
	seen := make(chan upload, 16)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := upload{proto: r.ProtoMajor, parts: map[string]int64{}}
		defer func() { seen <- u }()
		mr, err := r.MultipartReader()
		if err != nil {
			u.err = err.Error()
			w.WriteHeader(400)
			return
		}
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				u.complete = true
				break
			}
			if err != nil {
				u.err = err.Error()
				return
			}
			n, err := io.Copy(io.Discard, part)
			u.parts[part.FormName()] += n
			if err != nil {
				u.err = err.Error()
				return
			}
		}
		if strings.HasSuffix(r.URL.Path, "/documents") {
			writeReply(w, 200, `[{"id":1,"type":1,"selfie":false,"path":"p.png","created_at":"2022-01-02T15:38:49.317601182+07:00","updated_at":"2022-01-02T15:38:49.317601182+07:00"}]`)
			return
		}
		writeReply(w, 200, `{"image_url":"x"}`)
	}))
	srv.EnableHTTP2 = h2
	if h2 {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	hc := srv.Client()
	if !h2 {
		hc = &http.Client{Transport: &http.Transport{}}
	}
	return srv, hc, seen
}

// next returns the server's report on the next request.
func next(t *testing.T, seen <-chan upload) upload {
	t.Helper()
	select {
	case u := <-seen:
		return u
	case <-time.After(30 * time.Second):
		t.Fatal("the server never finished reading the request")
		return upload{}
	}
}

// plainStream is a JPEG header followed by zeros, size bytes in all, as a
// reader with no Seek, ReadAt or Len.
func plainStream(t *testing.T, size int) io.Reader {
	return struct{ io.Reader }{bytes.NewReader(paddedJPEG(t, size))}
}

// uploadCall is one upload method with the field its image goes in.
type uploadCall struct {
	op, field string
	call      func(ctx context.Context, c *Client, img Image) error
}

func uploadCalls(t *testing.T) []uploadCall {
	doc := jpegImage(t, 300, 300)
	return []uploadCall{
		{"UploadIdentityImage", "image", func(ctx context.Context, c *Client, img Image) error {
			_, err := c.UploadIdentityImage(ctx, 1, IdentityKTP, img)
			return err
		}},
		{"UploadSelfieWithIdentity", "image", func(ctx context.Context, c *Client, img Image) error {
			_, err := c.UploadSelfieWithIdentity(ctx, 1, IdentityPassport, img)
			return err
		}},
		{"RepairIdentityImage", "image", func(ctx context.Context, c *Client, img Image) error {
			_, err := c.RepairIdentityImage(ctx, 1, img)
			return err
		}},
		{"RepairSelfieWithIdentity", "image", func(ctx context.Context, c *Client, img Image) error {
			_, err := c.RepairSelfieWithIdentity(ctx, 1, img)
			return err
		}},
		{"UploadDocuments", "npwp_selfie", func(ctx context.Context, c *Client, img Image) error {
			// A valid document first, so the stream is not the first part.
			_, err := c.UploadDocuments(ctx, 1,
				Document{Type: DocumentNPWP, Image: Image{"npwp.jpg", bytes.NewReader(doc)}},
				Document{Type: DocumentNPWP, Selfie: true, Image: img})
			return err
		}},
	}
}

// TestOversizeStreamIsCutOffWithAValidationError sends plain streams of
// unknown size around the limit through every upload method, over HTTP/1.1
// and HTTP/2: one longer than the limit fails with a *ValidationError naming
// its field, and the server never receives a complete form nor a byte of it
// past the limit; one exactly at the limit is sent whole.
func TestOversizeStreamIsCutOffWithAValidationError(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		proto := map[bool]string{false: "HTTP/1.1", true: "HTTP/2"}[h2]
		srv, hc, seen := uploadServer(t, h2)
		c, _ := newTestClient(t, srv.URL, srv.URL, WithHTTPClient(hc))
		for _, m := range uploadCalls(t) {
			for _, size := range []int{MaxImageBytes + 1, 2_500_000} {
				t.Run(proto+"/"+m.op+"/over", func(t *testing.T) {
					err := m.call(context.Background(), c, Image{"a.jpg", plainStream(t, size)})
					recordErr(err)
					var ve *ValidationError
					require.ErrorAs(t, err, &ve)
					assert.Equal(t, m.op, ve.Op)
					require.Len(t, ve.Fields, 1)
					assert.Equal(t, m.field, ve.Fields[0].Field)
					assert.True(t, strings.HasPrefix(ve.Fields[0].Rule, "must be under 2 MB ("), ve.Fields[0].Rule)

					u := next(t, seen)
					assert.Equal(t, map[bool]int{false: 1, true: 2}[h2], u.proto)
					assert.False(t, u.complete, "the server parsed a complete form")
					assert.NotEmpty(t, u.err, "the server's read of the body failed")
					assert.LessOrEqual(t, u.parts[m.field], int64(MaxImageBytes), "bytes past the limit reached the server")
				})
			}
			t.Run(proto+"/"+m.op+"/exactly the limit", func(t *testing.T) {
				err := m.call(context.Background(), c, Image{"a.jpg", plainStream(t, MaxImageBytes)})
				require.NoError(t, err)
				u := next(t, seen)
				assert.True(t, u.complete, u.err)
				assert.Equal(t, int64(MaxImageBytes), u.parts[m.field])
			})
		}
	}
}

func TestCapReaderNeverPassesTheLimit(t *testing.T) {
	for _, size := range []int{0, 1, 9, 10, 11, 100} {
		for _, chunk := range []int{1, 3, 10, 64} {
			src := bytes.NewReader(make([]byte, size))
			c := &capReader{r: src, left: 10, field: "image", limit: 10}
			var got int
			var err error
			buf := make([]byte, chunk)
			for err == nil {
				var n int
				n, err = c.Read(buf)
				got += n
			}
			if size > 10 {
				var big *imageTooLargeError
				assert.ErrorAs(t, err, &big, "size %d chunk %d", size, chunk)
				assert.LessOrEqual(t, got, 10, "size %d chunk %d", size, chunk)
			} else {
				assert.ErrorIs(t, err, io.EOF)
				assert.Equal(t, size, got)
			}
		}
	}
}
