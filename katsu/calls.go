package katsu

import "net/http"

// Language is the language of Katsu's messages, sent as Accept-Language.
type Language string

// The languages Katsu documents.
const (
	English Language = "en" // Katsu's default
	French  Language = "fr"
)

// valid reports whether l is English or French.
func (l Language) valid() bool { return l == English || l == French }

// CallOption configures one call: every method of Client that calls Katsu
// takes them after its own arguments. A nil CallOption is ignored.
type CallOption func(*callOptions)

type callOptions struct {
	language *Language
	retry    *RetryPolicy
	response *Response
}

// resolveCallOptions applies opts in order.
func resolveCallOptions(opts []CallOption) callOptions {
	var co callOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&co)
		}
	}
	return co
}

// Lang makes the call send Accept-Language l instead of the client's
// (WithLanguage). A language other than English or French fails the call
// with a *ValidationError before anything is sent.
func Lang(l Language) CallOption {
	return func(co *callOptions) { co.language = &l }
}

// Retry sets the retry limits for one call, in place of the client's
// (WithRetryPolicy); Retry(RetryPolicy{MaxAttempts: 1}) turns retries off.
// A negative limit fails the call with a *ValidationError before anything
// is sent.
func Retry(p RetryPolicy) CallOption {
	return func(co *callOptions) { co.retry = &p }
}

// ResponseInto makes the call fill *r with what it saw on the wire when it
// ends, whether it succeeded or failed. A call refused by the client's
// checks before a request exists leaves *r with Attempts 0.
func ResponseInto(r *Response) CallOption {
	return func(co *callOptions) { co.response = r }
}

// Response is what a call saw on the wire, filled in by ResponseInto.
type Response struct {
	// Operation is the method called, such as "Update".
	Operation string
	// Attempts is how many HTTP exchanges the call made, the first
	// included.
	Attempts int
	// StatusCode is the HTTP status of the last reply; 0 when no reply came.
	StatusCode int
	// Header is a copy of the header of the last reply, each value with
	// the token removed and personal data masked as APIError.Message is
	// (masked on and cut to its first 4 KiB), at most 100 values; nil when
	// no reply came or the context ended before it was read.
	Header http.Header
	// Message is Katsu's message from the last reply (masked as
	// APIError.Message is), in the language asked for.
	Message string
}
