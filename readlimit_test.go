package flipkyc

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadLimitedReadsAsLimitReader: whatever Content-Length the reply
// declares (right, too small, too large, none), readLimited returns what
// io.ReadAll over an io.LimitReader of limit+1 bytes does.
func TestReadLimitedReadsAsLimitReader(t *testing.T) {
	for _, n := range []int{0, 1, 300, 511, 512, 513, 5000} {
		body := bytes.Repeat([]byte("x"), n)
		for _, limit := range []int64{1, 299, 300, 512, 4096, math.MaxInt64 - 1, math.MaxInt64} {
			for _, size := range []int64{-1, 0, int64(n) - 1, int64(n), int64(n) + 1, 1 << 40, math.MaxInt64} {
				for _, oneByte := range []bool{false, true} {
					t.Run(fmt.Sprintf("%d/%d/%d/%v", n, limit, size, oneByte), func(t *testing.T) {
						var r io.Reader = bytes.NewReader(body)
						if oneByte {
							r = iotest.OneByteReader(r)
						}
						got, err := readLimited(r, limit, size)
						require.NoError(t, err)
						want, _ := io.ReadAll(io.LimitReader(bytes.NewReader(body), limit+1))
						if limit == math.MaxInt64 {
							want = body // limit+1 overflows; readLimited reads it all
						}
						assert.Equal(t, want, got)
					})
				}
			}
		}
	}
}

// TestReadLimitedReturnsTheReadError: a reply cut off by the network fails
// with the error, after the bytes that came.
func TestReadLimitedReturnsTheReadError(t *testing.T) {
	r := io.MultiReader(bytes.NewReader([]byte("abc")), iotest.ErrReader(io.ErrUnexpectedEOF))
	got, err := readLimited(r, 100, 10)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, []byte("abc"), got)
}
