package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"html"
	"image"
	"image/png"
	"io"
	"math/big"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/fleet"
	"github.com/flipkyc/flipkyc/flipkyctest"
	"github.com/flipkyc/flipkyc/internal/pgtest"
)

// bearerGet fetches a console page with the token as a bearer header and
// returns its status and HTML.
func bearerGet(t *testing.T, base, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+consoleTestToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// waitForPage fetches a console page until it holds want, and returns it.
func waitForPage(t *testing.T, base, path, want string) string {
	t.Helper()
	deadline := time.Now().Add(fleetWait)
	for {
		_, body := bearerGet(t, base, path)
		if strings.Contains(body, want) {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never held %q: %s", path, want, body)
		}
		time.Sleep(100 * time.Millisecond) // between reads of a page that changes on its own
	}
}

// While onboard works a SQLite run, the console started on it shows the
// run live (the overview reloads itself) and names the process that works
// it, without taking the run's lock from it; once onboard is done, the
// console works the run itself.
func TestConsoleLiveRun(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the command")
	}
	bin := builtBinary(t)
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(filepath.Join(dir, "fleet"), os.DirFS("../../examples/fleet")))
	cbAddr := "127.0.0.1:" + freePort(t)
	fake := flipkyctest.NewServer(t, flipkyctest.WithSecretKey(testKey), flipkyctest.WithCallbacks("http://"+cbAddr+"/", testToken),
		flipkyctest.WithDecisionDelay(3*time.Second))
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		flipkyc.EnvSecretKey + "=" + testKey, flipkyc.EnvAPIBaseURL + "=" + fake.AgentsURL, flipkyc.EnvKYCBaseURL + "=" + fake.KYCURL,
		envCallbackToken + "=" + testToken, envConsoleToken + "=" + consoleTestToken}

	onboard := exec.Command(bin, "onboard", "--csv", filepath.Join(dir, "fleet", "agents.csv"), "--listen", cbAddr)
	onboard.Env = env
	pr, err := onboard.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, onboard.Start())
	onboardErr := &syncBuffer{}
	working, scanned := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(scanned)
		var once sync.Once
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			_, _ = onboardErr.Write([]byte(sc.Text() + "\n"))
			if strings.HasPrefix(sc.Text(), "progress:") {
				once.Do(func() { close(working) }) // onboard's Run holds the run's lock
			}
		}
	}()
	select {
	case <-working:
	case <-time.After(wait):
		t.Fatal("onboard did not start working the run")
	}

	base, stderr := startConsole(t, bin, env, "--db", filepath.Join(dir, "fleet", "agents.fleet.db"))
	body := waitForPage(t, base, "/", "Another process works this run (")
	assert.Contains(t, body, `<meta http-equiv="refresh" content="5">`, "the overview of a live run reloads itself")
	<-scanned // onboard's stderr is read to its end before Wait
	var ee *exec.ExitError
	require.ErrorAs(t, onboard.Wait(), &ee, "onboard ends with a bad row and two rejections")
	assert.Equal(t, exitFailure, ee.ExitCode(), "onboard was not refused the run's lock: %s", onboardErr.String())
	assert.NotContains(t, onboardErr.String(), "another process is working this SQLite run")

	body = waitForPage(t, base, "/", "Nothing is under way")
	assert.NotContains(t, body, `http-equiv="refresh"`, "a run with nothing under way does not reload")
	assert.Regexp(t, `<a href="/agents\?state=approved">approved</a></td><td>3</td>`, body)
	assert.NotContains(t, stderr.String(), "warning")
}

// The console's handler, in-process: security headers on every answer,
// static files without directory listings, the Host check of a loopback
// console, and forms of a console without sign-in refused without their
// form token.
func TestConsoleHandler(t *testing.T) {
	h := newBenchConsole(t, 3)
	formToken := regexp.MustCompile(`name="csrf" value="([0-9a-f]{64})"`).FindStringSubmatch(getPage(t, h, "/agents/2"))
	require.NotNil(t, formToken)
	cases := []struct {
		name, method, host, path string
		form                     url.Values
		want                     int
	}{
		{"the overview", "GET", "127.0.0.1:8070", "/", nil, http.StatusOK},
		{"localhost", "GET", "localhost:8070", "/agents", nil, http.StatusOK},
		{"the style sheet", "GET", "127.0.0.1:8070", "/static/console.css", nil, http.StatusOK},
		{"no directory listing", "GET", "127.0.0.1:8070", "/static/", nil, http.StatusNotFound},
		{"another host name (DNS rebinding)", "GET", "evil.example:8070", "/", nil, http.StatusMisdirectedRequest},
		{"another port", "GET", "127.0.0.1:9999", "/", nil, http.StatusMisdirectedRequest},
		{"a form without its token", "POST", "127.0.0.1:8070", "/agents/2/reveal", url.Values{}, http.StatusForbidden},
		{"a form with another token", "POST", "127.0.0.1:8070", "/agents/2/reveal", url.Values{"csrf": {strings.Repeat("0", 64)}}, http.StatusForbidden},
		{"a form with its token", "POST", "127.0.0.1:8070", "/agents/2/resume", url.Values{"csrf": {formToken[1]}}, http.StatusConflict},
		{"no such agent", "GET", "127.0.0.1:8070", "/agents/99", nil, http.StatusNotFound},
		{"not a line", "GET", "127.0.0.1:8070", "/agents/x", nil, http.StatusNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body io.Reader
			if c.form != nil {
				body = strings.NewReader(c.form.Encode())
			}
			req := httptest.NewRequest(c.method, "http://"+c.host+c.path, body)
			if c.form != nil {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.Equal(t, c.want, rec.Code, rec.Body.String())
			hd := rec.Header()
			assert.Equal(t, "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'", hd.Get("Content-Security-Policy"))
			assert.Equal(t, "nosniff", hd.Get("X-Content-Type-Options"))
			assert.Equal(t, "no-referrer", hd.Get("Referrer-Policy"))
			assert.Equal(t, "DENY", hd.Get("X-Frame-Options"))
			if !strings.HasPrefix(c.path, "/static/") {
				assert.Equal(t, "no-store", hd.Get("Cache-Control"))
			}
		})
	}
}

// Over TLS (--tls-cert, --tls-key) on a non-loopback address with a token,
// the console answers only HTTPS, its sign-in cookie is Secure, HttpOnly
// and SameSite=Strict, and its answers carry Strict-Transport-Security.
func TestConsoleTLS(t *testing.T) {
	_, vars := fakeEnv(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "run.db")
	key, err := fleet.CreateKeyFile(db + ".key")
	require.NoError(t, err)
	d, err := fleet.Open(context.Background(), db, fleet.WithDataKey(key))
	require.NoError(t, err)
	require.NoError(t, d.Close())
	certFile, keyFile, pool := writeTestCert(t, dir)
	vars[envConsoleToken] = consoleTestToken
	addr := "0.0.0.0:" + freePort(t) // not loopback: needs the token
	p := start(t, vars, "console", "--db", db, "--addr", addr, "--tls-cert", certFile, "--tls-key", keyFile)
	var base string
	deadline := time.Now().Add(wait)
	for base == "" {
		if m := regexp.MustCompile(`at (https://\S+)/ `).FindStringSubmatch(p.stderr.String()); m != nil {
			base = m[1]
		}
		require.False(t, time.Now().After(deadline), "the console did not start: %s", p.stderr.String())
		time.Sleep(20 * time.Millisecond) // the console starts in the background
	}
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(base, "https://"))
	base = "https://127.0.0.1:" + port
	client := &http.Client{
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.PostForm(base+"/login", url.Values{"token": {consoleTestToken}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	cookies := resp.Cookies()
	require.Len(t, cookies, 1)
	assert.True(t, cookies[0].Secure)
	assert.True(t, cookies[0].HttpOnly)
	assert.Equal(t, http.SameSiteStrictMode, cookies[0].SameSite)
	assert.Equal(t, "max-age=31536000", resp.Header.Get("Strict-Transport-Security"))
	plain, err := http.Get("http://127.0.0.1:" + port + "/")
	if err == nil {
		plain.Body.Close()
		assert.Equal(t, http.StatusBadRequest, plain.StatusCode, "plain HTTP is not served")
	}
	assert.NotContains(t, p.stderr.String(), consoleTestToken)
	assert.Contains(t, p.stderr.String(), "flipkyc console: serving "+db)
}

// writeTestCert writes a self-signed certificate for 127.0.0.1 and its key
// in dir, and returns their paths and a pool that trusts it.
func writeTestCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "flipkyc console test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(priv)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// The agent list answers odd filter and paging values with 400 and the
// parameter's rule, or a page, and an agent's page and actions by a line
// out of range 404, never a 500: on SQLite and on Postgres, whose text
// parameters must be UTF-8 without NUL and whose lines are 32-bit.
func TestConsoleOddQueries(t *testing.T) {
	runs := map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "run.db") },
		"postgres": func(t *testing.T) string { return pgtest.Database(t, "console_queries") },
	}
	cases := []struct {
		query   string
		want    int
		problem string
	}{
		{"", http.StatusOK, ""},
		{"after=-1", http.StatusBadRequest, "after: want a whole number"},
		{"after=99999999999999999999", http.StatusBadRequest, "after: want a whole number"},
		{"after=2147483647", http.StatusOK, ""},
		{"line=x", http.StatusBadRequest, "line: want a whole number"},
		{"code=-3", http.StatusBadRequest, "code: want a whole number"},
		{"agent=9223372036854775807", http.StatusOK, ""},
		{"state=bogus", http.StatusBadRequest, "state: not one of the run's states"},
		{"kyc=APPROVED", http.StatusOK, ""},
		{"kyc=SOME_NEW_STATUS", http.StatusOK, ""},
		{"kyc=%ff", http.StatusBadRequest, "kyc: want a KYC status"},
		{"kyc=a%00b", http.StatusBadRequest, "kyc: want a KYC status"},
		{"kyc=x%c3%28", http.StatusBadRequest, "kyc: want a KYC status"},
		{"kyc=%3Cb%3E", http.StatusBadRequest, "kyc: want a KYC status"},
	}
	for name, dsn := range runs {
		t.Run(name, func(t *testing.T) {
			h := asConsoleUser(newRunConsole(t, dsn(t), 3, ""))
			for _, c := range cases {
				req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8070/agents?"+c.query, nil)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				page := html.UnescapeString(rec.Body.String())
				assert.Equal(t, c.want, rec.Code, "%s: %s", c.query, pageAlerts(page))
				if c.problem != "" {
					assert.Contains(t, pageAlerts(page), c.problem, c.query)
				}
			}
			// An agent's page, and its actions, by a line no CSV has
			// (Postgres keeps lines in 32 bits).
			csrf := consoleFormToken(t, h)
			for _, line := range []string{"2147483648", "9223372036854775807", "99999999999999999999", "-2", "0"} {
				req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8070/agents/"+line, nil)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				assert.Equal(t, http.StatusNotFound, rec.Code, "%s: %s", line, pageAlerts(rec.Body.String()))
				for _, action := range []string{"reveal", "resume", "data"} {
					form := url.Values{"csrf": {csrf}, "name": {"Abcdef Ghijk"}}
					req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8070/agents/"+line+"/"+action, strings.NewReader(form.Encode()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					assert.Equal(t, http.StatusNotFound, rec.Code, "%s %s: %s", line, action, pageAlerts(rec.Body.String()))
				}
			}
		})
	}
}

// pageAlerts returns the errors a console page shows, one a line.
func pageAlerts(page string) string {
	var out []string
	for _, m := range regexp.MustCompile(`<p class="error"[^>]*>([^<]*)</p>`).FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return strings.Join(out, "\n")
}

// consoleFormToken returns the form token of a console without sign-in.
func consoleFormToken(t *testing.T, h http.Handler) string {
	t.Helper()
	m := regexp.MustCompile(`name="csrf" value="([0-9a-f]{64})"`).FindStringSubmatch(getPage(t, h, "/agents/2"))
	require.NotNil(t, m)
	return m[1]
}

// multipartForm returns a multipart form of the fields and files (by
// field name), and its content type.
func multipartForm(t *testing.T, fields map[string]string, files map[string][]byte) (*bytes.Buffer, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		require.NoError(t, mw.WriteField(k, v))
	}
	for k, v := range files {
		w, err := mw.CreateFormFile(k, k+".png")
		require.NoError(t, err)
		_, err = w.Write(v)
		require.NoError(t, err)
	}
	require.NoError(t, mw.Close())
	return &b, mw.FormDataContentType()
}

// An action the agent's state does not call for, or a form too large or
// not an image, is refused with a clear reason, and nothing is queued:
// the agent's timeline holds no repair.
func TestConsoleActionRefusals(t *testing.T) {
	c := newRunConsole(t, filepath.Join(t.TempDir(), "run.db"), 3, "") // agents imported, state new
	// Line 3: rejected with code 10, which calls for corrected data.
	_, err := c.DB.SQL().Exec("UPDATE fleet_agents SET state = 'rejected', kyc_status = 'REJECTED', rejection_code = 10, agent_id = 1003 WHERE line = 3")
	require.NoError(t, err)
	h := asConsoleUser(c)
	csrf := consoleFormToken(t, h)
	var png bytes.Buffer
	require.NoError(t, pngEncode(&png, 300))
	cases := []struct {
		name, action string
		line         int // 2 unless given
		fields       map[string]string
		files        map[string][]byte
		want         int
		says         string
		never        string
	}{
		{"a correction for an agent not waiting for one", "data", 0, map[string]string{"name": "Abcdef Ghijk"}, nil,
			http.StatusConflict, "Nothing was queued: the agent is new, not waiting for a correction.", "identity_number"},
		{"a photo for an agent not waiting for one", "identity-photo", 0, nil, map[string][]byte{"photo": png.Bytes()},
			http.StatusConflict, "Nothing was queued: the agent is new, not waiting for a correction.", "identity_number"},
		{"a resume of an agent not parked", "resume", 0, nil, nil,
			http.StatusConflict, "This agent cannot be resumed: it is new, not parked", "cannot be resumed: the agent cannot be resumed"},
		{"a photo over 2 MB", "identity-photo", 0, nil, map[string][]byte{"photo": bytes.Repeat([]byte{1}, flipkyc.MaxImageBytes+1)},
			http.StatusUnprocessableEntity, "photo: must be under 2 MB", ""},
		{"a form larger than the console takes", "documents", 0, nil, map[string][]byte{
			"document_1": bytes.Repeat([]byte{1}, 3<<20), "document_2": bytes.Repeat([]byte{1}, 3<<20), "document_3": bytes.Repeat([]byte{1}, 3<<20)},
			http.StatusRequestEntityTooLarge, "The form is too large: the console takes photos and documents under 2 MB each", ""},
		{"not an image", "identity-photo", 0, nil, map[string][]byte{"photo": []byte("hello, not an image")},
			http.StatusUnprocessableEntity, "photo: must be a PNG or JPEG image", ""},
		{"a photo for an agent whose rejection calls for corrected data", "identity-photo", 3, nil, map[string][]byte{"photo": png.Bytes()},
			http.StatusConflict, "Nothing was queued: rejection code 10 calls for [repair_data], not repair_identity_image.", "row:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fields := map[string]string{"csrf": csrf}
			for k, v := range c.fields {
				fields[k] = v
			}
			body, contentType := multipartForm(t, fields, c.files)
			line := cmp.Or(c.line, 2)
			req := httptest.NewRequest(http.MethodPost, fmt.Sprintf("http://127.0.0.1:8070/agents/%d/%s", line, c.action), body)
			req.Header.Set("Content-Type", contentType)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			page := pageAlerts(html.UnescapeString(rec.Body.String()))
			assert.Equal(t, c.want, rec.Code, page)
			assert.Contains(t, page, c.says)
			if c.never != "" {
				assert.NotContains(t, page, c.never)
			}
			assert.NotContains(t, getPage(t, h, fmt.Sprintf("/agents/%d", line)), `class="kind-repair"`, "nothing is queued")
		})
	}
	// A form of fields only, too large.
	form := url.Values{"csrf": {csrf}, "name": {strings.Repeat("x", maxFormBytes)}}
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8070/agents/2/data", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code, pageAlerts(rec.Body.String()))
}

// pngEncode writes a blank PNG of side×side pixels.
func pngEncode(w io.Writer, side int) error {
	return png.Encode(w, image.NewRGBA(image.Rect(0, 0, side, side)))
}

// A wrong token sent as a bearer header is slowed down as a failed sign-in
// of the form is, so that the header is no faster way to guess the token;
// the right token is not slowed.
func TestConsoleBearerGuessesSlowed(t *testing.T) {
	c := newRunConsole(t, filepath.Join(t.TempDir(), "run.db"), 1, consoleTestToken)
	var paused atomic.Int32
	c.pause = func() { paused.Add(1) }
	get := func(auth string) int {
		req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8070/", nil)
		req.Header.Set("Authorization", auth)
		rec := httptest.NewRecorder()
		c.ServeHTTP(rec, req)
		return rec.Code
	}
	assert.Equal(t, http.StatusOK, get("Bearer "+consoleTestToken))
	assert.Equal(t, int32(0), paused.Load())
	assert.Equal(t, http.StatusUnauthorized, get("Bearer console-token-guess-0000"))
	assert.Equal(t, int32(1), paused.Load(), "a wrong bearer token is slowed down")
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8070/login", strings.NewReader("token=console-token-guess-0001"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	c.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, int32(2), paused.Load(), "a wrong token in the sign-in form is")
}

// A console behind a proxy that signs its users in with HTTP Basic
// authentication gets their Authorization header on every request: the
// console's own sign-in (its session cookie) still serves them, and a page
// asked for without it goes to the sign-in form.
func TestConsoleBehindBasicAuth(t *testing.T) {
	c := newRunConsole(t, filepath.Join(t.TempDir(), "run.db"), 1, consoleTestToken)
	const basic = "Basic b3BzOnByb3h5LXBhc3N3b3Jk" // ops:proxy-password
	signIn := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8070/login", strings.NewReader("token="+consoleTestToken))
	signIn.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	signIn.Header.Set("Authorization", basic)
	rec := httptest.NewRecorder()
	c.ServeHTTP(rec, signIn)
	require.Equal(t, http.StatusSeeOther, rec.Code)
	cookies := rec.Result().Cookies()
	require.Len(t, cookies, 1)

	req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8070/agents/2", nil)
	req.Header.Set("Authorization", basic)
	req.AddCookie(cookies[0])
	rec = httptest.NewRecorder()
	c.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusOK, rec.Code, "a signed-in page behind the proxy")

	req = httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8070/agents/2", nil)
	req.Header.Set("Authorization", basic)
	rec = httptest.NewRecorder()
	c.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusSeeOther, rec.Code, "not signed in: to the sign-in form")
	assert.Equal(t, "/login", rec.Header().Get("Location"))
}

// The overview of a run with many agents parked lists the first of them
// only, with a link to the list of all, so that it stays small and quick
// to reload while the run is live (at 50,000 parked agents it was 7 MB).
func TestConsoleOverviewAttentionBounded(t *testing.T) {
	c := newRunConsole(t, filepath.Join(t.TempDir(), "run.db"), overviewAttention+30, "")
	_, err := c.DB.SQL().Exec("UPDATE fleet_agents SET state = 'attention', attention = 'create refused: the test parked it', parked_from = 'new'")
	require.NoError(t, err)
	page := getPage(t, asConsoleUser(c), "/")
	table := regexp.MustCompile(`(?s)<table id="attention">.*?</table>`).FindString(page)
	assert.Equal(t, overviewAttention, strings.Count(table, "<tr><td>"), "the overview lists the first parked agents only")
	assert.True(t, strings.Contains(page, fmt.Sprintf(`%d need attention`, overviewAttention+30)), "the count is of all")
	assert.True(t, strings.Contains(page, `<a href="/agents?attention=1" id="more-attention">30 more in the agent list</a>`), "a link to the others")
}

// An agent's page that reloads itself (the agent is under way) reloads
// the agent's page itself: not the answer to a form, which a reload would
// ask for with GET (405), nor the message of the action just taken, which
// would stay on the page after the agent moved on.
func TestConsoleReloadsTheAgentPage(t *testing.T) {
	h := newBenchConsole(t, 3) // agents imported, state new: under way
	reload := regexp.MustCompile(`<meta http-equiv="refresh" content="([^"]*)">`)
	page := getPage(t, h, "/agents/2?done=resume")
	require.Contains(t, page, doneMessages["resume"])
	m := reload.FindStringSubmatch(page)
	require.NotNil(t, m, "the page of an agent under way reloads itself")
	assert.Equal(t, "5; url=/agents/2", m[1])

	form := url.Values{"csrf": {consoleFormToken(t, h)}}
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8070/agents/2/resume", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusConflict, rec.Code)
	m = reload.FindStringSubmatch(rec.Body.String())
	require.NotNil(t, m)
	assert.Equal(t, "5; url=/agents/2", m[1], "the answer to a form reloads the agent's page")
}

// The overview of a run whose agents are rejected, none parked, does not
// say that no agent needs attention: it points to the rejections, each of
// which waits for a person's correction.
func TestConsoleOverviewRejectedNeedAPerson(t *testing.T) {
	c := newRunConsole(t, filepath.Join(t.TempDir(), "run.db"), 3, "")
	_, err := c.DB.SQL().Exec("UPDATE fleet_agents SET state = 'rejected', kyc_status = 'REJECTED', rejection_code = 10, agent_id = 1000 + line WHERE line > 2")
	require.NoError(t, err)
	page := html.UnescapeString(getPage(t, asConsoleUser(c), "/"))
	assert.False(t, strings.Contains(page, "No agent needs attention."), "the overview says no agent needs attention")
	assert.True(t, strings.Contains(page, "No agent is parked; the 2 rejected agents above wait for what their rejection calls for."), "the overview points to the rejections")
}

// A token file other users can read (the console's, the callback
// token's) is warned about, as a data key file is; an owner-only one is
// used without a word, and the token is never printed.
func TestTokenFileReadableByOthers(t *testing.T) {
	_, vars := fakeEnv(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "run.db")
	require.NoError(t, os.WriteFile(db, nil, 0o600))
	rec := newReceiver(t)
	for _, tc := range []struct {
		name, token, warning string
		args                 func(file string) []string
	}{
		{"console", consoleTestToken, "warning: the console's --token-file %s can be read by other users (-rw-r--r--): make it readable by its owner only (chmod 600)",
			func(file string) []string { return []string{"console", "--db", db, "--token-file", file} }},
		{"trigger", testToken, "warning: the callback token's --token-file %s can be read by other users (-rw-r--r--): make it readable by its owner only (chmod 600)",
			func(file string) []string {
				return []string{"trigger", "APPROVED", "--agent", "7", "--url", rec.URL, "--token-file", file}
			}},
	} {
		for _, mode := range []os.FileMode{0o644, 0o600} {
			file := filepath.Join(dir, fmt.Sprintf("%s-token-%o", tc.name, mode))
			require.NoError(t, os.WriteFile(file, []byte(tc.token+"\n"), 0o600))
			require.NoError(t, os.Chmod(file, mode))
			r := cli(t, vars, "", tc.args(file)...)
			assert.NotContains(t, r.stderr+r.stdout, tc.token, tc.name)
			warned := strings.Contains(r.stderr, fmt.Sprintf(tc.warning, file))
			assert.Equal(t, mode == 0o644, warned, "%s %o: %s", tc.name, mode, r.stderr)
		}
	}
}

// The start line gives an address a browser can open: a loopback or given
// address as it is, and for every address of the machine (0.0.0.0, ::)
// the machine's name, not "[::]".
func TestConsoleURL(t *testing.T) {
	host, err := os.Hostname()
	require.NoError(t, err)
	for _, tc := range []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8070}, "http://127.0.0.1:8070/"},
		{&net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 443}, "http://192.0.2.7:443/"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 8070}, "http://" + net.JoinHostPort(host, "8070") + "/ (every address of this machine)"},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8071}, "http://" + net.JoinHostPort(host, "8071") + "/ (every address of this machine)"},
	} {
		assert.Equal(t, tc.want, consoleURL("http", tc.addr), tc.addr.String())
	}
}
