package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/fleet"
)

// envConsoleToken holds the console's sign-in token.
const envConsoleToken = "FLIPKYC_CONSOLE_TOKEN"

// minConsoleTokenLen is the shortest console token accepted: 16
// characters, about 96 bits when random.
const minConsoleTokenLen = 16

var consoleCommand = &command{
	path:    "console",
	summary: "a run's back office in a browser: overview, agents, timelines, repairs",
	help: `Serves a run's back office (--db) on --addr: an overview (agents per state
and KYC status, the rate of a live run, rejections by code with the fix each
calls for, agents needing attention with their way out), the list of agents
with filters, and each agent's page: its record, masked, and its timeline
(every request with its Request-ID, callback, repair and operator action).
From an agent's page a person corrects its data, uploads a new identity photo
or selfie, adds supporting documents, confirms that an ambiguous create was
not made or gives its agent id, resumes it, or reveals its personal data;
each is the same code path as the commands (repair, resume) and is recorded
in the timeline with who did it. Pages work without JavaScript; a page of a
live run refreshes itself.

The console works the run's jobs itself, so that actions complete, when it
starts and after each action until no agent is under way: a SQLite run when
no other process (onboard, repair, resume) works it (that process works the
console's jobs too; one started while the console works is refused), a
Postgres run always, alongside the others. It needs Flip's settings for that, as repair
does. --listen receives Flip's callbacks into the run, as onboard --listen.

It listens on loopback by default. With ` + envConsoleToken + ` set (or
--token-file), every request must carry the token: a sign-in form sets a
session cookie (HttpOnly, SameSite=Strict, Secure over TLS), or a script sends
"Authorization: Bearer TOKEN". A non-loopback --addr needs the token, and
should be served over TLS (--tls-cert, --tls-key). Without a token, a
loopback console serves the user who started it only: it looks up who owns
each connection's other end (Linux) and refuses other local users' (403).
Forms are protected against cross-site request forgery (Go's
CrossOriginProtection and a token in each form).

Personal data (each agent's row) is read with the run's data key, as status
--reveal does: --key-file, else ` + fleet.EnvDataKey + `, else the key file
beside a SQLite run. Nothing the console logs holds a personal value or the
token.`,
	examples: []string{
		"flipkyc console --db examples/fleet/agents.fleet.db",
		"FLIPKYC_CONSOLE_TOKEN=$(cat token) flipkyc console --db postgres://fleet@db/fleet --addr 10.0.0.5:8070 --tls-cert cert.pem --tls-key key.pem",
	},
	flip:   true,
	noJSON: true,
	setup: func(fs *flag.FlagSet, e *env) func([]string) error {
		o := consoleOptions{
			db:         fs.String("db", "", "the run's database: a SQLite file or postgres://… (required)"),
			addr:       fs.String("addr", "127.0.0.1:8070", "address to serve the console on; a non-loopback address needs "+envConsoleToken+" or --token-file"),
			tokenFile:  fs.String("token-file", "", "read the console's sign-in token from this file (its first line) instead of "+envConsoleToken),
			tlsCert:    fs.String("tls-cert", "", "serve over TLS with this certificate (PEM), with --tls-key"),
			tlsKey:     fs.String("tls-key", "", "the TLS certificate's private key (PEM)"),
			keyFile:    keyFileFlag(fs),
			listen:     fs.String("listen", "", "receive Flip's callbacks on this address (host:port) into the run; the token from "+envCallbackToken),
			workers:    fs.Int("workers", 10, "steps run at once by this process"),
			rate:       fs.Float64("rate", fleet.DefaultRate, "most requests per second to Flip, in all (shared across machines on Postgres)"),
			retain:     fs.String("retain", "30d", "erase an agent's personal data this long after it reached a final state (e.g. 30d, 72h; 0: at once)"),
			staleAfter: fs.Duration("stale-after", 2*time.Minute, "read an agent from Flip when its callback is this late"),
			recEach:    fs.Duration("reconcile-every", 15*time.Second, "how often to look for late callbacks"),
			verbose:    fs.Bool("v", false, "log more: River's and the fleet's informational lines"),
		}
		return func(args []string) error {
			if err := needArgs(args); err != nil {
				return err
			}
			return e.console(o)
		}
	},
}

type consoleOptions struct {
	db, addr, tokenFile, tlsCert, tlsKey *string
	keyFile, listen, retain              *string
	workers                              *int
	rate                                 *float64
	staleAfter, recEach                  *time.Duration
	verbose                              *bool
}

// consoleToken returns the console's token from --token-file or
// FLIPKYC_CONSOLE_TOKEN, "" when neither gives one.
func (e *env) consoleToken(file string) (string, error) {
	token := e.getenv(envConsoleToken)
	if file != "" {
		var err error
		if token, err = e.readTokenFile("token-file", file, "the console's"); err != nil {
			return "", err
		}
	}
	if token != "" && len(token) < minConsoleTokenLen {
		return "", inputErrorf("the console token must be at least %d characters (random, e.g. openssl rand -base64 24)", minConsoleTokenLen)
	}
	return token, nil
}

// isLoopbackAddr reports whether addr (host:port) names only this machine:
// 127.0.0.0/8, ::1 or localhost. An empty host (all interfaces) is not.
func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (e *env) console(o consoleOptions) error {
	if *o.db == "" {
		return usagef("--db is required")
	}
	if *o.workers < 1 || *o.staleAfter <= 0 || *o.recEach <= 0 {
		return usagef("--workers, --stale-after and --reconcile-every must be positive")
	}
	if r := *o.rate; math.IsNaN(r) || r < minRate || r > maxRate {
		return usagef("--rate: want a number of requests per second from %g to %g", minRate, maxRate)
	}
	if (*o.tlsCert == "") != (*o.tlsKey == "") {
		return usagef("give --tls-cert and --tls-key together")
	}
	retain, err := parseRetain(*o.retain)
	if err != nil {
		return err
	}
	token, err := e.consoleToken(*o.tokenFile)
	if err != nil {
		return err
	}
	e.secrets.add(token)
	loopback := isLoopbackAddr(*o.addr)
	if token == "" && !canFindSocketOwner {
		return usagef("set %s or give --token-file: on this system the console cannot tell which local user connects, so every request must sign in", envConsoleToken)
	}
	if !loopback && token == "" {
		return usagef("--addr %s is not loopback: set %s or give --token-file, so that every request must sign in", *o.addr, envConsoleToken)
	}
	var tlsConfig *tls.Config
	if *o.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(*o.tlsCert, *o.tlsKey)
		if err != nil {
			return inputErrorf("--tls-cert, --tls-key: %v", withoutPath(err))
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	secretKey := e.getenv(flipkyc.EnvSecretKey)
	if _, err := e.client(); err != nil { // checks the key and base URLs
		return err
	}
	var cbToken string
	if *o.listen != "" {
		if cbToken = e.getenv(envCallbackToken); cbToken == "" {
			return usagef("--listen: set %s to the token Flip's callbacks carry", envCallbackToken)
		}
		e.secrets.add(cbToken)
	}
	dsn := *o.db
	if err := e.useDSN(dsn); err != nil {
		return err
	}
	if exists, err := fleet.RunExists(e.ctx, dsn); err != nil || !exists {
		if err == nil {
			err = errors.New("no run there")
		}
		return inputErrorf("no run at %s (give the run's --db): %v", showDSN(dsn), withoutPath(err))
	}
	d, err := e.openRun(dsn, *o.keyFile, keyRequired)
	if err != nil {
		return err
	}
	defer d.Close()
	level := slog.LevelWarn
	if *o.verbose {
		level = slog.LevelDebug
	}
	e.stderr = &turnWriter{w: e.stderr}
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	agentsURL, kycURL := e.baseURLs()
	cfg := fleet.Config{
		Logger: logger, DB: d, SecretKey: secretKey, Rate: *o.rate, Workers: *o.workers,
		StaleAfter: *o.staleAfter, ReconcileEvery: *o.recEach, Retain: retain,
		ClientOptions: []flipkyc.Option{flipkyc.WithBaseURLs(agentsURL, kycURL), flipkyc.WithUserAgent("flipkyc-console")},
	}
	f, err := fleet.New(cfg)
	if err != nil {
		return err
	}
	if *o.listen != "" {
		l, err := listenCallbacks(*o.listen)
		if err != nil {
			return err
		}
		stop, err := e.receiveCallbacks(f, l, cbToken, logger)
		if err != nil {
			return err
		}
		defer stop()
	}
	l, err := net.Listen("tcp", *o.addr)
	if err != nil {
		return fmt.Errorf("cannot listen: %v", err)
	}
	work := newConsoleWorker(d, func() (*fleet.Fleet, error) { return fleet.New(cfg) }, logger)
	c, err := newConsole(consoleConfig{
		DB: d, Fleet: f, DSN: dsn, Token: token, Work: work,
		Loopback: loopback, Addr: l.Addr().String(), Logger: logger,
	})
	if err != nil {
		l.Close()
		return err
	}
	srv := &http.Server{
		Handler:           c,
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       60 * time.Second, // an upload of a few photos
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		ConnContext:       markPeer,
	}
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
	}
	workCtx, stopWork := context.WithCancel(e.ctx)
	worked := make(chan struct{})
	go func() {
		defer close(worked)
		work.loop(workCtx)
	}()
	defer func() { stopWork(); <-worked }()
	served := make(chan error, 1)
	go func() {
		if tlsConfig != nil {
			served <- srv.ServeTLS(l, "", "")
		} else {
			served <- srv.Serve(l)
		}
	}()
	signIn := "no sign-in: served to this user only, other local users are refused; set " + envConsoleToken + " to let them sign in"
	if token != "" {
		signIn = "sign in with the token of " + envConsoleToken
		if *o.tokenFile != "" {
			signIn = "sign in with the token of --token-file"
		}
	}
	fmt.Fprintf(e.stderr, "flipkyc console: serving %s at %s (%s); Ctrl-C stops\n", showDSN(dsn), consoleURL(scheme, l.Addr()), signIn)
	if !loopback && tlsConfig == nil {
		e.warn("--addr is not loopback and the console is served without TLS: the token and agents' data cross the network in clear; give --tls-cert and --tls-key")
	}
	return e.serveUntilDone(srv, served)
}

// consoleURL is the console's address as a person opens it: for a
// listener on every address of the machine (0.0.0.0, ::), which a browser
// cannot open, the machine's name with the port.
func consoleURL(scheme string, addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return fmt.Sprintf("%s://%s/", scheme, addr)
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "THIS-MACHINE"
	}
	return fmt.Sprintf("%s://%s/ (every address of this machine)", scheme, net.JoinHostPort(host, strconv.Itoa(tcp.Port)))
}
