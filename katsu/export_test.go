package katsu

import (
	"context"
	"sync"
	"time"

	"github.com/flipkyc/flipkyc/internal/backoff"
)

// FakeClock is a clock for tests: Sleep records the wait and returns at
// once (or with ctx's error when ctx has ended), and Now advances by it.
type FakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
	// OnSleep, when set, runs inside each Sleep (for example to cancel).
	OnSleep func()
}

// NewFakeClock returns a FakeClock at a fixed instant.
func NewFakeClock() *FakeClock {
	return &FakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

// Now returns the fake time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep records d.
func (c *FakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	hook := c.OnSleep
	c.mu.Unlock()
	if hook != nil {
		hook()
	}
	return ctx.Err()
}

// Waits returns the waits slept so far.
func (c *FakeClock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

// WithClock replaces the client's time source.
func WithClock(c backoff.Clock) Option {
	return func(cfg *config) error {
		cfg.clock = c
		return nil
	}
}

// DecodePage exposes decodePage to the tests.
func DecodePage(data []byte, requested int) (Page, error) {
	env, err := parseEnvelope(data)
	if err != nil {
		return Page{}, err
	}
	return decodePage(env.data, env.fields, requested)
}

// ParseEnvelope exposes the envelope reader to the tests.
func ParseEnvelope(raw []byte) (succeeded *bool, message string, errs []string, data []byte, err error) {
	env, err := parseEnvelope(raw)
	for _, e := range env.errors {
		errs = append(errs, e.String())
	}
	return env.succeeded, env.message, errs, env.data, err
}
