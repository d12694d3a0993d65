package fleet_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/flipkyc/flipkyc/fleet"
)

// lockedBuffer is a log sink safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A callback for an agent the run does not have (another run's) is
// answered 200 and stored, never refused, and the run says so on its
// logger by agent id, with nothing personal.
func TestCallbackForAnAgentOfAnotherRunIsStoredAndReported(t *testing.T) {
	t.Parallel()
	db, err := fleet.Open(context.Background(), filepath.Join(t.TempDir(), "run.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var logs lockedBuffer
	f, err := fleet.New(fleet.Config{DB: db, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h, err := f.CallbackHandler("dev-token")
	if err != nil {
		t.Fatal(err)
	}
	const name, reason = "Siti Rahayu Lestari", "KTP 3174096512880077 tidak jelas"
	data := `{"agent_id":"98765","agent_name":"` + name + `","kyc_status":"REJECTED","rejected_reason_code":"14","rejected_reason":"` + reason + `","created_at":"2026-12-07 10:00:00","updated_at":"2026-12-07 10:00:01"}`
	for range 2 { // a repeat is stored once
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(url.Values{"token": {"dev-token"}, "data": {data}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("answered %d: %s", rec.Code, rec.Body)
		}
	}
	var n int
	if err := db.SQL().QueryRow("SELECT COUNT(*) FROM fleet_events WHERE agent_id = 98765 AND applied = 0").Scan(&n); err != nil || n != 1 {
		t.Fatalf("stored events: %d, %v; want 1, not applied", n, err)
	}
	got := logs.String()
	if !strings.Contains(got, "does not have") || !strings.Contains(got, "agent_id=98765") {
		t.Errorf("not reported: %q", got)
	}
	for _, p := range []string{"Siti", "Rahayu", "3174096512880077", "tidak"} {
		if strings.Contains(got, p) {
			t.Errorf("the report shows %q: %s", p, got)
		}
	}
}
