package flipkyc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCallbackReceiverUnderLoad posts 10,000 callbacks from 50 goroutines to
// the handler while its store fails now and then, and checks that every
// callback answered 200 was stored: nothing is acknowledged and lost. The
// callbacks vary in content type and number form, as an authentic callback
// may: none is refused for it.
func TestCallbackReceiverUnderLoad(t *testing.T) {
	const senders, perSender = 50, 200
	var mu sync.Mutex
	stored := map[string]bool{}
	var calls, failures atomic.Int64
	h, err := NewCallbackHandler("load-token", func(ctx context.Context, ev Event) error {
		if calls.Add(1)%7 == 0 {
			failures.Add(1)
			return errors.New("store unavailable")
		}
		mu.Lock()
		defer mu.Unlock()
		stored[ev.Key()] = true
		return nil
	})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: senders}}
	defer client.CloseIdleConnections()

	type outcome struct {
		key    string
		status int
	}
	outcomes := make(chan outcome, senders*perSender)
	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perSender {
				ev := Event{AgentID: int64(s*perSender + i + 1), AgentName: "Load", KYCStatus: StatusApproved}
				ev.UpdatedAt, _ = ParseTimestamp("2026-11-23 10:00:00")
				req, err := newCallbackRequest(context.Background(), srv.URL, ev, "load-token")
				if err != nil {
					outcomes <- outcome{ev.Key(), 0}
					continue
				}
				switch i % 3 {
				case 1: // no content type, the id as "N.0"
					data := fmt.Sprintf(`{"agent_id":"%d.0","agent_name":"Load","kyc_status":"APPROVED","updated_at":"2026-11-23 10:00:00"}`, ev.AgentID)
					body := url.Values{"data": {data}, "token": {"load-token"}}.Encode()
					req.Body, req.ContentLength = io.NopCloser(strings.NewReader(body)), int64(len(body))
					req.Header.Del("Content-Type")
				case 2:
					req.Header.Set("Content-Type", "text/plain; charset=utf-8")
				}
				resp, err := client.Do(req)
				status := 0
				if err == nil {
					status = resp.StatusCode
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
				}
				outcomes <- outcome{ev.Key(), status}
			}
		}()
	}
	wg.Wait()
	close(outcomes)

	acknowledged, refused := 0, 0
	mu.Lock()
	defer mu.Unlock()
	for o := range outcomes {
		switch o.status {
		case http.StatusOK:
			acknowledged++
			assert.True(t, stored[o.key], "%s was answered 200 but not stored", o.key)
		default:
			refused++
			assert.False(t, stored[o.key], "%s was stored but refused", o.key)
		}
	}
	assert.Equal(t, senders*perSender, acknowledged+refused)
	assert.Equal(t, int(failures.Load()), refused, "every refusal was a store failure, answered non-200")
	assert.Greater(t, refused, 1000, "the store did fail now and then")
	assert.Len(t, stored, acknowledged)
}
