package flipkyc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/flipkyc/flipkyc/internal/backoff"
)

// apiFamily names which of Flip's two APIs a call goes to.
type apiFamily int

const (
	agentsAPI apiFamily = iota // bigflip.id …/v2
	kycAPI                     // api.flip.id …/kyc…/api/v1
)

// requestBody is a request body that can be produced once per attempt.
type requestBody interface {
	contentType() string
	// open returns the body for one attempt and its length, or -1 if unknown.
	open() (io.Reader, int64, error)
	// replayable reports whether open may be called again after a body was sent.
	replayable() bool
}

// call describes one API call for do.
type call struct {
	op     string // the method called, such as "GetAgent"
	method string
	api    apiFamily
	path   string // escaped, relative to the family's base URL
	query  url.Values
	body   requestBody // a streamed body (multipart), or nil
	form   string      // an application/x-www-form-urlencoded body, when body is nil
	// repeatable is true where sending the call twice cannot double an
	// effect: reads and the full-replacement agent update. Such calls are
	// retried on connection errors and 429/502/503/504. The others are
	// repeated only when nothing was written to the network, or on 429;
	// when one fails after it may have reached Flip, do reports an
	// *OutcomeUnknownError.
	repeatable bool
	// sent is the call's own personal input, masked wherever a reply
	// echoes it into an error; nil when the call sends none.
	sent personalData
	// anyReply: a 2xx reply means the call succeeded whatever its body
	// (submit, uploads, repairs); out is filled as far as the body allows.
	// Without it, a 2xx whose body is not the documented result fails.
	anyReply bool
}

// personalData is input that carries personal data: the values that must
// never come back in an error's text.
type personalData interface{ personalValues() []string }

// do sends r, retrying as the policy allows, and decodes a 2xx reply into
// out (which may be nil). It is the only place that talks to the network.
// opts are the call's own options; ResponseInto's target is filled in
// whatever the outcome.
func (c *Client) do(ctx context.Context, r call, out any, opts []CallOption) error {
	co := resolveCallOptions(opts)
	var meta Response
	err := c.send(ctx, &r, out, &co, &meta)
	if co.response != nil {
		meta.Header = c.key.forms.ScrubHeader(meta.Header)
		*co.response = meta
	}
	return err
}

// send is do's work: it fills meta as the call goes.
func (c *Client) send(ctx context.Context, r *call, out any, co *callOptions, meta *Response) error {
	id, generated := co.requestID, false
	if id == "" {
		id, generated = c.requestID(), c.ownRequestIDs
	}
	*meta = Response{Operation: r.op, RequestID: id}
	// The SDK's own generator makes only well-formed Request-IDs.
	if !generated {
		if rerr := checkRequestID(id); rerr != nil {
			return &ValidationError{Op: r.op, Fields: []FieldError{{Field: "Request-ID", Rule: rerr.Error()}}}
		}
	}
	policy := c.retry
	if co.retry != nil {
		if perr := backoff.Policy(*co.retry).Check(); perr != nil {
			return &ValidationError{Op: r.op, Fields: []FieldError{{Field: "Retry", Rule: perr.Error()}}}
		}
		policy = co.retry.limits()
	}
	st := &callState{Context: ctx, op: r.op, id: [1]string{id}}
	st.requestID = st.id[:] // the header value, without an allocation of its own
	ctx = st
	if !r.repeatable {
		// A call that may not be repeated once it left the machine watches
		// whether its whole request was written. Until WroteRequest reports
		// success, Flip has at most a part of the request, which it cannot
		// act on, so the call may be sent again. A transport that does not
		// report its progress (GetConn) gives no such evidence; see
		// mayHaveSent.
		st.sent.Hook(&st.trace)
		ctx = httptrace.WithClientTrace(ctx, &st.trace)
	}
	target := c.agentsBase + r.path
	if r.api == kycAPI {
		target = c.kycBase + r.path
	}
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	for attempt := 1; ; attempt++ {
		st.attempt = attempt
		start := c.clock.Now()
		res := c.attempt(ctx, *r, target, st, attempt, out)
		meta.Attempts, meta.StatusCode, meta.Header = attempt, res.status, res.header
		// A stalled attempt is not retried: it already waited the whole idle
		// timeout, which is what the caller allowed for silence, and a peer
		// that went silent once is likely to again. So a call without a
		// deadline meets at most one stall (see WithIdleTimeout).
		last := res.err == nil || !res.retryable || attempt >= policy.MaxAttempts || ctx.Err() != nil ||
			(r.body != nil && !r.body.replayable()) || errors.Is(res.err, ErrStalled)
		var wait time.Duration
		if !last {
			wait = policy.Delay(attempt, res.retryAfter)
		}
		c.log(ctx, r, id, attempt, res, c.clock.Now().Sub(start))
		if c.attemptHook != nil {
			c.attemptHook(ctx, Attempt{Operation: r.op, RequestID: id, Number: attempt, StatusCode: res.status,
				Err: res.err, Duration: c.clock.Now().Sub(start), RetryIn: wait})
		}
		if res.err == nil {
			return nil
		}
		if last {
			err := res.err
			if attempt > 1 {
				err = &RetryError{Attempts: attempt, Err: err}
			}
			if res.ambiguous {
				err = &OutcomeUnknownError{Op: r.op, Method: r.method, Path: r.path, RequestID: id, Err: err}
			}
			return err
		}
		c.logger.LogAttrs(ctx, slog.LevelInfo, "flipkyc: retrying", append([]slog.Attr{
			slog.String("op", r.op), slog.String("method", r.method), slog.String("path", r.path),
			slog.String("request_id", id), slog.Int("attempt", attempt), slog.Duration("wait", wait)},
			errorAttrs(res.err)...)...)
		if werr := c.clock.Sleep(ctx, wait); werr != nil {
			return fmt.Errorf("flipkyc: %s: %w while waiting to retry after attempt %d: %w", r.op, werr, attempt, res.err)
		}
	}
}

// attemptResult is the outcome of one HTTP exchange.
type attemptResult struct {
	err error
	// status and header are the reply's; 0 and nil when none came.
	status int
	header http.Header
	// retryable: the failure may be retried under the policy.
	retryable bool
	// ambiguous: the call may not be repeated and may have taken effect at
	// Flip: it failed after its request was written, with no answer from
	// Flip that says it was refused.
	ambiguous  bool
	retryAfter time.Duration
}

// attempt makes one HTTP exchange.
func (c *Client) attempt(ctx context.Context, r call, target string, st *callState, n int, out any) attemptResult {
	id := st.requestID[0]
	st.sent.Reset()
	var body io.Reader
	length, contentType := int64(0), ""
	switch {
	case r.body != nil:
		var err error
		if body, length, err = r.body.open(); err != nil {
			if local := imageReadFailure(r.op, err); local != nil {
				return attemptResult{err: local}
			}
			return attemptResult{err: fmt.Errorf("flipkyc: %s: preparing body: %w", r.op, err)}
		}
		contentType = r.body.contentType()
	case r.form != "":
		body, length, contentType = strings.NewReader(r.form), int64(len(r.form)), "application/x-www-form-urlencoded"
	}
	watch := c.newIdleWatch(ctx)
	defer watch.stop()
	if _, inMemory := body.(*strings.Reader); body != nil && !inMemory {
		// A form body is written with the headers in one go; wrapping it
		// would make net/http flush the headers on their own first, an
		// extra write per call. Streams report their progress.
		body = watch.requestBody(body)
	}
	req, err := http.NewRequestWithContext(watch.ctx, r.method, target, body)
	if err != nil {
		return attemptResult{err: fmt.Errorf("flipkyc: %s: %w", r.op, err)}
	}
	req.GetBody = nil // the request path, not net/http, decides what is replayed
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
		if length >= 0 {
			req.ContentLength = length
		} else {
			req.ContentLength = -1
		}
	}
	req.Header["Accept"] = acceptJSON

	resp, err := c.http.Do(req)
	if err != nil {
		if local := imageReadFailure(r.op, err); local != nil {
			// The body stopped before its end: Flip has at most a part of
			// it, which it cannot act on, and a repeat would read the same
			// failing source.
			return attemptResult{err: local}
		}
		err = c.key.forms.ScrubError(watch.cause(err))
		wrote := r.repeatable || st.mayHaveSent(err)
		netErr := &NetworkError{Op: r.op, Method: r.method, Path: r.path, RequestID: id, Err: err}
		if ctx.Err() != nil {
			return attemptResult{err: netErr, ambiguous: !r.repeatable && wrote}
		}
		return attemptResult{err: netErr, retryable: r.repeatable || !wrote, ambiguous: !r.repeatable && wrote}
	}
	raw, readErr := readLimited(watch.replyBody(resp.Body), c.maxBody, resp.ContentLength)
	tooLong := int64(len(raw)) > c.maxBody
	if tooLong {
		raw = raw[:c.maxBody]
		_, _ = io.CopyN(io.Discard, resp.Body, 64<<10) // a little more, so the connection may be reused
	}
	_ = resp.Body.Close()
	if readErr != nil {
		readErr = watch.cause(readErr)
	}
	res := c.judge(&r, id, resp, raw, readErr, tooLong, out)
	res.status, res.header = resp.StatusCode, resp.Header
	return res
}

// acceptJSON is the Accept header of every request, shared as the
// Authorization and User-Agent values are.
var acceptJSON = []string{"application/json"}

// imageReadFailure returns the *ImageReadError in err, for op, or nil when
// err is not one: an upload whose image could not be read.
func imageReadFailure(op string, err error) error {
	var ire *ImageReadError
	if !errors.As(err, &ire) {
		return nil
	}
	local := *ire
	local.Op = op
	return &local
}

// judge turns a reply into the attempt's outcome: success with out decoded,
// or a typed error with whether it may be retried and whether the call's
// effect is unknown.
func (c *Client) judge(r *call, id string, resp *http.Response, raw []byte, readErr error, tooLong bool, out any) attemptResult {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		var cause error
		switch {
		case readErr != nil:
			cause = fmt.Errorf("reading reply: %w", readErr)
		case tooLong:
			cause = fmt.Errorf("reply larger than %d bytes", c.maxBody)
		case looksLikeErrorBody(raw):
			apiErr := &APIError{Op: r.op, StatusCode: resp.StatusCode, Method: r.method, Path: r.path, RequestID: id}
			apiErr.parseErrorBody(raw, c.cleaner(r))
			return attemptResult{err: apiErr}
		case out != nil:
			cause = decodeJSON(raw, out)
		}
		if cause == nil || r.anyReply {
			// For a state change whose 2xx is its whole answer, an
			// unreadable body does not undo the success.
			return attemptResult{}
		}
		decodeErr := &DecodeError{Op: r.op, StatusCode: resp.StatusCode, Method: r.method, Path: r.path, RequestID: id,
			Body: flipPersonal.Body(raw, excerptLimit, c.cleaner(r)), Err: c.key.forms.ScrubError(cause)}
		// A cut-off reply may be read again; a state change may not be
		// sent again, and its effect is unknown.
		return attemptResult{err: decodeErr, retryable: r.repeatable && readErr != nil, ambiguous: !r.repeatable}
	}

	apiErr := &APIError{Op: r.op, StatusCode: resp.StatusCode, Method: r.method, Path: r.path, RequestID: id,
		RetryAfter: backoff.ParseRetryAfter(resp.Header.Get("Retry-After"), c.clock.Now())}
	clean := c.cleaner(r)
	if !apiErr.parseErrorBody(raw, clean) {
		apiErr.Body = flipPersonal.Body(raw, excerptLimit, clean)
	}
	res := attemptResult{err: apiErr, retryAfter: apiErr.RetryAfter}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		res.retryable = true
	case resp.StatusCode == http.StatusBadGateway, resp.StatusCode == http.StatusServiceUnavailable,
		resp.StatusCode == http.StatusGatewayTimeout:
		res.retryable = r.repeatable
	}
	// A server error after a state change was sent says nothing of whether
	// the change was made: a gateway may have lost Flip's answer.
	res.ambiguous = !r.repeatable && resp.StatusCode >= 500
	return res
}

// cleaner returns what every text taken from a reply into an error goes
// through: secrets removed, personal data (the call's own input too) masked.
func (c *Client) cleaner(r *call) func(string) string {
	var known []string
	if r.sent != nil {
		known = r.sent.personalValues()
	}
	return func(s string) string { return c.key.clean(s, known) }
}

// readLimited reads r to its end or to limit+1 bytes, whichever comes
// first, so a caller can tell a reply over the limit. size is the reply's
// Content-Length, -1 when unknown: a reply that declares a length within the
// limit (and up to 64 KiB: the length is the server's word) is read into a
// single buffer of that length and the byte that shows its end, instead of
// one grown from 512 bytes.
func readLimited(r io.Reader, limit, size int64) ([]byte, error) {
	if limit < math.MaxInt64 {
		limit++
	}
	n := min(int64(512), limit)
	if size >= 0 && size < limit && size < 64<<10 {
		n = size + 1
	}
	b := make([]byte, 0, n)
	for int64(len(b)) < limit {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // grow as io.ReadAll does
		}
		room := b[len(b):cap(b)]
		if rest := limit - int64(len(b)); int64(len(room)) > rest {
			room = room[:rest]
		}
		k, err := r.Read(room)
		b = b[:len(b)+k]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
	return b, nil
}

func (c *Client) log(ctx context.Context, r *call, id string, attempt int, res attemptResult, elapsed time.Duration) {
	if !c.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("op", r.op), slog.String("method", r.method), slog.String("path", r.path),
		slog.String("request_id", id), slog.Int("attempt", attempt), slog.Int("status", res.status),
		slog.Duration("elapsed", elapsed),
	}
	if res.err != nil {
		attrs = append(attrs, errorAttrs(res.err)...)
	}
	c.logger.LogAttrs(ctx, slog.LevelDebug, "flipkyc: request", attrs...)
}

// errorAttrs describes an attempt's failure for a log line without any text
// from the reply's body: for Flip's answers the status and Flip's codes, for
// others the failure itself (which never quotes a body).
func errorAttrs(err error) []slog.Attr {
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return []slog.Attr{slog.String("error", err.Error())}
	}
	codes := make([]string, 0, len(apiErr.Errors)+1)
	if apiErr.Code != "" {
		codes = append(codes, apiErr.Code)
	}
	for _, d := range apiErr.Errors {
		codes = append(codes, strconv.Itoa(d.Code))
	}
	attrs := []slog.Attr{slog.String("error", fmt.Sprintf("HTTP %d from Flip", apiErr.StatusCode))}
	if len(codes) > 0 {
		attrs = append(attrs, slog.String("code", strings.Join(codes, ",")))
	}
	return attrs
}

// responseChecker is implemented by results that can tell a decoded reply
// lacks what the documentation promises (for example an agent without id).
type responseChecker interface{ checkResponse() error }

// decodeJSON decodes a 2xx reply into out and checks it.
func decodeJSON(raw []byte, out any) error {
	if len(raw) == 0 {
		return errors.New("empty body")
	}
	if err := decodeReply(raw, out); err != nil {
		return err
	}
	if rc, ok := out.(responseChecker); ok {
		return rc.checkResponse()
	}
	return nil
}
