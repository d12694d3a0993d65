package flipkyctest_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// benchAgent returns distinct valid create parameters for the agent numbered n.
func benchAgent(n int) flipkyc.AgentParams {
	return agentParams(fmt.Sprintf("3201%012d", n), fmt.Sprintf("0812%08d", n))
}

// seedAgents creates agents numbered 0 to n-1 through the client, from a few
// goroutines.
func seedAgents(b *testing.B, c *flipkyc.Client, n int) {
	b.Helper()
	const workers = 4
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				if _, err := c.CreateAgent(context.Background(), benchAgent(i)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// BenchmarkCreateAgents measures one create through the SDK, duplicate check
// included, on a fake that already holds 1,000 or 10,000 agents. Every
// iteration adds an agent, so run it with a fixed count, such as
// -benchtime=300x, to keep the sizes apart.
func BenchmarkCreateAgents(b *testing.B) {
	for _, existing := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("existing=%d", existing), func(b *testing.B) {
			srv := flipkyctest.NewServer(b)
			c, err := srv.NewClient()
			if err != nil {
				b.Fatal(err)
			}
			seedAgents(b, c, existing)
			n := existing
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.CreateAgent(context.Background(), benchAgent(n)); err != nil {
					b.Fatal(err)
				}
				n++
			}
		})
	}
}
