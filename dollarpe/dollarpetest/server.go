// Package dollarpetest runs a fake DollarPe KYC API in-process, on
// loopback, for tests and examples, the way net/http/httptest runs a
// server.
//
// The fake checks every request as DollarPe documents it: the X-API-KEY,
// the X-TIMESTAMP (integer Unix seconds, as dollarpe.ParseUnixSeconds
// reads them, within 300 s of its clock) and the X-SIGNATURE over
// apiKey|timestamp|canonical(body) ("{}" for a GET). It keeps customers,
// enforces unique e-mail, phone and client reference id, runs the status
// machine (UNVERIFIED → PROCESSING → VERIFIED | FAILED), allows 3 KYC
// updates per customer (update-document-info answers status UNVERIFIED, as
// DollarPe's page shows, and leaves the customer UNVERIFIED with its KYC
// data kept until SetStatus moves it on; the other updates move it to
// PROCESSING), serves the sandbox's mock-status call ({customer_id,
// kyc_status}) with its allowed transitions, answers in DollarPe's envelopes (the 500 one
// included), sends signed webhooks to a loopback URL, records what it
// received and can fail or drop the next requests of a route.
//
//	srv := dollarpetest.NewServer(t)
//	client, err := srv.Client()
package dollarpetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc/dollarpe"
)

// Default credentials of the fake.
const (
	DefaultAPIKey = "dollarpetest-api-key"    // the API key the fake accepts; see WithCredentials
	DefaultSecret = "dollarpetest-api-secret" // the secret it verifies signatures with
)

// DefaultUpdateLimit is how many KYC updates the fake allows per customer,
// as DollarPe does.
const DefaultUpdateLimit = 3

// Route names one endpoint of the fake, "METHOD /path" with the path under
// /cms/api/v1 and {id} for the customer id.
type Route string

// The routes of the fake.
const (
	RouteCreateCustomer       Route = "POST /customer/create"             // dollarpe.Client.CreateCustomer
	RouteGetCustomer          Route = "GET /customer/{id}"                // dollarpe.Client.GetCustomer
	RouteKYCConfiguration     Route = "GET /kyc/configuration/{id}"       // dollarpe.Client.GetKYCConfiguration
	RouteAddKYCData           Route = "POST /kyc/add-kyc-data"            // dollarpe.Client.AddKYCData
	RouteUpdateDocumentInfo   Route = "PATCH /kyc/update-document-info"   // dollarpe.Client.UpdateDocumentInfo
	RouteUpdateTaxInfo        Route = "PATCH /kyc/update-tax-info"        // dollarpe.Client.UpdateTaxInfo
	RouteUpdateAdditionalInfo Route = "PATCH /kyc/update-additional-info" // dollarpe.Client.UpdateAdditionalInfo
	RouteUpdateSelfieInfo     Route = "PATCH /kyc/update-selfie-info"     // dollarpe.Client.UpdateSelfieInfo
	RouteResetKYC             Route = "POST /kyc/reset-kyc"               // dollarpe.Client.ResetKYC
	RouteMockKYCStatus        Route = "PATCH /kyc/mock-kyc-status"        // dollarpe.Client.MockKYCStatus
)

// Option configures a Server.
type Option func(*Server)

// WithCredentials makes the fake accept key and secret instead of the
// defaults.
func WithCredentials(key, secret string) Option {
	return func(s *Server) { s.apiKey, s.secret = key, secret }
}

// WithProduction makes the fake behave as production: it does not serve
// the mock-status call (404), and Client builds production clients.
func WithProduction() Option { return func(s *Server) { s.production = true } }

// WithClock sets the fake's clock, used to check X-TIMESTAMP and to stamp
// webhooks.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithTolerance sets how far X-TIMESTAMP may be from the fake's clock
// (default 300 s).
func WithTolerance(d time.Duration) Option { return func(s *Server) { s.tolerance = d } }

// WithWebhookURL registers the URL the fake sends webhooks to. Only
// loopback URLs (localhost, 127.0.0.0/8, ::1) are accepted; NewServer
// fails the test otherwise.
func WithWebhookURL(u string) Option { return func(s *Server) { s.webhookURL = u } }

// WithUpdateLimit sets how many KYC updates a customer may have (default 3).
func WithUpdateLimit(n int) Option { return func(s *Server) { s.updateLimit = n } }

// Request is one request the fake received.
type Request struct {
	// Route is the endpoint, or "METHOD path" for an unknown one.
	Route Route
	// Method and Path are the request's; Path includes /cms/api/v1.
	Method, Path string
	// Header is the request's header as received.
	Header http.Header
	// Body is the body exactly as received.
	Body []byte
	// Status is what the fake answered; 0 when it dropped the connection.
	Status int
}

// Delivery is one webhook the fake sent.
type Delivery struct {
	// Body is the JSON sent.
	Body []byte
	// Header holds X-TIMESTAMP and X-SIGNATURE as sent.
	Header http.Header
	// Status is the receiver's reply status; 0 when it failed.
	Status int
	// Err is the transport's error, if any.
	Err error
}

type fault struct {
	status  int
	drop    bool
	applied bool
}

type customer struct {
	id, fullName, email, phone, country, clientRef string
	status                                         dollarpe.Status
	reason                                         dollarpe.FailureReason
	hasKYC                                         bool
	documentType, documentNumber, taxNumber        string
	updates                                        int
}

// Server is a fake DollarPe. Its methods are safe for concurrent use.
type Server struct {
	apiKey, secret string
	production     bool
	now            func() time.Time
	tolerance      time.Duration
	webhookURL     string
	updateLimit    int

	srv        *httptest.Server
	hookClient *http.Client

	// Webhooks wait in hookQueue and are sent one after another, in the
	// order of the changes that caused them, by one goroutine at a time
	// (hookBusy); Close stops it and waits for it (hookWG).
	hookMu     sync.Mutex
	hookCond   *sync.Cond // on hookMu: a webhook left the queue
	hookQueue  []*hookJob
	hookBusy   bool
	hookClosed bool
	hookCtx    context.Context
	hookStop   context.CancelFunc
	hookWG     sync.WaitGroup

	mu         sync.Mutex
	customers  map[string]*customer
	order      []string
	faults     map[Route][]fault
	requests   []Request
	deliveries []Delivery
	nextID     int
}

// NewServer starts a fake DollarPe on loopback. When tb is not nil the
// server is closed when the test ends, and a bad option fails the test;
// otherwise call Close, and a bad option panics.
func NewServer(tb testing.TB, opts ...Option) *Server {
	s := &Server{apiKey: DefaultAPIKey, secret: DefaultSecret, now: time.Now, tolerance: 300 * time.Second,
		updateLimit: DefaultUpdateLimit, customers: map[string]*customer{}, faults: map[Route][]fault{}}
	for _, opt := range opts {
		opt(s)
	}
	if s.webhookURL != "" {
		if err := checkLoopback(s.webhookURL); err != nil {
			if tb == nil {
				panic(err)
			}
			tb.Fatalf("dollarpetest: %v", err)
		}
	}
	s.hookClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: (&net.Dialer{Control: func(_, address string, _ syscall.RawConn) error {
			host, _, _ := net.SplitHostPort(address)
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return fmt.Errorf("dollarpetest: webhooks go to loopback only, not %s", host)
			}
			return nil
		}}).DialContext,
	}}
	s.hookCond = sync.NewCond(&s.hookMu)
	s.hookCtx, s.hookStop = context.WithCancel(context.Background())
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	if tb != nil {
		tb.Cleanup(s.Close)
	}
	return s
}

func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return errors.New("webhook URL is not an http(s) URL")
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return errors.New("webhook URL is not on loopback")
}

// Close stops the server, ends the webhook under way (if any) and drops
// those not sent yet. It may be called more than once.
func (s *Server) Close() {
	s.srv.Close()
	s.hookMu.Lock()
	s.hookClosed = true
	s.hookMu.Unlock()
	s.hookStop()
	s.hookWG.Wait()
	if t, ok := s.hookClient.Transport.(*http.Transport); ok {
		t.CloseIdleConnections()
	}
}

// URL returns the fake's base URL, for dollarpe.WithBaseURL.
func (s *Server) URL() string { return s.srv.URL }

// APIKey returns the API key the fake accepts.
func (s *Server) APIKey() string { return s.apiKey }

// Secret returns the secret the fake verifies signatures with.
func (s *Server) Secret() string { return s.secret }

// Format prints the server's URL, never its credentials.
func (s *Server) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "dollarpetest.Server{URL: %s, key: [redacted], secret: [redacted]}", s.srv.URL)
}

// ClientOptions returns the options that point a dollarpe.Client at the
// fake: its base URL, its *http.Client, and the production environment
// under WithProduction.
func (s *Server) ClientOptions() []dollarpe.Option {
	opts := []dollarpe.Option{dollarpe.WithBaseURL(s.srv.URL), dollarpe.WithHTTPClient(s.srv.Client())}
	if s.production {
		opts = append(opts, dollarpe.WithEnvironment(dollarpe.Production))
	}
	return opts
}

// Client returns a client of the fake with its credentials; extra options
// are applied after ClientOptions.
func (s *Server) Client(extra ...dollarpe.Option) (*dollarpe.Client, error) {
	return dollarpe.New(s.apiKey, s.secret, append(s.ClientOptions(), extra...)...)
}

// Requests returns the requests received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// RequestsTo returns the requests received so far for one route.
func (s *Server) RequestsTo(r Route) []Request {
	var out []Request
	for _, req := range s.Requests() {
		if req.Route == r {
			out = append(out, req)
		}
	}
	return out
}

// Deliveries returns the webhooks sent so far, oldest first. A webhook of
// MockKYCStatus is sent after its reply: see WaitForWebhooks.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}

// FailNext makes the next n requests of route fail with status before the
// fake looks at them: nothing takes effect. A 500 uses DollarPe's 500
// envelope ({"success":false,…,"errors":"…"}), a 429 carries Retry-After: 1.
func (s *Server) FailNext(route Route, n, status int) { s.addFaults(route, n, fault{status: status}) }

// DropNext makes the next n requests of route lose their connection before
// the fake looks at them: nothing takes effect.
func (s *Server) DropNext(route Route, n int) { s.addFaults(route, n, fault{drop: true}) }

// FailNextAfterApplying makes the next n requests of route take effect and
// then answer status instead of their reply: the case where a retry would
// repeat the effect. A webhook the change causes is still sent.
func (s *Server) FailNextAfterApplying(route Route, n, status int) {
	s.addFaults(route, n, fault{status: status, applied: true})
}

// DropNextAfterApplying makes the next n requests of route take effect and
// then lose their connection. A webhook the change causes is still sent.
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

// Customer returns the fake's view of a customer.
func (s *Server) Customer(id string) (dollarpe.Customer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.customers[id]
	if !ok {
		return dollarpe.Customer{}, false
	}
	return c.view(), true
}

// UpdatesUsed returns how many KYC updates a customer has had.
func (s *Server) UpdatesUsed(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.customers[id]; ok {
		return c.updates
	}
	return 0
}

// SetStatus moves a customer to status with reason, as DollarPe's review
// does, without the mock-status rules, and sends the webhook for VERIFIED
// and FAILED (after those already waiting) before it returns.
func (s *Server) SetStatus(ctx context.Context, id string, status dollarpe.Status, reason dollarpe.FailureReason) error {
	s.mu.Lock()
	c, ok := s.customers[id]
	if !ok {
		s.mu.Unlock()
		return errors.New("dollarpetest: no such customer")
	}
	c.status, c.reason = status, reason
	if status != dollarpe.StatusFailed {
		c.reason = ""
	}
	job := s.queueWebhook(ctx, id, status, reason) // under s.mu: in the order of the changes
	s.mu.Unlock()
	if job == nil {
		return nil
	}
	close(job.ready)
	select {
	case err := <-job.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// hookJob is a CUSTOMER webhook waiting to be sent.
type hookJob struct {
	ctx    context.Context
	id     string
	status dollarpe.Status
	reason dollarpe.FailureReason
	ready  chan struct{} // closed once the reply of the change that caused it is written
	done   chan error    // receives the outcome; buffered
}

// queueWebhook queues the CUSTOMER webhook of a final status, when a URL
// is set; nil when there is none to send. It is sent once job.ready is
// closed, after every webhook queued before it.
func (s *Server) queueWebhook(ctx context.Context, id string, status dollarpe.Status, reason dollarpe.FailureReason) *hookJob {
	if s.webhookURL == "" || !status.Final() {
		return nil
	}
	job := &hookJob{ctx: ctx, id: id, status: status, reason: reason,
		ready: make(chan struct{}), done: make(chan error, 1)}
	s.hookMu.Lock()
	defer s.hookMu.Unlock()
	if s.hookClosed {
		job.done <- errors.New("dollarpetest: server closed")
		return job
	}
	s.hookQueue = append(s.hookQueue, job)
	if !s.hookBusy {
		s.hookBusy = true
		s.hookWG.Add(1)
		go s.sendQueued()
	}
	return job
}

// sendQueued sends the queued webhooks in order until none is left.
func (s *Server) sendQueued() {
	defer s.hookWG.Done()
	for {
		s.hookMu.Lock()
		if len(s.hookQueue) == 0 {
			s.hookBusy = false
			s.hookCond.Broadcast()
			s.hookMu.Unlock()
			return
		}
		job := s.hookQueue[0]
		s.hookMu.Unlock()

		var err error
		select {
		case <-job.ready:
			ctx, cancel := context.WithCancel(job.ctx)
			stop := context.AfterFunc(s.hookCtx, cancel)
			err = s.notify(ctx, job.id, job.status, job.reason)
			stop()
			cancel()
		case <-s.hookCtx.Done():
			err = s.hookCtx.Err()
		}
		job.done <- err

		s.hookMu.Lock()
		s.hookQueue = s.hookQueue[1:]
		s.hookCond.Broadcast()
		s.hookMu.Unlock()
	}
}

// WaitForWebhooks waits until every webhook queued so far (by
// MockKYCStatus, which answers before its webhook is sent, or SetStatus)
// has been sent and its reply read, or dropped by Close.
func (s *Server) WaitForWebhooks() {
	s.hookMu.Lock()
	defer s.hookMu.Unlock()
	for len(s.hookQueue) > 0 || s.hookBusy {
		s.hookCond.Wait()
	}
}

// SendWebhook sends body to the registered webhook URL, signed with the
// fake's key and secret at the fake's current time, and returns the
// receiver's status.
func (s *Server) SendWebhook(ctx context.Context, body []byte) (int, error) {
	if s.webhookURL == "" {
		return 0, errors.New("dollarpetest: no webhook URL registered (WithWebhookURL)")
	}
	canon, err := dollarpe.Canonicalize(body)
	if err != nil {
		return 0, err
	}
	ts := s.now().Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.webhookURL, bytes.NewReader(canon))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-TIMESTAMP", strconv.FormatInt(ts, 10))
	req.Header.Set("X-SIGNATURE", dollarpe.Sign(s.apiKey, s.secret, ts, canon))
	d := Delivery{Body: canon, Header: req.Header.Clone()}
	resp, err := s.hookClient.Do(req)
	if err == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
		d.Status = resp.StatusCode
	}
	d.Err = err
	s.mu.Lock()
	s.deliveries = append(s.deliveries, d)
	s.mu.Unlock()
	return d.Status, err
}

// notify sends the CUSTOMER webhook of a final status.
func (s *Server) notify(ctx context.Context, id string, status dollarpe.Status, reason dollarpe.FailureReason) error {
	md := map[string]any{}
	if reason != "" {
		md["failure_reason"] = reason
	}
	body, _ := json.Marshal(map[string]any{"type": "CUSTOMER", "id": id, "event": status,
		"timestamp": s.now().UTC().Format(time.RFC3339), "metadata": md})
	statusCode, err := s.SendWebhook(ctx, body)
	if err == nil && (statusCode < 200 || statusCode > 299) {
		err = fmt.Errorf("dollarpetest: webhook receiver answered %d", statusCode)
	}
	return err
}

func (c *customer) view() dollarpe.Customer {
	return dollarpe.Customer{ID: c.id, FullName: c.fullName, Email: c.email, Phone: c.phone, CountryCode: c.country,
		ClientReferenceID: c.clientRef, Status: c.status, FailureReason: c.reason, DocumentType: dollarpe.DocumentType(c.documentType)}
}

func (c *customer) data() map[string]any {
	var reason any
	if c.reason != "" {
		reason = c.reason
	}
	var docType any
	if c.documentType != "" {
		docType = c.documentType
	}
	var ref any
	if c.clientRef != "" {
		ref = c.clientRef
	}
	return map[string]any{"id": c.id, "full_name": c.fullName, "email": c.email, "phone": c.phone,
		"alpha_3_country_code": c.country, "client_reference_id": ref, "status": c.status,
		"failure_reason": reason, "document_type": docType}
}

// newID returns a fresh customer id, a version 4 UUID made from a counter
// so that runs are repeatable.
func (s *Server) newID() string {
	s.nextID++
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", 0xd011a7e0+s.nextID, s.nextID)
}

// Format prints the request without its header and body, which carry the
// signature and personal data; read the fields for assertions.
func (r Request) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "dollarpetest.Request{Route: %s, Path: %s, Status: %d, Body: %d bytes}", r.Route, r.Path, r.Status, len(r.Body))
}

// Format prints the delivery without its header and body.
func (d Delivery) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "dollarpetest.Delivery{Status: %d, Body: %d bytes, Err: %v}", d.Status, len(d.Body), d.Err)
}
