package fleet_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/fleet"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// processHarness is a run against 'flipkyc fake' in a process of its
// own, so that this process's CPU time is the fleet's alone: onboarding
// and callback handling (the fake's callbacks reach the fleet's
// CallbackHandler over loopback HTTP), as 'flipkyc onboard --listen'.
type processHarness struct {
	db   *fleet.DB
	f    *fleet.Fleet
	fake *exec.Cmd
}

// newProcessHarness opens dsn and starts the fake's process, which ends
// with t (or at stopFake, which returns its CPU time).
func newProcessHarness(t testing.TB, dsn string, cfg fleet.Config) *processHarness {
	t.Helper()
	h := &processHarness{db: openTestRun(t, dsn)}
	// The fake sends callbacks only for agents the fleet created, so the
	// handler is set before the first one comes.
	var handler atomic.Pointer[http.Handler]
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*handler.Load()).ServeHTTP(w, r)
	}))
	t.Cleanup(recv.Close)

	h.fake = exec.Command(flipkycBinary(t), "fake", "--addr", "127.0.0.1:0", "--callback-url", recv.URL+"/")
	h.fake.Env = append(os.Environ(), "FLIP_CALLBACK_TOKEN="+flipkyctest.DefaultCallbackToken)
	h.fake.Stderr = os.Stderr
	stdout, err := h.fake.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := h.fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.stopFake() })
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil {
		t.Fatalf("the fake's start line: %v", err)
	}
	var start struct {
		AgentsURL string `json:"agents_url"`
		KYCURL    string `json:"kyc_url"`
		SecretKey string `json:"secret_key"`
	}
	if err := json.Unmarshal(line, &start); err != nil {
		t.Fatalf("the fake's start line: %v", err)
	}

	cfg.DB = h.db
	cfg.SecretKey = start.SecretKey
	cfg.ClientOptions = append([]flipkyc.Option{flipkyc.WithBaseURLs(start.AgentsURL, start.KYCURL)}, cfg.ClientOptions...)
	if h.f, err = fleet.New(cfg); err != nil {
		t.Fatal(err)
	}
	hd, err := h.f.CallbackHandler(flipkyctest.DefaultCallbackToken)
	if err != nil {
		t.Fatal(err)
	}
	handler.Store(&hd)
	return h
}

// stopFake stops the fake's process (once) and returns the CPU time it
// used, user and system.
func (h *processHarness) stopFake() time.Duration {
	if h.fake.ProcessState == nil {
		_ = h.fake.Process.Signal(syscall.SIGINT)
		done := make(chan struct{})
		go func() { _ = h.fake.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = h.fake.Process.Kill()
			<-done
		}
	}
	return h.fake.ProcessState.UserTime() + h.fake.ProcessState.SystemTime()
}
