// Package flipkyc is a client for Flip's Agent KYC (agent verification) API:
// it registers a company's money-transfer agents with Flip, uploads their
// identity images, submits them for review, repairs rejected data and reads
// the result, and it receives Flip's KYC callbacks. The README beside this
// package is the front door; this documentation holds the details.
//
// # The request path
//
// Every call goes through one request path that adds Basic auth (the secret
// key as user name), a "bigflip-<uuid>" Request-ID and a User-Agent, checks
// the documented input rules before anything is sent, retries only where a
// repeat cannot double an effect, and reports failures as typed errors:
// *ValidationError, *APIError, *DecodeError, *NetworkError,
// *OutcomeUnknownError, *ImageReadError or *RetryError, which errors.As
// finds. A call whose context ends returns an error that matches the
// context's error with errors.Is. The files follow the API: agents.go,
// identities.go, documents.go, submit.go, repair.go, locations.go; a
// callback is one idea per file: callback_event.go (the Event), its wire
// decoding (callback_wire.go), the body in its encodings
// (callback_body.go), the token check (callback_parser.go) and the handler
// (callback_handler.go). The request path is in request.go, its options in
// options.go and calls.go, retries in retry.go, the settling of state
// changes whose reply was lost in outcome.go.
//
// # Wire forms
//
// Flip's two API families disagree on wire forms; the package absorbs that
// once: identity type ("ktp"/"passport" or 1/2), gender ("male"/"female" or
// 1/2), occupation case, the KYC status as a name or a number, the agent
// status as "ACTIVE" or 10, rejection codes as numbers, numeric strings or
// null, dates as DD-MM-YYYY, RFC 3339 or the hybrid 31-10-1990T00:00:00Z,
// and timestamps in four layouts (zone-less ones are read as UTC+7, Flip's
// local time, which Flip does not document). Values the package does not
// know decode without error and stay visible (Known reports false). Build
// dates with NewDate, DateOf or ParseDate; a decoded date equals the one
// built in code with ==. RejectionCode.Fixes says which call answers a
// rejection.
//
// # Uploads
//
// Image.Content is an io.Reader streamed into the multipart body: memory
// does not grow with the image, and the request has an exact Content-Length
// when the size is known. Before any request the image's header is read,
// to check Flip's rules: PNG or JPEG by content, 256 to 4096 pixels a side,
// and under 2 MB (2,000,000 bytes) whenever the size is known (io.Seeker,
// io.ReaderAt with Size, or Len). An image that can be read again
// (io.Seeker, or io.ReaderAt with Size) is then walked to its end marker,
// 32 KiB at a time and without decoding its pixels, so that a PNG or JPEG
// cut short or damaged (a chunk's CRC, a segment's length) is refused
// before it is sent; a plain stream is checked from its header only. A
// plain stream's size is
// counted as it is sent: no byte past 2,000,000 is sent, and a longer
// stream fails with a *ValidationError after the request was cut off
// unfinished, so Flip never receives a complete body. A reader that fails
// or lies (a Read error, fewer bytes than Seek or Size reported) gives an
// *ImageReadError and is never sent again. Unless Content is a
// *bytes.Reader, *strings.Reader or *bytes.Buffer, it is read on a
// goroutine of its own, so a call returns when its context ends even if
// Content.Read is blocked; the package never closes Content.
//
// # Retries
//
// Reads and the full-replacement UpdateAgent are retried on connection
// errors, 429, 502, 503 and 504; state changes (create, uploads, documents,
// submit, the repairs) on 429 and on failures before the whole request was
// written; nothing on 500 or another 4xx. At most 3 attempts by default,
// with jittered exponential backoff from 200 ms to 5 s and Retry-After
// honoured up to 30 s; every wait ends with the context, and every attempt
// of a call carries its Request-ID. An attempt abandoned for a stall
// (ErrStalled) is not retried: without a deadline, a call that meets only
// silence ends after one idle timeout (60 s), and the longest any call can
// take with the defaults is about 4 minutes.
//
// # Calls that may have taken effect
//
// A state change that fails after its whole request was written may have
// been carried out by Flip. Such a call is never sent again blindly, and
// never reported as a refusal:
//
//   - A 2xx answer to a submit, an upload or a repair is Flip's success
//     whatever its body; RepairData keeps every field the reply carried and
//     lists what was odd in KYCUser.Problems.
//   - SubmitKYC and the three repairs finish what they start: they wait
//     (SettleDelay at least) and read the agent. A change that shows
//     succeeds with ConfirmedByRead; an agent still where the change starts
//     proves it was not made, and it is sent again with the same
//     Request-ID while the retry policy has attempts left; anything else is
//     an *OutcomeUnknownError that says what the read found (see
//     outcome.go).
//   - CreateAgent returns an *OutcomeUnknownError with its Request-ID: Flip
//     cannot look agents up by identity number, so only a person can settle
//     it.
//   - Uploads and UploadDocuments return an *OutcomeUnknownError: Flip
//     counts uploads, so read the agent before uploading again.
//
// A middleware transport that fails a request before passing it on wraps
// ErrNotSent in its error, and the call may then be tried again.
//
// # Calls end
//
// Every attempt has an idle timeout (WithIdleTimeout): when no byte moves
// for that long the attempt ends with ErrStalled; a transfer that keeps
// moving is never cut, and a context deadline bounds the whole call.
// Replies are read up to 1 MiB (WithMaxResponseBytes), then drained and
// closed so the connection is reused. Without WithHTTPClient (or with a nil
// Transport) the client sends through its own copy of http.DefaultTransport
// that follows the framing of every HTTP/1.1 reply and drops a connection at
// the first byte past a reply's end, so a misframed reply is never read as
// the answer to the next call; once a program or httpmock replaces
// http.DefaultTransport, that one is used. Redirects are not followed.
//
// # Nothing leaks
//
// The secret key never appears in error text, log lines or any fmt verb of
// a Client; echoes of it in replies are redacted in every escaped form and
// letter case. Log lines carry the operation, method, path, status, Flip's
// error codes, Request-ID, attempt and duration, never a header or body
// text. Personal data (names, identity numbers, phones, e-mails, birth
// dates, addresses) never appears in error text or log lines: texts from
// replies are masked, the call's own input too wherever a reply echoes it,
// and Agent, AgentParams, KYCUser, RepairDataParams, Image, Document and
// Event print masked under every fmt verb and through slog (LogValue);
// json.Marshal writes the real values, for storing them on purpose.
//
// # Callbacks
//
// Flip sends each KYC callback once. NewCallbackHandler checks the token in
// constant time and hands every authentic callback to the caller's function
// before it answers: 200 only when the function returned nil, so an event
// answered 200 has been stored. An authentic callback is never refused for
// its form: numbers in any spelling, nulls, unknown fields, a kyc_status of
// the wrong type (left empty) and text that is not UTF-8 (each invalid byte
// replaced with U+FFFD) are decoded as far as they go, Event.Raw keeps the
// data as received and Event.Problems says what could not be decoded.
// NewCallbackParser gives the same checks inside a handler of one's own.
// The package flipkyctest runs a fake Flip in-process for tests and
// examples.
package flipkyc
