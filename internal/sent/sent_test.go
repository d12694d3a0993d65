package sent

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httptrace"
	"testing"
)

func TestMayHaveSent(t *testing.T) {
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	read := &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}
	dns := &net.DNSError{Err: "no such host", Name: "flip.invalid"}
	tests := []struct {
		name     string
		getConn  bool // the transport reported its progress
		wrote    bool // and the whole request written
		writeErr error
		err      error
		want     bool
	}{
		{"traced, written, then reset", true, true, nil, read, true},
		{"traced, cut short while writing", true, true, io.ErrShortWrite, read, false},
		{"traced, never written", true, false, nil, read, false},
		{"traced, dial failed", true, false, nil, dial, false},
		{"untraced, reset", false, false, nil, read, true},
		{"untraced, plain error", false, false, nil, io.EOF, true},
		{"untraced, dial failed", false, false, nil, fmt.Errorf("proxy: %w", dial), false},
		{"untraced, DNS failed", false, false, nil, dns, false},
	}
	for _, tt := range tests {
		var e Evidence
		var trace httptrace.ClientTrace
		e.Hook(&trace)
		if tt.getConn {
			trace.GetConn("flip.id:443")
		}
		if tt.wrote {
			trace.WroteRequest(httptrace.WroteRequestInfo{Err: tt.writeErr})
		}
		if got := e.MayHaveSent(tt.err); got != tt.want {
			t.Errorf("%s: MayHaveSent = %v, want %v", tt.name, got, tt.want)
		}
		e.Reset()
		if !e.MayHaveSent(read) || e.MayHaveSent(dial) {
			t.Errorf("%s: Reset kept what the attempt recorded", tt.name)
		}
	}
}
