// Package sent tells, from net/http's client trace, whether a request that
// failed may have reached the server whole, for the module's clients, which
// never repeat a state change that may have taken effect.
package sent

import (
	"errors"
	"net"
	"net/http/httptrace"
	"sync/atomic"
)

// Evidence is what one attempt's client trace told of its request. The zero
// value is ready; Hook it into the attempt's trace.
type Evidence struct {
	// traced is set when the transport reports its progress (GetConn); a
	// transport that does not (httpmock, a RoundTripper that sends a
	// request of its own) leaves wrote unset whatever it sent.
	traced atomic.Bool
	wrote  atomic.Bool // WroteRequest reported the whole request written
}

// Hook sets t's GetConn and WroteRequest to record into e.
func (e *Evidence) Hook(t *httptrace.ClientTrace) {
	t.GetConn = func(string) { e.traced.Store(true) }
	t.WroteRequest = func(info httptrace.WroteRequestInfo) {
		if info.Err == nil {
			e.wrote.Store(true)
		}
	}
}

// Reset forgets what an earlier attempt recorded.
func (e *Evidence) Reset() {
	e.traced.Store(false)
	e.wrote.Store(false)
}

// MayHaveSent reports whether an attempt that failed with err may have
// written its whole request: the transport said so, or it does not report
// its progress and err is not a failure to connect (a dial error or a
// failed DNS look-up). Until a traced transport reports the request
// written, the server has at most a part of it, which it cannot act on.
func (e *Evidence) MayHaveSent(err error) bool {
	if e.wrote.Load() {
		return true
	}
	if e.traced.Load() {
		return false
	}
	var opErr *net.OpError
	var dnsErr *net.DNSError
	return !(errors.As(err, &opErr) && opErr.Op == "dial") && !errors.As(err, &dnsErr)
}
