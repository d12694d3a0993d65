package flipkyctest

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"time"

	"github.com/flipkyc/flipkyc"
)

// maxRequestBytes bounds a request body the fake reads: a few images.
const maxRequestBytes = 32 << 20

// upload is one file part of a multipart request.
type upload struct {
	filename    string
	contentType string
	size        int64
	head        []byte // the start of the file, enough for its image header
}

// parseBody reads the query string and the body (form-urlencoded or
// multipart) into x.rec.Fields and the request's uploads, and checks the
// content type each route requires.
func parseBody(x *exchange) error {
	for k, v := range x.r.URL.Query() {
		x.rec.Fields[k] = v[0]
	}
	if x.r.Method == http.MethodGet {
		return nil
	}
	mt, params, err := mime.ParseMediaType(x.r.Header.Get("Content-Type"))
	if err != nil {
		return errors.New("missing or invalid Content-Type")
	}
	want := "multipart/form-data"
	switch x.route {
	case RouteCreateAgent, RouteUpdateAgent:
		want = "application/x-www-form-urlencoded"
	case RouteRepairData:
		if mt == "application/x-www-form-urlencoded" {
			want = mt // Flip documents both for repair
		}
	}
	if mt != want {
		return fmt.Errorf("Content-Type must be %s", want)
	}
	body := http.MaxBytesReader(nil, x.r.Body, maxRequestBytes)
	if mt == "application/x-www-form-urlencoded" {
		b, err := io.ReadAll(body)
		if err != nil {
			return errors.New("body too large or unreadable")
		}
		form, err := url.ParseQuery(string(b))
		if err != nil {
			return errors.New("invalid form body")
		}
		for k, v := range form {
			x.rec.Fields[k] = v[0]
		}
		return nil
	}
	x.files = map[string]upload{}
	mr := multipart.NewReader(body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return errors.New("invalid multipart body")
		}
		if p.FileName() == "" {
			v, err := io.ReadAll(io.LimitReader(p, 64<<10))
			if err != nil {
				return errors.New("invalid multipart body")
			}
			x.rec.Fields[p.FormName()] = string(v)
			continue
		}
		var head bytes.Buffer
		n, err := io.Copy(io.Discard, io.TeeReader(p, &limitedBuffer{&head, 256 << 10}))
		if err != nil {
			return errors.New("invalid multipart body")
		}
		x.files[p.FormName()] = upload{filename: p.FileName(), contentType: p.Header.Get("Content-Type"), size: n, head: head.Bytes()}
		x.rec.Files[p.FormName()] = n
	}
	return nil
}

// limitedBuffer keeps the first max bytes written to it and drops the rest.
type limitedBuffer struct {
	buf *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// checkImage applies Flip's image rules to an upload and returns the KYC
// error code and message for the first rule broken, or 0.
func checkImage(u upload) (int, string) {
	if u.size >= flipkyc.MaxImageBytes+1 {
		return 4007, "Image file size is too large"
	}
	var cfg image.Config
	var err error
	switch {
	case bytes.HasPrefix(u.head, []byte("\x89PNG\r\n\x1a\n")):
		cfg, err = png.DecodeConfig(bytes.NewReader(u.head))
	case bytes.HasPrefix(u.head, []byte("\xff\xd8\xff")):
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(u.head))
	default:
		return 4008, "Image is not valid"
	}
	switch {
	case err != nil:
		return 4009, "Failed reading image data"
	case cfg.Width < flipkyc.MinImageSide || cfg.Height < flipkyc.MinImageSide ||
		cfg.Width > flipkyc.MaxImageSide || cfg.Height > flipkyc.MaxImageSide:
		return 4008, "Image is not valid"
	}
	return 0, ""
}

// now is the fake's clock, in Flip's zone-less local-time layout.
func now() flipkyc.Timestamp {
	t := time.Now().Truncate(time.Second)
	ts, _ := flipkyc.ParseTimestamp(t.In(time.FixedZone("WIB", 7*3600)).Format("2006-01-02 15:04:05"))
	return ts
}
