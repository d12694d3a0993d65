package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/fleet"
	"github.com/flipkyc/flipkyc/flipkyctest"
	"github.com/flipkyc/flipkyc/internal/pgtest"
)

// chromiumPath returns Debian's headless Chromium. Without it the browser
// tests are skipped, saying why, except in CI (CI=true), where they fail.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium on this machine: the console's browser tests need it (apt-get install chromium; .ci/run installs it)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// consoleToken is the console token of the browser tests.
const consoleTestToken = "console-token-Kq83nVb2Xw91"

// browserRun is a run of the sample CSV behind a console served by the
// built binary, against the in-process fake, and a headless Chromium.
type browserRun struct {
	t        *testing.T
	bin      string
	dir      string
	fake     *flipkyctest.Server
	env      []string // the commands' environment
	console  string   // the console's base URL
	stderr   *syncBuffer
	browser  context.Context
	personal []string // the run's personal values
	shots    string   // where screenshots go, "" for none
}

// newBrowserRun onboards examples/fleet/agents.csv (in a copy) plus the
// extra rows, with the fake's faults set by before, then serves the
// console and opens a browser.
func newBrowserRun(t *testing.T, extra [][]string, before func(*flipkyctest.Server)) *browserRun {
	return newBrowserRunAt(t, "", extra, before)
}

// newBrowserRunAt is newBrowserRun with the run in the database dsn (a
// Postgres URL; "" for the SQLite file beside the CSV).
func newBrowserRunAt(t *testing.T, dsn string, extra [][]string, before func(*flipkyctest.Server)) *browserRun {
	t.Helper()
	chrome := chromiumPath(t)
	bin := builtBinary(t)
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(filepath.Join(dir, "fleet"), os.DirFS("../../examples/fleet")))
	csvPath := filepath.Join(dir, "fleet", "agents.csv")
	if len(extra) > 0 {
		f, err := os.OpenFile(csvPath, os.O_APPEND|os.O_WRONLY, 0)
		require.NoError(t, err)
		w := csv.NewWriter(f)
		require.NoError(t, w.WriteAll(extra))
		require.NoError(t, f.Close())
	}
	cbAddr := "127.0.0.1:" + freePort(t)
	fake := flipkyctest.NewServer(t, flipkyctest.WithSecretKey(testKey), flipkyctest.WithCallbacks("http://"+cbAddr+"/", testToken))
	if before != nil {
		before(fake)
	}
	b := &browserRun{t: t, bin: bin, dir: dir, fake: fake}
	b.env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		flipkyc.EnvSecretKey + "=" + testKey, flipkyc.EnvAPIBaseURL + "=" + fake.AgentsURL, flipkyc.EnvKYCBaseURL + "=" + fake.KYCURL,
		envCallbackToken + "=" + testToken, envConsoleToken + "=" + consoleTestToken}
	b.personal = csvPersonalValues(t, csvPath)
	if os.Getenv("FLIPKYC_SCREENSHOTS") == "1" {
		b.shots = filepath.Join("testdata", "console")
		require.NoError(t, os.MkdirAll(b.shots, 0o755))
	}

	ctx, cancel := context.WithTimeout(context.Background(), fleetWait)
	defer cancel()
	db := filepath.Join(dir, "fleet", "agents.fleet.db")
	if dsn != "" {
		db = dsn
		b.env = append(b.env, fleet.EnvDataKey+"=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=") // a Postgres run's key is never beside it
	}
	onboard := exec.CommandContext(ctx, bin, "onboard", "--csv", csvPath, "--db", db, "--listen", cbAddr, "--workers", "1", "--rate", "1000", "--stale-after", "1s", "--reconcile-every", "500ms")
	onboard.Env = b.env
	out, err := onboard.CombinedOutput()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "onboard exits 1 (a bad row, rejections): %s", out)
	require.Equal(t, exitFailure, ee.ExitCode(), "%s", out)
	b.checkNoPersonal("onboard's output", string(out))

	t.Cleanup(func() { // after the console stopped
		b.checkNoPersonal("the console's stderr", b.stderr.String())
	})
	b.console, b.stderr = startConsole(t, bin, b.env, "--db", db, "--listen", cbAddr, "--rate", "1000", "--stale-after", "1s", "--reconcile-every", "500ms")

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1280, 1000))...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	// The first action starts the browser, which lives as long as the
	// context of that action: it has no timeout of its own.
	require.NoError(t, chromedp.Do(browser, chromedp.Navigate("about:blank")))
	b.browser = browser
	return b
}

// startConsole starts the built binary's console on a free loopback port
// with env and the arguments, and returns its base URL and its stderr; the
// console is stopped (SIGTERM) when the test ends, and its stderr must not
// hold the console token.
func startConsole(t *testing.T, bin string, env []string, args ...string) (string, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"console", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = env
	cmd.Stdout = io.Discard
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	require.NoError(t, cmd.Start())
	stderr := &syncBuffer{}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		pw.Close()
		assert.NotContains(t, stderr.String(), consoleTestToken, "the console's stderr")
	})
	serving := regexp.MustCompile(`serving .* at (http://127\.0\.0\.1:\d+)/`)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			_, _ = stderr.Write([]byte(sc.Text() + "\n"))
			if m := serving.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case u := <-found:
		return u, stderr
	case <-time.After(wait):
		t.Fatalf("the console did not start: %s", stderr.String())
		return "", nil
	}
}

// csvPersonalValues returns the personal values of a run's CSV: names,
// identity numbers, birth dates, addresses, phone numbers and e-mails.
func csvPersonalValues(t *testing.T, path string) []string {
	t.Helper()
	recs := readCSVFile(t, path)
	var out []string
	for _, rec := range recs[1:] {
		for i, col := range recs[0] {
			switch col {
			case "name", "identity_number", "birth_date", "address", "phone_number", "email":
				if rec[i] != "" {
					out = append(out, rec[i])
				}
			}
		}
	}
	return out
}

// checkNoPersonal checks that text holds none of the run's personal values.
func (b *browserRun) checkNoPersonal(where, text string) {
	b.t.Helper()
	for _, v := range b.personal {
		assert.NotContains(b.t, text, v, "%s holds a personal value", where)
	}
}

// do runs browser actions, bounded by wait.
func (b *browserRun) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.browser, wait)
	defer cancel()
	require.NoError(b.t, chromedp.Do(ctx, actions...))
}

// submit runs browser actions that send a form (or follow a link), waits
// for the page they load and returns its HTTP status.
func (b *browserRun) submit(actions ...chromedp.Action[chromedp.Void]) int {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.browser, wait)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, actions...)
	require.NoError(b.t, err)
	return int(resp.Status)
}

// get runs a browser action that returns a value, bounded by wait.
func get[T any](b *browserRun, action chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.browser, wait)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	require.NoError(b.t, err)
	return v
}

// html returns the page's HTML and checks it for personal values, unless
// the page reveals them.
func (b *browserRun) html(revealed bool) string {
	b.t.Helper()
	html := get(b, chromedp.OuterHTML(chromedp.CSS("html")))
	if !revealed {
		b.checkNoPersonal("the page "+b.location(), html)
	}
	return html
}

// location is the page's URL.
func (b *browserRun) location() string {
	return get(b, chromedp.Location())
}

// open loads a console page and returns its HTML, checked for personal
// values.
func (b *browserRun) open(path string) string {
	b.t.Helper()
	b.do(chromedp.Navigate(b.console+path), chromedp.WaitReady(chromedp.CSS("main")))
	return b.html(false)
}

// screenshot saves the page as testdata/console/NAME.png when
// FLIPKYC_SCREENSHOTS=1.
func (b *browserRun) screenshot(name string) {
	b.t.Helper()
	if b.shots == "" {
		return
	}
	shot := get(b, chromedp.FullScreenshot(100))
	require.NoError(b.t, os.WriteFile(filepath.Join(b.shots, name+".png"), shot, 0o644))
}

// text returns the text of the element sel.
func (b *browserRun) text(sel string) string {
	b.t.Helper()
	return strings.TrimSpace(get(b, chromedp.Text(chromedp.CSS(sel))))
}

// waitForState reloads the agent's page until its state is want.
func (b *browserRun) waitForState(line int, want string) string {
	b.t.Helper()
	deadline := time.Now().Add(fleetWait)
	for {
		b.open(fmt.Sprintf("/agents/%d", line))
		got := b.text("#state")
		if got == want {
			return b.html(false)
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("agent of line %d: state %s, want %s; console: %s", line, got, want, b.stderr.String())
		}
		time.Sleep(200 * time.Millisecond) // between reloads of a page that changes on its own
	}
}

// signIn signs the browser in with the token and returns the status of
// the page it lands on.
func (b *browserRun) signIn(token string) int {
	b.t.Helper()
	b.do(chromedp.Navigate(b.console+"/login"), chromedp.WaitVisible(chromedp.ID("token")), chromedp.SendKeys(chromedp.ID("token"), token))
	return b.submit(chromedp.Click(chromedp.ID("sign-in")))
}

// The console in a browser, end to end on the sample run: sign-in refused
// with a wrong token and taken with the right one, the overview, a filter,
// an agent's timeline, a reveal recorded in it, a correction refused field
// by field and then fixing both rejected sample agents (corrected data, a
// new identity photo, refused first as too small) until Flip approves
// them, supporting documents for an agent rejected with code 11 and a new
// selfie for one rejected with code 23 (both approved), and a form sent
// from another site refused. No page shows a personal value
// unless revealed, nor does the console's stderr.
func TestConsoleBrowser(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the command and drives a browser")
	}
	// Line 8: rejected with code 11, which calls for supporting documents;
	// line 9: with code 23, which calls for a new selfie.
	extra := [][]string{
		{"Wulan Sari", "ktp", "3201010101909911", "05-05-1991", "Kota Depok", "female", "entrepreneur", "1", "12", "184", "1234", "Jalan Kenanga Raya 8", "081200000008", "", "images/ktp-1.png", "images/selfie-1.png"},
		{"Yusuf Pratama", "ktp", "3201010101909923", "17-08-1987", "Kota Bogor", "male", "entrepreneur", "1", "12", "184", "1234", "Jalan Melati Raya 9", "081200000009", "", "images/ktp-2.png", "images/selfie-2.png"},
	}
	b := newBrowserRun(t, extra, nil)

	// Sign-in: every page leads to it; a wrong token is refused.
	b.open("/")
	assert.Contains(t, b.location(), "/login")
	b.screenshot("login")
	assert.Equal(t, http.StatusUnauthorized, b.signIn("not-the-console-token-at-all"))
	assert.Contains(t, b.html(false), "That is not the console's token.")
	assert.Equal(t, http.StatusOK, b.signIn(consoleTestToken))
	assert.Equal(t, b.console+"/", b.location())

	// The overview: states, rejections with their fix.
	html := b.open("/")
	assert.Regexp(t, `<a href="/agents\?state=rejected">rejected</a></td><td>4</td>`, html)
	assert.Contains(t, html, "upload a new identity photo")
	assert.Contains(t, html, "upload a new selfie")
	assert.Contains(t, html, "correct the agent's data")
	assert.Contains(t, html, "add supporting documents")
	b.screenshot("overview")

	// A filter: the rejected agents only.
	b.open("/agents")
	b.do(chromedp.SetValue(chromedp.CSS(`select[name="state"]`), "rejected"))
	assert.Equal(t, http.StatusOK, b.submit(chromedp.Click(chromedp.ID("filter"))))
	html = b.html(false)
	assert.Contains(t, b.location(), "state=rejected")
	lines := regexp.MustCompile(`<tr><td><a href="/agents/(\d+)">`).FindAllStringSubmatch(html, -1)
	var got []string
	for _, m := range lines {
		got = append(got, m[1])
	}
	assert.Equal(t, []string{"5", "6", "8", "9"}, got)
	b.screenshot("agents")
	// The other filters, by their links and query.
	for query, want := range map[string][]string{
		"kyc=REJECTED": {"5", "6", "8", "9"}, "code=14": {"5"}, "line=6": {"6"}, "agent=1001": {"2"}, "attention=1": nil,
	} {
		var lines []string
		for _, m := range agentLinks.FindAllStringSubmatch(b.open("/agents?"+query), -1) {
			lines = append(lines, m[1])
		}
		assert.Equal(t, want, lines, query)
	}

	// An agent's timeline: its requests with their Request-IDs.
	html = b.open("/agents/6")
	assert.Regexp(t, `<td>create</td><td><code>bigflip-[0-9a-f-]{36}</code></td>`, html)
	assert.Equal(t, "rejected", b.text("#state"))
	b.screenshot("agent")

	// Reveal: the values once, and the reveal in the timeline.
	assert.Equal(t, http.StatusOK, b.submit(chromedp.Click(chromedp.ID("reveal"))))
	html = b.html(true)
	assert.Contains(t, html, "Rudi Hartono")
	assert.Contains(t, html, "3201010101909910")
	b.screenshot("revealed")
	html = b.open("/agents/6")
	assert.Regexp(t, `<td>reveal</td><td>reveal</td><td></td><td>[^<]*</td><td>console 127\.0\.0\.1 session#[0-9a-f]{4}</td>`, html)

	b.fixSampleRejections()

	// Supporting documents for the agent rejected with code 11.
	newPhoto, err := filepath.Abs(filepath.Join(b.dir, "fleet", "images", "ktp-new.png"))
	require.NoError(t, err)
	b.open("/agents/8")
	b.do(chromedp.SetValue(chromedp.ID("type-1"), "family_card"), chromedp.SetUploadFiles(chromedp.ID("document-1"), []string{newPhoto}))
	assert.Equal(t, http.StatusOK, b.submit(chromedp.Click(chromedp.ID("send-documents"))))
	assert.Contains(t, b.location(), "/agents/8?done=documents")
	b.waitForState(8, "approved")
	assert.NotEmpty(t, b.fake.RequestsTo(flipkyctest.RouteDocuments))

	// A new selfie for the agent rejected with code 23.
	newSelfie, err := filepath.Abs(filepath.Join(b.dir, "fleet", "images", "selfie-2.png"))
	require.NoError(t, err)
	b.open("/agents/9")
	b.do(chromedp.SetUploadFiles(chromedp.ID("selfie-photo"), []string{newSelfie}))
	assert.Equal(t, http.StatusOK, b.submit(chromedp.Click(chromedp.ID("send-selfie"))))
	assert.Contains(t, b.location(), "/agents/9?done=selfie")
	b.waitForState(9, "approved")
	assert.NotEmpty(t, b.fake.RequestsTo(flipkyctest.RouteRepairSelfie))

	// Every sample agent approved; the timeline shows who repaired.
	html = b.open("/")
	assert.Regexp(t, `<a href="/agents\?state=approved">approved</a></td><td>7</td>`, html)
	b.screenshot("overview-approved")
	html = b.open("/agents/6")
	assert.Regexp(t, `<td>repair</td>.*console 127\.0\.0\.1 session#[0-9a-f]{4}`, html)

	// A form sent from another site (same host, another port: same site,
	// another origin) is refused, though the browser sends the cookie.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><form method="post" action="%s/agents/6/reveal"><input type="hidden" name="csrf" value="guess"><button id="go" type="submit">win a prize</button></form>`, b.console)
	}))
	defer evil.Close()
	b.do(chromedp.Navigate(evil.URL), chromedp.WaitVisible(chromedp.ID("go")))
	assert.Equal(t, http.StatusForbidden, b.submit(chromedp.Click(chromedp.ID("go"))))
	assert.Contains(t, b.html(false), "cross-site request forgery")
	b.screenshot("csrf-refused")
	html = b.open("/agents/6")
	assert.Equal(t, 1, strings.Count(html, "<td>reveal</td><td>reveal</td>"), "the refused reveal is not recorded")
}

// fixSampleRejections fixes the two rejected agents of the sample from the
// browser and waits until Flip approves them. Corrected data for line 6
// (code 10): a rule broken is shown next to its field and nothing is
// queued; then the corrected name is. A new identity photo for line 5 (code
// 14): one too small is refused by the SDK's image rules before anything
// is queued; then the sample's new photo is taken.
func (b *browserRun) fixSampleRejections() {
	t := b.t
	t.Helper()
	b.open("/agents/6")
	b.do(chromedp.SendKeys(chromedp.ID("f-birth_date"), "31-02-1990"))
	assert.Equal(t, http.StatusUnprocessableEntity, b.submit(chromedp.Click(chromedp.ID("send-data"))))
	b.html(false)
	assert.NotEmpty(t, b.text("#error-birth_date"))
	assert.Equal(t, "rejected", b.text("#state"))
	b.screenshot("agent-refused")
	b.do(chromedp.SendKeys(chromedp.ID("f-name"), "Rudi Hartono Putra"))
	assert.Equal(t, http.StatusOK, b.submit(chromedp.Click(chromedp.ID("send-data"))))
	assert.Contains(t, b.location(), "/agents/6?done=data")
	b.waitForState(6, "approved")

	// A new identity photo: one too small is refused by the SDK's image
	// rules before anything is queued; the new sample photo is taken.
	small := filepath.Join(t.TempDir(), "small.png")
	writeSmallPNG(t, small)
	b.open("/agents/5")
	b.do(chromedp.SetUploadFiles(chromedp.ID("identity-photo"), []string{small}))
	assert.Equal(t, http.StatusUnprocessableEntity, b.submit(chromedp.Click(chromedp.ID("send-identity-photo"))))
	assert.Contains(t, b.html(false), "256")
	assert.Equal(t, "rejected", b.text("#state"))
	newPhoto, err := filepath.Abs(filepath.Join(b.dir, "fleet", "images", "ktp-new.png"))
	require.NoError(t, err)
	b.do(chromedp.SetUploadFiles(chromedp.ID("identity-photo"), []string{newPhoto}))
	assert.Equal(t, http.StatusOK, b.submit(chromedp.Click(chromedp.ID("send-identity-photo"))))
	assert.Contains(t, b.location(), "/agents/5?done=identity-photo")
	b.waitForState(5, "approved")
}

// writeSmallPNG writes a PNG of 10x10 pixels: too small for Flip.
func writeSmallPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	require.NoError(t, png.Encode(f, image.NewRGBA(image.Rect(0, 0, 10, 10))))
}

// The console refuses requests without the token, with a wrong one, and
// forms without their form token or from another origin, over plain HTTP
// (the browser test covers the pages).
func TestConsoleRefusals(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the command")
	}
	b := newBrowserRun(t, nil, nil)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, path, auth string, form url.Values, header map[string]string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, b.console+path, strings.NewReader(form.Encode()))
		require.NoError(t, err)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := noRedirect.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		b.checkNoPersonal(method+" "+path, string(body))
		return resp
	}
	cases := []struct {
		name   string
		method string
		path   string
		auth   string
		form   url.Values
		header map[string]string
		want   int
	}{
		{"a page without sign-in goes to the sign-in form", "GET", "/agents/6", "", nil, nil, http.StatusSeeOther},
		{"an action without sign-in", "POST", "/agents/6/reveal", "", url.Values{}, nil, http.StatusUnauthorized},
		{"a wrong token", "GET", "/", "console-token-wrong-000000", nil, nil, http.StatusUnauthorized},
		{"the token", "GET", "/agents/6", consoleTestToken, nil, nil, http.StatusOK},
		{"a form from another origin", "POST", "/agents/6/resume", consoleTestToken, url.Values{}, map[string]string{"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"another Host (DNS rebinding)", "GET", "/", consoleTestToken, nil, map[string]string{"Host": "evil.example"}, http.StatusMisdirectedRequest},
		{"an unknown action", "POST", "/agents/6/delete", consoleTestToken, url.Values{}, nil, http.StatusNotFound},
		{"a correction the agent does not wait for (approved)", "POST", "/agents/2/data", consoleTestToken, url.Values{"name": {"Budi Santoso Baru"}}, nil, http.StatusConflict},
		{"a correction the SDK refuses", "POST", "/agents/6/data", consoleTestToken, url.Values{"phone_number": {"12"}}, nil, http.StatusUnprocessableEntity},
		{"a reveal of no agent", "POST", "/agents/99/reveal", consoleTestToken, url.Values{}, nil, http.StatusNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := do
			if c.header["Host"] != "" {
				req = func(method, path, auth string, form url.Values, header map[string]string) *http.Response {
					r, err := http.NewRequest(method, b.console+path, nil)
					require.NoError(t, err)
					r.Host = header["Host"]
					r.Header.Set("Authorization", "Bearer "+auth)
					resp, err := noRedirect.Do(r)
					require.NoError(t, err)
					resp.Body.Close()
					return resp
				}
			}
			resp := req(c.method, c.path, c.auth, c.form, c.header)
			assert.Equal(t, c.want, resp.StatusCode)
			for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY", "Cache-Control": "no-store"} {
				assert.Equal(t, v, resp.Header.Get(k), k)
			}
			assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'self'")
			assert.NotContains(t, resp.Header.Get("Content-Security-Policy"), "unsafe-inline")
		})
	}

	// A signed-in browser's form without its form token is refused.
	b.signIn(consoleTestToken)
	b.open("/agents/6")
	b.do(chromedp.SetAttributeValue(chromedp.CSS(`#reveal-form input[name="csrf"]`), "value", "stale"))
	assert.Equal(t, http.StatusForbidden, b.submit(chromedp.Click(chromedp.ID("reveal"))))
	assert.Contains(t, b.html(false), "form's token is missing or stale")
}

// The console refuses to serve a non-loopback address without a token,
// and a token given as anything but the environment or a file.
func TestConsoleNeedsTokenOffLoopback(t *testing.T) {
	_, vars := fakeEnv(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "run.db")
	require.NoError(t, os.WriteFile(db, nil, 0o600))
	r := cli(t, vars, "", "console", "--db", db, "--addr", "0.0.0.0:0")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "is not loopback: set "+envConsoleToken)
	vars[envConsoleToken] = "short"
	r = cli(t, vars, "", "console", "--db", db)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "at least 16 characters")
	r = cli(t, vars, "", "console", "--db", db, "--token", "x")
	assert.Equal(t, exitUsage, r.code, "no --token flag")
}

// The actions of parked agents, in a browser, end to end: a create whose
// outcome is unknown and that Flip never received is confirmed not created
// (the create's Request-ID) and the agent is created again; one that Flip
// did create is given its agent id and goes on without a create; a
// submission Flip refused is resumed. Each is approved (or decided) in the
// end, and each action is in the agent's timeline with who took it.
func TestConsoleBrowserParked(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the command and drives a browser")
	}
	b := newBrowserRun(t, nil, func(fake *flipkyctest.Server) {
		fake.FailNext(flipkyctest.RouteCreateAgent, 1, http.StatusGatewayTimeout)              // never reached Flip
		fake.FailNextAfterApplying(flipkyctest.RouteCreateAgent, 1, http.StatusGatewayTimeout) // created, answer lost
		fake.FailNext(flipkyctest.RouteSubmit, 1, http.StatusUnprocessableEntity)              // a submission refused
	})
	require.Equal(t, http.StatusOK, b.signIn(consoleTestToken))
	html := b.open("/agents?attention=1")
	b.screenshot("attention")
	parked := regexp.MustCompile(`<tr><td><a href="/agents/(\d+)">\d+</a></td><td>[^<]*</td><td>attention</td><td>[^<]*</td><td>[^<]*</td><td>([^<]*)</td>`).FindAllStringSubmatch(html, -1)
	require.Len(t, parked, 3, html)
	identities := csvColumn(t, filepath.Join(b.dir, "fleet", "agents.csv"), "identity_number")
	created := map[string]int64{}
	for _, a := range b.fake.Agents() {
		created[a.IdentityNumber] = a.ID
	}
	seen := map[string]bool{}
	for _, p := range parked {
		line, way := p[1], p[2]
		n := 0
		_, err := fmt.Sscan(line, &n)
		require.NoError(t, err)
		html := b.open("/agents/" + line)
		switch id, ok := created[identities[n]]; {
		case way == wayOutHelp(fleet.WayOutResume):
			seen["resume"] = true
			b.screenshot("agent-resume")
			assert.Equal(t, http.StatusOK, b.submit(chromedp.Click(chromedp.ID("resume"))))
			assert.Contains(t, b.location(), "done=resume")
		case way == wayOutHelp(fleet.WayOutAgentID) && ok:
			seen["agent-id"] = true
			b.do(chromedp.SendKeys(chromedp.ID("agent-id"), fmt.Sprint(id)))
			assert.Equal(t, http.StatusOK, b.submit(chromedp.Click(chromedp.ID("send-agent-id"))))
			assert.Contains(t, b.location(), "done=agent-id")
		case way == wayOutHelp(fleet.WayOutAgentID):
			seen["not-created"] = true
			b.screenshot("agent-not-created")
			rid := regexp.MustCompile(`Create's Request-ID</dt><dd><code>(bigflip-[0-9a-f-]{36})</code>`).FindStringSubmatch(html)
			require.NotNil(t, rid, html)
			b.do(chromedp.SendKeys(chromedp.ID("not-created"), rid[1]))
			assert.Equal(t, http.StatusOK, b.submit(chromedp.Click(chromedp.ID("send-not-created"))))
			assert.Contains(t, b.location(), "done=not-created")
		default:
			t.Errorf("line %s: way out %q", line, way)
		}
	}
	assert.Equal(t, map[string]bool{"resume": true, "agent-id": true, "not-created": true}, seen)
	for _, p := range parked {
		n := 0
		_, _ = fmt.Sscan(p[1], &n)
		want := "approved"
		if strings.HasPrefix(identities[n][len(identities[n])-4:], "99") {
			want = "rejected" // the sample's agents rejected by the fake's reviewer
		}
		html := b.waitForState(n, want)
		assert.Regexp(t, `<td>(action|repair)</td><td>[^<]*</td><td>(<code>[^<]*</code>)?</td><td>[^<]*</td><td>console 127\.0\.0\.1 session#[0-9a-f]{4}</td>`, html)
	}
	assert.Len(t, b.fake.RequestsTo(flipkyctest.RouteCreateAgent), 6, "5 agents, and the one Flip never received created again; the one it did never again")
}

// csvColumn returns a CSV's column by line (the header is line 1).
func csvColumn(t *testing.T, path, column string) map[int]string {
	t.Helper()
	recs := readCSVFile(t, path)
	out := map[int]string{}
	for i, col := range recs[0] {
		if col == column {
			for j, rec := range recs[1:] {
				out[j+2] = rec[i]
			}
		}
	}
	return out
}

// The console on a Postgres run: the overview, and both rejected sample
// agents fixed from the browser and approved, the console working the run
// alongside onboard's (finished) process as a second process would.
func TestConsoleBrowserPostgres(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the command and drives a browser")
	}
	b := newBrowserRunAt(t, pgtest.Database(t, "console"), nil, nil)
	require.Equal(t, http.StatusOK, b.signIn(consoleTestToken))
	html := b.open("/")
	assert.Regexp(t, `<a href="/agents\?state=rejected">rejected</a></td><td>2</td>`, html)
	b.fixSampleRejections()
	html = b.open("/")
	assert.Regexp(t, `<a href="/agents\?state=approved">approved</a></td><td>5</td>`, html)
}

// A photo larger than the console takes, sent from the browser, is
// answered with the console's page saying the limits (413), not a broken
// connection, and nothing is queued.
func TestConsoleBrowserOversizedUpload(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the command and drives a browser")
	}
	b := newBrowserRun(t, nil, nil)
	require.Equal(t, http.StatusOK, b.signIn(consoleTestToken))
	huge := filepath.Join(t.TempDir(), "huge.png")
	require.NoError(t, os.WriteFile(huge, make([]byte, maxUploadBytes+1<<20), 0o600))
	b.open("/agents/5")
	b.do(chromedp.SetUploadFiles(chromedp.ID("identity-photo"), []string{huge}))
	assert.Equal(t, http.StatusRequestEntityTooLarge, b.submit(chromedp.Click(chromedp.ID("send-identity-photo"))))
	assert.Contains(t, b.html(false), "The form is too large")
	html := b.open("/agents/5")
	assert.Equal(t, "rejected", b.text("#state"))
	assert.NotContains(t, html, `class="kind-repair"`, "nothing is queued")
}
