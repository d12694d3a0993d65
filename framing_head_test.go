package flipkyc

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// framingOutcome is what startBody decides from a reply head.
type framingOutcome struct {
	off       bool
	state     frameState
	remaining int64
	replies   int
}

// referenceFraming is startBody's reading of a head written over strings,
// as it was before it read the head in place: the reference for it.
func referenceFraming(head string, isHead bool) framingOutcome {
	lines := strings.Split(strings.TrimRight(head, "\r\n"), "\n")
	status := strings.Fields(lines[0])
	if len(status) < 2 || !strings.HasPrefix(status[0], "HTTP/1.") {
		return framingOutcome{off: true, state: frameHead}
	}
	code, err := strconv.Atoi(status[1])
	if err != nil || code < 100 || code > 999 || code == http.StatusSwitchingProtocols {
		return framingOutcome{off: true, state: frameHead}
	}
	if code < 200 {
		return framingOutcome{state: frameIdle}
	}
	length, lengths, isChunked := int64(-1), 0, false
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "content-length":
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil || n < 0 || (lengths > 0 && n != length) {
				return framingOutcome{off: true, state: frameHead}
			}
			length, lengths = n, lengths+1
		case "transfer-encoding":
			isChunked = isChunked || strings.Contains(strings.ToLower(value), "chunked")
		}
	}
	ended := framingOutcome{state: frameIdle, replies: 1}
	switch {
	case isHead || code == http.StatusNoContent || code == http.StatusNotModified:
		return ended
	case isChunked:
		return framingOutcome{state: frameChunkSize}
	case length == 0:
		return ended
	case length > 0:
		return framingOutcome{state: frameBody, remaining: length}
	}
	return framingOutcome{off: true, state: frameHead}
}

func framingOf(head string, isHead bool) framingOutcome {
	c := &framedConn{requests: 1, heads: []bool{isHead}, state: frameHead, head: []byte(head)}
	c.startBody()
	return framingOutcome{off: c.off, state: c.state, remaining: c.remaining, replies: c.replies}
}

// hostileReplyHeads are reply heads, usual and odd, that startBody must read
// as referenceFraming does.
var hostileReplyHeads = []string{
	"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 312\r\n\r\n",
	"HTTP/1.1 200 OK\nContent-Length: 312\n\n", "HTTP/1.0 200 OK\r\ncontent-length:0\r\n\r\n",
	"HTTP/1.1 204 No Content\r\n\r\n", "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n",
	"HTTP/1.1 100 Continue\r\n\r\n", "HTTP/1.1 101 Switching Protocols\r\n\r\n", "HTTP/1.1 103 Early Hints\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "HTTP/1.1 200 OK\r\nTRANSFER-ENCODING: gzip, CHUNKED\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n", "HTTP/1.1 200\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: +7\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n",
	"HTTP/1.1 200 OK\r\n  Content-Length  :  7  \r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length 7\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nTransfer-Encoding: chunked\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX: a:b\r\nContent-Length: 3\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\nContent-Length: 3\r\n\r\n",
	"HTTP/2 200\r\n\r\n", "HTTP/1.1 abc OK\r\n\r\n", "HTTP/1.1 99 X\r\n\r\n", "HTTP/1.1 1000 X\r\n\r\n",
	"HTTP/1.1 +200 OK\r\nContent-Length: 1\r\n\r\n", "  HTTP/1.1   200   OK\r\nContent-Length: 2\r\n\r\n",
	"HTTP/1.1\u00a0200 OK\r\nContent-Length: 2\r\n\r\n", "HTTP/1.1\u0085200 OK\r\nContent-Length: 2\r\n\r\n",
	"HTTP/1.1 200\u2003OK\r\nContent-Length: 2\r\n\r\n", "HTTP/1.1\r\n\r\n", "\r\n\r\n", "\n\n", "garbage\n\n",
	"HTTP/1.1 200 OK\r\nContent-Len\u212Ath: 4\r\n\r\n", "HTTP/1.1 200 OK\r\nTran\u017Ffer-Encoding: chunked\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encod\u0130ng: chunked\r\nContent-Length: 4\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: CHUNK\u212AD\r\nContent-Length: 4\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: \u0130chunked\r\nContent-Length: 4\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: \u00a04\u00a0\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 4\xff\r\n\r\n",
	"HTTP/1.1 200 OK\r\n\xffContent-Length: 4\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n\r\n\n",
}

// TestFramingReadsHeadsAsBefore: reading the head in place decides every
// framing as reading it over strings did, for HEAD and other requests.
func TestFramingReadsHeadsAsBefore(t *testing.T) {
	for _, head := range hostileReplyHeads {
		for _, isHead := range []bool{false, true} {
			t.Run(fmt.Sprintf("%q/%v", head, isHead), func(t *testing.T) {
				if got, want := framingOf(head, isHead), referenceFraming(head, isHead); got != want {
					t.Fatalf("got %+v, want %+v", got, want)
				}
			})
		}
	}
}

// FuzzFramingHead: on any head, startBody decides as referenceFraming.
func FuzzFramingHead(f *testing.F) {
	for _, head := range hostileReplyHeads {
		f.Add(head, false)
	}
	f.Fuzz(func(t *testing.T, head string, isHead bool) {
		if got, want := framingOf(head, isHead), referenceFraming(head, isHead); got != want {
			t.Fatalf("head %q: got %+v, want %+v", head, got, want)
		}
	})
}

// TestFramingReadsAHeadWithoutAllocating: the head of a usual reply is
// read where it lies.
func TestFramingReadsAHeadWithoutAllocating(t *testing.T) {
	head := []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: 312\r\n\r\n")
	c := &framedConn{}
	allocs := testing.AllocsPerRun(100, func() {
		c.off, c.state, c.head = false, frameHead, head
		c.startBody()
	})
	if allocs != 0 || c.state != frameBody || c.remaining != 312 {
		t.Fatalf("%v allocations, state %v, remaining %d", allocs, c.state, c.remaining)
	}
}
