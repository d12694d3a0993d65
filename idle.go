package flipkyc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// ErrStalled is matched by the error of an attempt that was abandoned
// because nothing moved on its connection for the idle timeout
// (WithIdleTimeout): Flip, or something on the way, stopped sending or
// receiving.
var ErrStalled = errors.New("flipkyc: connection stalled")

// idleWatch abandons an attempt when neither its request body nor its reply
// makes progress for the idle timeout. It needs no access to the transport,
// so it bounds a stuck peer whatever *http.Client the caller brings.
type idleWatch struct {
	ctx     context.Context
	cancel  context.CancelCauseFunc
	timer   *time.Timer
	idle    time.Duration
	start   time.Time
	last    atomic.Int64 // time of the last progress, as nanoseconds since start
	stopped atomic.Bool
	// The request body and the reply, reporting progress; kept here so
	// that an attempt allocates them once with the watch.
	request, reply progressReader

	mu    sync.Mutex
	body  aborter // the request body, when it can be cut off
	fired bool    // the watch abandoned the attempt
}

// aborter is a request body whose reads may wait on something the request's
// context does not reach (a pumped upload body waits on the caller's Read):
// abort makes its pending and later reads fail with err, so that the
// transport's write of the body ends.
type aborter interface{ abort(err error) }

func (c *Client) newIdleWatch(ctx context.Context) *idleWatch {
	return startIdleWatch(ctx, c.idleTimeout)
}

// startIdleWatch returns a watch under ctx that fires after idle without
// progress.
func startIdleWatch(ctx context.Context, idle time.Duration) *idleWatch {
	w := &idleWatch{idle: idle, start: time.Now()}
	w.ctx, w.cancel = context.WithCancelCause(ctx)
	w.timer = time.AfterFunc(w.idle, w.check)
	return w
}

// check runs when the timer fires: it abandons the attempt if nothing moved
// for the idle timeout, and sets the timer again otherwise. Abandoning
// cancels the watch's context with ErrStalled and aborts the request body,
// if it can be: the transport may be waiting in the body's Read, which the
// context does not reach.
func (w *idleWatch) check() {
	if w.stopped.Load() {
		return
	}
	quiet := time.Since(w.start) - time.Duration(w.last.Load())
	if quiet >= w.idle {
		w.cancel(ErrStalled)
		w.mu.Lock()
		w.fired = true
		body := w.body
		w.mu.Unlock()
		if body != nil {
			body.abort(ErrStalled)
		}
		return
	}
	w.timer.Reset(w.idle - quiet)
}

// progress records that bytes moved.
func (w *idleWatch) progress() { w.last.Store(int64(time.Since(w.start))) }

// stop ends the watch; it must be called once the reply has been read.
func (w *idleWatch) stop() {
	w.stopped.Store(true)
	w.timer.Stop()
	w.cancel(nil)
}

// cause returns err, or an error matching ErrStalled when the watch is what
// ended the attempt.
func (w *idleWatch) cause(err error) error {
	if errors.Is(context.Cause(w.ctx), ErrStalled) {
		return fmt.Errorf("%w: nothing sent or received for %s", ErrStalled, w.idle)
	}
	return err
}

// requestBody returns r reporting each read that moved bytes as progress.
// When r is an aborter the watch aborts it when it fires (at once if it
// already has).
func (w *idleWatch) requestBody(r io.Reader) io.Reader {
	if a, ok := r.(aborter); ok {
		w.mu.Lock()
		w.body = a
		fired := w.fired
		w.mu.Unlock()
		if fired {
			a.abort(ErrStalled)
		}
	}
	w.request = progressReader{r: r, w: w}
	return &w.request
}

// replyBody returns r reporting each read that moved bytes as progress.
func (w *idleWatch) replyBody(r io.Reader) io.Reader {
	w.reply = progressReader{r: r, w: w}
	return &w.reply
}

type progressReader struct {
	r io.Reader
	w *idleWatch
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.w.progress()
	}
	return n, err
}
