package flipkyc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/flipkyc/flipkyc/internal/redact"
)

// Sentinel errors. An *APIError matches them with errors.Is according to its
// HTTP status and Flip's inner error codes, so one error may match several.
var (
	// ErrUnauthorized is matched by an *APIError with HTTP status 401. On
	// the KYC service this also covers a missing Request-ID, a missing
	// user_type and a caller IP that is not whitelisted, so it does not
	// always mean a wrong secret key.
	ErrUnauthorized = errors.New("flipkyc: unauthorized")
	// ErrForbidden is matched by an *APIError with HTTP status 403.
	ErrForbidden = errors.New("flipkyc: forbidden")
	// ErrNotFound is matched by an *APIError with HTTP status 404 or Flip
	// code 1011 (agent id not registered).
	ErrNotFound = errors.New("flipkyc: not found")
	// ErrRateLimited is matched by an *APIError with HTTP status 429.
	ErrRateLimited = errors.New("flipkyc: rate limited")
	// ErrServer is matched by an *APIError with an HTTP status of 500 or
	// more.
	ErrServer = errors.New("flipkyc: server error")
	// ErrInvalidRequest is matched by an *APIError with HTTP status 400 or
	// 422, or with one of Flip's input codes 1001, 1002, 1020, 1024, 1039,
	// 1040, 1041, 2001, 2003, 2004, 4001 to 4004 and 4013. Flip answers most
	// refusals with 400 or 422, so an error matching a more specific
	// sentinel (ErrDuplicate, ErrInvalidAgentStatus, ErrImageRejected, …)
	// usually matches this one too: test the specific ones first in a switch.
	ErrInvalidRequest = errors.New("flipkyc: request rejected as invalid")
	// ErrDuplicate is matched by an *APIError that says the identity or
	// phone number is already registered (codes 2002, 4012).
	ErrDuplicate = errors.New("flipkyc: identity or phone number already registered")
	// ErrInvalidAgentStatus is matched by an *APIError that says the agent's
	// KYC status does not allow the call (code 4010).
	ErrInvalidAgentStatus = errors.New("flipkyc: agent's KYC status does not allow this")
	// ErrRejectedReasonMismatch is matched by an *APIError that says the
	// repair does not fit the agent's rejection code (code 4006).
	ErrRejectedReasonMismatch = errors.New("flipkyc: repair does not match the rejection reason")
	// ErrImageRejected is matched by an *APIError that says Flip refused an
	// image (codes 4007, 4008, 4009, 4014).
	ErrImageRejected = errors.New("flipkyc: image rejected")
	// ErrUploadLimitReached is matched by an *APIError that says Flip
	// accepts no more uploads for the agent; send supporting documents
	// instead (code 4011).
	ErrUploadLimitReached = errors.New("flipkyc: maximum upload attempts reached")
	// ErrAgentNotUpdatable is matched by an *APIError that says Flip refuses
	// to update this agent (code 1092).
	ErrAgentNotUpdatable = errors.New("flipkyc: agent is not allowed to update")
	// ErrInvalidToken is matched by the *CallbackError of a callback whose
	// token is missing or wrong.
	ErrInvalidToken = errors.New("flipkyc: invalid callback token")
	// ErrOutcomeUnknown is matched by an *OutcomeUnknownError: a call that
	// changes state failed after its request may have reached Flip, and
	// whether Flip acted on it is not known. The SDK never repeats such a
	// call by itself.
	ErrOutcomeUnknown = errors.New("flipkyc: outcome unknown")
	// ErrNotSent, wrapped in the error of an http.RoundTripper that fails a
	// request before passing any of it on (a rate limiter, a circuit
	// breaker), tells the SDK that the request never left, so that a state
	// change may be tried again instead of being reported with
	// ErrOutcomeUnknown.
	ErrNotSent = errors.New("flipkyc: request not sent")
)

// codeSentinels maps Flip's numeric error codes to sentinels.
var codeSentinels = map[int]error{
	1011: ErrNotFound,
	2002: ErrDuplicate, 4012: ErrDuplicate,
	4010: ErrInvalidAgentStatus,
	4006: ErrRejectedReasonMismatch,
	4007: ErrImageRejected, 4008: ErrImageRejected, 4009: ErrImageRejected, 4014: ErrImageRejected,
	4011: ErrUploadLimitReached,
	1092: ErrAgentNotUpdatable,
	1001: ErrInvalidRequest, 1002: ErrInvalidRequest, 1020: ErrInvalidRequest, 1024: ErrInvalidRequest,
	1039: ErrInvalidRequest, 1040: ErrInvalidRequest, 1041: ErrInvalidRequest,
	2001: ErrInvalidRequest, 2003: ErrInvalidRequest, 2004: ErrInvalidRequest,
	4001: ErrInvalidRequest, 4002: ErrInvalidRequest, 4003: ErrInvalidRequest, 4004: ErrInvalidRequest,
	4013: ErrInvalidRequest,
}

// APIError is a reply from Flip that reports a failure: any non-2xx status,
// or a 2xx whose body is one of Flip's error shapes. It matches the sentinel
// errors (ErrNotFound, ErrDuplicate, …) with errors.Is; texts taken from the
// reply have secrets removed and personal data masked.
type APIError struct {
	// Op is the method called, such as "CreateAgent".
	Op string
	// StatusCode is the HTTP status of the reply.
	StatusCode int
	// Method and Path are the HTTP request's (the path without the base URL).
	Method, Path string
	// Code is the outer error code of the v2 agents API ("VALIDATION_ERROR",
	// "BALANCE_INSUFFICIENT"); empty otherwise.
	Code string
	// Name and Message come from the v2 shape {"name","message","status"};
	// empty for Flip's other error shapes.
	Name, Message string
	// Errors lists Flip's inner errors, with the attribute they concern where
	// Flip names one.
	Errors []ErrorDetail
	// RequestID is the Request-ID sent with the call.
	RequestID string
	// RetryAfter is the wait the server asked for (429, 503), or zero.
	RetryAfter time.Duration
	// Body is the start of a reply that is not one of Flip's JSON error
	// shapes (at most 512 bytes), for a person to read on purpose: secrets
	// are removed and personal data is masked. Error never prints it.
	Body string
}

// ErrorDetail is one of Flip's inner errors.
type ErrorDetail struct {
	// Attribute is the request field the error concerns, such as
	// "identity_number"; empty where Flip names none.
	Attribute string `json:"attribute,omitempty"`
	// Code is Flip's numeric error code, such as 2002; see APIError.HasCode.
	Code int `json:"code"`
	// Message is Flip's text for the error.
	Message string `json:"message"`
}

// Error describes the failure without repeating request data: the method
// called, the HTTP request, the status, Flip's codes and messages, and the
// Request-ID.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "flipkyc: %s: %s %s: HTTP %d", e.Op, e.Method, e.Path, e.StatusCode)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	for i, d := range e.Errors {
		if i == 0 && e.Message == "" {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		if d.Attribute != "" {
			b.WriteString(d.Attribute + ": ")
		}
		fmt.Fprintf(&b, "%s (code %d)", d.Message, d.Code)
	}
	if e.Message == "" && len(e.Errors) == 0 && e.Body != "" {
		fmt.Fprintf(&b, ": unexpected %d-byte body (see APIError.Body)", len(e.Body))
	}
	if e.RequestID != "" {
		b.WriteString(" [Request-ID " + e.RequestID + "]")
	}
	return b.String()
}

// Is reports whether e matches target, a sentinel error of this package:
// by e's HTTP status (ErrUnauthorized, ErrForbidden, ErrNotFound,
// ErrRateLimited, ErrInvalidRequest, ErrServer) or by one of its inner
// error codes (see each sentinel). errors.Is calls it.
func (e *APIError) Is(target error) bool {
	switch e.StatusCode {
	case http.StatusUnauthorized:
		if target == ErrUnauthorized {
			return true
		}
	case http.StatusForbidden:
		if target == ErrForbidden {
			return true
		}
	case http.StatusNotFound:
		if target == ErrNotFound {
			return true
		}
	case http.StatusTooManyRequests:
		if target == ErrRateLimited {
			return true
		}
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		if target == ErrInvalidRequest {
			return true
		}
	}
	if e.StatusCode >= 500 && target == ErrServer {
		return true
	}
	for _, d := range e.Errors {
		if codeSentinels[d.Code] == target {
			return true
		}
	}
	return false
}

// HasCode reports whether Flip's reply carries the inner error code, for
// codes no sentinel covers.
func (e *APIError) HasCode(code int) bool {
	for _, d := range e.Errors {
		if d.Code == code {
			return true
		}
	}
	return false
}

// errorBody is the union of Flip's three error shapes:
//
//	{"errors":[{"code":401,"message":"Invalid Auth"}]}
//	{"name":"Not Found","message":"Agent not found","status":404}
//	{"code":"VALIDATION_ERROR","errors":[{"attribute":"…","code":1025,"message":"…"}]}
type errorBody struct {
	Code    json.RawMessage `json:"code"`
	Name    string          `json:"name"`
	Message string          `json:"message"`
	Status  flexInt         `json:"status"`
	Errors  []struct {
		Attribute string  `json:"attribute"`
		Code      flexInt `json:"code"`
		Message   string  `json:"message"`
	} `json:"errors"`
}

var trailingComma = regexp.MustCompile(`,\s*([}\]])`)

// parseErrorBody fills e from body when body is one of Flip's error shapes
// and reports whether it was. Flip's documentation prints some bodies with a
// trailing comma; those are accepted too. Every text taken from the body
// goes through clean, which removes secrets and masks personal data, and is
// cut to 512 bytes.
func (e *APIError) parseErrorBody(body []byte, clean func(string) string) bool {
	var eb errorBody
	if err := json.Unmarshal(body, &eb); err != nil {
		if json.Unmarshal(trailingComma.ReplaceAll(body, []byte("$1")), &eb) != nil {
			return false
		}
	}
	if len(eb.Errors) == 0 && eb.Name == "" && eb.Message == "" {
		return false
	}
	short := func(s string) string { return redact.Excerpt([]byte(clean(s)), excerptLimit) }
	if code, err := decodeEnumText(eb.Code); err == nil {
		e.Code = short(code)
	}
	e.Name, e.Message = short(eb.Name), short(eb.Message)
	for _, d := range eb.Errors {
		e.Errors = append(e.Errors, ErrorDetail{Attribute: short(d.Attribute), Code: int(d.Code), Message: short(d.Message)})
	}
	return true
}

// looksLikeErrorBody reports whether a 2xx body is really one of Flip's error
// shapes: an object with a non-empty "errors" list.
func looksLikeErrorBody(body []byte) bool {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' || !bytes.Contains(body, []byte(`"errors"`)) {
		return false
	}
	var probe struct {
		Errors []json.RawMessage `json:"errors"`
	}
	return json.Unmarshal(body, &probe) == nil && len(probe.Errors) > 0
}

// DecodeError reports a 2xx reply whose body could not be read as the
// documented result.
type DecodeError struct {
	// Op is the method called, such as "GetAgent".
	Op string
	// StatusCode is the HTTP status of the reply.
	StatusCode int
	// Method and Path are the HTTP request's (the path without the base URL).
	Method, Path string
	// RequestID is the Request-ID sent with the call.
	RequestID string
	// Body is the start of the reply (at most 512 bytes), for a person to
	// read on purpose: secrets are removed and personal data is masked.
	// Error never prints it.
	Body string
	// Err is what went wrong: the reply was cut off, too long, not JSON, or
	// lacks what the documentation promises.
	Err error
}

// Error describes the reply that could not be decoded, without its
// content: the method called, the HTTP request and status, what went wrong
// and the Request-ID.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("flipkyc: %s: %s %s: HTTP %d: cannot decode reply: %v [Request-ID %s]",
		e.Op, e.Method, e.Path, e.StatusCode, e.Err, e.RequestID)
}

// OutcomeUnknownError reports a call that changes state (create, upload,
// submit, repair) and failed after its request may have reached Flip: the
// connection broke or timed out once the request was written, a gateway
// answered 5xx, or a 2xx reply could not be read. Flip may have acted on it.
// The SDK does not send it again, because a repeat could double the effect
// or fail for the effect of the first one. It matches ErrOutcomeUnknown,
// and unwraps to the failure itself.
//
// SubmitKYC and the repairs first read the agent: when the agent is already
// where the call puts it, they return success instead, marked
// ConfirmedByRead. They return this error only when the read cannot tell.
type OutcomeUnknownError struct {
	// Op is the method called, such as "SubmitKYC".
	Op string
	// Method and Path are the HTTP request's (the path without the base URL).
	Method, Path string
	// RequestID is the Request-ID sent with the call: quote it to Flip.
	RequestID string
	// AgentID is the agent the call was about; zero for CreateAgent.
	AgentID int64
	// Status is the agent's KYC status as read after the failure, or empty
	// when it was not read.
	Status KYCStatus
	// ReadErr is why reading the agent failed, when it did.
	ReadErr error
	// Next says what to do next.
	Next string
	// Err is the failure of the call itself.
	Err error
}

// Error says what failed, what the read of the agent found and what to do
// next, with the Request-ID.
func (e *OutcomeUnknownError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "flipkyc: %s: outcome unknown: %v", e.Op, e.Err)
	switch {
	case e.ReadErr != nil:
		fmt.Fprintf(&b, "; reading the agent failed too: %v", e.ReadErr)
	case e.Status != "":
		fmt.Fprintf(&b, "; the agent is now %s", e.Status)
	}
	if e.Next != "" {
		b.WriteString("; " + e.Next)
	}
	if !strings.Contains(b.String(), e.RequestID) {
		b.WriteString(" [Request-ID " + e.RequestID + "]")
	}
	return b.String()
}

// Is reports whether target is ErrOutcomeUnknown; errors.Is calls it.
func (e *OutcomeUnknownError) Is(target error) bool { return target == ErrOutcomeUnknown }

// Unwrap returns the failure of the call itself, Err.
func (e *OutcomeUnknownError) Unwrap() error { return e.Err }

// Unwrap returns the decoding failure, Err.
func (e *DecodeError) Unwrap() error { return e.Err }

// NetworkError is a call that got no reply from Flip: the connection could
// not be made, broke or stalled, or the context ended first. Err is the
// cause as net/http reported it (usually a *url.Error, which errors.As
// finds), so errors.Is matches context.Canceled,
// context.DeadlineExceeded and ErrStalled through it.
type NetworkError struct {
	// Op is the method called, such as "GetAgent".
	Op string
	// Method and Path are the HTTP request's (the path without the base URL).
	Method, Path string
	// RequestID is the Request-ID sent with the call: quote it to Flip.
	RequestID string
	// Err is the cause.
	Err error
}

// Error gives the method called, the HTTP request, the cause (without
// repeating the URL) and the Request-ID.
func (e *NetworkError) Error() string {
	cause := e.Err
	var ue *url.Error
	if errors.As(cause, &ue) && ue.Err != nil {
		cause = ue.Err
	}
	return fmt.Sprintf("flipkyc: %s: %s %s: %v [Request-ID %s]", e.Op, e.Method, e.Path, cause, e.RequestID)
}

// Unwrap returns the cause, Err.
func (e *NetworkError) Unwrap() error { return e.Err }

// ImageReadError is an upload whose image could not be read on this machine:
// the caller's reader failed mid-body, ended before the size its Seek or
// Size reported, or could not be rewound for a retry. The request was cut
// off unfinished (a body shorter than its Content-Length, a chunked body
// without its last chunk, or a reset HTTP/2 stream, never with the form's
// closing boundary) or not sent at all, so Flip cannot have accepted it, and
// the SDK does not send it again: the reader gave the failure, and a repeat
// would read the same source. It does not match ErrOutcomeUnknown.
type ImageReadError struct {
	// Op is the method called, such as "UploadIdentityImage".
	Op string
	// Field is the image's form field, such as "image" or "npwp_selfie".
	Field string
	// Err is the reader's failure, or what the SDK found wrong with it.
	Err error
}

// Error names the method, the image's field and the reader's failure
// (without a file path, which may carry a person's name), and says the
// upload was not sent again.
func (e *ImageReadError) Error() string {
	cause := e.Err.Error()
	var pe *fs.PathError
	if errors.As(e.Err, &pe) {
		cause = pe.Op + ": " + pe.Err.Error()
	}
	return fmt.Sprintf("flipkyc: %s: reading %s failed on this machine (%s): the upload was cut off unfinished or never sent, "+
		"so Flip did not receive it whole, and it is not sent again", e.Op, e.Field, cause)
}

// Unwrap returns the reader's failure, Err.
func (e *ImageReadError) Unwrap() error { return e.Err }

// RetryError wraps the last failure of a call that was attempted more than
// once.
type RetryError struct {
	// Attempts is how many attempts were made, the first included.
	Attempts int
	// Err is the last attempt's failure.
	Err error
}

// Error returns the last failure's text and the number of attempts.
func (e *RetryError) Error() string {
	return fmt.Sprintf("%v (gave up after %d attempts)", e.Err, e.Attempts)
}

// Unwrap returns the last failure, Err.
func (e *RetryError) Unwrap() error { return e.Err }

// FieldError is one input field that broke one of Flip's documented rules.
type FieldError struct {
	// Field is the wire name of the field, such as "phone_number".
	Field string
	// Rule says what the field must satisfy. It never repeats the value.
	Rule string
}

// String returns the failure as "field: rule".
func (f FieldError) String() string { return f.Field + ": " + f.Rule }

// ValidationError lists every input field that breaks a documented rule. It
// is returned before any request is sent, with one exception: an image
// stream of unknown size that proves too long while it is sent (see Image).
type ValidationError struct {
	// Op names the call, such as "CreateAgent".
	Op string
	// Fields lists each field that breaks a rule, in the order checked.
	Fields []FieldError
}

// Error names the call and lists every failing field with its rule.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.String()
	}
	return "flipkyc: " + e.Op + ": invalid input: " + strings.Join(parts, "; ")
}

// Has reports whether field, a wire name such as "phone_number", is among
// the failing fields.
func (e *ValidationError) Has(field string) bool {
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

// excerptLimit is how much of an unexpected body errors keep.
const excerptLimit = 512
