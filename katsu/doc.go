// Package katsu is a typed client for the KYC API of Katsu Banking by Sabi
// (Nigeria): it updates a customer's KYC record (tier, address verification,
// BVN), approves it, reads one record and lists records page by page.
//
// Katsu documents neither a host nor how tokens are issued, so New requires
// the base URL (WithBaseURL) and the Bearer token the integrator was given;
// the API version in the path /api/v{version}/ defaults to DefaultVersion,
// "1", the only version the documentation shows, and WithVersion changes it.
//
// Every call goes through one request path that adds the Bearer token and
// the optional Accept-Language (en or fr), checks the documented input rules
// before anything is sent, retries only where a repeat cannot double an
// effect, and reports failures as typed errors: *ValidationError, *APIError,
// *DecodeError, *NetworkError, *OutcomeUnknownError or *RetryError, which
// errors.As finds, and sentinels (ErrUnauthorized, ErrNotFound,
// ErrInvalidRequest, ErrOutcomeUnknown, …) that errors.Is matches. A reply of
// Katsu's envelope {succeeded, message, errors, data} with succeeded false is
// an *APIError even under HTTP 200.
//
// The token never appears in errors, log lines or printed values, and
// personal data (BVN, name) is masked wherever a record, a parameter set or
// an error is printed or logged. The package katsutest runs a fake Katsu
// in-process for tests and examples.
package katsu

// For maintainers, the files: client.go and options.go (Client, New,
// options), calls.go (per call options), kyc.go (the four endpoints),
// record.go (Record, Tier, Page), envelope.go (the reply envelope),
// request.go (the request path), retry.go, errors.go, validate.go and
// personal.go (masking).
