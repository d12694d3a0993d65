// Command webhook receives Flip's Agent KYC callbacks and prints each
// accepted event to stdout as one line of JSON with Flip's field names; the
// agent's name is printed as [masked] and the raw data not at all, since both
// are personal data. An event whose data could not be fully decoded carries
// a "problems" list.
//
//	FLIP_CALLBACK_TOKEN=<validation token> go run ./examples/webhook -addr 127.0.0.1:8080
//
// Point Flip's "Agent KYC Verification" callback URL at /flip/kyc on this
// address. Flip sends each callback only once: a real receiver stores the
// event (durably) before it answers, which is what the handler function is for.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/flipkyc/flipkyc"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, os.Getenv("FLIP_CALLBACK_TOKEN"), os.Stdout, logger); err != nil {
		fmt.Fprintln(os.Stderr, "webhook:", err)
		os.Exit(1)
	}
}

// run serves callbacks on addr until ctx ends.
func run(ctx context.Context, addr, token string, out io.Writer, logger *slog.Logger) error {
	h, err := newHandler(token, out, logger)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/flip/kyc", h)
	srv := newServer(addr, mux)
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	logger.Info("listening for Flip KYC callbacks", "url", "http://"+addr+"/flip/kyc")
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newServer returns a server with every timeout set, so that no client can
// hold a connection open by sending slowly or not at all. The callback
// handler also bounds its own body read (flipkyc.DefaultCallbackReadTimeout).
func newServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,  // the request line and headers
		ReadTimeout:       15 * time.Second, // the whole request, body included
		WriteTimeout:      30 * time.Second, // the handler's work (storing the event) and the reply
		IdleTimeout:       60 * time.Second, // a kept-alive connection between requests
	}
}

// line is what the receiver prints for an event: Flip's fields, with the
// agent's name masked, and what could not be decoded.
type line struct {
	flipkyc.Event
	Problems []string `json:"problems,omitempty"`
}

// newHandler returns the callback handler that prints each event as a line.
func newHandler(token string, out io.Writer, logger *slog.Logger) (http.Handler, error) {
	if token == "" {
		return nil, errors.New("FLIP_CALLBACK_TOKEN is not set: the receiver refuses to run without it")
	}
	var mu sync.Mutex
	enc := json.NewEncoder(out)
	return flipkyc.NewCallbackHandler(token, func(ctx context.Context, ev flipkyc.Event) error {
		// A real receiver writes ev, with ev.Raw, to its database here: an
		// event with Problems is stored too, since Flip does not send it again.
		printed := line{Event: ev, Problems: ev.Problems}
		if printed.AgentName != "" {
			printed.AgentName = "[masked]"
		}
		mu.Lock()
		defer mu.Unlock()
		return enc.Encode(printed)
	}, flipkyc.WithCallbackLogger(logger))
}
