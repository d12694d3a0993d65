package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/fleet"
)

// benchAgents is the size of the run the console's list is paged in.
const benchAgents = 50_000

// newBenchConsole returns the console's handler (no sign-in, no worker) on
// a SQLite run of n imported agents, on lines 2 to n+1.
func newBenchConsole(tb testing.TB, n int) http.Handler {
	tb.Helper()
	return asConsoleUser(newRunConsole(tb, filepath.Join(tb.TempDir(), "run.db"), n, ""))
}

// newRunConsole returns the console (no worker) on a run of n imported
// agents, on lines 2 to n+1, in the database dsn, signing in with token
// ("" for none).
func newRunConsole(tb testing.TB, dsn string, n int, token string) *consoleServer {
	tb.Helper()
	ctx := context.Background()
	raw := make([]byte, fleet.DataKeySize)
	_, _ = rand.Read(raw)
	key, err := fleet.NewDataKey(raw)
	require.NoError(tb, err)
	d, err := fleet.Open(ctx, dsn, fleet.WithDataKey(key))
	require.NoError(tb, err)
	tb.Cleanup(func() { d.Close() })
	f, err := fleet.New(fleet.Config{DB: d})
	require.NoError(tb, err)
	rows := make([]fleet.Row, 0, 1000)
	for i := range n {
		rows = append(rows, fleet.Row{Line: i + 2, Params: flipkyc.AgentParams{Name: fleetName(fmt.Sprint(i)), IdentityType: flipkyc.IdentityKTP,
			IdentityNumber: fmt.Sprintf("%s%06d", testIdentity, i), PhoneNumber: fmt.Sprintf("%s%06d", testPhone, i)}})
		if len(rows) == cap(rows) || i == n-1 {
			_, _, err := f.Import(ctx, rows)
			require.NoError(tb, err)
			rows = rows[:0]
		}
	}
	c, err := newConsole(consoleConfig{DB: d, Fleet: f, Token: token, Loopback: true, Addr: "127.0.0.1:8070"})
	require.NoError(tb, err)
	return c
}

// getPage serves one GET of path and checks it answered 200.
func getPage(tb testing.TB, h http.Handler, path string) string {
	req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8070"+path, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		tb.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body.String())
	}
	return rec.Body.String()
}

// BenchmarkConsoleAgentList pages the agent list of a run of 50,000
// agents through the console's HTTP handler: the first page, a page near
// the end (keyset paging: as fast as the first), and the same two pages
// filtered by state. It reports each page's time per request and the
// deep page's time as a multiple of the first's.
//
//	go test -run '^$' -bench ConsoleAgentList -benchmem ./cmd/flipkyc
func BenchmarkConsoleAgentList(b *testing.B) {
	h := newBenchConsole(b, benchAgents)
	deepAfter := benchAgents - 100
	pages := []struct{ name, first, deep string }{
		{"all", "/agents", fmt.Sprintf("/agents?after=%d", deepAfter)},
		{"state", "/agents?state=new", fmt.Sprintf("/agents?state=new&after=%d", deepAfter)},
	}
	for _, p := range pages {
		require.Contains(b, getPage(b, h, p.deep), fmt.Sprintf(`href="/agents/%d"`, deepAfter+1))
		b.Run(p.name, func(b *testing.B) {
			var first, deep time.Duration
			for b.Loop() {
				start := time.Now()
				getPage(b, h, p.first)
				mid := time.Now()
				getPage(b, h, p.deep)
				first += mid.Sub(start)
				deep += time.Since(mid)
			}
			b.ReportMetric(float64(first.Nanoseconds())/float64(b.N), "first-ns/page")
			b.ReportMetric(float64(deep.Nanoseconds())/float64(b.N), "deep-ns/page")
			b.ReportMetric(float64(deep)/float64(first), "deep/first")
		})
	}
}

// The list pages through every agent of a run by its Next links, in line
// order, each agent once, 50 a page (a small run: the benchmark measures a
// large one).
func TestConsoleAgentListPages(t *testing.T) {
	h := newBenchConsole(t, 120)
	var lines []string
	path := "/agents"
	for pages := 0; path != ""; pages++ {
		require.Less(t, pages, 4)
		body := getPage(t, h, path)
		for _, m := range agentLinks.FindAllStringSubmatch(body, -1) {
			lines = append(lines, m[1])
		}
		path = ""
		if m := nextLink.FindStringSubmatch(body); m != nil {
			path = strings.ReplaceAll(m[1], "&amp;", "&")
		}
	}
	require.Len(t, lines, 120)
	for i, l := range lines {
		require.Equal(t, fmt.Sprint(i+2), l)
	}
	body := getPage(t, h, "/agents?line=7")
	require.Len(t, agentLinks.FindAllStringSubmatch(body, -1), 1)
	req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8070/agents?line=x", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Contains(t, rec.Body.String(), "line: want a whole number")
}

// agentLinks and nextLink find the agents and the next page's link in the
// list's HTML.
var (
	agentLinks = regexp.MustCompile(`<tr><td><a href="/agents/(\d+)">`)
	nextLink   = regexp.MustCompile(`<a href="([^"]*)" id="next">`)
)
