package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// fakePrefix is where the fake shows its state; Flip has no such paths.
const fakePrefix = "/_fake"

var fakeCommand = &command{
	path:    "fake",
	summary: "run a fake Flip (both APIs, KYC state machine, callbacks) on --addr",
	help: `Runs flipkyctest's fake Flip as a server: both API families under Flip's
sandbox paths, with Flip's checks (Basic auth, Request-ID, field rules,
duplicates, image rules), the KYC state machine and its callbacks, sent once
to --callback-url (loopback addresses only).

On start it prints one line of JSON: url, agents_url, kyc_url, secret_key,
callback_url, callback_token and state_url. Point a client at it with
FLIP_API_BASE_URL=agents_url, FLIP_KYC_BASE_URL=kyc_url and
FLIP_SECRET_KEY=secret_key (the fake's own key, ` + flipkyctest.DefaultSecretKey + `;
it never reads FLIP_SECRET_KEY, so a real key is never printed). The callback
token is --callback-token-file's, else ` + envCallbackToken + `, else ` + flipkyctest.DefaultCallbackToken + `
(--callback-token still works, but puts the token in the process list); a
token given so is a secret: the start line shows it [redacted].

Its state, under a path Flip does not have:
  GET /_fake/agents     every agent: KYC status, rejection, and counts of create
                        requests for its identity number, image uploads,
                        document uploads, submissions, repairs and callbacks
  GET /_fake/requests   every request received, personal data masked and the
                        Authorization header redacted
  GET /_fake/callbacks  every callback sent and the receiver's status

The default reviewer approves everyone except identity numbers ending in 99NN,
rejected with code NN (10-33) at the first review and approved after a fix.
--fail makes the next request of a route fail once, to try a client against a
lost reply: submit:503 answers 503 before Flip sees the submission (the SDK
reads the agent and sends it again); submit:504:applied submits, then answers
504 (the SDK confirms it by reading).
Runs until interrupted (Ctrl-C, SIGTERM) and then stops cleanly.`,
	examples: []string{
		"flipkyc fake --addr 127.0.0.1:8090 --callback-url http://127.0.0.1:8080/flip/kyc",
		"flipkyc fake --reviewer reject-once:14 --upload-check pass --latency 200ms --decision-delay 2s",
		"flipkyc fake --fail submit:503 --fail repair:504:applied",
	},
	noJSON: true,
	setup: func(fs *flag.FlagSet, e *env) func([]string) error {
		addr := fs.String("addr", "127.0.0.1:0", "address to serve on; :0 picks a free port")
		cbURL := fs.String("callback-url", "", "where to POST KYC callbacks (loopback only), such as the address of 'flipkyc listen'")
		cbToken := defineToken(fs, "callback-token")
		reviewer := fs.String("reviewer", "default", "KYC review outcome: default, approve, reject:CODE (every review) or reject-once:CODE (the first review; approved after a fix)")
		uploadCheck := fs.String("upload-check", "pass", "outcome of the identity and selfie upload check: pass or fail:CODE")
		latency := fs.Duration("latency", 0, "wait before answering each request, such as 200ms")
		delay := fs.Duration("decision-delay", 0, "wait before settling an upload check or a review, such as 2s")
		maxUploads := fs.Int("max-uploads", 5, "image uploads accepted per agent before Flip's code 4011")
		envFile := fs.String("env-file", "", "also write the fake's settings to this file as shell exports (owner-only), to source with '. FILE' instead of parsing the JSON line")
		var faults []fakeFault
		fs.Func("fail", "make the next request of a route fail, once per --fail: ROUTE:STATUS (a gateway's answer before Flip sees it), "+
			"ROUTE:drop (connection closed), either with :applied (Flip acts, then the reply is lost), such as submit:503 or submit:504:applied", func(v string) error {
			f, err := parseFakeFault(v)
			faults = append(faults, f)
			return err
		})
		return func(args []string) error {
			if err := needArgs(args); err != nil {
				return err
			}
			opts := []flipkyctest.Option{flipkyctest.WithMaxUploads(*maxUploads), flipkyctest.WithDecisionDelay(*delay)}
			r, err := parseReviewer(*reviewer)
			if err != nil {
				return err
			}
			c, err := parseUploadCheck(*uploadCheck)
			if err != nil {
				return err
			}
			opts = append(opts, flipkyctest.WithReviewer(r), flipkyctest.WithUploadCheck(c))
			switch {
			case *latency < 0 || *delay < 0:
				return usagef("--latency and --decision-delay cannot be negative")
			case *maxUploads < 1:
				return usagef("--max-uploads: want at least 1")
			}
			// The fake prints its own test token in its start line; a
			// token the user gave (the FLIP_CALLBACK_TOKEN of a shell that
			// also receives Flip's real callbacks, say) is a secret, printed
			// [redacted], and written only to --env-file (owner-only).
			token, found, err := e.callbackToken(cbToken)
			if err != nil {
				return err
			}
			if found {
				e.secrets.add(token)
			} else {
				token = flipkyctest.DefaultCallbackToken
			}
			if *cbURL != "" {
				u, err := checkURL("--callback-url", *cbURL)
				if err != nil {
					return err
				}
				if !loopback(u.Hostname()) {
					return usagef("--callback-url: the fake sends callbacks only to loopback addresses (127.0.0.1, ::1, localhost)")
				}
			}
			opts = append(opts, flipkyctest.WithCallbacks(*cbURL, token))
			if *envFile != "" {
				target, err := outputTarget("--env-file", *envFile, "")
				if err != nil {
					return err
				}
				*envFile = target
			}
			return e.fake(*addr, *latency, opts, *cbURL, faults, *envFile)
		}
	},
}

// fakeStart is the line the fake prints when it is ready.
type fakeStart struct {
	URL           string `json:"url"`
	AgentsURL     string `json:"agents_url"`
	KYCURL        string `json:"kyc_url"`
	SecretKey     string `json:"secret_key"`
	CallbackURL   string `json:"callback_url"`
	CallbackToken string `json:"callback_token"`
	StateURL      string `json:"state_url"`
}

// writeEnv writes the settings as shell exports: the variables that point
// the command and the SDK at the fake, and the token its callbacks carry.
func (s fakeStart) writeEnv(w io.Writer) error {
	quote := func(v string) string { return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'" }
	_, err := fmt.Fprintf(w, "# flipkyc fake at %s: '. FILE' points the command and the SDK at it\n"+
		"export %s=%s\nexport %s=%s\nexport %s=%s\nexport %s=%s\n",
		s.URL, flipkyc.EnvSecretKey, quote(s.SecretKey), flipkyc.EnvAPIBaseURL, quote(s.AgentsURL),
		flipkyc.EnvKYCBaseURL, quote(s.KYCURL), envCallbackToken, quote(s.CallbackToken))
	return err
}

// fake serves the fake until the context ends.
func (e *env) fake(addr string, latency time.Duration, opts []flipkyctest.Option, cbURL string, faults []fakeFault, envFile string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("cannot listen: %v", err)
	}
	var current atomic.Pointer[flipkyctest.Server]
	opts = append(opts, flipkyctest.WithListener(l), flipkyctest.WithMiddleware(func(next http.Handler) http.Handler {
		return stateHandler(&current, next)
	}))
	srv := flipkyctest.NewServer(nil, opts...)
	srv.SetLatency(latency)
	for _, f := range faults {
		f.apply(srv)
	}
	current.Store(srv)
	started := fakeStart{
		URL: srv.URL, AgentsURL: srv.AgentsURL, KYCURL: srv.KYCURL, SecretKey: srv.SecretKey(),
		CallbackURL: cbURL, CallbackToken: srv.CallbackToken(), StateURL: srv.URL + fakePrefix + "/",
	}
	if envFile != "" {
		if err := writeFileAtomically(envFile, started.writeEnv); err != nil {
			srv.Close()
			return fmt.Errorf("cannot write --env-file: %v", withoutPath(err))
		}
	}
	writeJSON(e.stdout, started)
	fmt.Fprintf(e.stderr, "flipkyc fake: fake Flip at %s; its state at %s/agents; Ctrl-C stops\n", srv.URL, srv.URL+fakePrefix)
	<-e.ctx.Done()
	srv.Close() // waits for the requests and callbacks under way
	return nil
}

// stateHandler serves the fake's state under /_fake/ and passes every other
// request to the fake.
func stateHandler(current *atomic.Pointer[flipkyctest.Server], fake http.Handler) http.Handler {
	mux := http.NewServeMux()
	serve := func(f func(*flipkyctest.Server) any) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			srv := current.Load()
			if srv == nil {
				http.Error(w, "starting", http.StatusServiceUnavailable)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			enc := json.NewEncoder(w)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(f(srv))
		}
	}
	mux.HandleFunc("GET "+fakePrefix+"/agents", serve(func(s *flipkyctest.Server) any { return fakeAgents(s) }))
	mux.HandleFunc("GET "+fakePrefix+"/requests", serve(func(s *flipkyctest.Server) any {
		return append([]flipkyctest.Request{}, s.Requests()...) // marshals masked
	}))
	mux.HandleFunc("GET "+fakePrefix+"/callbacks", serve(func(s *flipkyctest.Server) any {
		return append([]flipkyctest.SentCallback{}, s.Callbacks()...) // marshals masked
	}))
	mux.HandleFunc(fakePrefix+"/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "the fake's state: GET "+fakePrefix+"/agents, "+fakePrefix+"/requests or "+fakePrefix+"/callbacks", http.StatusNotFound)
	})
	mux.Handle("/", fake)
	return mux
}

// fakeAgent is one agent as /_fake/agents shows it: no personal data.
type fakeAgent struct {
	ID                 int64                 `json:"id"`
	KYCStatus          flipkyc.KYCStatus     `json:"kyc_status"`
	RejectedReasonCode flipkyc.RejectionCode `json:"rejected_reason_code"`
	RejectedReason     string                `json:"rejected_reason"`
	Status             flipkyc.AgentStatus   `json:"status"`
	CreatedAt          flipkyc.Timestamp     `json:"created_at"`
	// Creates counts the create requests that carried the agent's identity
	// number, refused duplicates included: more than one means a client
	// tried to register the same person again.
	Creates int `json:"creates"`
	// Uploads counts image upload requests (identity, selfie and the two
	// image repairs), refused ones included.
	Uploads   int `json:"uploads"`
	Documents int `json:"documents"`
	Submits   int `json:"submits"`
	Repairs   int `json:"repairs"`
	Callbacks int `json:"callbacks"`
}

// fakeAgents lists the fake's agents with their counts, read from its
// request and callback logs.
func fakeAgents(s *flipkyctest.Server) []fakeAgent {
	agents := s.Agents()
	out := make([]fakeAgent, len(agents))
	index := make(map[int64]*fakeAgent, len(agents))
	byIdentity := make(map[string][]*fakeAgent, len(agents))
	for i, a := range agents {
		out[i] = fakeAgent{ID: a.ID, KYCStatus: a.KYCStatus, RejectedReasonCode: a.RejectedReasonCode,
			RejectedReason: a.RejectedReason, Status: a.Status, CreatedAt: a.CreatedAt}
		index[a.ID] = &out[i]
		byIdentity[a.IdentityNumber] = append(byIdentity[a.IdentityNumber], &out[i])
	}
	for _, r := range s.Requests() {
		if r.Route == flipkyctest.RouteCreateAgent {
			for _, a := range byIdentity[r.Fields["identity_number"]] {
				a.Creates++
			}
			continue
		}
		id := pathAgentID(r.Path)
		if r.Route == flipkyctest.RouteDocuments {
			id, _ = strconv.ParseInt(r.Fields["user_id"], 10, 64)
		}
		a := index[id]
		if a == nil {
			continue
		}
		switch r.Route {
		case flipkyctest.RouteUploadImage:
			a.Uploads++
		case flipkyctest.RouteRepairPhoto, flipkyctest.RouteRepairSelfie:
			a.Uploads++
			a.Repairs++
		case flipkyctest.RouteRepairData:
			a.Repairs++
		case flipkyctest.RouteDocuments:
			a.Documents++
		case flipkyctest.RouteSubmit:
			a.Submits++
		}
	}
	for _, c := range s.Callbacks() {
		if a := index[c.Event.AgentID]; a != nil {
			a.Callbacks++
		}
	}
	return out
}

// pathAgentID reads the agent id of /…/agents/{id} and /…/users/{id}/….
func pathAgentID(path string) int64 {
	parts := strings.Split(path, "/")
	for i := 0; i+1 < len(parts); i++ {
		if parts[i] == "agents" || parts[i] == "users" {
			id, _ := strconv.ParseInt(parts[i+1], 10, 64)
			return id
		}
	}
	return 0
}

// parseReviewer reads --reviewer.
func parseReviewer(v string) (flipkyctest.Reviewer, error) {
	kind, arg, _ := strings.Cut(v, ":")
	switch kind {
	case "default":
		if arg == "" {
			return flipkyctest.DefaultReviewer, nil
		}
	case "approve":
		if arg == "" {
			return func(flipkyc.Agent, int) flipkyctest.Decision { return flipkyctest.Decision{} }, nil
		}
	case "reject", "reject-once":
		code, err := parseRejection("--reviewer", arg)
		if err != nil {
			return nil, err
		}
		once := kind == "reject-once"
		return func(_ flipkyc.Agent, review int) flipkyctest.Decision {
			if once && review > 1 {
				return flipkyctest.Decision{}
			}
			return flipkyctest.Decision{Code: code}
		}, nil
	}
	return nil, usagef("--reviewer: want default, approve, reject:CODE or reject-once:CODE")
}

// parseUploadCheck reads --upload-check.
func parseUploadCheck(v string) (flipkyctest.UploadCheck, error) {
	kind, arg, _ := strings.Cut(v, ":")
	switch {
	case kind == "pass" && arg == "":
		return func(flipkyc.Agent) flipkyctest.Decision { return flipkyctest.Decision{} }, nil
	case kind == "fail":
		code, err := parseRejection("--upload-check", arg)
		if err != nil {
			return nil, err
		}
		return func(flipkyc.Agent) flipkyctest.Decision { return flipkyctest.Decision{Code: code} }, nil
	}
	return nil, usagef("--upload-check: want pass or fail:CODE")
}

// parseRejection reads a documented rejection code: the fake plays Flip,
// which sends only those.
func parseRejection(flagName, v string) (flipkyc.RejectionCode, error) {
	n, err := strconv.Atoi(v)
	if err != nil || !flipkyc.RejectionCode(n).Known() {
		return 0, usagef("%s: want a documented rejection code, 10 to 33", flagName)
	}
	return flipkyc.RejectionCode(n), nil
}

// loopback reports whether host is a loopback address or localhost.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
