package katsu

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Sentinel errors. An *APIError matches them with errors.Is according to
// its HTTP status and whether Katsu said succeeded: false.
var (
	// ErrUnauthorized is matched by an *APIError with HTTP status 401: the
	// token is missing, wrong or expired. Retrying does not help.
	ErrUnauthorized = errors.New("katsu: unauthorized")
	// ErrForbidden is matched by an *APIError with HTTP status 403: the
	// token may not do this (for example approve).
	ErrForbidden = errors.New("katsu: forbidden")
	// ErrNotFound is matched by an *APIError with HTTP status 404: no such
	// KYC record (or, for every call, a wrong base URL or version).
	ErrNotFound = errors.New("katsu: not found")
	// ErrInvalidRequest is matched by an *APIError with HTTP status 400 or
	// 422, Katsu's refusal of the input, and by a *ValidationError, the
	// client's own refusal before sending.
	ErrInvalidRequest = errors.New("katsu: request rejected as invalid")
	// ErrConflict is matched by an *APIError with HTTP status 409.
	ErrConflict = errors.New("katsu: conflict")
	// ErrRateLimited is matched by an *APIError with HTTP status 429.
	ErrRateLimited = errors.New("katsu: rate limited")
	// ErrServer is matched by an *APIError with an HTTP status of 500 or
	// more.
	ErrServer = errors.New("katsu: server error")
	// ErrNotSucceeded is matched by an *APIError from a 2xx reply whose
	// envelope says succeeded: false: Katsu refused the call without an
	// error status.
	ErrNotSucceeded = errors.New("katsu: reply says succeeded: false")
	// ErrOutcomeUnknown is matched by an *OutcomeUnknownError: an Update or
	// Approve failed after its request may have reached Katsu, and whether
	// Katsu acted on it is not known. The client never repeats such a call.
	ErrOutcomeUnknown = errors.New("katsu: outcome unknown")
)

// APIError is a reply from Katsu that reports a failure: any non-2xx
// status, or a 2xx whose envelope says succeeded: false. It matches the
// sentinel errors with errors.Is. Texts taken from the reply have the token
// removed and personal data masked.
type APIError struct {
	// Op is the method called, such as "Update".
	Op string
	// StatusCode is the HTTP status of the reply.
	StatusCode int
	// Method and Path are the HTTP request's; Path is without the base URL
	// and without the query.
	Method, Path string
	// Message is the envelope's message (or a problem-details title), in
	// the language asked for.
	Message string
	// Errors are the envelope's error texts, the first 20 of them, each at
	// most 512 bytes; field errors of an ASP.NET problem-details reply are
	// given as "field: text". Texts nested more than 8 levels deep are not
	// kept.
	Errors []string
	// MoreErrors is how many error texts of the reply Errors does not
	// keep.
	MoreErrors int
	// RetryAfter is the wait the server asked for (429, 503), or zero.
	RetryAfter time.Duration
	// Body is the start of a reply that is not Katsu's envelope (at most
	// 512 bytes), for a person to read on purpose: the token is removed and
	// personal data masked. Error never prints it.
	Body string
}

// maxPrintedErrors is how many of its Errors APIError.Error prints.
const maxPrintedErrors = 5

// Error describes the failure without repeating request data: the method
// called, the HTTP request, the status and Katsu's message and its first
// five errors, with how many more there are.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "katsu: %s: %s %s: HTTP %d", e.Op, e.Method, e.Path, e.StatusCode)
	if e.StatusCode >= 200 && e.StatusCode < 300 {
		b.WriteString(" with succeeded: false")
	}
	sep := ": "
	if e.Message != "" {
		b.WriteString(sep + e.Message)
		sep = "; "
	}
	printed, more := 0, e.MoreErrors
	for _, m := range e.Errors {
		switch {
		case m == "" || m == e.Message:
		case printed == maxPrintedErrors:
			more++
		default:
			b.WriteString(sep + m)
			sep = "; "
			printed++
		}
	}
	if more > 0 {
		fmt.Fprintf(&b, "%sand %d more", sep, more)
		sep = "; "
	}
	if sep == ": " && e.Body != "" {
		fmt.Fprintf(&b, ": unexpected %d-byte body (see APIError.Body)", len(e.Body))
	}
	return b.String()
}

// Is reports whether e matches target, a sentinel error of this package, by
// e's HTTP status or, for ErrNotSucceeded, a 2xx status; errors.Is calls it.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrInvalidRequest:
		return e.StatusCode == http.StatusBadRequest || e.StatusCode == http.StatusUnprocessableEntity
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrServer:
		return e.StatusCode >= 500
	case ErrNotSucceeded:
		return e.StatusCode >= 200 && e.StatusCode < 300
	}
	return false
}

// DecodeError reports a 2xx reply whose body is not Katsu's envelope with
// the documented data.
type DecodeError struct {
	// Op is the method called, such as "Get".
	Op string
	// StatusCode is the HTTP status of the reply.
	StatusCode int
	// Method and Path are the HTTP request's, without base URL or query.
	Method, Path string
	// Body is the start of the reply (at most 512 bytes), for a person to
	// read on purpose: the token is removed and personal data masked.
	// Error never prints it.
	Body string
	// Err is what went wrong: the reply was cut off, too long, not JSON, or
	// lacks what the documentation promises.
	Err error
}

// Error describes the reply that could not be decoded, without its
// content.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("katsu: %s: %s %s: HTTP %d: cannot decode reply: %v", e.Op, e.Method, e.Path, e.StatusCode, e.Err)
}

// Unwrap returns the decoding failure, Err.
func (e *DecodeError) Unwrap() error { return e.Err }

// NetworkError is a call that got no reply from Katsu: the connection could
// not be made or broke, or the context ended first. Err is the cause as
// net/http reported it (with the token removed), so errors.Is matches
// context.Canceled and context.DeadlineExceeded through it.
type NetworkError struct {
	// Op is the method called, such as "Get".
	Op string
	// Method and Path are the HTTP request's, without base URL or query.
	Method, Path string
	// Err is the cause.
	Err error
}

// Error gives the method called, the HTTP request and the cause, without
// the URL (whose query may name an owner).
func (e *NetworkError) Error() string {
	cause := e.Err
	var ue *url.Error
	if errors.As(cause, &ue) && ue.Err != nil {
		cause = ue.Err
	}
	return fmt.Sprintf("katsu: %s: %s %s: %v", e.Op, e.Method, e.Path, cause)
}

// Unwrap returns the cause, Err.
func (e *NetworkError) Unwrap() error { return e.Err }

// OutcomeUnknownError reports an Update or Approve that failed after its
// request may have reached Katsu: the connection broke and nothing shows
// that the request was not written whole, a server or gateway answered
// 5xx, or a 2xx reply could not be read (or was not, the context having
// ended). Katsu may have applied it. The client does not send it again; read
// the record with Get to learn whether it took effect. It matches
// ErrOutcomeUnknown and unwraps to the failure itself.
type OutcomeUnknownError struct {
	// Op is the method called, "Update" or "Approve".
	Op string
	// Method and Path are the HTTP request's.
	Method, Path string
	// KYCID is the record the call was about, to read with Get.
	KYCID string
	// Err is the failure of the call itself.
	Err error
}

// Error says what failed and what to do next.
func (e *OutcomeUnknownError) Error() string {
	return fmt.Sprintf("katsu: %s: outcome unknown, not repeated: %v; read the KYC record with Get to learn whether it took effect", e.Op, e.Err)
}

// Is reports whether target is ErrOutcomeUnknown; errors.Is calls it.
func (e *OutcomeUnknownError) Is(target error) bool { return target == ErrOutcomeUnknown }

// Unwrap returns the failure of the call itself, Err.
func (e *OutcomeUnknownError) Unwrap() error { return e.Err }

// RetryError wraps the last failure of a call that was attempted more than
// once, or that was to be attempted again when its context ended during
// the wait: then Stopped is the context's error, and errors.Is matches it
// (context.Canceled, context.DeadlineExceeded) as well as the last
// failure.
type RetryError struct {
	// Attempts is how many attempts were made, the first included.
	Attempts int
	// Err is the last attempt's failure.
	Err error
	// Stopped is the context's error when the context ended while the call
	// waited to retry; nil otherwise.
	Stopped error
}

// Error returns the last failure's text and the number of attempts.
func (e *RetryError) Error() string {
	if e.Stopped != nil {
		return fmt.Sprintf("%v (stopped after %d attempts: %v while waiting to retry)", e.Err, e.Attempts, e.Stopped)
	}
	return fmt.Sprintf("%v (gave up after %d attempts)", e.Err, e.Attempts)
}

// Unwrap returns the last failure, Err, and Stopped when set.
func (e *RetryError) Unwrap() []error {
	if e.Stopped != nil {
		return []error{e.Err, e.Stopped}
	}
	return []error{e.Err}
}

// PagingError reports that All stopped because the server does not page
// as asked: its reply is numbered other than the page asked for, or the
// page's records repeat those of an earlier page, byte for byte. Reading
// on could never end.
type PagingError struct {
	// PageNumber is the page asked for.
	PageNumber int
	// ReplyPage is the page number the reply gave when it differs from
	// PageNumber; 0 otherwise.
	ReplyPage int
	// SameAs is the earlier page whose records the reply repeats; 0
	// otherwise.
	SameAs int
}

// Error says which page went wrong and how.
func (e *PagingError) Error() string {
	if e.SameAs != 0 {
		return fmt.Sprintf("katsu: All: page %d repeats the records of page %d: the server ignores PageNumber", e.PageNumber, e.SameAs)
	}
	return fmt.Sprintf("katsu: All: asked for page %d, the reply is page %d: the server ignores PageNumber", e.PageNumber, e.ReplyPage)
}

// FieldError is one input that breaks one of Katsu's documented rules.
type FieldError struct {
	// Field is the wire name of the input, such as "bvn", "kycId",
	// "Orderby" or "Accept-Language".
	Field string
	// Rule says what the input must satisfy. It never repeats the value.
	Rule string
}

// String returns the failure as "field: rule".
func (f FieldError) String() string { return f.Field + ": " + f.Rule }

// ValidationError lists every input that breaks a documented rule. It is
// returned before any request is sent, and matches ErrInvalidRequest.
type ValidationError struct {
	// Op names the call, such as "Update".
	Op string
	// Fields lists each input that breaks a rule, in the order checked.
	Fields []FieldError
}

// Error names the call and lists every failing input with its rule.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.String()
	}
	return "katsu: " + e.Op + ": invalid input: " + strings.Join(parts, "; ")
}

// Has reports whether field, a wire name such as "bvn", is among the
// failing inputs.
func (e *ValidationError) Has(field string) bool {
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

// Is reports whether target is ErrInvalidRequest; errors.Is calls it.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidRequest }

// excerptLimit is how much of an unexpected body errors keep.
const excerptLimit = 512
