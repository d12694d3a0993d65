// Command webhook receives Flip's Agent KYC callbacks and prints each
// accepted event to stdout as one line of JSON with Flip's field names.
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
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
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

// newHandler returns the callback handler that prints each event as a line.
func newHandler(token string, out io.Writer, logger *slog.Logger) (http.Handler, error) {
	if token == "" {
		return nil, errors.New("FLIP_CALLBACK_TOKEN is not set: the receiver refuses to run without it")
	}
	var mu sync.Mutex
	enc := json.NewEncoder(out)
	return flipkyc.NewCallbackHandler(token, func(ctx context.Context, ev flipkyc.Event) error {
		mu.Lock()
		defer mu.Unlock()
		return enc.Encode(ev) // a real receiver writes to its database here
	}, flipkyc.WithCallbackLogger(logger))
}
