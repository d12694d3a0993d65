package flipkyc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
)

// readBody reads at most maxBytes of r's body; a larger one is refused
// without reading it all.
func (p *CallbackParser) readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > p.maxBytes {
		return nil, p.tooLarge()
	}
	if r.Body == nil {
		return nil, nil
	}
	// Read one byte past the limit to tell "at the limit" from "over it",
	// without overflowing when the limit is math.MaxInt64.
	limit := p.maxBytes
	if limit < math.MaxInt64 {
		limit++
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit))
	switch {
	case int64(len(body)) > p.maxBytes:
		return nil, p.tooLarge()
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, readTimedOut()
	case err != nil:
		return nil, &CallbackError{Status: http.StatusBadRequest, Reason: "reading body failed", Err: ErrMalformedCallback}
	}
	return body, nil
}

func (p *CallbackParser) tooLarge() *CallbackError {
	return &CallbackError{Status: http.StatusRequestEntityTooLarge,
		Reason: fmt.Sprintf("body larger than %d bytes", p.maxBytes), Err: ErrMalformedCallback}
}

func readTimedOut() *CallbackError {
	return &CallbackError{Status: http.StatusRequestTimeout, Reason: "body not received within the read timeout", Err: ErrMalformedCallback}
}

// utf8BOM is the byte order mark some senders put before a body.
var utf8BOM = []byte("\xEF\xBB\xBF")

// parseBody takes the fields token and data from a body, checks the token
// and decodes the data. A leading byte order mark is dropped. The readings
// are tried in turn, from the most to the least specific, and the first that
// finds a token field is used: multipart, JSON, form. A multipart body is
// read as multipart even when it would also read as a form: a form-encoded
// body has no line breaks, so it looks like multipart only when it has been
// crafted to, and read as a form a multipart body gives a token with the
// next part glued to it.
func (p *CallbackParser) parseBody(contentType string, body []byte) (Event, error) {
	body = bytes.TrimPrefix(body, utf8BOM)
	tokens, data, found := multipartFields(contentType, body)
	if !found {
		tokens, data, found = jsonFields(body)
	}
	if !found {
		tokens, data = formFields(body)
	}
	if err := p.checkToken(tokens); err != nil {
		return Event{}, err
	}
	return eventFromData(data), nil
}

// multipartFields reads the fields of a multipart body, whatever the content
// type says: by the boundary of the body's first line ("--boundary", after
// any blank lines), and else by the content type's boundary parameter (for a
// body with a preamble). found is false when neither reading finds a token
// field.
func multipartFields(contentType string, body []byte) (tokens, data []string, found bool) {
	body = bytes.TrimLeft(body, " \t\r\n")
	inBody := bodyBoundary(body)
	if inBody != "" {
		if tokens, data, found = readMultipart(body, inBody); found {
			return tokens, data, true
		}
	}
	if declared := declaredBoundary(contentType); declared != "" && declared != inBody {
		return readMultipart(body, declared)
	}
	return nil, nil, false
}

// bodyBoundary returns the boundary of a body whose first line is a
// multipart delimiter, "--" and the boundary, or "". Transport padding (white
// space after the boundary) is not part of it.
func bodyBoundary(body []byte) string {
	if !bytes.HasPrefix(body, []byte("--")) {
		return ""
	}
	line, _, ok := bytes.Cut(body, []byte("\n"))
	if !ok {
		return ""
	}
	return string(bytes.TrimRight(line[2:], " \t\r"))
}

// declaredBoundary returns the boundary parameter of a multipart content
// type, or "".
func declaredBoundary(contentType string) string {
	if len(contentType) < len("multipart/") || !strings.EqualFold(contentType[:len("multipart/")], "multipart/") {
		return ""
	}
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	return params["boundary"]
}

// readMultipart reads the fields token and data of a multipart body with the
// given boundary. A part cut off by the end of the body (no closing
// delimiter) keeps what it holds; a part that cannot be read ends the
// reading, and what was read so far is kept. found is false when no part
// named token was read: then the body is not multipart with this boundary,
// or not a callback.
func readMultipart(body []byte, boundary string) (tokens, data []string, found bool) {
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		part, err := mr.NextPart()
		if err != nil {
			break // what was read so far is kept
		}
		name := part.FormName()
		if name == "" {
			// Lenient: a name under any disposition.
			_, dp, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
			name = dp["name"]
		}
		if name != "token" && name != "data" {
			continue
		}
		value, err := io.ReadAll(part)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if name == "token" {
			tokens = append(tokens, string(value))
		} else {
			data = append(data, string(value))
		}
		if err != nil {
			break // the body ended inside this part
		}
	}
	return tokens, data, len(tokens) > 0
}

// jsonFields reads a body whose first JSON value is an object holding a
// token field; what follows that value (a newline, a second object, any
// bytes) is ignored. Keys match in any case, as encoding/json matches them,
// and every copy of a repeated key is kept, as in a form. A token is a
// string's content, or a number's or other value's text (null is empty);
// data is a string's content or any other value's text. An object broken
// after its token field keeps what was read before the break. found is false
// when the body is not such an object.
func jsonFields(body []byte) (tokens, data []string, found bool) {
	body = bytes.TrimLeft(body, " \t\r\n")
	if len(body) == 0 || body[0] != '{' {
		return nil, nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if _, err := dec.Token(); err != nil { // the opening brace
		return nil, nil, false
	}
	for dec.More() {
		t, err := dec.Token()
		key, ok := t.(string)
		if err != nil || !ok {
			break
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			break
		}
		switch {
		case strings.EqualFold(key, "token"):
			tokens = append(tokens, jsonText(value))
		case strings.EqualFold(key, "data"):
			if s, kind := scalarText(value); kind == kindString {
				data = append(data, s)
			} else {
				data = append(data, string(value))
			}
		}
	}
	return tokens, data, len(tokens) > 0
}

// jsonText is a string's content, a scalar's text, an object's or array's
// JSON text, or "" for null.
func jsonText(value json.RawMessage) string {
	s, kind := scalarText(value)
	if kind == kindObject || kind == kindArray {
		return string(bytes.TrimSpace(value))
	}
	return s
}

// formFields reads the fields token and data of a form-encoded body
// leniently: pairs are split on '&' only, and a '%' that starts no valid
// escape is kept as sent, where url.ParseQuery would drop the whole pair.
func formFields(body []byte) (tokens, data []string) {
	for len(body) > 0 {
		var pair []byte
		if i := bytes.IndexByte(body, '&'); i >= 0 {
			pair, body = body[:i], body[i+1:]
		} else {
			pair, body = body, nil
		}
		key, value, _ := bytes.Cut(pair, []byte("="))
		switch formUnescape(key) {
		case "token":
			tokens = append(tokens, formUnescape(value))
		case "data":
			data = append(data, formUnescape(value))
		}
	}
	return tokens, data
}

// formUnescape decodes '+' and %XX escapes; an invalid escape is kept.
func formUnescape(b []byte) string {
	if bytes.IndexByte(b, '%') < 0 && bytes.IndexByte(b, '+') < 0 {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '+':
			out = append(out, ' ')
		case c == '%' && i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]):
			out = append(out, unhex(b[i+1])<<4|unhex(b[i+2]))
			i += 2
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
