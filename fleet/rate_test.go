package fleet

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc"
)

// The local limiter hands out slots one interval apart, however many
// workers ask at once, so requests never go faster than the rate.
func TestLocalLimiterSpacesSlots(t *testing.T) {
	l := newLocalLimiter(1000) // 1 ms apart
	start := time.Now()
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if err := l.wait(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// 50 slots handed out: the next free one is at least 50 intervals
	// after the first.
	if got := l.next.Sub(start); got < 50*time.Millisecond {
		t.Errorf("50 slots span %v, want at least 50ms", got)
	}
}

// A request whose context ends while it waits for the rate limit was never
// sent, and says so, so that the SDK does not take a state change for one
// whose outcome is unknown.
func TestLimitedTransportSaysNothingWasSent(t *testing.T) {
	l := newLocalLimiter(0.001) // one request every 1000 s
	called := false
	tr := &limitedTransport{lim: l, base: roundTrip(func(*http.Request) (*http.Response, error) {
		called = true
		return nil, errors.New("sent")
	})}
	if err := l.wait(context.Background()); err != nil { // takes the first slot
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://127.0.0.1/agents", nil)
	_, err := tr.RoundTrip(req)
	if !errors.Is(err, flipkyc.ErrNotSent) || !errors.Is(err, context.Canceled) || called {
		t.Fatalf("RoundTrip = %v (base called %v), want ErrNotSent and context.Canceled, base not called", err, called)
	}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
