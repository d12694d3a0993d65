package katsu_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc/katsu"
	"github.com/flipkyc/flipkyc/katsu/katsutest"
)

// A server that ignores PageNumber and always says there is more must not
// keep All reading forever.
func TestAllStopsOnARepeatedPage(t *testing.T) {
	var n atomic.Int32
	c, _ := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		reply(200, `{"succeeded":true,"data":[`+recordJSON+`],"hasNextPage":true}`)(w, r)
	}))
	var got int
	var last error
	for _, err := range c.All(context.Background(), katsu.ListParams{}) {
		if err != nil {
			last = err
			continue
		}
		got++
	}
	assert.Equal(t, 1, got)
	require.Error(t, last)
	assert.Contains(t, last.Error(), "ignores PageNumber")
	assert.EqualValues(t, 2, n.Load())
}

// One client serves many goroutines at once (run with -race).
func TestConcurrentCalls(t *testing.T) {
	srv := katsutest.NewServer(t)
	c, err := srv.NewClient()
	require.NoError(t, err)
	ids := make([]string, 8)
	for i := range ids {
		ids[i] = srv.AddRecord(katsu.Record{Name: fmt.Sprint("person ", i)}).ID
	}
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			ctx := context.Background()
			_, err := c.Update(ctx, katsu.UpdateParams{KYCID: id, Tier: katsu.Tier(i % 3), BVN: fmt.Sprintf("222000000%02d", i)})
			assert.NoError(t, err)
			_, err = c.Approve(ctx, id, "9b2f1c3e-8d4a-4f6b-a1c2-3d4e5f6a7b8c", katsu.Lang(katsu.French))
			assert.NoError(t, err)
			rec, err := c.Get(ctx, id)
			assert.NoError(t, err)
			assert.True(t, rec.Approved)
			_, err = c.List(ctx, katsu.ListParams{PageSize: 3})
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	for _, r := range srv.Records() {
		assert.True(t, r.Approved)
	}
}
