package flipkyc

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/textproto"
	"path"
	"strings"
	"unicode"
)

// Image rules Flip documents for every uploaded image.
const (
	// MaxImageBytes is the largest image Flip accepts ("under 2 MB"; read as
	// 2,000,000 bytes, the stricter reading, because Flip counts refused
	// uploads against a maximum).
	MaxImageBytes = 2_000_000
	// MinImageSide and MaxImageSide bound an image's width and height in pixels.
	MinImageSide = 256
	MaxImageSide = 4096
)

// peekLimit bounds how much of an image is read to check its type and size
// before the request is sent; JPEG headers with large EXIF blocks fit.
const peekLimit = 256 << 10

// Image is an image to upload: a PNG or JPEG photo taken with the camera.
type Image struct {
	// Name is the file name sent to Flip, such as "ktp.jpg". It is reduced
	// to a safe base name, and the extension is fixed to match the content.
	Name string
	// Content is streamed into the request, never read whole into memory. If
	// it implements io.Seeker (an *os.File, a *bytes.Reader), or io.ReaderAt
	// and Size() int64, a failed upload can be retried; otherwise it is sent
	// once.
	Content io.Reader
}

// preparedImage is an Image whose header has been checked.
type preparedImage struct {
	field       string // multipart field name, such as "image" or "npwp_selfie"
	name        string // sanitized file name
	contentType string // image/png or image/jpeg
	size        int64  // bytes from the start position; -1 if unknown
	prefix      []byte // bytes consumed by the check, for readers that cannot rewind
	src         io.Reader
	rewind      func() (io.Reader, error) // nil when src cannot be re-read
}

// prepareImage checks img against Flip's image rules from a small peek of its
// content and records each broken rule under field.
func prepareImage(v *fieldErrors, field string, img Image) *preparedImage {
	if img.Content == nil {
		v.add(field, "is required")
		return nil
	}
	p := &preparedImage{field: field, src: img.Content, size: -1}
	switch r := img.Content.(type) {
	case io.Seeker:
		start, err := r.Seek(0, io.SeekCurrent)
		end, err2 := r.Seek(0, io.SeekEnd)
		_, err3 := r.Seek(start, io.SeekStart)
		if err != nil || err2 != nil || err3 != nil {
			v.add(field, "cannot be read: seek failed")
			return nil
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
	if p.size > MaxImageBytes {
		v.add(field, fmt.Sprintf("must be under 2 MB (%d bytes at most), is %d bytes", MaxImageBytes, p.size))
		return nil
	}
	if p.size == 0 {
		v.add(field, "is empty")
		return nil
	}

	var head bytes.Buffer
	peek := io.TeeReader(io.LimitReader(img.Content, peekLimit), &head)
	var magic [8]byte
	n, _ := io.ReadFull(peek, magic[:])
	var cfg image.Config
	var err error
	whole := io.MultiReader(bytes.NewReader(magic[:n]), peek)
	switch {
	case n == 8 && string(magic[:]) == "\x89PNG\r\n\x1a\n":
		p.contentType = "image/png"
		cfg, err = png.DecodeConfig(whole)
	case n >= 3 && string(magic[:3]) == "\xff\xd8\xff":
		p.contentType = "image/jpeg"
		cfg, err = jpeg.DecodeConfig(whole)
	default:
		v.add(field, "must be a PNG or JPEG image")
		return nil
	}
	if p.rewind != nil {
		if _, rerr := p.rewind(); rerr != nil {
			v.add(field, "cannot be read: rewind failed")
			return nil
		}
	} else {
		p.prefix = head.Bytes()
	}
	if err != nil {
		v.add(field, "has an unreadable "+strings.TrimPrefix(p.contentType, "image/")+" header")
		return nil
	}
	if cfg.Width < MinImageSide || cfg.Height < MinImageSide || cfg.Width > MaxImageSide || cfg.Height > MaxImageSide {
		v.add(field, fmt.Sprintf("must be %d to %d pixels per side, is %dx%d", MinImageSide, MaxImageSide, cfg.Width, cfg.Height))
		return nil
	}
	p.name = sanitizeFileName(img.Name, p.contentType)
	return p
}

// reader returns the image's bytes for one attempt.
func (p *preparedImage) reader() (io.Reader, error) {
	if p.rewind != nil {
		return p.rewind()
	}
	r := io.MultiReader(bytes.NewReader(p.prefix), p.src)
	if p.size < 0 {
		return &capReader{r: r, left: MaxImageBytes}, nil
	}
	return r, nil
}

// errImageTooLarge is returned mid-upload by a stream of unknown size that
// turns out larger than Flip accepts.
var errImageTooLarge = errors.New("image is not under 2 MB")

// capReader fails once more than left bytes have been read.
type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.left -= int64(n)
	if c.left < 0 {
		return n, errImageTooLarge
	}
	return n, err
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
}

// field is one text field of a form.
type field struct{ name, value string }

func newMultipartBody(fields []field, images []*preparedImage) *multipartBody {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, f := range fields {
		_ = w.WriteField(f.name, f.value) // writes to a bytes.Buffer cannot fail
	}
	b := &multipartBody{boundary: w.Boundary(), images: images}
	for _, img := range images {
		h := make(textproto.MIMEHeader)
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, img.field, img.name))
		h.Set("Content-Type", img.contentType)
		_, _ = w.CreatePart(h)
		b.segments = append(b.segments, bytes.Clone(buf.Bytes()))
		buf.Reset()
	}
	_ = w.Close()
	b.segments = append(b.segments, bytes.Clone(buf.Bytes()))
	return b
}

func (b *multipartBody) contentType() string { return "multipart/form-data; boundary=" + b.boundary }

func (b *multipartBody) open() (io.Reader, int64, error) {
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
			return nil, 0, fmt.Errorf("%s: %w", b.images[i].field, err)
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
	return io.MultiReader(readers...), length, nil
}

func (b *multipartBody) replayable() bool {
	for _, img := range b.images {
		if img.rewind == nil {
			return false
		}
	}
	return true
}
