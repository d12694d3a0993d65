package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flipkyc/flipkyc/fleet"
)

// consoleFiles are the console's templates and static files, served from
// the binary.
//
//go:embed console
var consoleFiles embed.FS

// consoleConfig is what the console serves and how.
type consoleConfig struct {
	DB    *fleet.DB
	Fleet *fleet.Fleet
	DSN   string
	// Token is the sign-in token; "" serves a loopback console without
	// sign-in.
	Token string
	// Work works the run's jobs; nil serves the pages only.
	Work *consoleWorker
	// Loopback is set when the console listens on loopback only: requests
	// must then name it in their Host (no DNS rebinding).
	Loopback bool
	Addr     string // the address listened on (host:port)
	Logger   *slog.Logger
}

// consoleServer is the console's HTTP handler.
type consoleServer struct {
	consoleConfig
	handler  http.Handler
	pages    map[string]*template.Template
	sessions sessionStore
	// openFormToken is the form token of a console without sign-in.
	openFormToken string
	hosts         map[string]bool
	// guesses serializes failed sign-ins, each followed by pause (a
	// sleep of signInPause), so that the token cannot be guessed quickly.
	guesses sync.Mutex
	pause   func()
}

// sessionCookie names the console's session cookie.
const sessionCookie = "flipkyc_console"

// sessionLife is how long a sign-in lasts.
const sessionLife = 12 * time.Hour

// signInPause follows each failed sign-in.
const signInPause = 500 * time.Millisecond

func newConsole(cfg consoleConfig) (*consoleServer, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	pages, err := parseConsolePages()
	if err != nil {
		return nil, err
	}
	c := &consoleServer{consoleConfig: cfg, pages: pages, openFormToken: randomHex(32),
		sessions: sessionStore{byID: map[string]*session{}}, pause: func() { time.Sleep(signInPause) }}
	if cfg.Loopback {
		_, port, _ := net.SplitHostPort(cfg.Addr)
		c.hosts = map[string]bool{}
		for _, h := range []string{"127.0.0.1", "localhost", "[::1]"} {
			c.hosts[h+":"+port] = true
		}
		if host, _, _ := net.SplitHostPort(cfg.Addr); host != "" {
			c.hosts[net.JoinHostPort(host, port)] = true
		}
	}
	mux := http.NewServeMux()
	static, err := fs.Sub(consoleFiles, "console/static")
	if err != nil {
		return nil, err
	}
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	mux.Handle("GET /static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		files.ServeHTTP(w, r)
	}))
	mux.HandleFunc("GET /login", c.signInPage)
	mux.HandleFunc("POST /login", c.signIn)
	mux.HandleFunc("POST /logout", c.signedIn(c.signOut))
	mux.HandleFunc("GET /{$}", c.signedIn(c.overview))
	mux.HandleFunc("GET /agents", c.signedIn(c.agentList))
	mux.HandleFunc("GET /agents/{line}", c.signedIn(c.agentPage))
	mux.HandleFunc("POST /agents/{line}/{action}", c.signedIn(c.agentAction))
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.refuse(w, http.StatusForbidden, "This form was sent from another site: refused (cross-site request forgery protection). Open the console's own page and send it from there.")
	}))
	c.handler = c.checkHost(cop.Handler(mux))
	return c, nil
}

// ServeHTTP serves the console with its security headers on every answer.
func (c *consoleServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	if !strings.HasPrefix(r.URL.Path, "/static/") {
		h.Set("Cache-Control", "no-store")
	}
	if r.TLS != nil {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	c.handler.ServeHTTP(w, r)
}

// checkHost refuses, on a loopback console, a request whose Host is not
// the console's own address: a web page whose name was made to point at
// 127.0.0.1 (DNS rebinding) cannot read the console.
func (c *consoleServer) checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c.hosts != nil && !c.hosts[strings.ToLower(r.Host)] {
			c.refuse(w, http.StatusMisdirectedRequest, "This console answers only at its own address (127.0.0.1 or localhost, with its port).")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// caller is who sent a request.
type caller struct {
	// actor names the caller in the run's timeline.
	actor string
	// formToken is the token every form of this caller carries.
	formToken string
	// bearer marks a request signed with the token in its Authorization
	// header: no cookie, so no form token is needed.
	bearer bool
	// session is the sign-in's id, "" without one.
	session string
}

type callerKey struct{}

// callerOf returns the caller signedIn found for r.
func callerOf(r *http.Request) caller {
	cl, _ := r.Context().Value(callerKey{}).(caller)
	return cl
}

// signedIn runs h for a request that is signed in: by its session cookie
// or its bearer token, or any request when the console has no token. A
// page asked for without sign-in is sent to the sign-in form; anything
// else is answered 401.
func (c *consoleServer) signedIn(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cl, ok := c.authenticate(r)
		if !ok && c.Token == "" {
			c.refuse(w, http.StatusForbidden, "This console serves only the user who started it. Ask that user to start it with "+envConsoleToken+" set, and sign in with that token.")
			return
		}
		if !ok {
			if _, isBearer := bearerToken(r); isBearer {
				c.failedSignIn(r) // a guess of the token, as by the form
			} else if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login", http.StatusSeeOther)
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="flipkyc console"`)
			c.refuse(w, http.StatusUnauthorized, "Sign in first.")
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, cl)))
	}
}

// authenticate finds who sent r.
func (c *consoleServer) authenticate(r *http.Request) (caller, bool) {
	ip := remoteIP(r)
	if c.Token == "" {
		// Served to the user who started it only (console_peer.go).
		if !peerIsOwner(r.Context()) {
			return caller{}, false
		}
		return caller{actor: "console " + ip + " uid " + strconv.Itoa(processUID()), formToken: c.openFormToken}, true
	}
	if tok, isBearer := bearerToken(r); isBearer {
		if c.tokenMatches(tok) {
			return caller{actor: "console " + ip + " bearer#" + fingerprint(c.Token), bearer: true}, true
		}
		return caller{}, false
	}
	// Another Authorization scheme (Basic, from a proxy that signs its
	// users in) is not the console's: its session cookie is.
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return caller{}, false
	}
	s := c.sessions.find(ck.Value)
	if s == nil {
		return caller{}, false
	}
	return caller{actor: "console " + ip + " session#" + fingerprint(ck.Value), formToken: s.formToken, session: ck.Value}, true
}

// bearerToken returns the token of r's "Authorization: Bearer" header, and
// whether it has one.
func bearerToken(r *http.Request) (string, bool) {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// tokenMatches compares tok with the console's token in constant time.
func (c *consoleServer) tokenMatches(tok string) bool {
	a, b := sha256.Sum256([]byte(tok)), sha256.Sum256([]byte(c.Token))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// fingerprint is a short hash of a secret: enough to tell sessions apart
// in a timeline, nothing that helps guess it.
func fingerprint(secret string) string {
	sum := sha256.Sum256([]byte("flipkyc console " + secret))
	return hex.EncodeToString(sum[:2])
}

// remoteIP is the address a request came from, without its port.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return "-"
	}
	return host
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// session is one sign-in.
type session struct {
	formToken string
	expires   time.Time
}

// sessionStore keeps the sign-ins of this process (in memory: a restart
// signs everyone out).
type sessionStore struct {
	mu   sync.Mutex
	byID map[string]*session
}

func (s *sessionStore) create() (id string, sess *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for k, v := range s.byID {
		if now.After(v.expires) {
			delete(s.byID, k)
		}
	}
	id = randomHex(32)
	sess = &session{formToken: randomHex(32), expires: now.Add(sessionLife)}
	s.byID[id] = sess
	return id, sess
}

func (s *sessionStore) find(id string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.byID[id]
	if sess == nil || time.Now().After(sess.expires) {
		return nil
	}
	return sess
}

func (s *sessionStore) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, id)
}

func (c *consoleServer) signInPage(w http.ResponseWriter, r *http.Request) {
	if c.Token == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	c.render(w, r, http.StatusOK, "login", pageData{Title: "Sign in"})
}

func (c *consoleServer) signIn(w http.ResponseWriter, r *http.Request) {
	if c.Token == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil || !c.tokenMatches(r.PostForm.Get("token")) {
		c.failedSignIn(r)
		c.render(w, r, http.StatusUnauthorized, "login", pageData{Title: "Sign in", Error: "That is not the console's token."})
		return
	}
	id, _ := c.sessions.create()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", MaxAge: int(sessionLife.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	c.Logger.Info("console: signed in", "from", remoteIP(r), "session", fingerprint(id))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// failedSignIn logs a refused token, by the sign-in form or an
// Authorization header, and pauses: failed sign-ins are taken one at a
// time, so that the token cannot be guessed quickly either way.
func (c *consoleServer) failedSignIn(r *http.Request) {
	c.Logger.Warn("console: sign-in refused", "from", remoteIP(r))
	c.guesses.Lock()
	defer c.guesses.Unlock()
	c.pause()
}

func (c *consoleServer) signOut(w http.ResponseWriter, r *http.Request) {
	cl := callerOf(r)
	if !c.checkFormToken(w, r, cl, 4<<10) {
		return
	}
	if cl.session != "" {
		c.sessions.remove(cl.session)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// checkFormToken parses a small form (up to limit bytes) and refuses it
// unless it carries the caller's form token; a bearer request needs none.
func (c *consoleServer) checkFormToken(w http.ResponseWriter, r *http.Request, cl caller, limit int64) bool {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if err := r.ParseForm(); err != nil {
		c.refuse(w, http.StatusBadRequest, "The form could not be read (too large, or malformed).")
		return false
	}
	return c.formTokenOK(w, cl, r.PostForm.Get("csrf"))
}

// formTokenOK refuses a form whose token is not the caller's.
func (c *consoleServer) formTokenOK(w http.ResponseWriter, cl caller, tok string) bool {
	if cl.bearer {
		return true
	}
	if subtle.ConstantTimeCompare([]byte(tok), []byte(cl.formToken)) != 1 {
		c.refuse(w, http.StatusForbidden, "This form's token is missing or stale: refused (cross-site request forgery protection). Reload the page and send the form again.")
		return false
	}
	return true
}

// refuse answers with status and a short page saying why.
func (c *consoleServer) refuse(w http.ResponseWriter, status int, why string) {
	c.render(w, nil, status, "refused", pageData{Title: http.StatusText(status), Error: why})
}

// pageData is what every page's template gets.
type pageData struct {
	Title string
	// FormToken goes into every form (csrf); SignedIn shows the sign-out
	// form.
	FormToken string
	SignedIn  bool
	// Refresh reloads the page every so many seconds (a live run), at
	// RefreshURL when given, else the page's own URL.
	Refresh    int
	RefreshURL string
	// Work says who works the run's jobs.
	Work string
	// Done and Error are the outcome of the last action.
	Done  string
	Error string
	// Page is the page's own data.
	Page any
}

// render writes the page name with data.
func (c *consoleServer) render(w http.ResponseWriter, r *http.Request, status int, name string, data pageData) {
	if r != nil {
		cl := callerOf(r)
		data.FormToken = cl.formToken
		data.SignedIn = cl.session != ""
	}
	var b strings.Builder
	if err := c.pages[name].ExecuteTemplate(&b, "layout", data); err != nil {
		c.Logger.Error("console: rendering a page failed", "page", name, "err", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// consolePageNames are the console's pages, each a template in console/
// drawn inside console/layout.html.
var consolePageNames = []string{"login", "refused", "overview", "agents", "agent"}

func parseConsolePages() (map[string]*template.Template, error) {
	base, err := template.New("layout").Funcs(consoleFuncs).ParseFS(consoleFiles, "console/layout.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, name := range consolePageNames {
		t, err := template.Must(base.Clone()).ParseFS(consoleFiles, "console/"+name+".html")
		if err != nil {
			return nil, err
		}
		pages[name] = t
	}
	return pages, nil
}
