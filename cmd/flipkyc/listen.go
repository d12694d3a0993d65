package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/fleet"
)

var listenCommand = &command{
	path:    "listen",
	summary: "receive KYC callbacks, print one line each, optionally forward them",
	help: `Receives Flip's KYC callbacks on --addr, on any path, with the SDK's handler
(flipkyc.NewCallbackHandler): a missing token is answered 401, a wrong one
403. Prints one line per authentic callback: a table row, or JSON with --json
(Flip's field names; the agent's name is printed as [masked]). Refusals are
logged on stderr.

With --forward-to, each authentic callback is posted again to that URL, in
Flip's form (the data field as received, and the token), like
"stripe listen --forward-to". The sender gets 200 only when the forward was
answered 2xx, and 502 otherwise, so that nothing is lost silently.

With --db, each authentic callback is first stored in that onboarding run's
database (see 'flipkyc onboard'), deduplicated, in the same transaction that
schedules the agent's next step; Flip gets 200 only once it is stored. A
callback for an agent that run does not have (another run's) is stored and
answered 200 all the same, and a warning with its agent id goes to stderr:
give each run its own receiver, or let 'flipkyc onboard --listen' receive
its run's callbacks itself. A SQLite file that does not exist is made a new
run (a receiver may start before its run), and listen says so.

The callback token comes from ` + envCallbackToken + ` or --token-file FILE. --token
still works but is discouraged: every local user can read a flag in the
process list.

Runs until interrupted (Ctrl-C, SIGTERM).`,
	examples: []string{
		"export " + envCallbackToken + "=dev-token",
		"flipkyc listen --addr 127.0.0.1:8080 --forward-to http://127.0.0.1:3000/flip/kyc",
		"flipkyc listen --addr 127.0.0.1:8080 --db examples/fleet/agents.fleet.db",
	},
	setup: func(fs *flag.FlagSet, e *env) func([]string) error {
		addr := fs.String("addr", "127.0.0.1:8080", "address to receive callbacks on; :0 picks a free port")
		token := defineToken(fs, "token")
		forward := fs.String("forward-to", "", "URL to post each authentic callback to, in Flip's form")
		db := fs.String("db", "", "store each callback in this onboarding run's database (a SQLite file or postgres://…) before answering 200, and advance the run")
		return func(args []string) error {
			if err := needArgs(args); err != nil {
				return err
			}
			tok, err := e.requireToken(token)
			if err != nil {
				return err
			}
			var fwd *url.URL
			if *forward != "" {
				if fwd, err = checkURL("--forward-to", *forward); err != nil {
					return err
				}
			}
			var store *fleet.Fleet
			if *db != "" {
				if err := e.useDSN(*db); err != nil {
					return err
				}
				// A receiver may start before its run: a new run is made,
				// and said so, for a mistyped path would make one that
				// every callback misses.
				_, statErr := os.Stat(*db)
				made := !fleet.IsPostgres(*db) && errors.Is(statErr, os.ErrNotExist)
				d, err := e.openRun(*db, "", keyOptional)
				if err != nil {
					return err
				}
				defer d.Close()
				if made {
					fmt.Fprintf(e.stderr, "flipkyc listen: no run at %s: made a new, empty one; its callbacks are for the agents 'flipkyc onboard --db %s' creates there (is the path right?)\n", showDSN(*db), showDSN(*db))
				}
				// A callback for an agent the run does not have is
				// reported on stderr (by agent id).
				if store, err = fleet.New(fleet.Config{DB: d, Logger: slog.New(slog.NewTextHandler(e.stderr, nil))}); err != nil {
					return err
				}
			}
			return e.listen(*addr, tok, fwd, store)
		}
	},
}

// listen serves callbacks on addr until the context ends.
func (e *env) listen(addr, token string, fwd *url.URL, store *fleet.Fleet) error {
	p := &printer{env: e, forwarding: fwd != nil}
	client := noRedirectClient()
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h, err := flipkyc.NewCallbackHandler(token, func(ctx context.Context, ev flipkyc.Event) error {
		if store != nil {
			// Stored (deduplicated) with the run's next step before Flip
			// gets its 200; an error answers 500.
			if err := store.HandleEvent(ctx, ev); err != nil {
				logger.Error("storing the callback failed", "agent_id", ev.AgentID, "err", err)
				return err
			}
		}
		var fr forwardResult
		if fwd != nil {
			fr = forwardCallback(ctx, client, fwd, ev.Raw, token)
		}
		p.print(ev, fr)
		if fwd != nil && !fr.ok() {
			if st, ok := ctx.Value(forwardKey{}).(*forwardState); ok {
				st.failed = true
			}
			return errors.New("forward failed")
		}
		return nil
	}, flipkyc.WithCallbackLogger(logger))
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("cannot listen: %v", err)
	}
	srv := callbackServer(forwardAware(h), logger)
	where := "http://" + l.Addr().String() + "/"
	if fwd != nil {
		fmt.Fprintf(e.stderr, "flipkyc listen: receiving callbacks at %s (any path), forwarding to %s; Ctrl-C stops\n", where, fwd.Redacted())
	} else {
		fmt.Fprintf(e.stderr, "flipkyc listen: receiving callbacks at %s (any path); Ctrl-C stops\n", where)
	}
	p.header()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	return e.serveUntilDone(srv, served)
}

// serveUntilDone waits for the command to be stopped (Ctrl-C) and then
// shuts srv down, giving answers under way 5 seconds; served is where srv's
// Serve returns, an error before that.
func (e *env) serveUntilDone(srv *http.Server, served <-chan error) error {
	select {
	case err := <-served:
		return fmt.Errorf("serving: %v", err)
	case <-e.ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown)
	<-served
	return nil
}

// callbackServer serves Flip's callbacks with h, within timeouts that a
// slow sender cannot hold open (a forward may take callbackTimeout).
func callbackServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      callbackTimeout + 15*time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// forwardState tells the response writer that the callback was authentic
// but its forward failed, so that the handler's 500 goes out as 502.
type forwardState struct{ failed bool }

type forwardKey struct{}

// forwardAware runs the callback handler with a forwardState in the
// request's context, and answers 502 where the forward failed.
func forwardAware(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := &forwardState{}
		fw := &forwardWriter{ResponseWriter: w, st: st}
		h.ServeHTTP(fw, r.WithContext(context.WithValue(r.Context(), forwardKey{}, st)))
		if fw.replaced {
			_, _ = io.WriteString(w, "callback received, but forwarding it failed\n")
		}
	})
}

// forwardWriter turns the handler's 500 for a failed forward into 502 and
// drops the handler's own text for it.
type forwardWriter struct {
	http.ResponseWriter
	st       *forwardState
	replaced bool
}

func (w *forwardWriter) WriteHeader(code int) {
	if code == http.StatusInternalServerError && w.st.failed {
		w.replaced = true
		code = http.StatusBadGateway
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *forwardWriter) Write(b []byte) (int, error) {
	if w.replaced {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (the handler
// sets read deadlines through it).
func (w *forwardWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// forwardResult is what the forward target answered.
type forwardResult struct {
	status int
	err    error
}

func (f forwardResult) ok() bool { return f.err == nil && f.status >= 200 && f.status <= 299 }

// forwardCallback posts the callback's data, as received, and the token to
// target. It finishes even when the sender hangs up, up to callbackTimeout.
func forwardCallback(ctx context.Context, client *http.Client, target *url.URL, data, token string) forwardResult {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), callbackTimeout)
	defer cancel()
	body := url.Values{"data": {data}, "token": {token}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), strings.NewReader(body))
	if err != nil {
		return forwardResult{err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	status, err := post(client, req)
	return forwardResult{status: status, err: err}
}

// printer writes one line per event, from concurrent requests.
type printer struct {
	*env
	forwarding bool
	mu         sync.Mutex
}

const rowFormat = "%-8s  %-9s  %-31s  %-4s  %-7s  %s\n"

func (p *printer) header() {
	if !p.json {
		fmt.Fprintf(p.stdout, rowFormat, "TIME", "AGENT", "KYC STATUS", "CODE", "FORWARD", "REASON")
	}
}

// eventLine is the JSON form of a received event: Flip's fields masked as
// the SDK prints an Event (Event.Masked), what could not be decoded, and the
// forward's result.
type eventLine struct {
	ReceivedAt string `json:"received_at"`
	flipkyc.Event
	Problems      []string `json:"problems,omitempty"`
	ForwardStatus int      `json:"forward_status,omitempty"`
	ForwardError  string   `json:"forward_error,omitempty"`
}

// print writes one line for the event: its free text masked (Event.Masked)
// and, in the table, with the characters a terminal acts on escaped, so
// that a callback is always one line (writeJSON escapes them in --json).
func (p *printer) print(ev flipkyc.Event, fr forwardResult) {
	now := time.Now()
	ev = ev.Masked()
	var b strings.Builder
	if p.json {
		line := eventLine{ReceivedAt: now.Format(time.RFC3339), Event: ev, Problems: ev.Problems, ForwardStatus: fr.status}
		if fr.err != nil {
			line.ForwardError = fr.err.Error()
		}
		writeJSON(&b, line)
	} else {
		fwd := "-"
		switch {
		case fr.err != nil:
			fwd = "error"
		case p.forwarding:
			fwd = strconv.Itoa(fr.status)
		}
		reason := firstNonEmpty(ev.RejectedReason, "-")
		if fr.err != nil {
			reason += " (forward: " + fr.err.Error() + ")"
		}
		if len(ev.Problems) > 0 {
			reason += " (problems: " + strings.Join(ev.Problems, "; ") + ")"
		}
		code := firstNonEmpty(ev.RejectedReasonCode.String(), "-")
		fmt.Fprintf(&b, rowFormat, now.Format("15:04:05"), strconv.FormatInt(ev.AgentID, 10), printable(string(ev.KYCStatus)), code, fwd, printable(reason))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_, _ = io.WriteString(p.stdout, b.String())
}
