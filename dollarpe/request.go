package dollarpe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"time"

	"github.com/flipkyc/flipkyc/internal/backoff"
	"github.com/flipkyc/flipkyc/internal/redact"
	"github.com/flipkyc/flipkyc/internal/sent"
)

// call describes one API call for do.
type call struct {
	op     string // the method called, such as "GetCustomer"
	method string
	path   string // escaped, relative to APIPrefix
	body   any    // marshalled to JSON and canonicalised; nil for a GET
	sent   []string
}

// emptyBody is what a GET signs.
var emptyBody = []byte("{}")

// do sends r, retrying as the policy allows, and decodes the data of a
// successful reply into out. It is the only place that talks to the
// network.
func (c *Client) do(ctx context.Context, r call, out any, opts []CallOption) error {
	if !c.configured() {
		return fmt.Errorf("dollarpe: %s: %w", r.op, ErrNotConfigured)
	}
	var co callOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&co)
		}
	}
	meta := Response{Operation: r.op}
	err := c.send(ctx, &r, out, &co, &meta)
	if co.response != nil {
		*co.response = meta // its header was scrubbed by the attempt
	}
	return err
}

func (c *Client) send(ctx context.Context, r *call, out any, co *callOptions, meta *Response) error {
	policy := c.retry
	if co.retry != nil {
		if err := backoff.Policy(*co.retry).Check(); err != nil {
			return &ValidationError{Op: r.op, Fields: []FieldError{{Field: "Retry", Rule: err.Error()}}}
		}
		policy = co.retry.limits()
	}
	signed, body := emptyBody, []byte(nil)
	if r.method != http.MethodGet {
		raw, err := marshal(r.body)
		if err == nil {
			signed, err = Canonicalize(raw)
		}
		if err != nil {
			return fmt.Errorf("dollarpe: %s: encoding the request: %w", r.op, err)
		}
		body = signed // the bytes signed are the bytes sent
	}
	for attempt := 1; ; attempt++ {
		res := c.attempt(ctx, r, body, signed, out)
		meta.Attempts, meta.StatusCode, meta.Header, meta.Message = attempt, res.status, res.header, res.message
		last := res.err == nil || !res.retryable || attempt >= policy.MaxAttempts || ctx.Err() != nil
		var wait time.Duration
		if !last {
			wait = policy.Delay(attempt, res.retryAfter)
		}
		c.log(ctx, slog.LevelDebug, "dollarpe: request", r, attempt, res.status)
		if res.err == nil {
			return nil
		}
		if last {
			err := res.err
			if attempt > 1 {
				err = &RetryError{Attempts: attempt, Err: err}
			}
			if res.ambiguous {
				err = &OutcomeUnknownError{Op: r.op, Method: r.method, Path: r.path, Err: err}
			}
			if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
				// A call whose context ended says so, whatever ended it.
				err = fmt.Errorf("dollarpe: %s: %w after attempt %d: %w", r.op, cerr, attempt, err)
			}
			return err
		}
		c.log(ctx, slog.LevelInfo, "dollarpe: retrying", r, attempt, res.status)
		if werr := c.clock.Sleep(ctx, wait); werr != nil {
			return fmt.Errorf("dollarpe: %s: %w while waiting to retry after attempt %d: %w", r.op, werr, attempt, res.err)
		}
	}
}

// marshal encodes v as JSON without HTML escaping (Canonicalize undoes it
// anyway).
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// attemptResult is the outcome of one HTTP exchange.
type attemptResult struct {
	err        error
	status     int
	header     http.Header
	message    string
	retryable  bool
	ambiguous  bool // a POST/PATCH that may have taken effect
	retryAfter time.Duration
}

// attempt makes one signed HTTP exchange; every attempt is signed anew
// with the clock's current time.
func (c *Client) attempt(ctx context.Context, r *call, body, signed []byte, out any) attemptResult {
	write := r.method != http.MethodGet
	var prog sent.Evidence
	if write {
		var trace httptrace.ClientTrace
		prog.Hook(&trace)
		ctx = httptrace.WithClientTrace(ctx, &trace)
	}
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, c.base+r.path, reader)
	if err != nil {
		return attemptResult{err: fmt.Errorf("dollarpe: %s: %w", r.op, c.forms.ScrubError(err))}
	}
	req.GetBody = nil // the request path, not net/http, decides what is repeated
	ts := c.clock.Now().Unix()
	sig := Sign(c.apiKey, c.secret, ts, signed)
	// What a reply or a transport error may echo: the credentials and this
	// attempt's signature.
	sec := redact.NewSecret(c.apiKey, c.secret, sig)
	req.Header.Set("X-API-KEY", c.apiKey)
	req.Header.Set("X-TIMESTAMP", strconv.FormatInt(ts, 10))
	req.Header.Set("X-SIGNATURE", sig)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.agent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := &http.Client{
		Transport:     c.hc.Transport, // read at every attempt
		Timeout:       c.hc.Timeout,
		Jar:           c.hc.Jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := hc.Do(req)
	if err != nil {
		netErr := &NetworkError{Op: r.op, Method: r.method, Path: r.path, Err: sec.ScrubError(err)}
		maybeArrived := write && prog.MayHaveSent(err)
		return attemptResult{err: netErr, retryable: ctx.Err() == nil && (!write || !maybeArrived), ambiguous: maybeArrived}
	}
	limit := c.maxBody
	raw, readErr := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	tooLong := int64(len(raw)) > limit
	if tooLong {
		raw = raw[:limit]
	}
	_ = resp.Body.Close()
	res := c.judge(r, sec, resp, raw, readErr, tooLong, out)
	res.status, res.header = resp.StatusCode, cleanHeader(resp.Header, cleaner(sec, r.sent))
	return res
}

// judge turns a reply into the attempt's outcome.
func (c *Client) judge(r *call, sec *redact.Secret, resp *http.Response, raw []byte, readErr error, tooLong bool, out any) attemptResult {
	write := r.method != http.MethodGet
	clean := cleaner(sec, r.sent)
	env, isEnv := parseEnvelope(raw)
	message := clip(clean(env.message))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		var cause error
		switch {
		case readErr != nil:
			cause = fmt.Errorf("reading reply: %w", sec.ScrubError(readErr))
		case tooLong:
			cause = fmt.Errorf("reply larger than %d bytes", c.maxBody)
		case !isEnv:
			cause = errors.New("reply is not a DollarPe envelope")
		case env.ok != nil && !*env.ok:
			apiErr := &APIError{Op: r.op, StatusCode: resp.StatusCode, Method: r.method, Path: r.path}
			apiErr.fill(env, clean)
			return attemptResult{err: apiErr, message: message}
		case out != nil:
			cause = decodeData(env.data, out)
		}
		if cause == nil {
			return attemptResult{message: message}
		}
		decErr := &DecodeError{Op: r.op, StatusCode: resp.StatusCode, Method: r.method, Path: r.path,
			Body: bodyText(raw, clean), Err: cause}
		// A cut-off read may be read again. A write whose envelope says it
		// succeeded did; one without a readable envelope may have.
		succeeded := isEnv && env.ok != nil && *env.ok
		return attemptResult{err: decErr, message: message, retryable: !write && readErr != nil, ambiguous: write && !succeeded}
	}
	apiErr := &APIError{Op: r.op, StatusCode: resp.StatusCode, Method: r.method, Path: r.path,
		RetryAfter: backoff.ParseRetryAfter(resp.Header.Get("Retry-After"), c.clock.Now())}
	if isEnv {
		apiErr.fill(env, clean)
	} else {
		apiErr.Body = bodyText(raw, clean)
	}
	res := attemptResult{err: apiErr, message: message, retryAfter: apiErr.RetryAfter}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		res.retryable = true // refused before it was acted on, on any method
	case resp.StatusCode >= 500:
		res.retryable = !write
		// A 5xx after a write says nothing of whether it took effect.
		res.ambiguous = write
	}
	return res
}

// dataHolder is a result that keeps the raw data object of its reply.
type dataHolder interface{ setRaw(json.RawMessage) }

// responseChecker is a result that can tell it lacks what the
// documentation promises.
type responseChecker interface{ checkResponse() error }

// decodeData decodes an envelope's data into out.
func decodeData(data json.RawMessage, out any) error {
	if len(data) == 0 {
		if rc, ok := out.(responseChecker); ok {
			return rc.checkResponse()
		}
		return nil // {id, status} replies: the envelope's status is the answer
	}
	if err := json.Unmarshal(data, out); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return fmt.Errorf("field %q has an unexpected type %s", typeErr.Field, typeErr.Value)
		}
		return errors.New("data is not a JSON object")
	}
	if h, ok := out.(dataHolder); ok {
		h.setRaw(append(json.RawMessage(nil), data...))
	}
	if rc, ok := out.(responseChecker); ok {
		return rc.checkResponse()
	}
	return nil
}

// log writes one line about an attempt: op, method, path, status and
// attempt; never headers, bodies, input or error texts.
func (c *Client) log(ctx context.Context, level slog.Level, msg string, r *call, attempt, status int) {
	if !c.logger.Enabled(ctx, level) {
		return
	}
	c.logger.LogAttrs(ctx, level, msg, slog.String("op", r.op), slog.String("method", r.method),
		slog.String("path", r.path), slog.Int("status", status), slog.Int("attempt", attempt))
}

// cleaner returns what every text taken from a reply goes through: escapes
// undone (so that an echoed value is recognised in any form), the
// credentials and signature removed, personal data masked (known, the
// call's own input, in particular; PANs anywhere).
func cleaner(sec *redact.Secret, known []string) func(string) string {
	return func(s string) string {
		u := redact.Unescape(s)
		clean := maskPAN(dollarpePersonal.Text(sec.Scrub(u), known))
		if clean == u {
			return s // nothing to hide: keep the text as it came
		}
		return clean
	}
}

// cleanHeader returns a copy of h with every value cleaned.
func cleanHeader(h http.Header, clean func(string) string) http.Header {
	if h == nil {
		return nil
	}
	out := make(http.Header, len(h))
	for name, values := range h {
		cleaned := make([]string, len(values))
		for i, v := range values {
			cleaned[i] = clean(v)
		}
		out[name] = cleaned
	}
	return out
}
