package tail

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestShrinkGivesBackGrownBuffers: a read buffer grown to 2 MiB by a 1 MiB
// line goes back to one chunk as soon as what it holds fits, and a
// buffer of normal size is left alone.
func TestShrinkGivesBackGrownBuffers(t *testing.T) {
	const chunk = 64 << 10
	grown := make([]byte, 100, 2<<20)
	copy(grown, "partial line")
	got := shrink(grown, chunk)
	require.Equal(t, chunk, cap(got))
	require.Equal(t, grown[:100], got)

	require.Equal(t, 2<<20, cap(shrink(make([]byte, chunk, 2<<20), chunk)), "still holding a chunk or more: kept")
	normal := make([]byte, 10, 2*chunk)
	require.Equal(t, &normal[:1][0], &shrink(normal, chunk)[:1][0], "not grown: the same buffer")
}
