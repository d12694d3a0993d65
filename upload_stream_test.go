package flipkyc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
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
			_, err := c.UploadDocuments(ctx, 1, []Document{
				{Type: DocumentNPWP, Image: Image{"npwp.jpg", bytes.NewReader(doc)}},
				{Type: DocumentNPWP, Selfie: true, Image: img}})
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

// blockingReader hands out data, then blocks in Read until release is
// closed, as a stalled network stream or pipe does.
type blockingReader struct {
	data    []byte
	release chan struct{}
	blocked chan struct{} // closed on the first blocked Read
	once    sync.Once
}

func newBlockingReader(data []byte) *blockingReader {
	return &blockingReader{data: data, release: make(chan struct{}), blocked: make(chan struct{})}
}

func (b *blockingReader) Read(p []byte) (int, error) {
	if len(b.data) > 0 {
		n := copy(p, b.data)
		b.data = b.data[n:]
		return n, nil
	}
	b.once.Do(func() { close(b.blocked) })
	<-b.release
	return 0, errors.New("reader released")
}

// waitDone waits for a call started in another goroutine to return.
func waitDone(t *testing.T, done <-chan error, within time.Duration, what string) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(within):
		t.Fatalf("%s: the call did not return after its context was cancelled", what)
		return nil
	}
}

// stacksMention reports whether some goroutine's stack holds s.
func stacksMention(s string) bool {
	buf := make([]byte, 1<<20)
	return bytes.Contains(buf[:runtime.Stack(buf, true)], []byte(s))
}

// TestCancelledUploadReturnsWhileTheReaderBlocks cancels uploads whose reader
// blocks in Read after part of the image was sent: the call returns the
// context's error, and the only goroutine left is the one parked in the
// blocked Read, which ends once the reader returns.
func TestCancelledUploadReturnsWhileTheReaderBlocks(t *testing.T) {
	readers := []struct {
		name     string
		open     func(data []byte) (r io.Reader, blocked <-chan struct{}, release func())
		parkedIn string // a frame of the parked goroutine's stack
	}{
		{"plain reader", func(data []byte) (io.Reader, <-chan struct{}, func()) {
			b := newBlockingReader(data)
			return struct{ io.Reader }{b}, b.blocked, func() { close(b.release) }
		}, "(*blockingReader).Read"},
		{"pipe file", func(data []byte) (io.Reader, <-chan struct{}, func()) {
			pr, pw, err := os.Pipe()
			require.NoError(t, err)
			written := make(chan struct{})
			go func() {
				_, _ = pw.Write(data)
				close(written)
			}()
			return pr, written, func() { <-written; _ = pw.Close() }
		}, "(*File).Read"},
	}
	for _, rd := range readers {
		t.Run(rd.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			// The server signals once it has received the whole of the data
			// the reader hands out: from then on the SDK's Read of it blocks.
			const size = 300_000
			received := make(chan struct{})
			handlerDone := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				defer close(handlerDone)
				mr, err := r.MultipartReader()
				if err != nil {
					return
				}
				for {
					part, err := mr.NextPart()
					if err != nil {
						return
					}
					if part.FormName() != "image" {
						continue
					}
					n, _ := io.CopyN(io.Discard, part, size)
					if n == size {
						close(received)
					}
					_, _ = io.Copy(io.Discard, part) // until the connection ends
					return
				}
			}))
			transport := &http.Transport{}
			c, _ := newTestClient(t, srv.URL, srv.URL, WithHTTPClient(&http.Client{Transport: transport}))

			src, blocked, release := rd.open(paddedJPEG(t, size))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() {
				_, err := c.UploadIdentityImage(ctx, 1, IdentityKTP, Image{"a.jpg", src})
				done <- err
			}()
			for _, ch := range []<-chan struct{}{received, blocked} {
				select {
				case <-ch:
				case err := <-done:
					t.Fatalf("the upload ended before it was cancelled: %v", err)
				case <-time.After(30 * time.Second):
					t.Fatal("the upload never got going")
				}
			}
			cancel()
			err := waitDone(t, done, 5*time.Second, rd.name)
			recordErr(err)
			assert.ErrorIs(t, err, context.Canceled)
			<-handlerDone
			srv.Close()
			transport.CloseIdleConnections()

			// Left: the goroutine parked in the caller's Read, and nothing else.
			assert.NoError(t, goroutinesBackTo(before+1))
			assert.True(t, stacksMention(rd.parkedIn), "no goroutine is parked in the reader")
			assert.True(t, stacksMention("(*pumpBody).run"), "the parked goroutine is not the SDK's pump")
			release()
			assert.NoError(t, goroutinesBackTo(before), "the parked goroutine did not end once the reader returned")
		})
	}
}

// TestCancelWhileReadingTheHeader cancels an upload whose reader blocks
// before the image header is complete: the call returns the context's error
// and nothing is sent.
func TestCancelWhileReadingTheHeader(t *testing.T) {
	c, hits := noNetworkClient(t)
	before := runtime.NumGoroutine()
	b := newBlockingReader(jpegImage(t, 300, 300)[:2])
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := c.UploadDocuments(ctx, 1, []Document{{Type: DocumentPassport, Image: Image{"p.jpg", struct{ io.Reader }{b}}}})
		done <- err
	}()
	select {
	case <-b.blocked:
	case <-time.After(30 * time.Second):
		t.Fatal("the header was never read")
	}
	cancel()
	err := waitDone(t, done, 5*time.Second, "header")
	recordErr(err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, hits.Load(), "nothing is sent")
	close(b.release)
	assert.NoError(t, goroutinesBackTo(before), "goroutines left behind")
}

// TestPipeFileIsStreamed uploads from an *os.File that cannot seek (a pipe):
// it is read as a stream, not refused.
func TestPipeFileIsStreamed(t *testing.T) {
	srv, hc, seen := uploadServer(t, false)
	c, _ := newTestClient(t, srv.URL, srv.URL, WithHTTPClient(hc))
	img := paddedJPEG(t, 500_000)
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	defer pr.Close()
	go func() {
		_, _ = pw.Write(img)
		_ = pw.Close()
	}()
	_, err = c.UploadIdentityImage(context.Background(), 1, IdentityKTP, Image{"k.jpg", pr})
	require.NoError(t, err)
	u := next(t, seen)
	assert.True(t, u.complete, u.err)
	assert.Equal(t, int64(len(img)), u.parts["image"])
}

// TestRetryOfAPumpedSeekableImage retries an upload from a seekable reader
// that is not in memory (so it is pumped) after a 429 that arrives before the
// server read the body: the second attempt sends the whole image again, and
// no goroutine is left.
func TestRetryOfAPumpedSeekableImage(t *testing.T) {
	before := runtime.NumGoroutine()
	img := paddedJPEG(t, 1_500_000)
	var mu sync.Mutex
	var got [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n := len(got)
		got = append(got, nil)
		mu.Unlock()
		if n == 0 {
			writeReply(w, 429, `{"errors":[{"code":429,"message":"slow down"}]}`)
			return
		}
		mr, err := r.MultipartReader()
		require.NoError(t, err)
		for {
			part, err := mr.NextPart()
			if err != nil {
				break
			}
			if part.FormName() == "image" {
				b, _ := io.ReadAll(part)
				mu.Lock()
				got[n] = b
				mu.Unlock()
			}
		}
		writeReply(w, 200, `{"image_url":"x"}`)
	}))
	transport := &http.Transport{}
	c, _ := newTestClient(t, srv.URL, srv.URL, WithHTTPClient(&http.Client{Transport: transport}))
	f := io.NewSectionReader(bytes.NewReader(img), 0, int64(len(img)))
	_, err := c.UploadIdentityImage(context.Background(), 1, IdentityKTP, Image{"k.jpg", f})
	require.NoError(t, err)
	mu.Lock()
	require.Len(t, got, 2)
	assert.True(t, bytes.Equal(img, got[1]), "the retry sent the image whole")
	mu.Unlock()
	srv.Close()
	transport.CloseIdleConnections()
	assert.NoError(t, goroutinesBackTo(before))
}

// TestClientTimeoutEndsAnUploadWhileTheReaderBlocks gives the client an
// http.Client with a Timeout and a reader that blocks mid-upload: the call
// fails with a timeout instead of waiting for the reader.
func TestClientTimeoutEndsAnUploadWhileTheReaderBlocks(t *testing.T) {
	before := runtime.NumGoroutine()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	transport := &http.Transport{}
	c, _ := newTestClient(t, srv.URL, srv.URL, WithHTTPClient(&http.Client{Transport: transport, Timeout: 500 * time.Millisecond}))
	b := newBlockingReader(paddedJPEG(t, 100_000))
	done := make(chan error, 1)
	go func() {
		_, err := c.UploadIdentityImage(context.Background(), 1, IdentityKTP, Image{"a.jpg", struct{ io.Reader }{b}})
		done <- err
	}()
	err := waitDone(t, done, 30*time.Second, "client timeout")
	recordErr(err)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	srv.Close()
	transport.CloseIdleConnections()
	close(b.release)
	assert.NoError(t, goroutinesBackTo(before))
}

// failingImage is a seekable image that is not in memory and fails or lies:
// its Read fails once readFailsAt bytes were read, its Seek fails once more
// than seekFailsAfter bytes were read, and its SeekEnd reports extra bytes
// more than it holds. Zero disables a fault.
type failingImage struct {
	r              *bytes.Reader
	read           int64
	readFailsAt    int64
	seekFailsAfter int64
	extra          int64
}

func (f *failingImage) Read(p []byte) (int, error) {
	pos, _ := f.r.Seek(0, io.SeekCurrent)
	if f.readFailsAt > 0 {
		if pos >= f.readFailsAt {
			return 0, errors.New("disk I/O error")
		}
		p = p[:min(int64(len(p)), f.readFailsAt-pos)]
	}
	n, err := f.r.Read(p)
	f.read += int64(n)
	return n, err
}

func (f *failingImage) Seek(offset int64, whence int) (int64, error) {
	if f.seekFailsAfter > 0 && f.read > f.seekFailsAfter {
		return 0, errors.New("seek on a closed file")
	}
	n, err := f.r.Seek(offset, whence)
	if whence == io.SeekEnd {
		n += f.extra
	}
	return n, err
}

// oversizedReaderAt is an image read with ReadAt whose Size reports extra
// bytes more than it holds.
type oversizedReaderAt struct {
	r     *bytes.Reader
	extra int64
}

func (o *oversizedReaderAt) Read(p []byte) (int, error)              { return o.r.Read(p) }
func (o *oversizedReaderAt) ReadAt(p []byte, off int64) (int, error) { return o.r.ReadAt(p, off) }
func (o *oversizedReaderAt) Size() int64                             { return o.r.Size() + o.extra }

// TestUploadFromAFailingReaderIsNotRepeated uploads, through every upload
// method, from readers that fail or lie mid-body: the call fails at once
// with an *ImageReadError naming the image's field, the request is never
// sent again, the server never receives a complete form, and the error does
// not claim an unknown outcome (Flip cannot have accepted a cut-off body).
func TestUploadFromAFailingReaderIsNotRepeated(t *testing.T) {
	const size = 500_000
	readers := []struct {
		name string
		img  func(data []byte) io.Reader
	}{
		{"Read fails after 200 KB", func(d []byte) io.Reader { return &failingImage{r: bytes.NewReader(d), readFailsAt: 200 << 10} }},
		{"SeekEnd reports more bytes than there are", func(d []byte) io.Reader { return &failingImage{r: bytes.NewReader(d), extra: 300_000} }},
		{"a plain stream whose Read fails after 200 KB", func(d []byte) io.Reader {
			return struct{ io.Reader }{&failingImage{r: bytes.NewReader(d), readFailsAt: 200 << 10}}
		}},
		{"Size reports more bytes than ReadAt has", func(d []byte) io.Reader { return &oversizedReaderAt{bytes.NewReader(d), 300_000} }},
	}
	for _, h2 := range []bool{false, true} {
		proto := map[bool]string{false: "HTTP/1.1", true: "HTTP/2"}[h2]
		for _, m := range uploadCalls(t) {
			for _, rd := range readers {
				t.Run(proto+"/"+m.op+"/"+rd.name, func(t *testing.T) {
					srv, hc, seen := uploadServer(t, h2)
					var attempts []Attempt
					var mu sync.Mutex
					c, _ := newTestClient(t, srv.URL, srv.URL, WithHTTPClient(hc), WithAttemptHook(func(_ context.Context, a Attempt) {
						mu.Lock()
						attempts = append(attempts, a)
						mu.Unlock()
					}))
					err := m.call(context.Background(), c, Image{"a.jpg", rd.img(paddedJPEG(t, size))})
					recordErr(err)
					var ire *ImageReadError
					require.ErrorAs(t, err, &ire)
					assert.Equal(t, m.op, ire.Op)
					assert.Equal(t, m.field, ire.Field)
					assert.Contains(t, err.Error(), m.field)
					assert.Contains(t, err.Error(), "not sent again")
					assert.NotErrorIs(t, err, ErrOutcomeUnknown, "a cut-off body cannot have taken effect")
					var re *RetryError
					assert.False(t, errors.As(err, &re), "the request was repeated")
					mu.Lock()
					assert.Len(t, attempts, 1, "the request was repeated")
					mu.Unlock()

					u := next(t, seen)
					assert.False(t, u.complete, "the server parsed a complete form")
					assert.LessOrEqual(t, u.parts[m.field], int64(size), "bytes past the image reached the server")
					select {
					case u := <-seen:
						t.Errorf("a second request reached the server: %+v", u)
					default:
					}
				})
			}
		}
	}
}

// TestUploadWhoseImageCannotBeRewoundIsNotSentAgain answers an upload with
// 429 after reading it whole, from a reader whose Seek fails once 100 KB were
// read: the retry cannot rewind the image, so the call fails with an
// *ImageReadError before sending anything more, and only one request
// reached the server.
func TestUploadWhoseImageCannotBeRewoundIsNotSentAgain(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		writeReply(w, 429, `{"errors":[{"code":429,"message":"slow down"}]}`)
	}))
	defer srv.Close()
	for _, m := range uploadCalls(t) {
		t.Run(m.op, func(t *testing.T) {
			requests.Store(0)
			c, _ := newTestClient(t, srv.URL, srv.URL)
			img := &failingImage{r: bytes.NewReader(paddedJPEG(t, 500_000)), seekFailsAfter: 100 << 10}
			err := m.call(context.Background(), c, Image{"a.jpg", img})
			recordErr(err)
			var ire *ImageReadError
			require.ErrorAs(t, err, &ire)
			assert.Equal(t, m.op, ire.Op)
			assert.Equal(t, m.field, ire.Field)
			assert.Contains(t, err.Error(), "seek on a closed file")
			assert.NotErrorIs(t, err, ErrOutcomeUnknown)
			assert.Equal(t, int64(1), requests.Load())
		})
	}
}

// readerAtFailing is an image read through ReadAt and Size whose ReadAt
// fails: the header check reads it through its rewind.
type readerAtFailing struct {
	r   *bytes.Reader
	err error
}

func (r readerAtFailing) Read(p []byte) (int, error)        { return r.r.Read(p) }
func (r readerAtFailing) ReadAt([]byte, int64) (int, error) { return 0, r.err }
func (r readerAtFailing) Size() int64                       { return r.r.Size() }

// TestImageThatCannotBeReadForItsHeaderIsAReadFailure gives every upload
// method, and Image.Validate, a reader that fails while the SDK reads the
// image's header: the call fails with an *ImageReadError that carries the
// reader's error, not a rule the image breaks (the image may be a fine
// PNG on a failing disk), and nothing is sent.
func TestImageThatCannotBeReadForItsHeaderIsAReadFailure(t *testing.T) {
	disk := errors.New("disk I/O error") // failingImage's error too
	img := jpegImage(t, 300, 300)
	readers := []struct {
		name string
		img  func() io.Reader
	}{
		{"the first Read fails", func() io.Reader { return iotest.ErrReader(disk) }},
		{"a plain stream fails inside the header", func() io.Reader {
			return struct{ io.Reader }{io.MultiReader(bytes.NewReader(img[:20]), iotest.ErrReader(disk))}
		}},
		{"a seekable image fails inside the header", func() io.Reader {
			return &failingImage{r: bytes.NewReader(img), readFailsAt: 20}
		}},
		{"ReadAt fails", func() io.Reader { return readerAtFailing{bytes.NewReader(img), disk} }},
	}
	for _, rd := range readers {
		t.Run("Validate/"+rd.name, func(t *testing.T) {
			err := Image{"a.jpg", rd.img()}.Validate()
			var ire *ImageReadError
			require.ErrorAs(t, err, &ire)
			assert.ErrorContains(t, err, disk.Error())
			var ve *ValidationError
			assert.False(t, errors.As(err, &ve), "a read failure is no broken rule")
		})
		for _, m := range uploadCalls(t) {
			t.Run(m.op+"/"+rd.name, func(t *testing.T) {
				var requests atomic.Int64
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					requests.Add(1)
					w.WriteHeader(http.StatusInternalServerError)
				}))
				defer srv.Close()
				c, _ := newTestClient(t, srv.URL, srv.URL)
				err := m.call(context.Background(), c, Image{"a.jpg", rd.img()})
				recordErr(err)
				var ire *ImageReadError
				require.ErrorAs(t, err, &ire)
				assert.Equal(t, m.op, ire.Op)
				assert.Equal(t, m.field, ire.Field)
				assert.ErrorContains(t, err, disk.Error())
				assert.NotErrorIs(t, err, ErrOutcomeUnknown)
				assert.Zero(t, requests.Load(), "nothing is sent")
			})
		}
	}
}
