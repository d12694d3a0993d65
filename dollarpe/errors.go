package dollarpe

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Sentinel errors. An *APIError matches them with errors.Is according to
// its HTTP status, its err_code and DollarPe's messages, so one error may
// match several: test the specific ones first in a switch.
var (
	// ErrUnauthorized is matched by an *APIError with HTTP status 401 or an
	// AUTH_* err_code: a wrong key, a bad signature or a stale timestamp.
	// It is never retried.
	ErrUnauthorized = errors.New("dollarpe: unauthorized")
	// ErrInvalidSignature is matched by an *APIError that says the
	// signature is invalid (a 400 with errors.signature, or an
	// AUTH_*SIGNATURE* code).
	ErrInvalidSignature = errors.New("dollarpe: invalid signature")
	// ErrInvalidRequest is matched by an *APIError with HTTP status 400 or
	// 422.
	ErrInvalidRequest = errors.New("dollarpe: request rejected as invalid")
	// ErrCustomerNotFound is matched by an *APIError that says "Customer
	// not found or access denied" (or has HTTP status 404).
	ErrCustomerNotFound = errors.New("dollarpe: customer not found or access denied")
	// ErrKYCExists is matched by an *APIError that says "KYC already
	// exists": the customer's KYC data was already submitted.
	ErrKYCExists = errors.New("dollarpe: KYC already exists")
	// ErrKYCInUse is matched by an *APIError that says "KYC already in
	// use": another customer uses the same KYC data.
	ErrKYCInUse = errors.New("dollarpe: KYC already in use")
	// ErrUpdateLimit is matched by an *APIError that says "Kyc update limit
	// exceeded": the customer has had its 3 KYC updates.
	ErrUpdateLimit = errors.New("dollarpe: KYC update limit exceeded")
	// ErrDuplicate is matched by an *APIError that refuses an e-mail, phone
	// or client reference id already used by another customer. DollarPe
	// documents that they must be unique but not the wording of the
	// refusal; a field error on one of them that says "already", "exist",
	// "unique" or "taken" counts.
	ErrDuplicate = errors.New("dollarpe: email, phone or client reference id already used")
	// ErrRateLimited is matched by an *APIError with HTTP status 429.
	ErrRateLimited = errors.New("dollarpe: rate limited")
	// ErrServer is matched by an *APIError with an HTTP status of 500 or
	// more.
	ErrServer = errors.New("dollarpe: server error")
	// ErrOutcomeUnknown is matched by an *OutcomeUnknownError: a POST or
	// PATCH failed after it may have reached DollarPe, and whether it took
	// effect is not known. The client never repeats such a call, since a
	// repeated update may use up one of the customer's 3 updates.
	ErrOutcomeUnknown = errors.New("dollarpe: outcome unknown")
	// ErrNotConfigured is returned by every call of a Client not made by
	// New (a zero Client or a nil *Client); nothing is sent.
	ErrNotConfigured = errors.New("dollarpe: client not configured (use dollarpe.New)")
	// ErrSandboxOnly is matched by the *ValidationError of MockKYCStatus on
	// a production client; nothing is sent.
	ErrSandboxOnly = errors.New("dollarpe: call is only available in the sandbox")
)

// APIError is a reply from DollarPe that reports a failure: any non-2xx
// status, or a 2xx whose envelope says status false. Texts taken from the
// reply have secrets removed and personal data masked; the body is never
// kept whole.
type APIError struct {
	// Op is the method called, such as "UpdateDocumentInfo".
	Op string
	// StatusCode is the HTTP status of the reply.
	StatusCode int
	// Method and Path are the HTTP request's (the path without the base
	// URL and without a query).
	Method, Path string
	// Code is the envelope's err_code (such as "AUTH_INVALID_SIGNATURE"),
	// empty when it has none.
	Code string
	// Message is the envelope's message, such as "Bad Request".
	Message string
	// Errors holds the envelope's field errors: field name to messages.
	// An errors value that is a string (the 500 shape) is under the key "".
	Errors map[string][]string
	// RetryAfter is the wait the server asked for (429, 503), or zero.
	RetryAfter time.Duration
	// Body is the start of a reply that is not a DollarPe envelope (at most
	// 512 bytes), cleaned: in JSON its keys, booleans and numbers stay and
	// only the strings of statuses, codes, messages, ids and times do; every
	// other string is [masked]. Error never prints it.
	Body string
}

// Error describes the failure: the call, the HTTP request, the status, the
// err_code, the message and the field errors.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "dollarpe: %s: %s %s: HTTP %d", e.Op, e.Method, e.Path, e.StatusCode)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	keys := make([]string, 0, len(e.Errors))
	for k := range e.Errors {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b.WriteString("; ")
		if k != "" {
			b.WriteString(k + ": ")
		}
		b.WriteString(strings.Join(e.Errors[k], ", "))
	}
	if e.Message == "" && len(e.Errors) == 0 && e.Body != "" {
		fmt.Fprintf(&b, ": unexpected %d-byte body (see APIError.Body)", len(e.Body))
	}
	return b.String()
}

// texts returns the message and every field error, lower-cased.
func (e *APIError) texts() []string {
	out := []string{strings.ToLower(e.Message)}
	for _, msgs := range e.Errors {
		for _, m := range msgs {
			out = append(out, strings.ToLower(m))
		}
	}
	return out
}

func (e *APIError) says(phrase string) bool {
	for _, t := range e.texts() {
		if strings.Contains(t, phrase) {
			return true
		}
	}
	return false
}

// Is reports whether e matches target, one of this package's sentinels;
// errors.Is calls it.
func (e *APIError) Is(target error) bool {
	code := strings.ToUpper(e.Code)
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized || strings.HasPrefix(code, "AUTH_")
	case ErrInvalidSignature:
		if strings.Contains(code, "SIGNATURE") {
			return true
		}
		for k, msgs := range e.Errors {
			if strings.EqualFold(k, "signature") && len(msgs) > 0 {
				return true
			}
		}
		return e.says("invalid signature")
	case ErrInvalidRequest:
		return e.StatusCode == http.StatusBadRequest || e.StatusCode == http.StatusUnprocessableEntity
	case ErrCustomerNotFound:
		return e.StatusCode == http.StatusNotFound || e.says("customer not found")
	case ErrKYCExists:
		return e.says("kyc already exists")
	case ErrKYCInUse:
		return e.says("kyc already in use")
	case ErrUpdateLimit:
		return e.says("update limit exceeded")
	case ErrDuplicate:
		for k, msgs := range e.Errors {
			switch strings.ToLower(k) {
			case "email", "phone", "client_reference_id":
				for _, m := range msgs {
					m = strings.ToLower(m)
					if strings.Contains(m, "already") || strings.Contains(m, "exist") ||
						strings.Contains(m, "unique") || strings.Contains(m, "taken") {
						return true
					}
				}
			}
		}
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrServer:
		return e.StatusCode >= 500
	}
	return false
}

// Field returns the messages DollarPe gave for one request field.
func (e *APIError) Field(name string) []string { return e.Errors[name] }

// DecodeError is a 2xx reply whose body is not the documented result.
type DecodeError struct {
	// Op is the method called.
	Op string
	// StatusCode is the reply's HTTP status.
	StatusCode int
	// Method and Path are the HTTP request's.
	Method, Path string
	// Body is the start of the reply (at most 512 bytes), cleaned as
	// APIError.Body is: only the strings of statuses, codes, messages, ids
	// and times are kept.
	Body string
	// Err is what was wrong with it.
	Err error
}

// Error describes the problem without quoting the body.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("dollarpe: %s: %s %s: HTTP %d: unreadable reply: %v", e.Op, e.Method, e.Path, e.StatusCode, e.Err)
}

// Unwrap returns Err.
func (e *DecodeError) Unwrap() error { return e.Err }

// NetworkError is a failure to exchange a request and reply with DollarPe:
// a connection refused, reset or timed out, or a context that ended.
type NetworkError struct {
	// Op is the method called.
	Op string
	// Method and Path are the HTTP request's.
	Method, Path string
	// Err is the transport's error, with secrets removed.
	Err error
}

// Error describes the failure.
func (e *NetworkError) Error() string {
	return fmt.Sprintf("dollarpe: %s: %s %s: %v", e.Op, e.Method, e.Path, e.Err)
}

// Unwrap returns Err.
func (e *NetworkError) Unwrap() error { return e.Err }

// OutcomeUnknownError is a POST or PATCH that failed after its request may
// have reached DollarPe: a 5xx, or a connection lost after the request was
// written. The client never repeats it; read the customer (GetCustomer) to
// learn what happened before sending it again. It matches
// ErrOutcomeUnknown and, through Err, what its cause matches.
type OutcomeUnknownError struct {
	// Op is the method called.
	Op string
	// Method and Path are the HTTP request's.
	Method, Path string
	// Err is the failure that left the outcome unknown.
	Err error
}

// Error says the outcome is unknown and why.
func (e *OutcomeUnknownError) Error() string {
	return fmt.Sprintf("dollarpe: %s: %s %s: outcome unknown, not retried (read the customer before repeating): %v",
		e.Op, e.Method, e.Path, e.Err)
}

// Is reports whether target is ErrOutcomeUnknown.
func (e *OutcomeUnknownError) Is(target error) bool { return target == ErrOutcomeUnknown }

// Unwrap returns Err.
func (e *OutcomeUnknownError) Unwrap() error { return e.Err }

// RetryError is the last failure of a call that was tried more than once.
type RetryError struct {
	// Attempts is how many attempts were made.
	Attempts int
	// Err is the last attempt's failure.
	Err error
}

// Error gives the number of attempts and the last failure.
func (e *RetryError) Error() string { return fmt.Sprintf("after %d attempts: %v", e.Attempts, e.Err) }

// Unwrap returns Err.
func (e *RetryError) Unwrap() error { return e.Err }

// FieldError names one refused input field and the rule it broke.
type FieldError struct {
	// Field is the JSON name of the field, such as "document_front_image_url".
	Field string
	// Rule says what is wrong, never quoting the value.
	Rule string
}

// String returns "field: rule".
func (f FieldError) String() string { return f.Field + ": " + f.Rule }

// ValidationError is input refused before anything was sent.
type ValidationError struct {
	// Op is the method called.
	Op string
	// Fields lists every problem found.
	Fields []FieldError
	// err is a sentinel the error also matches (ErrSandboxOnly), or nil.
	err error
}

// Error lists the refused fields and rules.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.String()
	}
	return fmt.Sprintf("dollarpe: %s: invalid input: %s", e.Op, strings.Join(parts, "; "))
}

// Has reports whether field is among the refused fields.
func (e *ValidationError) Has(field string) bool {
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

// Unwrap returns the sentinel the error matches, if any.
func (e *ValidationError) Unwrap() error { return e.err }
