// Package flipkyctest runs a fake Flip Agent KYC API in-process, on
// loopback, for tests and examples, the way net/http/httptest runs a server.
//
// The fake serves both API families under paths like Flip's sandbox
// (/big_sandbox_api/v2 and /kyc-sandbox/api/v1), checks requests the way
// Flip documents them (Basic auth, Request-ID, content types, field rules,
// duplicates), keeps agents, runs the KYC state machine, sends callbacks,
// records what it received, and can inject faults. Its agent ids start at
// 1001 and grow by one, and its location look-ups hold a small fixed data
// set that includes Flip's documented example ids (Indonesia 1, Jawa Barat
// 12, Kota Depok 184, Sukmajaya 1234).
//
//	srv := flipkyctest.NewServer(t)
//	client, err := srv.NewClient()
package flipkyctest

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc"
)

// Path prefixes of the two API families on the fake, as on Flip's sandbox.
const (
	AgentsPrefix = "/big_sandbox_api/v2" // the v2 agents API; Server.AgentsURL ends with it
	KYCPrefix    = "/kyc-sandbox/api/v1" // the KYC service; Server.KYCURL ends with it
)

// Default credentials of the fake.
const (
	DefaultSecretKey     = "flipkyctest-secret-key"     // the secret key the fake accepts; see WithSecretKey
	DefaultCallbackToken = "flipkyctest-callback-token" // the token its callbacks carry; see WithCallbacks
)

// Route names one endpoint of the fake, "METHOD /path" with the path after
// the family's prefix, for fault injection and for reading recorded
// requests. A request to a path the fake does not serve is recorded under a
// route of its own method and full path, and answered 404 once the key,
// Request-ID and user_type the KYC service requires pass.
type Route string

// The routes of the fake, one for each endpoint the SDK calls.
const (
	RouteCreateAgent   Route = "POST /agents"
	RouteUpdateAgent   Route = "PUT /agents/{id}"
	RouteGetAgent      Route = "GET /agents/{id}"
	RouteUploadImage   Route = "PUT /users/{id}/identities"
	RouteDocuments     Route = "POST /documents"
	RouteSubmit        Route = "PUT /users/{id}/submit"
	RouteRepairData    Route = "PUT /users/{id}/repair"
	RouteRepairPhoto   Route = "PUT /users/{id}/repairPhoto"
	RouteRepairSelfie  Route = "PUT /users/{id}/repairSelfie"
	RouteCountries     Route = "GET /countries"
	RouteProvinces     Route = "GET /provinces"
	RouteCities        Route = "GET /cities"
	RouteDistricts     Route = "GET /districts"
	routeUnknownPrefix Route = "unknown "
)

// Decision is the outcome of a KYC review or an upload check: approved (or
// upload accepted) when Code is zero, rejected with Code otherwise.
type Decision struct {
	// Code is the rejection code the agent gets: REJECTED after a review,
	// UPLOAD_IDENTITY_SELFIE_FAILED after an upload check. Zero approves.
	Code flipkyc.RejectionCode
}

// Reviewer decides a KYC review of the agent. review counts the agent's
// reviews: 1 for the first submission, 2 after the first fix (a repair or
// supporting documents), and so on. It runs in the background, without the
// fake's lock.
type Reviewer func(a flipkyc.Agent, review int) Decision

// DefaultReviewer approves every agent, except that an identity number whose
// last four digits are 99NN, with NN a documented rejection code (10 to 33),
// is rejected with code NN at its first review and approved after a fix.
func DefaultReviewer(a flipkyc.Agent, review int) Decision {
	n := a.IdentityNumber
	if review > 1 || len(n) < 4 || n[len(n)-4:len(n)-2] != "99" {
		return Decision{}
	}
	code, err := strconv.Atoi(n[len(n)-2:])
	if err != nil || !flipkyc.RejectionCode(code).Known() {
		return Decision{}
	}
	return Decision{Code: flipkyc.RejectionCode(code)}
}

// UploadCheck decides whether the identity image and selfie of the agent
// pass Flip's automatic check. The default accepts every upload.
type UploadCheck func(a flipkyc.Agent) Decision

// Option configures a fake, for NewServer.
type Option func(*Server)

// WithSecretKey sets the secret key the fake accepts (DefaultSecretKey
// otherwise); a request with another key is answered 401.
func WithSecretKey(key string) Option { return func(s *Server) { s.secretKey = key } }

// WithCallbacks makes the fake POST each KYC event to url, with token as
// the validation token (DefaultCallbackToken when empty), once, as Flip does:
// the result of the image check after a selfie, and the result of each
// review. url must be on a loopback address, such as an httptest.Server's;
// the fake sends nowhere else and follows no redirect. Server.Callbacks
// records each delivery.
func WithCallbacks(url, token string) Option {
	return func(s *Server) {
		s.callbackURL = url
		if token != "" {
			s.callbackToken = token
		}
	}
}

// WithReviewer makes r decide every KYC review, in place of
// DefaultReviewer.
func WithReviewer(r Reviewer) Option { return func(s *Server) { s.reviewer = r } }

// WithUploadCheck makes c decide the automatic check of the identity image
// and selfie, made after the selfie upload; a Decision with a Code moves the
// agent to UPLOAD_IDENTITY_SELFIE_FAILED with that code. By default every
// upload passes.
func WithUploadCheck(c UploadCheck) Option { return func(s *Server) { s.uploadCheck = c } }

// WithDecisionDelay makes the fake take d before it settles an upload check
// or a review. By default (zero) it settles them at once in the background,
// so a read right after the call's reply may find the agent decided or
// still waiting; use Client.WaitForAgent to wait for the decision.
func WithDecisionDelay(d time.Duration) Option { return func(s *Server) { s.decisionDelay = d } }

// WithMaxUploads sets how many image uploads (identity image, selfie and
// image repairs, refused ones included) the fake accepts per agent before it
// answers code 4011, ErrUploadLimitReached (5 by default).
func WithMaxUploads(n int) Option { return func(s *Server) { s.maxUploads = n } }

// Server is a fake Flip. Its exported fields are set by NewServer.
//
// A Server prints (under every fmt verb) and marshals to JSON without its
// secret key and callback token. Copies of a Server value share one fake.
type Server struct {
	// URL is the server's root, such as http://127.0.0.1:41234.
	URL string
	// AgentsURL and KYCURL are the base URLs of the two API families.
	AgentsURL, KYCURL string

	// Everything else sits behind one pointer, so a Server value is cheap to
	// copy and holds no lock of its own.
	*state
}

// state is the fake's configuration, set by NewServer and its options, and
// its mutable state, guarded by mu.
type state struct {
	srv           *httptest.Server
	listener      net.Listener                    // WithListener; nil for a new loopback one
	middleware    func(http.Handler) http.Handler // WithMiddleware; nil for none
	secretKey     string
	callbackToken string
	callbackURL   string
	reviewer      Reviewer
	uploadCheck   UploadCheck
	decisionDelay time.Duration
	maxUploads    int
	// callbacks go through their own client, which never follows a redirect
	// and dials only loopback addresses; Close closes its idle connections.
	callbackClient    *http.Client
	callbackTransport *http.Transport

	mu     sync.Mutex
	nextID int64
	agents map[int64]*agent
	// byIdentity and byPhone index agents for the duplicate checks.
	byIdentity, byPhone agentIndex
	requests            []Request
	callbacks           []SentCallback
	faults              map[Route][]fault
	latency             time.Duration

	background sync.WaitGroup
	closed     chan struct{}
	closeOnce  sync.Once
}

// NewServer starts a fake Flip on loopback, configured by opts. When tb is
// not nil the server is closed when the test ends; otherwise call Close.
// The fake starts with no agents; the first one created gets id 1001.
func NewServer(tb testing.TB, opts ...Option) *Server {
	s := &Server{state: &state{
		callbackToken: DefaultCallbackToken,
		secretKey:     DefaultSecretKey,
		reviewer:      DefaultReviewer,
		uploadCheck:   func(flipkyc.Agent) Decision { return Decision{} },
		maxUploads:    5,
		nextID:        1000,
		agents:        map[int64]*agent{},
		byIdentity:    agentIndex{},
		byPhone:       agentIndex{},
		faults:        map[Route][]fault{},
		closed:        make(chan struct{}),
	}}
	s.callbackClient, s.callbackTransport = newCallbackClient()
	for _, opt := range opts {
		opt(s)
	}
	s.srv = s.start()
	if tb != nil {
		tb.Cleanup(s.Close)
	}
	return s
}

// Close stops the server after the decisions and callbacks under way have
// been sent; those still waiting out WithDecisionDelay are dropped. It may be
// called more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.background.Wait()
		s.callbackTransport.CloseIdleConnections()
		s.srv.Close()
	})
}

// SecretKey returns the secret key the fake accepts, for a client built
// with flipkyc.New; NewClient uses it itself.
func (s *Server) SecretKey() string { return s.secretKey }

// CallbackToken returns the validation token the fake sends with callbacks,
// for the receiver under test (flipkyc.NewCallbackHandler).
func (s *Server) CallbackToken() string { return s.callbackToken }

// Format prints the server's URL and neither its secret key nor its
// callback token, the same under every verb.
func (s Server) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "flipkyctest.Server{URL: %s, key: %s, callbackToken: %s}", s.URL, redacted, redacted)
}

// ClientOptions returns the options that point a flipkyc.Client at the fake:
// both base URLs and an *http.Client for loopback. Pass them to flipkyc.New
// with SecretKey, or use NewClient.
func (s *Server) ClientOptions() []flipkyc.Option {
	return []flipkyc.Option{flipkyc.WithBaseURLs(s.AgentsURL, s.KYCURL), flipkyc.WithHTTPClient(s.srv.Client())}
}

// NewClient returns a client of the fake with its secret key; extra options
// are applied after the fake's own (ClientOptions), so they may replace
// them.
func (s *Server) NewClient(extra ...flipkyc.Option) (*flipkyc.Client, error) {
	return flipkyc.New(s.secretKey, append(s.ClientOptions(), extra...)...)
}

// Request is one request the fake received. It prints (under every fmt
// verb) and marshals to JSON with the values of personal fields masked;
// Fields holds them as received.
type Request struct {
	// Route is the endpoint the request went to.
	Route Route
	// Method is the request's HTTP method.
	Method string
	// Path is the request's URL path, with the family's prefix.
	Path string
	// Header is the request's header, with Authorization redacted.
	Header http.Header
	// Fields holds the form fields and query parameters, one value per
	// name.
	Fields map[string]string
	// Files holds the uploaded files' field names with their sizes in
	// bytes.
	Files map[string]int64
	// Status is what the fake answered, 0 when it dropped the connection.
	Status int
	// Handled is the status the fake's own handling of the request came to:
	// the same as Status, except under FailNextAfterApplying and
	// DropNextAfterApplying, where it is the reply that was lost, and under
	// FailNext and DropNext, where it is 0 (the fake did not look).
	Handled int
}

// Requests returns a copy of the requests received so far, oldest first;
// a request is recorded once it has been answered (or dropped).
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// RequestsTo returns the requests received so far for one route, oldest
// first.
func (s *Server) RequestsTo(r Route) []Request {
	var out []Request
	for _, req := range s.Requests() {
		if req.Route == r {
			out = append(out, req)
		}
	}
	return out
}

// fault is one injected failure: a status to answer, or a dropped
// connection, before the fake handles the request or after (applied).
type fault struct {
	status  int
	drop    bool
	applied bool
}

// FailNext makes the next n requests of route fail with status (and a JSON
// error body of the route's family) before the fake looks at them: nothing
// takes effect. Faults queue per route, and each request takes the oldest.
func (s *Server) FailNext(route Route, n, status int) {
	s.addFaults(route, n, fault{status: status})
}

// DropNext makes the fake close the connection of the next n requests of
// route without answering, after reading them and before looking at them:
// nothing takes effect.
func (s *Server) DropNext(route Route, n int) { s.addFaults(route, n, fault{drop: true}) }

// FailNextAfterApplying makes the next n requests of route take effect and
// then lose their reply, as when a gateway times out after Flip has acted:
// the fake handles each request normally (checks, state change, decision and
// callback in the background; an agent is created, a submission or repair
// goes under review) and then answers status, with a JSON error body of the
// route's family, instead of its real reply. A request the fake refuses
// changes nothing, but its reply is replaced all the same. The request log
// has the status sent as Status and the lost reply's as Handled.
func (s *Server) FailNextAfterApplying(route Route, n, status int) {
	s.addFaults(route, n, fault{status: status, applied: true})
}

// DropNextAfterApplying makes the next n requests of route take effect and
// then lose their reply: the fake handles each request normally, as
// FailNextAfterApplying describes, and then closes the connection without
// answering. The request log has Status 0 and the lost reply's status as
// Handled.
func (s *Server) DropNextAfterApplying(route Route, n int) {
	s.addFaults(route, n, fault{drop: true, applied: true})
}

func (s *Server) addFaults(route Route, n int, f fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[route] = append(s.faults[route], f)
	}
}

// SetLatency makes the fake wait d before it handles and answers each
// request from now on; a request whose client gives up meanwhile is dropped
// unhandled and unrecorded. Zero turns the latency off.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// Agents returns the fake's current records of all its agents, in order of
// id: among them those whose create lost its reply. Each record is the full
// one, as CreateAgent returns it, with the rejection, account status and
// creation time of GetAgent.
func (s *Server) Agents() []flipkyc.Agent {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]flipkyc.Agent, 0, len(s.agents))
	for _, a := range s.agents {
		out = append(out, a.public())
	}
	slices.SortFunc(out, func(a, b flipkyc.Agent) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Agent returns the fake's current record of the agent with id, as Agents
// does, and false when there is none.
func (s *Server) Agent(id int64) (flipkyc.Agent, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.agents[id]
	if !ok {
		return flipkyc.Agent{}, false
	}
	return a.public(), true
}

// exchange is one request in flight: what the handlers read and answer.
type exchange struct {
	w     http.ResponseWriter
	r     *http.Request
	route Route
	rec   *Request
	kyc   bool
	files map[string]upload // the multipart body's files, by field name
}

// handler is the signature of the fake's endpoint handlers; they run with
// s.mu held and return the status and JSON body to send.
type handler func(x *exchange) (int, any)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	agents := map[Route]handler{
		RouteCreateAgent: s.createAgent, RouteUpdateAgent: s.updateAgent, RouteGetAgent: s.getAgent,
	}
	kyc := map[Route]handler{
		RouteUploadImage: s.uploadIdentity, RouteDocuments: s.uploadDocuments, RouteSubmit: s.submit,
		RouteRepairData: s.repairData, RouteRepairPhoto: s.repairPhoto, RouteRepairSelfie: s.repairSelfie,
		RouteCountries: s.countries, RouteProvinces: s.provinces, RouteCities: s.cities, RouteDistricts: s.districts,
	}
	for route, h := range agents {
		method, path, _ := strings.Cut(string(route), " ")
		mux.Handle(method+" "+AgentsPrefix+path, s.serve(route, false, h))
	}
	for route, h := range kyc {
		method, path, _ := strings.Cut(string(route), " ")
		mux.Handle(method+" "+KYCPrefix+path, s.serve(route, true, h))
	}
	mux.Handle("/", s.serve(routeUnknownPrefix, true, func(x *exchange) (int, any) {
		return http.StatusNotFound, kycError(404, "Endpoint not found")
	}))
	return mux
}

// serve wraps an endpoint handler with what every request goes through:
// recording, latency, faults, Basic auth, Request-ID and body parsing.
func (s *Server) serve(route Route, kyc bool, h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if route == routeUnknownPrefix {
			route = Route(r.Method + " " + r.URL.Path)
		}
		x := &exchange{w: w, r: r, route: route, kyc: kyc,
			rec: &Request{Route: route, Method: r.Method, Path: r.URL.Path, Header: redactedHeader(r.Header),
				Fields: map[string]string{}, Files: map[string]int64{}}}
		parseErr := parseBody(x)

		s.mu.Lock()
		latency := s.latency
		var f *fault
		if q := s.faults[route]; len(q) > 0 {
			f, s.faults[route] = &q[0], q[1:]
		}
		s.mu.Unlock()
		if latency > 0 {
			select {
			case <-time.After(latency):
			case <-r.Context().Done():
				return
			}
		}

		status, body := 0, any(nil)
		if f == nil || f.applied {
			status, body = s.check(x, parseErr)
			if status == 0 {
				s.mu.Lock()
				status, body = h(x)
				s.mu.Unlock()
			}
			x.rec.Handled = status
		}
		switch {
		case f != nil && f.drop:
			s.record(x.rec, 0)
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				_ = conn.Close()
			}
			return
		case f != nil:
			status, body = f.status, errorBody(kyc, f.status, http.StatusText(f.status))
		}
		s.record(x.rec, status)
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	})
}

func (s *Server) record(rec *Request, status int) {
	rec.Status = status
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, *rec)
}

// check applies the rules every request of a family must meet and returns a
// status and body when the request fails them, or 0.
func (s *Server) check(x *exchange, parseErr error) (int, any) {
	user, pass, ok := x.r.BasicAuth()
	if !ok || user != s.secretKey || pass != "" {
		if x.kyc {
			return http.StatusUnauthorized, kycError(401, "Invalid Auth")
		}
		return http.StatusUnauthorized, v2Error("Unauthorized", "Your request was made with invalid credentials.", 401)
	}
	if !x.kyc {
		if parseErr != nil {
			return http.StatusBadRequest, v2Error("Bad Request", parseErr.Error(), 400)
		}
		return 0, nil
	}
	if id := x.r.Header.Get("Request-ID"); !validRequestID(id) {
		return http.StatusUnauthorized, kycError(401, "Invalid token")
	}
	if parseErr != nil {
		return http.StatusBadRequest, kycError(4001, parseErr.Error())
	}
	switch ut, ok := x.rec.Fields["user_type"]; {
	case !ok:
		return http.StatusUnauthorized, kycError(401, "Invalid token")
	case ut != "1":
		return http.StatusBadRequest, kycError(4002, "Invalid user type")
	}
	return 0, nil
}

// validRequestID reports whether id is "bigflip-" and a UUID.
func validRequestID(id string) bool {
	rest, ok := strings.CutPrefix(id, "bigflip-")
	if !ok || len(rest) != 36 {
		return false
	}
	for i, c := range rest {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case !strings.ContainsRune("0123456789abcdefABCDEF", c):
			return false
		}
	}
	return true
}

// redacted stands in for secrets: the secret key, the callback token and
// the Authorization header.
const redacted = "[redacted]"

func redactedHeader(h http.Header) http.Header {
	out := h.Clone()
	if out.Get("Authorization") != "" {
		out.Set("Authorization", redacted)
	}
	return out
}

func kycError(code int, msg string) any {
	return map[string]any{"errors": []map[string]any{{"code": code, "message": msg}}}
}

func v2Error(name, msg string, status int) any {
	return map[string]any{"name": name, "message": msg, "status": status}
}

// v2ValidationError is the v2 agents API's 422 body.
func v2ValidationError(attribute string, code int, msg string) any {
	return map[string]any{"code": "VALIDATION_ERROR",
		"errors": []map[string]any{{"attribute": attribute, "code": code, "message": msg}}}
}

func errorBody(kyc bool, status int, msg string) any {
	if kyc {
		return kycError(status, msg)
	}
	return v2Error(http.StatusText(status), msg, status)
}

var errNotLoopback = errors.New("flipkyctest: callbacks go only to loopback addresses")

// onLoopback reports whether addr is a loopback address; the fake only ever
// sends callbacks there.
func onLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// after runs fn once d has passed, in the background, unless the server
// closes first; Close waits for it.
func (s *Server) after(d time.Duration, fn func()) {
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		if d > 0 {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
			case <-s.closed:
				return
			}
		}
		fn()
	}()
}

// callbackTimeout bounds one callback delivery.
const callbackTimeout = 10 * time.Second

// newCallbackClient returns the client that sends callbacks: it answers a
// redirect with the redirect itself (the token is never posted anywhere but
// the configured URL), dials only loopback addresses, needs no proxy, and
// keeps a few connections for reuse.
func newCallbackClient() (*http.Client, *http.Transport) {
	tr := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, Control: dialLoopbackOnly}).DialContext,
		ResponseHeaderTimeout: callbackTimeout,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       30 * time.Second,
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       callbackTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, tr
}

// dialLoopbackOnly refuses to connect to a resolved address off loopback,
// whatever the host name said.
func dialLoopbackOnly(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil || !onLoopback(host) {
		return errNotLoopback
	}
	return nil
}

// SentCallback is one callback the fake sent, or would have sent. It prints
// and marshals to JSON with the agent's name masked; Event holds it as sent.
type SentCallback struct {
	// Event is the callback's data.
	Event flipkyc.Event
	// Status is the receiver's HTTP status, or 0 when the delivery failed
	// (Err says why) or no callback URL was set. Flip does not send a
	// callback twice.
	Status int
	// Err is why the delivery failed, nil when it succeeded or when no
	// callback URL was set.
	Err error
}

// Callbacks returns the callbacks sent so far, oldest first. Without
// WithCallbacks it still lists each event the fake would have sent, with
// Status 0 and a nil Err.
func (s *Server) Callbacks() []SentCallback {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SentCallback(nil), s.callbacks...)
}

// sendCallback delivers ev once to the configured URL and records it.
func (s *Server) sendCallback(ev flipkyc.Event) {
	sent := SentCallback{Event: ev}
	if s.callbackURL != "" {
		req, err := NewCallbackRequest(context.Background(), s.callbackURL, ev, s.callbackToken)
		if err == nil && !onLoopback(req.URL.Hostname()) {
			err = errNotLoopback
		}
		if err == nil {
			var resp *http.Response
			if resp, err = s.callbackClient.Do(req); err == nil {
				sent.Status = resp.StatusCode
				// Reading the (small) reply to its end lets the
				// connection be reused.
				_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
				_ = resp.Body.Close()
			}
		}
		sent.Err = err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.callbacks = append(s.callbacks, sent)
}
