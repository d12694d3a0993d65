package flipkyc

import (
	"context"
	"net/http"
	"time"
)

// CallOption configures one call: every method of Client that calls Flip
// takes them after its own arguments. Options given to New apply to every
// call; these apply to one. A nil CallOption is ignored.
type CallOption func(*callOptions)

type callOptions struct {
	requestID string
	retry     *RetryPolicy
	response  *Response
	poll      time.Duration
}

func resolveCallOptions(opts []CallOption) callOptions {
	if len(opts) == 0 {
		return callOptions{} // most calls: no allocation
	}
	co := new(callOptions)
	for _, opt := range opts {
		if opt != nil {
			opt(co)
		}
	}
	return *co
}

// RequestID makes the call send id as its Request-ID header on every
// attempt, instead of a new "bigflip-<uuid>"; id must have that form, or the
// call fails before anything is sent. It applies to the one call it is given
// to; WaitForAgent, which makes many calls, uses it for its first poll only.
func RequestID(id string) CallOption {
	return func(co *callOptions) { co.requestID = id }
}

// Retry sets the retry limits for one call, in place of the client's
// (WithRetryPolicy); Retry(RetryPolicy{MaxAttempts: 1}) turns retries off.
// Which failures are retried does not change. Zero fields take the defaults;
// a negative MaxAttempts or delay fails the call before anything is sent.
func Retry(p RetryPolicy) CallOption {
	return func(co *callOptions) { co.retry = &p }
}

// ResponseInto makes the call fill *r with its response metadata when it
// ends, whether it succeeded or failed. A call refused by the SDK's checks
// of its arguments (a *ValidationError returned before a request exists)
// leaves *r untouched; one whose RequestID or Retry option is invalid fills
// it with Attempts 0. WaitForAgent fills *r from its last poll.
func ResponseInto(r *Response) CallOption {
	return func(co *callOptions) { co.response = r }
}

// PollInterval sets the base wait of WaitForAgent between polls (default
// 2s): the first wait is between d/2 and d, and each further one doubles,
// with the same jitter, up to at most 30 times d. A negative d makes
// WaitForAgent fail with a *ValidationError, and zero keeps the default.
// Other calls ignore it.
func PollInterval(d time.Duration) CallOption {
	return func(co *callOptions) { co.poll = d }
}

// Response is what a call saw on the wire, filled in by ResponseInto.
type Response struct {
	// Operation is the method called, such as "SubmitKYC".
	Operation string
	// RequestID is the Request-ID the call sent: quote it to Flip.
	RequestID string
	// Attempts is how many HTTP exchanges the call made, the first
	// included; 0 when its Request-ID or Retry option was refused before
	// anything was sent. For a submission or repair it counts every
	// sending, those after a read proved the change was not made too, but
	// not the reads.
	Attempts int
	// StatusCode is the HTTP status of the last reply; 0 when no reply came.
	StatusCode int
	// Header is the header of the last reply; nil when no reply came.
	Header http.Header
	// ConfirmedByRead is true when the call's reply was lost and the SDK
	// confirmed its effect by reading the agent (see OutcomeUnknownError);
	// the other fields then describe the last sending, whose reply was
	// lost, not the read.
	ConfirmedByRead bool
}

// CallInfo identifies the call an HTTP request belongs to, for an
// http.RoundTripper that labels metrics or traces: see CallInfoFrom.
type CallInfo struct {
	// Operation is the method called, such as "GetAgent".
	Operation string
	// RequestID is the call's Request-ID.
	RequestID string
	// Attempt is the attempt this request is, from 1.
	Attempt int
}

// CallInfoFrom returns the CallInfo of a request the SDK sends, read from
// the request's context (req.Context() in a RoundTripper), and false for
// any other request. It is meant for an http.RoundTripper given with
// WithHTTPClient.
func CallInfoFrom(ctx context.Context) (CallInfo, bool) {
	st, ok := ctx.Value(callStateKey{}).(*callState)
	if !ok {
		return CallInfo{}, false
	}
	return CallInfo{Operation: st.op, RequestID: st.requestID[0], Attempt: st.attempt}, true
}

// Attempt describes one HTTP exchange of a call, as reported to the hook
// set with WithAttemptHook.
type Attempt struct {
	// Operation is the method called, such as "CreateAgent".
	Operation string
	// RequestID is the call's Request-ID.
	RequestID string
	// Number is the attempt's number, from 1.
	Number int
	// StatusCode is the reply's HTTP status; 0 when no reply came.
	StatusCode int
	// Err is the attempt's failure, nil when it succeeded. It is the error of
	// this attempt alone, before RetryError or OutcomeUnknownError wrap the
	// call's last one.
	Err error
	// Duration is how long the attempt took.
	Duration time.Duration
	// RetryIn is the wait before the next attempt; zero when none follows.
	RetryIn time.Duration
}
