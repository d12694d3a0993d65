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

// drain reads All to its end, at most limit values (a guard against a
// loop that never ends), and returns the records and the last error.
func drain(t *testing.T, seq func(func(katsu.Record, error) bool), limit int) (int, error) {
	t.Helper()
	var got, seen int
	var last error
	for rec, err := range seq {
		if seen++; seen > limit {
			t.Fatalf("All yielded more than %d values", limit)
		}
		if err != nil {
			last = err
			continue
		}
		_ = rec
		got++
	}
	return got, last
}

// A server that ignores PageNumber, with records that have no id, is
// caught by the repeated page.
func TestAllStopsOnARepeatedPageWithoutIDs(t *testing.T) {
	var n atomic.Int32
	c, _ := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		reply(200, `{"succeeded":true,"data":[{"name":"a"},{"name":"b"}],"hasNextPage":true}`)(w, r)
	}))
	got, err := drain(t, c.All(context.Background(), katsu.ListParams{}), 50)
	assert.Equal(t, 2, got)
	var pe *katsu.PagingError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 2, pe.PageNumber)
	assert.Equal(t, 1, pe.SameAs)
	assert.EqualValues(t, 2, n.Load())
}

// A server that alternates between two pages is caught too.
func TestAllStopsOnAnAlternatingPage(t *testing.T) {
	var n atomic.Int32
	c, _ := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := []string{"a", "b"}[n.Add(1)%2]
		reply(200, `{"succeeded":true,"data":[{"name":"`+name+`"}],"hasNextPage":true}`)(w, r)
	}))
	got, err := drain(t, c.All(context.Background(), katsu.ListParams{}), 50)
	assert.Equal(t, 2, got)
	var pe *katsu.PagingError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 3, pe.PageNumber)
	assert.Equal(t, 1, pe.SameAs)
}

// A reply numbered other than the page asked for stops All.
func TestAllStopsOnAWrongPageNumber(t *testing.T) {
	var n atomic.Int32
	c, _ := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		reply(200, fmt.Sprintf(`{"succeeded":true,"data":[{"name":"p%d"}],"pageNumber":1,"hasNextPage":true}`, i))(w, r)
	}))
	got, err := drain(t, c.All(context.Background(), katsu.ListParams{}), 50)
	assert.Equal(t, 1, got)
	var pe *katsu.PagingError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 2, pe.PageNumber)
	assert.Equal(t, 1, pe.ReplyPage)
	assert.Contains(t, err.Error(), "ignores PageNumber")
}

// Once ctx ends All yields ctx's error, not the rest of the page.
func TestAllStopsYieldingWhenContextEnds(t *testing.T) {
	srv := katsutest.NewServer(t)
	for i := range 5 {
		srv.AddRecord(katsu.Record{Name: fmt.Sprint("person ", i)})
	}
	c, err := srv.NewClient()
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got int
	var last error
	for _, err := range c.All(ctx, katsu.ListParams{PageSize: 5}) {
		if err != nil {
			last = err
			continue
		}
		got++
		cancel()
	}
	assert.Equal(t, 1, got)
	assert.ErrorIs(t, last, context.Canceled)
}
