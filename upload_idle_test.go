package flipkyc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests run on real loopback connections, with context.Background():
// only the idle timeout can end a call whose image reader stops sending.
// Their timeouts are generous upper bounds on things that must end; nothing
// is timed.

// stallingUploads are the upload methods these tests stall: field is where
// the stalled image goes.
func stallingUploads(t *testing.T) []uploadCall {
	doc := jpegImage(t, 300, 300)
	return []uploadCall{
		{"UploadIdentityImage", "image", func(ctx context.Context, c *Client, img Image) error {
			_, err := c.UploadIdentityImage(ctx, 1, IdentityKTP, img)
			return err
		}},
		{"UploadDocuments", "npwp_selfie", func(ctx context.Context, c *Client, img Image) error {
			// A valid document first, so the stalled stream is not the first part.
			_, err := c.UploadDocuments(ctx, 1, []Document{
				{Type: DocumentNPWP, Image: Image{"npwp.jpg", bytes.NewReader(doc)}},
				{Type: DocumentNPWP, Selfie: true, Image: img}})
			return err
		}},
	}
}

// callWithin runs call on a goroutine of its own and returns its error; the
// test fails if it has not returned within 20s.
func callWithin(t *testing.T, call func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- call() }()
	timer := time.NewTimer(20 * time.Second)
	defer timer.Stop()
	select {
	case err := <-done:
		recordErr(err)
		return err
	case <-timer.C:
		t.Fatal("the call did not end: the idle timeout did not reach the stalled image")
		return nil
	}
}

// TestStalledImageStreamIsAbandoned uploads a plain stream that stops
// sending, for ever, after part of the image was sent, with the idle timeout
// and no deadline: the call fails with an error matching ErrStalled (not
// ErrOutcomeUnknown: the body never left whole), the server never receives a
// complete form, and the only goroutine left is the pump parked in the
// caller's Read, which ends once that Read returns.
func TestStalledImageStreamIsAbandoned(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		proto := map[bool]string{false: "HTTP/1.1", true: "HTTP/2"}[h2]
		for _, m := range stallingUploads(t) {
			t.Run(proto+"/"+m.op, func(t *testing.T) {
				before := runtime.NumGoroutine()
				srv, hc, seen := uploadServer(t, h2)
				c, _ := newTestClient(t, srv.URL, srv.URL, WithHTTPClient(hc), WithIdleTimeout(200*time.Millisecond))
				b := newBlockingReader(paddedJPEG(t, 200<<10))

				err := callWithin(t, func() error {
					return m.call(context.Background(), c, Image{"k.jpg", struct{ io.Reader }{b}})
				})
				require.ErrorIs(t, err, ErrStalled)
				assert.NotErrorIs(t, err, ErrOutcomeUnknown, "a body cut off unfinished is not ambiguous")
				var ne *NetworkError
				assert.ErrorAs(t, err, &ne)
				var re *RetryError
				assert.False(t, errors.As(err, &re), "a stream is sent once")

				u := next(t, seen)
				assert.False(t, u.complete, "the server parsed a complete form")
				assert.NotEmpty(t, u.err, "the server's read of the body failed")
				assert.Positive(t, u.parts[m.field], "the stall came after part of the image was sent")
				srv.Close()
				hc.Transport.(interface{ CloseIdleConnections() }).CloseIdleConnections()

				assert.NoError(t, goroutinesBackTo(before+1))
				assert.True(t, stacksMention("(*blockingReader).Read"), "no goroutine is parked in the reader")
				assert.True(t, stacksMention("(*pumpBody).run"), "the parked goroutine is not the SDK's pump")
				close(b.release)
				assert.NoError(t, goroutinesBackTo(before), "the parked goroutine did not end once the reader returned")
			})
		}
	}
}

// prepareImage is prepareImageWithin with the default idle timeout, for the
// tests of the image rules.
func prepareImage(ctx context.Context, v *fieldErrors, field string, img Image, limit int64) (*preparedImage, error) {
	return prepareImageWithin(ctx, v, field, img, limit, DefaultIdleTimeout)
}

// TestStallInTheImageHeaderIsAbandoned gives the upload methods a plain
// stream that stops sending, for ever, inside the image header, with the idle
// timeout and no deadline: the header check fails the call with an error
// matching ErrStalled, nothing is sent, and the only goroutine left is the
// one parked in the caller's Read, which ends once that Read returns.
func TestStallInTheImageHeaderIsAbandoned(t *testing.T) {
	header := jpegImage(t, 300, 300)
	for _, m := range stallingUploads(t) {
		for _, cut := range []int{2, 20} { // inside the magic number; after it, before the frame's size
			t.Run(m.op+"/"+strconv.Itoa(cut)+" bytes", func(t *testing.T) {
				before := runtime.NumGoroutine()
				srv, hc, seen := uploadServer(t, false)
				c, _ := newTestClient(t, srv.URL, srv.URL, WithHTTPClient(hc), WithIdleTimeout(200*time.Millisecond))
				b := newBlockingReader(header[:cut])

				err := callWithin(t, func() error {
					return m.call(context.Background(), c, Image{"k.jpg", struct{ io.Reader }{b}})
				})
				require.ErrorIs(t, err, ErrStalled)
				assert.NotErrorIs(t, err, ErrOutcomeUnknown)
				assert.Contains(t, err.Error(), "image header")
				srv.Close() // waits for any request under way
				select {
				case u := <-seen:
					t.Errorf("a request was sent: %+v", u)
				default:
				}
				hc.Transport.(*http.Transport).CloseIdleConnections()

				assert.NoError(t, goroutinesBackTo(before+1))
				assert.True(t, stacksMention("(*blockingReader).Read"), "no goroutine is parked in the reader")
				assert.True(t, stacksMention("(*ctxReader).Read"), "the parked goroutine is not the header check's")
				close(b.release)
				assert.NoError(t, goroutinesBackTo(before), "the parked goroutine did not end once the reader returned")
			})
		}
	}
}

// TestSlowImageHeaderIsNotCut reads an image header that trickles in, each
// Read well within the idle timeout but the whole header longer than it: the
// upload goes through.
func TestSlowImageHeaderIsNotCut(t *testing.T) {
	srv, hc, seen := uploadServer(t, false)
	c, _ := newTestClient(t, srv.URL, srv.URL, WithHTTPClient(hc), WithIdleTimeout(500*time.Millisecond))
	img := paddedJPEG(t, 100_000)
	_, err := c.UploadIdentityImage(context.Background(), 1, IdentityKTP, Image{"k.jpg", &tricklingReader{data: img, slowFor: 40}})
	require.NoError(t, err)
	u := next(t, seen)
	assert.True(t, u.complete, u.err)
	assert.Equal(t, int64(len(img)), u.parts["image"])
}

// tricklingReader hands out its data a byte a Read, 20ms apart, for its
// first slowFor bytes, then at full speed.
type tricklingReader struct {
	data    []byte
	off     int
	slowFor int
}

func (r *tricklingReader) Read(p []byte) (int, error) {
	if r.off >= len(r.data) {
		return 0, io.EOF
	}
	if r.off < r.slowFor {
		time.Sleep(20 * time.Millisecond)
		p = p[:1]
	}
	n := copy(p, r.data[r.off:])
	r.off += n
	return n, nil
}

// stallingSeeker is a seekable image that is not in memory: it hands out its
// bytes up to stallAt, then blocks in Read until release is closed.
type stallingSeeker struct {
	*bytes.Reader
	stallAt int64
	release chan struct{}
}

func (s *stallingSeeker) Read(p []byte) (int, error) {
	pos, _ := s.Seek(0, io.SeekCurrent)
	if pos >= s.stallAt {
		<-s.release
		return 0, errors.New("reader released")
	}
	return s.Reader.Read(p[:min(int64(len(p)), s.stallAt-pos)])
}

// TestStalledSeekableImageIsNotRetriedForEver stalls an upload from a
// seekable reader mid-body: the attempt is abandoned with an error matching
// ErrStalled, and not retried (a stall never is).
func TestStalledSeekableImageIsNotRetriedForEver(t *testing.T) {
	before := runtime.NumGoroutine()
	srv, hc, seen := uploadServer(t, false)
	c, _ := newTestClient(t, srv.URL, srv.URL, WithHTTPClient(hc), WithIdleTimeout(200*time.Millisecond))
	img := &stallingSeeker{Reader: bytes.NewReader(paddedJPEG(t, 500_000)), stallAt: 200 << 10, release: make(chan struct{})}

	err := callWithin(t, func() error {
		_, err := c.UploadIdentityImage(context.Background(), 1, IdentityKTP, Image{"k.jpg", img})
		return err
	})
	require.ErrorIs(t, err, ErrStalled)
	assert.NotErrorIs(t, err, ErrOutcomeUnknown)
	var re *RetryError
	assert.False(t, errors.As(err, &re), "the stalled attempt was retried")

	u := next(t, seen)
	assert.False(t, u.complete, "the server parsed a complete form")
	srv.Close()
	hc.Transport.(*http.Transport).CloseIdleConnections()
	assert.NoError(t, goroutinesBackTo(before+1))
	close(img.release)
	assert.NoError(t, goroutinesBackTo(before))
}
