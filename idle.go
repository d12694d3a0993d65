package flipkyc

import (
	"context"
	"errors"
	"fmt"
	"io"
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
}

func (c *Client) newIdleWatch(ctx context.Context) *idleWatch {
	w := &idleWatch{idle: c.idleTimeout, start: time.Now()}
	w.ctx, w.cancel = context.WithCancelCause(ctx)
	w.timer = time.AfterFunc(w.idle, w.check)
	return w
}

// check runs when the timer fires: it abandons the attempt if nothing moved
// for the idle timeout, and sets the timer again otherwise.
func (w *idleWatch) check() {
	if w.stopped.Load() {
		return
	}
	quiet := time.Since(w.start) - time.Duration(w.last.Load())
	if quiet >= w.idle {
		w.cancel(ErrStalled)
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
func (w *idleWatch) requestBody(r io.Reader) io.Reader {
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
