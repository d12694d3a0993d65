package katsu_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc/katsu"
)

// work measures what f costs in deterministic terms, not time: the number
// of heap allocations and the bytes allocated while it runs.
func work(f func()) (mallocs, bytes uint64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.Mallocs - before.Mallocs, after.TotalAlloc - before.TotalAlloc
}

// A hostile errors member nested 1,600 levels deep around a long string is
// read once, not once for every level: the work is linear in the reply.
func TestDeeplyNestedErrorsAreReadOnce(t *testing.T) {
	const depth = 1600
	long := strings.Repeat("x", 256<<10)
	body := `{"succeeded":false,"message":"no","errors":` + strings.Repeat(`{"a":`, depth) + `"` + long + `"` +
		strings.Repeat(`}`, depth) + `}`
	c, _ := newClient(t, reply(200, body))
	var err error
	_, allocated := work(func() { _, err = c.Get(context.Background(), kycID) })
	var apiErr *katsu.APIError
	require.ErrorAs(t, err, &apiErr)
	// Read once, the reply costs a few times its size (256 KiB); read again
	// at every level it cost more than a gigabyte.
	assert.Less(t, allocated, uint64(32<<20), "bytes allocated")
	assert.Empty(t, apiErr.Errors, "too deep to keep")
	assert.Equal(t, 1, apiErr.MoreErrors)
	assert.Less(t, len(err.Error()), 8<<10)
}

// A succeeded: false reply with a thousand records and a thousand error
// entries builds its masker once and keeps the first entries only.
func TestManyErrorsWithManyRecords(t *testing.T) {
	const n = 1000
	var records, errs []string
	for i := range n {
		name := fmt.Sprintf("Person%04d Surname%04d", i, i)
		records = append(records, fmt.Sprintf(`{"id":"%08d-0000-4000-8000-000000000000","tier":"1","name":%q,"bvn":"%011d"}`, i, name, 22200000000+i))
		errs = append(errs, fmt.Sprintf(`"record of %s refused"`, name))
	}
	body := `{"succeeded":false,"message":"refused","errors":[` + strings.Join(errs, ",") + `],"data":[` +
		strings.Join(records, ",") + `]}`
	c, _ := newClient(t, reply(200, body))
	var err error
	mallocs, _ := work(func() { _, err = c.List(context.Background(), katsu.ListParams{}) })
	var apiErr *katsu.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.ErrorIs(t, err, katsu.ErrNotSucceeded)
	// One masker for the reply: a few allocations for each known value,
	// not a few for each known value and each error entry (millions).
	assert.Less(t, mallocs, uint64(400_000), "allocations")
	require.Equal(t, 20, len(apiErr.Errors))
	assert.Equal(t, n-20, apiErr.MoreErrors)
	assert.Equal(t, "record of [masked] refused", apiErr.Errors[0])
	assert.Contains(t, err.Error(), "and 995 more")
	assert.NotContains(t, err.Error(), "Person0000")
}

// cancelAtEOF is a body that ends ctx once it has been read whole.
type cancelAtEOF struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b cancelAtEOF) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.cancel()
	}
	return n, err
}

// cancelingTransport hands back replies whose bodies end ctx when read.
type cancelingTransport struct {
	cancel context.CancelFunc
}

func (t cancelingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		resp.Body = cancelAtEOF{resp.Body, t.cancel}
	}
	return resp, err
}

// Once ctx ends, the client stops working on a reply it has read and says
// why, instead of going on to decode and mask it.
func TestContextEndingWhileReadingStopsTheCall(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, _ := newClient(t, reply(200, `{"succeeded":false,"message":"refused","errors":["a","b"]}`),
		katsu.WithHTTPClient(&http.Client{Transport: cancelingTransport{cancel}}))
	_, err := c.Get(ctx, kycID)
	assert.ErrorIs(t, err, context.Canceled)
	var apiErr *katsu.APIError
	assert.False(t, errors.As(err, &apiErr), "the reply was not judged: %v", err)
}

// Keys that differ only in case give the last one in the reply, whatever
// the map order.
func TestDuplicateKeysLastWins(t *testing.T) {
	for range 20 {
		succeeded, message, _, _, err := katsu.ParseEnvelope([]byte(`{"Succeeded":true,"succeeded":false,"MESSAGE":"first","message":"second"}`))
		require.NoError(t, err)
		require.NotNil(t, succeeded)
		assert.False(t, *succeeded)
		assert.Equal(t, "second", message)
		page, err := katsu.DecodePage([]byte(`{"succeeded":true,"data":{"items":[],"PageNumber":1,"pagenumber":2}}`), 0)
		require.NoError(t, err)
		assert.Equal(t, 2, page.PageNumber)
	}
}

// An APIError prints a bounded number of its entries.
func TestAPIErrorTextIsBounded(t *testing.T) {
	e := &katsu.APIError{Op: "Get", Method: "GET", Path: "/p", StatusCode: 400, Message: "m", MoreErrors: 3}
	for i := range 100 {
		e.Errors = append(e.Errors, fmt.Sprint("entry ", i))
	}
	text := e.Error()
	assert.Contains(t, text, "entry 4")
	assert.NotContains(t, text, "entry 5")
	assert.Contains(t, text, "and 98 more")
}
