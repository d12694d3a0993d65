package flipkyc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// CallbackOption configures NewCallbackHandler and NewCallbackParser. The
// parser takes only WithCallbackMaxBytes; the others concern the handler. An
// invalid option makes either constructor fail; a nil one is ignored.
type CallbackOption func(*callbackConfig) error

// callbackConfig is what the callback options set.
type callbackConfig struct {
	maxBytes    int64
	logger      *slog.Logger
	readTimeout time.Duration
}

func newCallbackConfig(opts []CallbackOption) (callbackConfig, error) {
	cfg := callbackConfig{maxBytes: DefaultCallbackMaxBytes, logger: slog.New(slog.DiscardHandler),
		readTimeout: DefaultCallbackReadTimeout}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// WithCallbackLogger makes the handler log refused callbacks and callbacks
// accepted with problems at warn level, failures of the user's function at
// error level and accepted callbacks at debug level, with the agent id and
// status, never the token, the agent's name or the raw data. Without it the
// handler is silent. A nil l is an error.
func WithCallbackLogger(l *slog.Logger) CallbackOption {
	return func(c *callbackConfig) error {
		if l == nil {
			return errors.New("WithCallbackLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithCallbackMaxBytes sets the largest body accepted (default
// DefaultCallbackMaxBytes), from 1 up to math.MaxInt64; a larger body is
// answered 413.
func WithCallbackMaxBytes(n int64) CallbackOption {
	return func(c *callbackConfig) error {
		if n < 1 {
			return fmt.Errorf("WithCallbackMaxBytes: %d, want at least 1", n)
		}
		c.maxBytes = n
		return nil
	}
}

// WithCallbackReadTimeout sets how long the handler waits for a callback's
// body, from the moment it starts reading (default
// DefaultCallbackReadTimeout); a body not received whole by then is answered
// 408 and the connection is closed. d must be positive.
func WithCallbackReadTimeout(d time.Duration) CallbackOption {
	return func(c *callbackConfig) error {
		if d <= 0 {
			return fmt.Errorf("WithCallbackReadTimeout: %v, want more than 0", d)
		}
		c.readTimeout = d
		return nil
	}
}

type callbackHandler struct {
	parser      *CallbackParser
	handle      func(context.Context, Event) error
	logger      *slog.Logger
	readTimeout time.Duration
}

// NewCallbackHandler returns an http.Handler for Flip's KYC callbacks.
//
// It reads the body (any method, any content type, as CallbackParser.Parse
// does) within its read timeout (WithCallbackReadTimeout) and checks the
// token first: a missing token is answered 401, a wrong one 403, a body over
// the limit 413, a body not received within the read timeout 408 and one
// that could not be read 400. A callback with the right token is always
// passed to handle, even when its data is missing or malformed (see
// Event.Problems and Event.Raw), and Flip gets its 200 only after handle
// returns nil: store the event there. Flip sends each callback only once, so
// a callback answered 200 and then lost is lost for good; an error from
// handle answers 500.
//
// The read timeout covers the body only: set ReadHeaderTimeout on the
// http.Server for the headers. When the server's ReadTimeout is shorter, the
// handler keeps the server's deadline. Once the body is read, the handler
// clears the read deadline, so a slow handle is not cancelled by it.
func NewCallbackHandler(token string, handle func(context.Context, Event) error, opts ...CallbackOption) (http.Handler, error) {
	parser, err := NewCallbackParser(token, opts...)
	if err != nil {
		return nil, err
	}
	if handle == nil {
		return nil, errors.New("flipkyc: NewCallbackHandler: nil handle function")
	}
	cfg, _ := newCallbackConfig(opts) // checked by NewCallbackParser
	return &callbackHandler{parser: parser, handle: handle, logger: cfg.logger, readTimeout: cfg.readTimeout}, nil
}

// ServeHTTP checks one callback, hands it to the user's function and answers.
func (h *callbackHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := h.readBody(w, r)
	var ev Event
	if err == nil {
		ev, err = h.parser.parseBody(r.Header.Get("Content-Type"), body)
	}
	if err != nil {
		h.refuse(w, r, err)
		return
	}
	if len(ev.Problems) > 0 {
		h.logger.LogAttrs(r.Context(), slog.LevelWarn, "flipkyc: callback accepted with problems",
			slog.Any("event", ev))
	}
	if err := h.handle(r.Context(), ev); err != nil {
		h.logger.LogAttrs(r.Context(), slog.LevelError, "flipkyc: callback handler failed",
			slog.Int64("agent_id", ev.AgentID), slog.String("kyc_status", flipPersonal.Text(string(ev.KYCStatus), nameForms(ev.AgentName))),
			slog.String("error", flipPersonal.Text(err.Error(), nameForms(ev.AgentName))))
		http.Error(w, "callback not stored", http.StatusInternalServerError)
		return
	}
	h.logger.LogAttrs(r.Context(), slog.LevelDebug, "flipkyc: callback accepted", slog.Any("event", ev))
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "OK")
}

// refuse answers a refused callback and logs why.
func (h *callbackHandler) refuse(w http.ResponseWriter, r *http.Request, err error) {
	var ce *CallbackError
	status := http.StatusBadRequest
	if errors.As(err, &ce) {
		status = ce.Status
	}
	if errors.Is(err, ErrMalformedCallback) {
		// The body was not read whole: the connection cannot be reused.
		w.Header().Set("Connection", "close")
	}
	h.logger.LogAttrs(r.Context(), slog.LevelWarn, "flipkyc: callback refused",
		slog.Int("status", status), slog.String("reason", err.Error()))
	http.Error(w, err.Error(), status)
}

// readBody reads the body within the handler's read timeout: by a read
// deadline on the connection where the ResponseWriter supports one, or else
// by waiting for the read no longer than the timeout.
func (h *callbackHandler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	rc := http.NewResponseController(w)
	d := h.readTimeout
	if srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server); ok && srv.ReadTimeout > 0 && srv.ReadTimeout <= d {
		d = 0 // the server's own deadline, already running, comes first
	}
	var err error
	if d > 0 {
		err = rc.SetReadDeadline(time.Now().Add(d))
	}
	if errors.Is(err, http.ErrNotSupported) {
		return h.readBodyWaiting(r)
	}
	body, err := h.parser.readBody(r)
	if err == nil {
		// The body is read: no deadline may now cut the connection (and
		// cancel the request's context) while the user's function runs.
		// net/http's HTTP/1 server clears it itself once the body ends;
		// this is for any other server behind the ResponseWriter.
		_ = rc.SetReadDeadline(time.Time{})
	}
	return body, err
}

// readBodyWaiting reads the body in another goroutine and waits for it no
// longer than the read timeout. A read still blocked then ends when the
// server closes the connection.
func (h *callbackHandler) readBodyWaiting(r *http.Request) ([]byte, error) {
	type result struct {
		body []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		body, err := h.parser.readBody(r)
		done <- result{body, err}
	}()
	timer := time.NewTimer(h.readTimeout)
	defer timer.Stop()
	select {
	case res := <-done:
		return res.body, res.err
	case <-timer.C:
		return nil, readTimedOut()
	case <-r.Context().Done():
		return nil, &CallbackError{Status: http.StatusBadRequest, Reason: "request ended before the body was read", Err: ErrMalformedCallback}
	}
}
