package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

func TestRunsTheWholeFlowOnTheFake(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	status, err := run(ctx, &out, func(string) string { return "" })
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if status != flipkyc.StatusApproved {
		t.Fatalf("final status %s", status)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 9 {
		t.Fatalf("want a header, 7 steps and the final status, got:\n%s", out.String())
	}
	for i, prefix := range []string{"running against the built-in fake", "1/7 locations: Indonesia (1) / Jawa Barat (12)",
		"2/7 created agent", "3/7 uploaded identity image", "4/7 uploaded selfie", "5/7 upload check: UPLOAD_IDENTITY_SELFIE_SUCCESS",
		"6/7 submitted", "7/7 decision: APPROVED", "final KYC status: APPROVED"} {
		if !strings.HasPrefix(lines[i], prefix) {
			t.Errorf("line %d = %q, want prefix %q", i+1, lines[i], prefix)
		}
	}
}

// TestPollsWhenGivenAKey runs the "real Flip" path, which polls instead of
// receiving callbacks, against a fake standing in for the sandbox.
func TestPollsWhenGivenAKey(t *testing.T) {
	if testing.Short() {
		t.Skip("polls with real intervals (a few seconds)")
	}
	fake := flipkyctest.NewServer(t)
	status, out := runAgainst(t, fake)
	if status != flipkyc.StatusApproved || !strings.HasPrefix(out.String(), "running against Flip at "+fake.AgentsURL) {
		t.Fatalf("status %s, output:\n%s", status, out.String())
	}
	if n := len(fake.Requests()); n < 10 {
		t.Errorf("the fake saw only %d requests", n)
	}
}

func TestFreshIdentityEachRun(t *testing.T) {
	a, err := newAgent(1, 12, 184, 1234)
	if err != nil {
		t.Fatal(err)
	}
	b, err := newAgent(1, 12, 184, 1234)
	if err != nil {
		t.Fatal(err)
	}
	if a.IdentityNumber == b.IdentityNumber || a.PhoneNumber == b.PhoneNumber {
		t.Fatalf("two runs share an identity: %s %s", a.IdentityNumber, a.PhoneNumber)
	}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
}

// The flow finishes when the submission's reply is lost: a submission Flip
// never applied is sent again, one it applied is confirmed by reading, and
// exactly one review starts.
func TestFinishesAfterALostSubmission(t *testing.T) {
	if testing.Short() {
		t.Skip("polls with real intervals (a few seconds)")
	}
	for _, tc := range []struct {
		name  string
		fault func(*flipkyctest.Server)
	}{
		{"503 before Flip applied it", func(s *flipkyctest.Server) { s.FailNext(flipkyctest.RouteSubmit, 1, 503) }},
		{"applied, then the reply lost", func(s *flipkyctest.Server) { s.FailNextAfterApplying(flipkyctest.RouteSubmit, 1, 503) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			reviews := 0
			fake := flipkyctest.NewServer(t, flipkyctest.WithReviewer(func(a flipkyc.Agent, n int) flipkyctest.Decision {
				mu.Lock()
				reviews++
				mu.Unlock()
				return flipkyctest.DefaultReviewer(a, n)
			}))
			tc.fault(fake)
			status, out := runAgainst(t, fake)
			if status != flipkyc.StatusApproved {
				t.Fatalf("final status %s\n%s", status, out.String())
			}
			mu.Lock()
			defer mu.Unlock()
			if reviews != 1 {
				t.Errorf("%d reviews, want exactly 1", reviews)
			}
		})
	}
}

// runAgainst runs the example's "real Flip" path (a key is set, so it
// polls) against fake, and returns the final status and what it printed.
func runAgainst(t *testing.T, fake *flipkyctest.Server) (flipkyc.KYCStatus, *bytes.Buffer) {
	t.Helper()
	env := map[string]string{
		flipkyc.EnvSecretKey:  fake.SecretKey(),
		flipkyc.EnvAPIBaseURL: fake.AgentsURL,
		flipkyc.EnvKYCBaseURL: fake.KYCURL,
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	status, err := run(ctx, &out, func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	return status, &out
}
