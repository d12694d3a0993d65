package flipkyc

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stallingServer answers with headers and the start of a body, then holds
// the connection open without sending more until the test ends.
func stallingServer(t *testing.T) (url string, requests func() int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	count := make(chan int, 1)
	count <- 0
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			count <- <-count + 1
			go func() {
				defer conn.Close()
				_, _ = http.ReadRequest(bufio.NewReader(conn))
				_, _ = conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"id\": 1,"))
				<-done
			}()
		}
	}()
	t.Cleanup(func() { close(done); _ = ln.Close() })
	return "http://" + ln.Addr().String(), func() int { n := <-count; count <- n; return n }
}

func TestStalledReplyIsAbandoned(t *testing.T) {
	tests := []struct {
		name     string
		call     func(context.Context, *Client) error
		requests int
		want     error
	}{
		// A stall already waited the whole idle timeout: it is not
		// retried, so a call without a deadline meets it once.
		{"a read is not retried", getAgent, 1, ErrStalled},
		{"a create is not repeated: outcome unknown", create, 1, ErrOutcomeUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, requests := stallingServer(t)
			// Whatever *http.Client the caller brings, even one with no
			// timeouts at all, the idle timeout bounds the call.
			c, _ := newTestClient(t, url, url, WithHTTPClient(&http.Client{}), WithIdleTimeout(100*time.Millisecond))
			done := make(chan error, 1)
			go func() { done <- tt.call(context.Background(), c) }()
			select {
			case err := <-done:
				recordErr(err)
				require.ErrorIs(t, err, tt.want)
				assert.ErrorIs(t, err, ErrStalled)
				assert.Contains(t, err.Error(), "nothing sent or received for 100ms")
				var re *RetryError
				assert.False(t, errors.As(err, &re), "a stalled attempt was retried")
			case <-time.After(30 * time.Second):
				t.Fatal("the call did not end")
			}
			assert.Equal(t, tt.requests, requests())
		})
	}
}

func TestIdleTimeoutDoesNotCutAMovingReply(t *testing.T) {
	// A reply that trickles in, each byte well within the idle timeout but
	// the whole far longer than it, is read to its end.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = http.ReadRequest(bufio.NewReader(conn))
		body := `{"id": 1, "name": "John Doe", "kyc_status": "APPROVED"}`
		_, _ = conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"))
		for i := range len(body) {
			_, _ = conn.Write([]byte{body[i]})
			time.Sleep(20 * time.Millisecond)
		}
	}()
	url := "http://" + ln.Addr().String()
	c, _ := newTestClient(t, url, url, WithIdleTimeout(500*time.Millisecond))
	a, err := c.GetAgent(context.Background(), 1)
	require.NoError(t, err)
	assert.Equal(t, StatusApproved, a.KYCStatus)
}

func TestWithIdleTimeoutRejectsNonPositive(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Second} {
		_, err := New(testKey, WithIdleTimeout(d))
		assert.ErrorContains(t, err, "WithIdleTimeout")
	}
}
