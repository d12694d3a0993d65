package backoff

import (
	"context"
	"math"
	"net/http"
	"testing"
	"time"
)

func TestExponential(t *testing.T) {
	tests := []struct {
		base, max time.Duration
		attempt   int
		lo, hi    time.Duration // the wait is in [lo, hi]
	}{
		{time.Second, 30 * time.Second, 1, 500 * time.Millisecond, time.Second},
		{time.Second, 30 * time.Second, 2, time.Second, 2 * time.Second},
		{time.Second, 30 * time.Second, 5, 8 * time.Second, 16 * time.Second},
		{time.Second, 30 * time.Second, 6, 15 * time.Second, 30 * time.Second},
		{time.Second, 30 * time.Second, 1000, 15 * time.Second, 30 * time.Second},
		{math.MaxInt64 / 3, math.MaxInt64, 40, math.MaxInt64 / 2, math.MaxInt64},
		{0, time.Second, 3, 0, 0},
		{time.Second, 0, 3, 0, 0},
	}
	for _, tt := range tests {
		for range 50 {
			d := Exponential(tt.base, tt.max, tt.attempt)
			if d < tt.lo || d > tt.hi {
				t.Fatalf("Exponential(%v, %v, %d) = %v, want within [%v, %v]", tt.base, tt.max, tt.attempt, d, tt.lo, tt.hi)
			}
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"7", 7 * time.Second},
		{" 7 ", 7 * time.Second},
		{"-3", 0},
		{"999999999", 24 * time.Hour},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{now.Add(100 * 24 * time.Hour).Format(http.TimeFormat), 24 * time.Hour},
		{"soon", 0},
	}
	for _, tt := range tests {
		if got := ParseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestSleepEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); err != context.Canceled {
		t.Fatalf("Sleep on a cancelled context = %v, want context.Canceled", err)
	}
	if err := Sleep(context.Background(), time.Nanosecond); err != nil {
		t.Fatalf("Sleep = %v", err)
	}
}

func TestPolicy(t *testing.T) {
	def := Policy{MaxAttempts: 5, BaseDelay: time.Second, MaxDelay: 30 * time.Second, MaxRetryAfter: time.Minute}
	if got := (Policy{}).Or(def); got != def {
		t.Errorf("zero policy Or = %+v, want the defaults", got)
	}
	own := Policy{MaxAttempts: 1, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond, MaxRetryAfter: time.Millisecond}
	if got := own.Or(def); got != own {
		t.Errorf("a full policy Or = %+v, want it unchanged", got)
	}
	for _, bad := range []Policy{{MaxAttempts: -1}, {BaseDelay: -1}, {MaxDelay: -1}, {MaxRetryAfter: -1}} {
		if bad.Check() == nil {
			t.Errorf("%+v passed Check", bad)
		}
	}
	if err := def.Check(); err != nil {
		t.Errorf("Check(%+v) = %v", def, err)
	}
	if got := def.Delay(3, 2*time.Minute); got != time.Minute {
		t.Errorf("Retry-After over the cap: Delay = %v, want %v", got, time.Minute)
	}
	if got := def.Delay(1, 7*time.Second); got != 7*time.Second {
		t.Errorf("Retry-After under the cap: Delay = %v", got)
	}
	var c Clock = RealClock{}
	if c.Now().IsZero() {
		t.Error("RealClock.Now is zero")
	}
}
