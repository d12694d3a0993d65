// Package katsutest runs a fake Katsu Banking KYC API in-process, on
// loopback, for tests and examples, the way net/http/httptest runs a server.
//
// The fake serves /api/v{version}/Kyc/update, /Kyc/approve, /Kyc/{id}/get
// and /Kyc/get-all the way Katsu documents them: it checks the Bearer
// token and the version in the path, validates input as the real API is
// expected to (400 replies in Katsu's envelope), answers in English or
// French by Accept-Language, keeps KYC records (seed them with AddRecord),
// runs the approve flow, filters, orders and pages lists, records what it
// received, and can fail or drop the next requests of a route.
//
//	srv := katsutest.NewServer(t)
//	rec := srv.AddRecord(katsu.Record{Name: "Ada Obi", Tier: katsu.Tier1})
//	client, err := srv.NewClient()
//
// Where Katsu's documentation is silent, the fake makes a plausible choice
// and says so: list replies carry the pagination beside data (pageNumber,
// pageSize, totalPages, totalRecords), tiers are written as strings such as
// "1", an unknown record is a 404, approving an approved record is a 400,
// and Orderby 1 to 4 sort by name, tier, approval time and id.
package katsutest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc/katsu"
)

// DefaultToken is the Bearer token the fake accepts unless WithToken says
// otherwise.
const DefaultToken = "katsutest-token"

// Route names one endpoint of the fake, "METHOD /path" with the path after
// /api/v{version}, for fault injection and for reading recorded requests.
type Route string

// The routes of the fake, one for each endpoint of Katsu's KYC API.
const (
	RouteUpdate  Route = "POST /Kyc/update"
	RouteApprove Route = "POST /Kyc/approve"
	RouteGet     Route = "GET /Kyc/{id}/get"
	RouteList    Route = "GET /Kyc/get-all"
)

// Option configures a fake, for NewServer.
type Option func(*Server)

// WithToken sets the Bearer token the fake accepts (DefaultToken
// otherwise); any other Authorization is answered 401.
func WithToken(tok string) Option { return func(s *Server) { s.token = tok } }

// WithVersion sets the API version the fake serves ("1" otherwise); a
// request for another version is answered 400, as ASP.NET API versioning
// does.
func WithVersion(v string) Option { return func(s *Server) { s.version = v } }

// WithClock makes now give the time the fake stamps approvals with (the
// current time otherwise).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithDefaultPageSize sets the page size of a list request that gives none
// (10 otherwise). It must be at least 1: NewServer panics otherwise, as
// httptest does on misuse.
func WithDefaultPageSize(n int) Option { return func(s *Server) { s.defaultPageSize = n } }

// Server is a fake Katsu. It prints (under every fmt verb) without its
// token.
type Server struct {
	srv             *httptest.Server
	token           string
	version         string
	now             func() time.Time
	defaultPageSize int

	mu       sync.Mutex
	nextID   int
	records  []*katsu.Record
	requests []Request
	faults   map[Route][]fault
}

// fault is one injected failure.
type fault struct {
	status int  // the status to answer with; 0 with drop
	drop   bool // close the connection without an answer
	apply  bool // handle the request first, then fail
}

// NewServer starts a fake Katsu on loopback, configured by opts. When tb is
// not nil the server is closed when the test ends; otherwise call Close.
// The fake starts with no records. It panics on an invalid option.
func NewServer(tb testing.TB, opts ...Option) *Server {
	s := &Server{token: DefaultToken, version: katsu.DefaultVersion, defaultPageSize: 10,
		now: func() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }, faults: map[Route][]fault{}}
	for _, opt := range opts {
		if opt != nil {
			opt(s)
		}
	}
	if s.defaultPageSize < 1 {
		panic(fmt.Sprintf("katsutest: WithDefaultPageSize(%d): the page size must be at least 1", s.defaultPageSize))
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	if tb != nil {
		tb.Cleanup(s.Close)
	}
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// URL returns the fake's base URL, for katsu.WithBaseURL.
func (s *Server) URL() string { return s.srv.URL }

// Token returns the Bearer token the fake accepts.
func (s *Server) Token() string { return s.token }

// Format prints the server's URL and version, never its token.
func (s *Server) Format(f fmt.State, _ rune) {
	_, _ = fmt.Fprintf(f, "katsutest.Server{URL: %s, version: %s, token: [redacted]}", s.srv.URL, s.version)
}

// ClientOptions returns the options that point a katsu.Client at the fake:
// its base URL, its version and its HTTP client.
func (s *Server) ClientOptions() []katsu.Option {
	return []katsu.Option{katsu.WithBaseURL(s.srv.URL), katsu.WithVersion(s.version), katsu.WithHTTPClient(s.srv.Client())}
}

// NewClient returns a client of the fake with its token; extra options are
// applied after ClientOptions.
func (s *Server) NewClient(extra ...katsu.Option) (*katsu.Client, error) {
	return katsu.New(s.token, append(s.ClientOptions(), extra...)...)
}

// AddRecord stores r as a KYC record and returns it as stored. A record
// without ID gets the next of the fake's ids,
// 00000000-0000-4000-8000-000000000001 and on; a record with the ID of a
// stored one replaces it. Name and BVN are kept as given.
func (s *Server) AddRecord(r katsu.Record) katsu.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.ID == "" {
		s.nextID++
		r.ID = fmt.Sprintf("00000000-0000-4000-8000-%012d", s.nextID)
	}
	if r.Status == "" {
		r.Status = statusOf(r)
	}
	for i, old := range s.records {
		if strings.EqualFold(old.ID, r.ID) {
			s.records[i] = &r
			return r
		}
	}
	s.records = append(s.records, &r)
	return r
}

// Record returns the fake's current copy of the record with id.
func (s *Server) Record(id string) (katsu.Record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.find(id); r != nil {
		return *r, true
	}
	return katsu.Record{}, false
}

// Records returns copies of all records, in the order they were added.
func (s *Server) Records() katsu.Records {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(katsu.Records, len(s.records))
	for i, r := range s.records {
		out[i] = *r
	}
	return out
}

// find returns the stored record with id, or nil; s.mu is held.
func (s *Server) find(id string) *katsu.Record {
	for _, r := range s.records {
		if strings.EqualFold(r.ID, id) {
			return r
		}
	}
	return nil
}

// statusOf is the status the fake gives a record.
func statusOf(r katsu.Record) string {
	if r.Approved {
		return "Approved"
	}
	return "Pending"
}

// FailNext makes the next n requests of route fail with status (and an
// envelope saying succeeded: false) before the fake looks at them: nothing
// takes effect.
func (s *Server) FailNext(route Route, n, status int) { s.addFaults(route, n, fault{status: status}) }

// DropNext makes the fake read the next n requests of route whole and then
// close the connection without an answer, before handling them: nothing
// takes effect, but the client cannot know that.
func (s *Server) DropNext(route Route, n int) { s.addFaults(route, n, fault{drop: true}) }

// FailNextAfterApplying makes the next n requests of route take effect and
// then answer status instead of the result, as a gateway that lost Katsu's
// answer does: the way to test code against an unknown outcome.
func (s *Server) FailNextAfterApplying(route Route, n, status int) {
	s.addFaults(route, n, fault{status: status, apply: true})
}

func (s *Server) addFaults(route Route, n int, f fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[route] = append(s.faults[route], f)
	}
}

// Request is one request the fake received. It prints without its body,
// which may hold a BVN.
type Request struct {
	// Route is the endpoint, or "METHOD path" for a path the fake does not
	// serve.
	Route Route
	// Method, Path and RawQuery are the request's.
	Method, Path, RawQuery string
	// Language is the Accept-Language header as received.
	Language string
	// Authorized reports whether the request carried the right token.
	Authorized bool
	// Body is the request body as received.
	Body []byte
	// Status is the status the fake answered; 0 for a dropped request.
	Status int
}

// Format prints the request without its body.
func (r Request) Format(f fmt.State, _ rune) {
	_, _ = fmt.Fprintf(f, "katsutest.Request{Route: %s, Language: %q, Authorized: %t, Body: %d bytes, Status: %d}",
		r.Route, r.Language, r.Authorized, len(r.Body), r.Status)
}

// Requests returns the requests received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// RequestsTo returns the requests received so far for route, oldest first.
func (s *Server) RequestsTo(route Route) []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Route == route {
			out = append(out, r)
		}
	}
	return out
}

// exchange is one request being handled.
type exchange struct {
	r    *http.Request
	body []byte
	fr   bool // answer in French
}

// serve handles every request.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	x := &exchange{r: r, body: body, fr: wantsFrench(r.Header.Get("Accept-Language"))}
	rec := Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Language: r.Header.Get("Accept-Language"),
		Authorized: r.Header.Get("Authorization") == "Bearer "+s.token, Body: body}
	route, id, version, ok := routeOf(r.Method, r.URL.Path)
	rec.Route = route
	status, reply := s.handle(x, rec, route, id, version, ok)
	rec.Status = status
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
	if status == 0 {
		drop(w) // recorded first, so a client that sees the drop finds it recorded
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	w.WriteHeader(status)
	if reply != nil {
		_ = json.NewEncoder(w).Encode(reply)
	}
}

// handle decides the answer to one request: its status (0 when dropped)
// and its body (nil for none).
func (s *Server) handle(x *exchange, rec Request, route Route, id, version string, known bool) (int, any) {
	if !known {
		return http.StatusNotFound, nil
	}
	if !rec.Authorized {
		return http.StatusUnauthorized, nil
	}
	if version != s.version {
		return http.StatusBadRequest, failure(x.msg(msgVersion), x.msg(msgVersion)+" ("+version+")")
	}
	s.mu.Lock()
	var f *fault
	if q := s.faults[route]; len(q) > 0 {
		f, s.faults[route] = &q[0], q[1:]
	}
	s.mu.Unlock()
	if f != nil && !f.apply {
		if f.drop {
			return 0, nil
		}
		return f.status, failure(x.msg(msgInjected))
	}
	var status int
	var reply any
	switch route {
	case RouteUpdate:
		status, reply = s.update(x)
	case RouteApprove:
		status, reply = s.approve(x)
	case RouteGet:
		status, reply = s.get(x, id)
	case RouteList:
		status, reply = s.list(x)
	}
	if f != nil {
		return f.status, failure(x.msg(msgInjected))
	}
	return status, reply
}

// drop closes the connection of w without an answer.
func drop(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close()
	}
}

// routeOf splits a path /api/v{version}/Kyc/… into its route, record id and
// version; ok is false for a path the fake does not serve.
func routeOf(method, path string) (route Route, id, version string, ok bool) {
	rest, found := strings.CutPrefix(path, "/api/v")
	if !found {
		return Route(method + " " + path), "", "", false
	}
	version, rest, found = strings.Cut(rest, "/")
	if !found || version == "" {
		return Route(method + " " + path), "", "", false
	}
	parts := strings.Split(rest, "/")
	switch {
	case method == http.MethodPost && len(parts) == 2 && parts[0] == "Kyc" && parts[1] == "update":
		return RouteUpdate, "", version, true
	case method == http.MethodPost && len(parts) == 2 && parts[0] == "Kyc" && parts[1] == "approve":
		return RouteApprove, "", version, true
	case method == http.MethodGet && len(parts) == 2 && parts[0] == "Kyc" && parts[1] == "get-all":
		return RouteList, "", version, true
	case method == http.MethodGet && len(parts) == 3 && parts[0] == "Kyc" && parts[2] == "get":
		return RouteGet, parts[1], version, true
	}
	return Route(method + " " + path), "", version, false
}

// wantsFrench reports whether an Accept-Language header asks for French
// before English.
func wantsFrench(h string) bool {
	for _, part := range strings.Split(h, ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.Split(part, ";")[0]))
		switch {
		case tag == "fr" || strings.HasPrefix(tag, "fr-"):
			return true
		case tag == "en" || strings.HasPrefix(tag, "en-"):
			return false
		}
	}
	return false
}

// envelope is Katsu's reply envelope.
type envelope struct {
	Succeeded bool     `json:"succeeded"`
	Message   string   `json:"message"`
	Errors    []string `json:"errors"`
	Data      any      `json:"data"`
}

// pagedEnvelope is the envelope of a list reply, with the pagination beside
// data.
type pagedEnvelope struct {
	envelope
	PageNumber   int `json:"pageNumber"`
	PageSize     int `json:"pageSize"`
	TotalPages   int `json:"totalPages"`
	TotalRecords int `json:"totalRecords"`
}

// failure returns a succeeded: false envelope.
func failure(message string, errs ...string) envelope {
	if errs == nil {
		errs = []string{}
	}
	return envelope{Message: message, Errors: errs}
}

// success returns a succeeded: true envelope around data.
func success(message string, data any) envelope {
	return envelope{Succeeded: true, Message: message, Errors: []string{}, Data: data}
}

// wireRecord is a record as the fake writes it: the tier as a string, and
// approvedOn null until approval.
type wireRecord struct {
	ID                string  `json:"id"`
	Tier              string  `json:"tier"`
	Name              string  `json:"name"`
	TenantID          string  `json:"tenantId"`
	OwnerID           string  `json:"ownerId"`
	Approved          bool    `json:"approved"`
	IsTenant          bool    `json:"isTenant"`
	IsAddressVerified bool    `json:"isAddressVerified"`
	ApprovedOn        *string `json:"approvedOn"`
	BVN               string  `json:"bvn"`
	Status            string  `json:"status"`
}

// toWire returns r as the fake writes it.
func toWire(r katsu.Record) wireRecord {
	w := wireRecord{ID: r.ID, Tier: strconv.Itoa(int(r.Tier)), Name: r.Name, TenantID: r.TenantID, OwnerID: r.OwnerID,
		Approved: r.Approved, IsTenant: r.IsTenant, IsAddressVerified: r.IsAddressVerified, BVN: r.BVN, Status: r.Status}
	if r.TierText != "" {
		w.Tier = r.TierText
	}
	if !r.ApprovedOn.IsZero() {
		t := r.ApprovedOn.UTC().Format("2006-01-02T15:04:05.000Z")
		w.ApprovedOn = &t
	}
	return w
}
