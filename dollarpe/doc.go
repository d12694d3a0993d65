// Package dollarpe is a client for DollarPe's KYC API (India): it creates
// customers, submits and repairs their KYC data, reads their verification
// status, and receives DollarPe's signed webhooks.
//
// Every request is signed with the API key and secret: X-API-KEY,
// X-TIMESTAMP (Unix seconds) and X-SIGNATURE, the Base64 HMAC-SHA256 of
// apiKey|timestamp|canonicalBody, where canonicalBody is Python's
// json.dumps(body, sort_keys=True, separators=(",", ":")) (see
// Canonicalize); the bytes signed are the bytes sent.
//
// The package dollarpetest runs a fake DollarPe in-process for tests and
// examples.
package dollarpe
