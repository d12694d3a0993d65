package katsu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptrace"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/flipkyc/flipkyc/internal/backoff"
	"github.com/flipkyc/flipkyc/internal/redact"
	"github.com/flipkyc/flipkyc/internal/sent"
)

// maxReplyBytes is how much of a reply the client reads: 4 MiB, room for a
// large page of records.
const maxReplyBytes = 4 << 20

// call describes one API call for do.
type call struct {
	op     string // the method called, such as "Update"
	method string // GET or POST
	path   string // escaped, relative to the base URL, /api/v{version}/…
	query  string // encoded, without "?"
	body   []byte // the JSON body of a POST
	kycID  string // the record a POST is about, for OutcomeUnknownError
	// known are the personal values the call sends (the BVN), masked
	// wherever a reply echoes them.
	known []string
}

// repeatable reports whether sending the call twice cannot double an
// effect: the reads.
func (r *call) repeatable() bool { return r.method == http.MethodGet }

// do sends r, retrying as the policy allows, and hands the envelope of a
// successful reply to decode. It is the only place that talks to the
// network. opts are the call's own options.
func (c *Client) do(ctx context.Context, r call, decode func(envelope) error, opts []CallOption) error {
	co := resolveCallOptions(opts)
	var meta Response
	var clean func(string) string
	err := c.send(ctx, &r, decode, &co, &meta, &clean)
	if co.response != nil {
		meta.Header = maskHeader(meta.Header, clean)
		*co.response = meta
	}
	return err
}

// send is do's work: it fills meta, and *clean with the cleaner of the last
// reply, as the call goes.
func (c *Client) send(ctx context.Context, r *call, decode func(envelope) error, co *callOptions, meta *Response, clean *func(string) string) error {
	*meta = Response{Operation: r.op}
	lang := c.language
	var problems []FieldError
	if co.language != nil {
		if lang = *co.language; !lang.valid() {
			problems = append(problems, FieldError{Field: "Accept-Language", Rule: "must be en or fr"})
		}
	}
	policy := c.retry
	if co.retry != nil {
		if err := backoff.Policy(*co.retry).Check(); err != nil {
			problems = append(problems, FieldError{Field: "Retry", Rule: err.Error()})
		}
		policy = co.retry.limits()
	}
	if len(problems) > 0 {
		return &ValidationError{Op: r.op, Fields: problems}
	}
	target := c.base + r.path
	if r.query != "" {
		target += "?" + r.query
	}
	for attempt := 1; ; attempt++ {
		res := c.attempt(ctx, r, target, lang, decode)
		meta.Attempts, meta.StatusCode, meta.Header, meta.Message = attempt, res.status, res.header, res.message
		*clean = res.clean
		last := res.err == nil || !res.retryable || attempt >= policy.MaxAttempts || ctx.Err() != nil
		c.log(ctx, slog.LevelDebug, "katsu: request", r, attempt, res.status, res.err, 0)
		if res.err == nil {
			return nil
		}
		if last {
			err := res.err
			if attempt > 1 {
				err = &RetryError{Attempts: attempt, Err: err}
			}
			if res.ambiguous {
				err = &OutcomeUnknownError{Op: r.op, Method: r.method, Path: r.path, KYCID: r.kycID, Err: err}
			}
			return err
		}
		wait := policy.Delay(attempt, res.retryAfter)
		c.log(ctx, slog.LevelInfo, "katsu: retrying", r, attempt, res.status, res.err, wait)
		if werr := c.clock.Sleep(ctx, wait); werr != nil {
			return &RetryError{Attempts: attempt, Err: res.err, Stopped: werr}
		}
	}
}

// attemptResult is the outcome of one HTTP exchange.
type attemptResult struct {
	err error
	// status, header and message are the reply's; zero when none came.
	status  int
	header  http.Header
	message string
	// retryable: the failure may be retried under the policy.
	retryable bool
	// ambiguous: a POST failed after it may have reached Katsu.
	ambiguous  bool
	retryAfter time.Duration
	// clean is the reply's cleaner; nil when no reply came or it was not
	// read.
	clean func(string) string
}

// noRedirect keeps the client from following redirects, so the token never
// goes to another host; a 3xx reply is an *APIError.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// attempt makes one HTTP exchange.
func (c *Client) attempt(ctx context.Context, r *call, target string, lang Language, decode func(envelope) error) attemptResult {
	// A POST is repeated only on evidence that Katsu did not receive all
	// of it.
	var ev sent.Evidence
	if !r.repeatable() {
		var trace httptrace.ClientTrace
		ev.Hook(&trace)
		ctx = httptrace.WithClientTrace(ctx, &trace)
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		return attemptResult{err: fmt.Errorf("katsu: %s: %w", r.op, c.token.forms.ScrubError(err))}
	}
	// The request path, not net/http, decides what is sent again.
	req.GetBody = nil
	req.Header.Set("Authorization", c.token.header)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if lang != "" {
		req.Header.Set("Accept-Language", string(lang))
	}
	hc := &http.Client{CheckRedirect: noRedirect}
	if c.hc != nil {
		hc.Transport, hc.Timeout, hc.Jar = c.hc.Transport, c.hc.Timeout, c.hc.Jar
	}
	if err := ctx.Err(); err != nil {
		// Nothing was sent: the context ended first.
		return attemptResult{err: &NetworkError{Op: r.op, Method: r.method, Path: r.path, Err: err}}
	}
	resp, err := hc.Do(req)
	if err != nil {
		netErr := &NetworkError{Op: r.op, Method: r.method, Path: r.path, Err: c.token.forms.ScrubError(err)}
		unsent := r.repeatable() || !ev.MayHaveSent(err)
		return attemptResult{err: netErr, retryable: ctx.Err() == nil && unsent, ambiguous: !unsent}
	}
	raw, readErr := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes+1))
	tooLong := len(raw) > maxReplyBytes
	if tooLong {
		raw = raw[:maxReplyBytes]
	}
	_ = resp.Body.Close()
	res := c.judge(ctx, r, resp, raw, readErr, tooLong, decode)
	res.status = resp.StatusCode
	if res.clean != nil {
		res.header = resp.Header
	}
	return res
}

// judge turns a reply into the attempt's outcome: success with the data
// decoded, or a typed error with whether it may be retried and whether the
// call's effect is unknown. It stops between its phases once ctx has ended.
func (c *Client) judge(ctx context.Context, r *call, resp *http.Response, raw []byte, readErr error, tooLong bool, decode func(envelope) error) attemptResult {
	if ctx.Err() != nil {
		return c.abandoned(ctx, r)
	}
	env, envErr := parseEnvelope(raw)
	if ctx.Err() != nil {
		return c.abandoned(ctx, r)
	}
	clean := c.cleaner(r, env)
	message := redact.Excerpt([]byte(clean(env.message)), excerptLimit)
	if ctx.Err() != nil {
		return c.abandoned(ctx, r)
	}
	res := c.judgeReply(ctx, r, resp, raw, readErr, tooLong, decode, env, envErr, clean, message)
	if res.clean = clean; ctx.Err() != nil {
		res.clean = nil
	}
	return res
}

// judgeReply is judge's work once the reply's envelope and message are
// read.
func (c *Client) judgeReply(ctx context.Context, r *call, resp *http.Response, raw []byte, readErr error, tooLong bool,
	decode func(envelope) error, env envelope, envErr error, clean func(string) string, message string) attemptResult {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		var cause error
		switch {
		case readErr != nil:
			cause = fmt.Errorf("reading reply: %w", c.token.forms.ScrubError(readErr))
		case tooLong:
			cause = fmt.Errorf("reply larger than %d bytes", maxReplyBytes)
		case envErr != nil:
			cause = c.token.forms.ScrubError(envErr)
		case env.succeeded != nil && !*env.succeeded:
			errs, ok := cleanErrors(ctx, env.errors, clean)
			if !ok {
				return c.abandoned(ctx, r)
			}
			apiErr := &APIError{Op: r.op, StatusCode: resp.StatusCode, Method: r.method, Path: r.path, Message: message,
				Errors: errs, MoreErrors: env.moreErrors}
			return attemptResult{err: apiErr, message: message}
		case env.succeeded == nil && env.data == nil:
			cause = errors.New("reply says neither succeeded nor carries data")
		default:
			if err := decode(env); err != nil {
				if ctx.Err() != nil {
					return c.abandoned(ctx, r)
				}
				// Katsu said it succeeded: the effect is known, only the
				// data is unreadable.
				return attemptResult{message: message, err: &DecodeError{Op: r.op, StatusCode: resp.StatusCode,
					Method: r.method, Path: r.path, Body: replyBody(raw, clean),
					Err: c.token.forms.ScrubError(err)}}
			}
			return attemptResult{message: message}
		}
		decodeErr := &DecodeError{Op: r.op, StatusCode: resp.StatusCode, Method: r.method, Path: r.path,
			Body: replyBody(raw, clean), Err: cause}
		// A cut-off read may be made again; a POST may not be sent again,
		// and whether it took effect is unknown.
		return attemptResult{err: decodeErr, message: message, retryable: r.repeatable() && readErr != nil,
			ambiguous: !r.repeatable()}
	}
	errs, ok := cleanErrors(ctx, env.errors, clean)
	if !ok {
		return c.abandoned(ctx, r)
	}
	apiErr := &APIError{Op: r.op, StatusCode: resp.StatusCode, Method: r.method, Path: r.path, Message: message,
		Errors: errs, MoreErrors: env.moreErrors,
		RetryAfter: backoff.ParseRetryAfter(resp.Header.Get("Retry-After"), c.clock.Now())}
	if envErr != nil && len(bytes.TrimSpace(raw)) > 0 {
		apiErr.Body = replyBody(raw, clean)
	}
	res := attemptResult{err: apiErr, message: message, retryAfter: apiErr.RetryAfter}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		// Katsu refused the call: nothing happened, whatever the method.
		res.retryable = true
	case resp.StatusCode >= 500:
		res.retryable = r.repeatable()
		// A server error after a POST says nothing of whether the change
		// was made: a gateway may have lost Katsu's answer.
		res.ambiguous = !r.repeatable()
	}
	return res
}

// abandoned is the outcome of an attempt whose reply came but was not
// judged because ctx ended: a *NetworkError with ctx's error, whose effect
// is unknown for a POST.
func (c *Client) abandoned(ctx context.Context, r *call) attemptResult {
	return attemptResult{err: &NetworkError{Op: r.op, Method: r.method, Path: r.path,
		Err: fmt.Errorf("reply not read: %w", ctx.Err())}, ambiguous: !r.repeatable()}
}

// maxHeaderValues is how many header values Response.Header keeps.
const maxHeaderValues = 100

// maskHeader returns a copy of h with every value through clean (the token
// removed and personal data masked, each value masked on and cut to its
// first 4 KiB), keeping at most maxHeaderValues values; nil when h or
// clean is nil.
func maskHeader(h http.Header, clean func(string) string) http.Header {
	if h == nil || clean == nil {
		return nil
	}
	names := slices.Sorted(maps.Keys(h))
	out := make(http.Header, len(names))
	kept := 0
	for _, name := range names {
		for _, v := range h[name] {
			if kept == maxHeaderValues {
				return out
			}
			out[name] = append(out[name], clean(v))
			kept++
		}
	}
	return out
}

// cleanErrors returns the entries' texts through clean, "key: text", each
// cut to the excerpt limit; a key shared by entries is cleaned once. It
// reports false, having stopped, when ctx ends.
func cleanErrors(ctx context.Context, entries []errorEntry, clean func(string) string) ([]string, bool) {
	if len(entries) == 0 {
		return nil, true
	}
	keys := map[string]string{}
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		if ctx.Err() != nil {
			return nil, false
		}
		parts := make([]string, 0, len(e.keys)+1)
		for _, k := range e.keys {
			ck, ok := keys[k]
			if !ok {
				ck = clean(cutText(k, maxKeyText))
				keys[k] = ck
			}
			parts = append(parts, ck)
		}
		parts = append(parts, clean(e.text))
		out = append(out, redact.Excerpt([]byte(strings.Join(parts, ": ")), excerptLimit))
	}
	return out, true
}

// Bounds on the work of masking one reply, whose cost grows with the
// length of the texts times the number of personal values known: each text
// is masked on its first maxCleanText bytes (a key on its first
// maxKeyText), the body kept on errors on its first maxBodyScan, and at
// most maxKnown values are looked for. Texts are kept cut to
// excerptLimit, far inside these.
const (
	maxCleanText = 4 << 10
	maxKeyText   = 256
	maxBodyScan  = 16 << 10
	maxKnown     = 8192
)

// cutText returns s, or its first n bytes or a little fewer, cut after a
// space or punctuation when one is near, so that a value is not cut in two
// where it could.
func cutText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	for i := cut - 1; i >= 0 && i >= cut-64; i-- {
		if b := s[i]; b < utf8.RuneSelf && !('0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z') {
			return s[:i+1]
		}
	}
	return s[:cut]
}

// replyBody returns the start of a reply for an error to keep: masked by
// clean, and read from its first maxBodyScan bytes only.
func replyBody(raw []byte, clean func(string) string) string {
	return katsuPersonal.Body(raw[:min(len(raw), maxBodyScan)], excerptLimit, clean)
}

// cleaner returns what every text taken from a reply goes through: the
// token removed, and personal data masked, the call's own input and the
// name and BVN of a record in the same reply included. The masker is built
// once for the reply, when a text first needs it; the returned function is
// for one goroutine.
func (c *Client) cleaner(r *call, env envelope) func(string) string {
	var mask func(string) string
	return func(s string) string {
		if s == "" {
			return ""
		}
		if mask == nil {
			known := append(slices.Clone(r.known), replyPersonal(env)...)
			mask = katsuPersonal.Known(known[:min(len(known), maxKnown)])
		}
		// The token is removed from the whole text, so that no part of it
		// is left where the text is cut.
		return mask(cutText(c.token.forms.Scrub(redact.Unescape(s)), maxCleanText))
	}
}

// log writes one line about an attempt: operation, method, path without
// the query, attempt, status, and for a retry the wait; never a header,
// body or message.
func (c *Client) log(ctx context.Context, level slog.Level, msg string, r *call, attempt, status int, err error, wait time.Duration) {
	if c.logger == nil || !c.logger.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("op", r.op), slog.String("method", r.method), slog.String("path", r.path),
		slog.Int("attempt", attempt), slog.Int("status", status),
	}
	if err != nil {
		attrs = append(attrs, slog.String("failure", failureKind(err)))
	}
	if wait > 0 {
		attrs = append(attrs, slog.Duration("wait", wait))
	}
	c.logger.LogAttrs(ctx, level, msg, attrs...)
}

// failureKind names the kind of an attempt's failure for a log line,
// without any text that came from the network.
func failureKind(err error) string {
	var (
		apiErr *APIError
		decErr *DecodeError
		netErr *NetworkError
	)
	switch {
	case errors.As(err, &apiErr):
		return "api"
	case errors.As(err, &decErr):
		return "decode"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "context"
	case errors.As(err, &netErr):
		return "network"
	}
	return "other"
}
