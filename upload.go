package flipkyc

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Image rules Flip documents for every uploaded image.
const (
	// MaxImageBytes is the largest image Flip accepts ("under 2 MB"; read as
	// 2,000,000 bytes, the stricter reading, because Flip counts refused
	// uploads against a maximum).
	MaxImageBytes = 2_000_000
	// MinImageSide is the smallest width and height Flip accepts, in pixels.
	MinImageSide = 256
	// MaxImageSide is the largest width and height Flip accepts, in pixels.
	MaxImageSide = 4096
)

// peekLimit bounds how much of an image is read to check its type and size
// before the request is sent; JPEG headers with large EXIF blocks fit.
const peekLimit = 256 << 10

// Image is an image to upload: a PNG or JPEG photo taken with the camera,
// under 2 MB, 256 to 4096 pixels a side. The SDK checks these rules from the
// image's header before anything is sent, and reports a broken one as a
// *ValidationError. A Content that can be read again (see below) is also
// walked to its end marker, streaming, without decoding its pixels: a PNG
// or JPEG cut short or with a damaged chunk or segment is refused the same
// way. A stream that cannot be read again is checked from its header only.
//
// It prints (under every fmt verb) without its file name, which may carry a
// person's name, and with only the type of its content.
type Image struct {
	// Name is the file name sent to Flip, such as "ktp.jpg". It is reduced
	// to a safe base name, and the extension is fixed to match the content.
	Name string
	// Content is streamed into the request, never read whole into memory. If
	// it implements io.Seeker (an *os.File of a regular file, a
	// *bytes.Reader), or io.ReaderAt and Size() int64, a failed upload can be
	// retried; otherwise (a pipe, a network stream) it is sent once. A Read
	// that fails, an image that ends before the size its Seek or Size
	// reported, and a Seek that fails to rewind for a retry fail the call
	// with an *ImageReadError and are never retried: the request is cut off
	// unfinished (or not sent), so Flip never receives it whole.
	//
	// The size rule is checked before the request when the size is known.
	// A stream of unknown size is counted as it is sent: the SDK never sends
	// a byte past 2 MB, and a longer stream fails the call with a
	// *ValidationError after the request was cut off unfinished, so Flip
	// never receives a complete body.
	//
	// Unless Content is a *bytes.Reader, *strings.Reader or *bytes.Buffer,
	// the SDK calls its Read on a goroutine of its own, so a call whose
	// context ends (or whose http.Client Timeout passes) returns at once
	// with that error even while a Read is blocked. A Read blocked for the
	// idle timeout (WithIdleTimeout) fails the call with an error matching
	// ErrStalled: during the header check nothing has been sent; later the
	// request is cut off unfinished, so Flip never receives it whole and the
	// error does not match ErrOutcomeUnknown. That Read is left running:
	// the SDK makes no further Read once it returns, and never closes
	// Content (the caller owns it, and may close it to end a blocked Read).
	Content io.Reader
}

// Validate checks img against Flip's image rules (a PNG or JPEG, under 2
// MB, 256 to 4096 pixels a side, and whole when it can be read again: not
// cut short or damaged) as the upload methods do before sending it, and
// returns a *ValidationError naming each rule it breaks, or an
// *ImageReadError when Content fails to read. A Content that can be
// rewound (an *os.File, a *bytes.Reader) is left where it started, ready to
// upload.
func (img Image) Validate() error {
	var v fieldErrors
	if _, err := prepareImageWithin(context.Background(), &v, "image", img, MaxImageBytes, DefaultIdleTimeout); err != nil {
		if local := imageReadFailure("Image.Validate", err); local != nil {
			return local
		}
		return err
	}
	return v.err("Image")
}

// preparedImage is an Image whose header has been checked.
type preparedImage struct {
	field       string // multipart field name, such as "image" or "npwp_selfie"
	name        string // sanitized file name
	contentType string // image/png or image/jpeg
	size        int64  // bytes from the start position; -1 if unknown
	limit       int64  // the largest size allowed
	prefix      []byte // bytes consumed by the check, for readers that cannot rewind
	src         io.Reader
	rewind      func() (io.Reader, error) // nil when src cannot be re-read
	// inMemory is true for sources whose Read cannot block: they are read
	// on the caller's and the transport's goroutines, without a pump.
	inMemory bool
}

// inMemory reports whether r is one of the standard library's in-memory
// readers, whose Read never blocks.
func inMemory(r io.Reader) bool {
	switch r.(type) {
	case *bytes.Reader, *strings.Reader, *bytes.Buffer:
		return true
	}
	return false
}

// prepareImageWithin checks img against Flip's image rules from a small peek
// of its content and, when it can be read again, a walk of its structure
// to its end marker, and records each broken rule under field. limit is the
// largest size allowed: MaxImageBytes, except in the SDK's own benchmarks.
// The peek reads a source that is not in memory on a goroutine of its own,
// and gives up when ctx ends or when no byte of the image arrives for idle
// (the client's idle timeout: nothing is sent yet, so no attempt's watch
// bounds it). The error is ctx's when ctx ended during the peek, one
// matching ErrStalled when the source stalled, and nil otherwise (broken
// rules go to v).
func prepareImageWithin(ctx context.Context, v *fieldErrors, field string, img Image, limit int64, idle time.Duration) (*preparedImage, error) {
	if img.Content == nil {
		v.add(field, "is required")
		return nil, nil
	}
	p := &preparedImage{field: field, src: img.Content, size: -1, limit: limit, inMemory: inMemory(img.Content)}
	// A Seeker whose first Seek fails (an *os.File of a pipe or terminal)
	// cannot rewind and is read as a plain stream.
	seeker, seekable := img.Content.(io.Seeker)
	var start int64
	if seekable {
		var err error
		start, err = seeker.Seek(0, io.SeekCurrent)
		seekable = err == nil
	}
	switch r := img.Content.(type) {
	case io.Seeker:
		if !seekable {
			break
		}
		end, err := r.Seek(0, io.SeekEnd)
		_, err2 := r.Seek(start, io.SeekStart)
		if err != nil || err2 != nil {
			v.add(field, "cannot be read: seek failed")
			return nil, nil
		}
		p.size = end - start
		p.rewind = func() (io.Reader, error) {
			if _, err := r.Seek(start, io.SeekStart); err != nil {
				return nil, err
			}
			return io.LimitReader(img.Content, p.size), nil
		}
	case interface {
		io.ReaderAt
		Size() int64
	}:
		p.size = r.Size()
		p.rewind = func() (io.Reader, error) { return io.NewSectionReader(r, 0, p.size), nil }
	case interface{ Len() int }:
		p.size = int64(r.Len())
	}
	if p.size > limit {
		v.add(field, fmt.Sprintf("must be under 2 MB (%s bytes at most), is %s bytes", groupDigits(limit), groupDigits(p.size)))
		return nil, nil
	}
	if p.size == 0 {
		v.add(field, "is empty")
		return nil, nil
	}

	// Read the header straight from the source when it can be rewound, and
	// through a recording of what was read when it cannot; a source that
	// may block is read on a goroutine that gives up when ctx ends or the
	// source stalls.
	watch := func(r io.Reader) io.Reader { return r }
	ended := func() error { return nil }
	if !p.inMemory {
		stall := startIdleWatch(ctx, idle)
		defer stall.stop()
		// A goroutine and a read call per Read: 32 KiB a Read when the
		// structure walk will read the whole image through it, 4 KiB for a
		// header alone.
		size := 4 << 10
		if p.rewind != nil {
			size = 32 << 10
		}
		buf := make([]byte, size)
		watch = func(r io.Reader) io.Reader {
			return &ctxReader{ctx: stall.ctx, r: r, buf: buf, res: make(chan readResult, 1), watch: stall}
		}
		ended = func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if errors.Is(context.Cause(stall.ctx), ErrStalled) {
				return fmt.Errorf("%w: no byte of the image header arrived for %s", ErrStalled, idle)
			}
			return nil
		}
	}
	// A failing Read of the caller's reader is recorded: it is a read
	// failure, not a rule the image breaks.
	var readErr error
	watch = recordReadFailure(watch, &readErr)
	failed := func() error {
		if err := ended(); err != nil {
			return err
		}
		if readErr != nil {
			return &ImageReadError{Field: field, Err: readErr}
		}
		return nil
	}
	var head *bytes.Buffer
	var src io.Reader
	if p.rewind == nil {
		head = bytes.NewBuffer(make([]byte, 0, 8<<10))
		src = io.TeeReader(io.LimitReader(watch(img.Content), peekLimit), head)
	} else {
		src = io.LimitReader(watch(img.Content), peekLimit)
	}
	var magic [8]byte
	n, _ := io.ReadFull(src, magic[:])
	if err := failed(); err != nil {
		return nil, err
	}
	decode := jpeg.DecodeConfig
	switch {
	case n == 8 && string(magic[:]) == "\x89PNG\r\n\x1a\n":
		p.contentType, decode = "image/png", png.DecodeConfig
	case n >= 3 && string(magic[:3]) == "\xff\xd8\xff":
		p.contentType = "image/jpeg"
	default:
		v.add(field, "must be a PNG or JPEG image")
		return nil, nil
	}
	var cfg image.Config
	var err error
	if p.rewind != nil {
		r, rerr := p.rewind()
		if rerr == nil {
			cfg, err = decode(io.LimitReader(watch(r), peekLimit))
			if cerr := failed(); cerr != nil {
				return nil, cerr
			}
			_, rerr = p.rewind()
		}
		if rerr != nil {
			v.add(field, "cannot be read: rewind failed")
			return nil, nil
		}
	} else {
		cfg, err = decode(io.MultiReader(bytes.NewReader(magic[:n]), src))
		if cerr := failed(); cerr != nil {
			return nil, cerr
		}
		p.prefix = head.Bytes()
	}
	if err != nil {
		v.add(field, "has an unreadable "+strings.TrimPrefix(p.contentType, "image/")+" header")
		return nil, nil
	}
	if cfg.Width < MinImageSide || cfg.Height < MinImageSide || cfg.Width > MaxImageSide || cfg.Height > MaxImageSide {
		v.add(field, fmt.Sprintf("must be %d to %d pixels per side, is %dx%d", MinImageSide, MaxImageSide, cfg.Width, cfg.Height))
		return nil, nil
	}
	// An image that can be read again is walked to its end marker, so that
	// one cut short or damaged is refused before anything is sent. A stream
	// is checked from its header only: walking it would mean holding it.
	if p.rewind != nil {
		r, rerr := p.rewind()
		var rule string
		if rerr == nil {
			rule, err = imageStructure(p.contentType, watch(r))
			if cerr := failed(); cerr != nil {
				return nil, cerr
			}
			_, rerr = p.rewind()
		}
		switch {
		case rerr != nil:
			v.add(field, "cannot be read: rewind failed")
			return nil, nil
		case err != nil:
			v.add(field, "cannot be read")
			return nil, nil
		case rule != "":
			v.add(field, rule)
			return nil, nil
		}
	}
	p.name = sanitizeFileName(img.Name, p.contentType)
	return p, nil
}

// recordReadFailure returns watch with every reader it wraps recording, in
// *failure, the first error other than io.EOF that a Read returned.
func recordReadFailure(watch func(io.Reader) io.Reader, failure *error) func(io.Reader) io.Reader {
	return func(r io.Reader) io.Reader { return &failureRecorder{r: watch(r), failure: failure} }
}

// failureRecorder is a reader that records its first failed Read.
type failureRecorder struct {
	r       io.Reader
	failure *error
}

func (f *failureRecorder) Read(b []byte) (int, error) {
	n, err := f.r.Read(b)
	if err != nil && !errors.Is(err, io.EOF) && *f.failure == nil {
		*f.failure = err
	}
	return n, err
}

// reader returns the image's bytes for one attempt, failing each Read of the
// caller's reader that fails, and an early end of an image of known size,
// with an *ImageReadError. A stream of unknown size is capped at the limit.
func (p *preparedImage) reader() (io.Reader, error) {
	var r io.Reader
	if p.rewind != nil {
		var err error
		if r, err = p.rewind(); err != nil {
			return nil, &ImageReadError{Field: p.field, Err: fmt.Errorf("rewinding for a retry: %w", err)}
		}
	} else {
		r = io.MultiReader(bytes.NewReader(p.prefix), p.src)
	}
	r = &imageSource{r: r, field: p.field, size: p.size}
	if p.size < 0 {
		return &capReader{r: r, left: p.limit, field: p.field, limit: p.limit}, nil
	}
	return r, nil
}

// imageSource is one attempt's read of an image. It turns a failed Read of
// the caller's reader, and an end before size bytes (a Seek or Size that
// reported more than there is), into an *ImageReadError, so that the
// transport cuts the request off unfinished and the request path knows the
// failure is local. Bytes past size are never asked for: the image's reader
// is limited to size.
type imageSource struct {
	r     io.Reader
	field string
	size  int64 // -1 when unknown
	read  int64
}

func (s *imageSource) Read(b []byte) (int, error) {
	n, err := s.r.Read(b)
	s.read += int64(n)
	switch {
	case err == nil:
	case errors.Is(err, io.EOF):
		if s.size >= 0 && s.read < s.size {
			return n, &ImageReadError{Field: s.field, Err: fmt.Errorf(
				"the image ended after %d bytes, but its reader reported %d: %w", s.read, s.size, io.ErrUnexpectedEOF)}
		}
	default:
		return n, &ImageReadError{Field: s.field, Err: err}
	}
	return n, err
}

// imageTooLargeError is returned mid-upload by a stream of unknown size that
// turns out larger than Flip accepts. The upload methods turn it into a
// *ValidationError.
type imageTooLargeError struct {
	field string
	limit int64
}

func (e *imageTooLargeError) Error() string { return e.field + " is not under 2 MB" }

// asValidationError returns err as the *ValidationError of op when it is an
// image stream that proved too large mid-upload, and err otherwise.
func asValidationError(op string, err error) error {
	var big *imageTooLargeError
	if errors.As(err, &big) {
		return &ValidationError{Op: op, Fields: []FieldError{{Field: big.field, Rule: fmt.Sprintf(
			"must be under 2 MB (%s bytes at most); the stream was longer, so the upload was cut off unfinished", groupDigits(big.limit))}}}
	}
	return err
}

// groupDigits writes n with its digits in groups of three (2,000,000):
// readable, and not taken for an identity or phone number by a program
// that masks long runs of digits in what it prints.
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// capReader passes on at most left bytes of r. It never hands out a byte
// past the limit: a Read asks r for at most one byte more than is left, and
// when r delivers that byte the Read returns none of what it read and fails
// with *imageTooLargeError. The request then ends without its closing
// boundary (a chunked body without its last chunk, or a reset stream), so
// the server never receives a complete body.
type capReader struct {
	r     io.Reader
	left  int64
	field string
	limit int64
}

func (c *capReader) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if int64(len(b)) > c.left+1 {
		b = b[:c.left+1]
	}
	n, err := c.r.Read(b)
	if int64(n) > c.left {
		return 0, &imageTooLargeError{field: c.field, limit: c.limit}
	}
	c.left -= int64(n)
	return n, err
}

// readResult is the outcome of one Read.
type readResult struct {
	n   int
	err error
}

// ctxReader makes each Read of r on a new goroutine, into a buffer of its
// own, and stops waiting for it when ctx ends. A Read given up on keeps its
// goroutine until r returns; a later Read waits for that one instead of
// starting another, so r is never read by two goroutines at once. Each Read
// that moved bytes is reported to watch.
type ctxReader struct {
	ctx   context.Context
	r     io.Reader
	buf   []byte
	res   chan readResult // capacity 1, so a goroutine given up on still ends
	busy  bool            // a Read of r is in flight
	watch *idleWatch
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if !c.busy {
		if err := c.ctx.Err(); err != nil {
			return 0, err
		}
		buf := c.buf[:min(len(p), len(c.buf))]
		c.busy = true
		go func() {
			n, err := c.r.Read(buf)
			c.res <- readResult{n, err}
		}()
	}
	select {
	case r := <-c.res:
		c.busy = false
		if r.n < 0 || r.n > len(p) || r.n > len(c.buf) {
			return 0, errors.New("image reader returned an invalid count")
		}
		if r.n > 0 {
			c.watch.progress()
		}
		return copy(p, c.buf[:r.n]), r.err
	case <-c.ctx.Done():
		return 0, c.ctx.Err()
	}
}

// pumpBody is one attempt's request body when an image may block in Read: a
// goroutine started by the first Read copies the body into a pipe that the
// transport reads. When ctx ends, or the attempt's idle watch aborts the
// body, the pipe's writing end is closed with that error, so the transport's
// Read (and with it the call) returns that error at once while the pump may
// still be waiting in the caller's Read; its next Write fails, so it reads
// nothing more once that Read returns. Close, from the transport or the SDK,
// closes the reading end, with the same effect on the pump.
type pumpBody struct {
	ctx    context.Context
	cancel context.CancelFunc // releases ctx once the pump is over
	src    io.Reader
	pr     *io.PipeReader
	pw     *io.PipeWriter
	start  sync.Once
	done   chan struct{} // closed when the pump has returned, or will never start
}

func newPumpBody(ctx context.Context, cancel context.CancelFunc, src io.Reader) *pumpBody {
	pr, pw := io.Pipe()
	return &pumpBody{ctx: ctx, cancel: cancel, src: src, pr: pr, pw: pw, done: make(chan struct{})}
}

func (b *pumpBody) Read(p []byte) (int, error) {
	b.start.Do(b.run)
	return b.pr.Read(p)
}

func (b *pumpBody) run() {
	stop := context.AfterFunc(b.ctx, func() { b.pw.CloseWithError(b.ctx.Err()) })
	go func() {
		defer close(b.done)
		buf := pumpBuffers.Get().(*[]byte)
		_, err := io.CopyBuffer(b.pw, readerOnly{b.src}, *buf)
		pumpBuffers.Put(buf)
		stop()
		b.pw.CloseWithError(err) // nil: the transport reads io.EOF
		b.cancel()
	}()
}

// pumpBuffers holds the pumps' copy buffers: an upload reuses one instead
// of allocating its own (io.Copy, or the body's own WriteTo, would make a
// 32 KiB buffer per attempt).
var pumpBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// readerOnly hides its Reader's WriteTo, so that io.CopyBuffer copies
// through the buffer it is given.
type readerOnly struct{ io.Reader }

// abort makes the transport's reads of the body fail with err, and stops the
// pump; it does not wait for the pump to return. The idle watch calls it: the
// transport's write of the body may be waiting on the pump, which the
// attempt's context does not reach.
func (b *pumpBody) abort(err error) { b.pw.CloseWithError(err) }

// Close ends the body for the transport and stops the pump; it does not wait
// for the pump to return.
func (b *pumpBody) Close() error {
	b.start.Do(func() { close(b.done) })
	b.pr.Close()
	b.cancel()
	return nil
}

// stopped waits until the pump no longer reads the images, or ctx ends, or
// idle passes with the pump still in a Read of the images (a stalled image:
// the error then matches ErrStalled).
func (b *pumpBody) stopped(ctx context.Context, idle time.Duration) error {
	select {
	case <-b.done:
		return nil
	default:
	}
	t := time.NewTimer(idle)
	defer t.Stop()
	select {
	case <-b.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return fmt.Errorf("%w: a Read of the image did not return for %s", ErrStalled, idle)
	}
}

// sanitizeFileName reduces name to a printable base name without quotes and
// with an extension matching contentType.
func sanitizeFileName(name, contentType string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if r == '"' || r == '/' || r == ';' || !unicode.IsPrint(r) || unicode.IsSpace(r) && r != ' ' {
			return -1
		}
		return r
	}, name)
	name = strings.Trim(name, " .")
	if len([]rune(name)) > 100 {
		name = string([]rune(name)[:100])
	}
	if name == "" {
		name = "image"
	}
	ext := strings.ToLower(path.Ext(name))
	switch {
	case contentType == "image/png" && ext == ".png",
		contentType == "image/jpeg" && (ext == ".jpg" || ext == ".jpeg"):
		return name
	case contentType == "image/png":
		return name + ".png"
	default:
		return name + ".jpg"
	}
}

// multipartBody streams a multipart/form-data body: the text fields, then the
// images, each read from its source as the request is written. Only the part
// headers are held in memory.
type multipartBody struct {
	boundary string
	segments [][]byte // segments[i] precedes images[i]; the last closes the body
	images   []*preparedImage
	// ctx is the call's context, set when an image is not in memory: each
	// attempt's body is then a pumpBody that stops when ctx ends, or when
	// timeout (the http.Client's Timeout, if any) has passed since the
	// attempt began, or when the attempt's idle watch aborts it. An attempt
	// after a pumped one waits at most idle for the last pump to stop
	// reading the images.
	ctx     context.Context
	timeout time.Duration
	idle    time.Duration
	pump    *pumpBody // the last attempt's body, when pumped
}

// newImageBody returns the body of an upload call made under ctx by a client
// whose http.Client has the given Timeout and whose idle timeout is idle.
func newImageBody(ctx context.Context, timeout, idle time.Duration, fields []field, images []*preparedImage) *multipartBody {
	b := newMultipartBody(fields, images)
	for _, img := range images {
		if !img.inMemory {
			b.ctx, b.timeout, b.idle = ctx, timeout, idle
		}
	}
	return b
}

// field is one text field of a form.
type field struct{ name, value string }

func newMultipartBody(fields []field, images []*preparedImage) *multipartBody {
	var rnd [30]byte
	_, _ = rand.Read(rnd[:]) // crypto/rand.Read never fails
	b := &multipartBody{boundary: hex.EncodeToString(rnd[:]), images: images}
	// The framing of RFC 7578, as mime/multipart writes it, built in one
	// buffer: every part after the first starts with CRLF, and the body ends
	// with the closing delimiter.
	size := 0
	for _, f := range fields {
		size += len(f.name) + len(f.value) + 128
	}
	buf := make([]byte, 0, size+len(images)*256+128)
	delimiter := func(first bool) {
		if !first {
			buf = append(buf, "\r\n"...)
		}
		buf = append(buf, "--"...)
		buf = append(buf, b.boundary...)
		buf = append(buf, "\r\n"...)
	}
	for i, f := range fields {
		delimiter(i == 0)
		buf = append(buf, `Content-Disposition: form-data; name="`...)
		buf = append(buf, quoteEscaper.Replace(f.name)...)
		buf = append(buf, "\"\r\n\r\n"...)
		buf = append(buf, f.value...)
	}
	start := 0
	for i, img := range images {
		delimiter(i == 0 && len(fields) == 0)
		buf = append(buf, `Content-Disposition: form-data; name="`...)
		buf = append(buf, quoteEscaper.Replace(img.field)...)
		buf = append(buf, `"; filename="`...)
		buf = append(buf, quoteEscaper.Replace(img.name)...)
		buf = append(buf, "\"\r\nContent-Type: "...)
		buf = append(buf, img.contentType...)
		buf = append(buf, "\r\n\r\n"...)
		b.segments = append(b.segments, buf[start:len(buf):len(buf)])
		start = len(buf)
	}
	if len(fields) > 0 || len(images) > 0 {
		buf = append(buf, "\r\n"...)
	}
	buf = append(buf, "--"...)
	buf = append(buf, b.boundary...)
	buf = append(buf, "--\r\n"...)
	b.segments = append(b.segments, buf[start:])
	return b
}

// quoteEscaper escapes a quoted parameter of a Content-Disposition header.
var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"")

func (b *multipartBody) contentType() string { return "multipart/form-data; boundary=" + b.boundary }

func (b *multipartBody) open() (io.Reader, int64, error) {
	if b.pump != nil {
		// The transport may still hold the last attempt's body (RoundTrip
		// may close it after returning). Cut it off, and rewind the images
		// only once its pump has stopped reading them.
		_ = b.pump.Close()
		if err := b.pump.stopped(b.ctx, b.idle); err != nil {
			return nil, 0, err
		}
		b.pump = nil
	}
	readers := make([]io.Reader, 0, 2*len(b.images)+1)
	var length int64
	known := true
	for i, seg := range b.segments {
		readers = append(readers, bytes.NewReader(seg))
		length += int64(len(seg))
		if i == len(b.images) {
			break
		}
		r, err := b.images[i].reader()
		if err != nil {
			return nil, 0, err
		}
		readers = append(readers, r)
		if b.images[i].size < 0 {
			known = false
		}
		length += b.images[i].size
	}
	if !known {
		length = -1
	}
	if b.ctx != nil {
		// The http.Client's Timeout ends the attempt through the request's
		// own context, which the body cannot see: the pump keeps a copy.
		ctx, cancel := b.ctx, context.CancelFunc(func() {})
		if b.timeout > 0 {
			ctx, cancel = context.WithTimeout(b.ctx, b.timeout)
		}
		b.pump = newPumpBody(ctx, cancel, io.MultiReader(readers...))
		return b.pump, length, nil
	}
	return io.MultiReader(readers...), length, nil
}

// close stops the last attempt's pump, if any, once the call is over. It does
// not wait: the pump may be blocked in the caller's Read.
func (b *multipartBody) close() {
	if b.pump != nil {
		_ = b.pump.Close()
	}
}

func (b *multipartBody) replayable() bool {
	for _, img := range b.images {
		if img.rewind == nil {
			return false
		}
	}
	return true
}
