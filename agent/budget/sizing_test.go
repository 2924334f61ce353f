package budget

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBulkBytesFromMemoryLimit is the sizing rule's table: with only
// memory_limit set, the bodies it gives and the split they make keep
// everything charged under the soft limit, and the soft limit under
// memory_limit less the binary's pages; larger limits reach larger bodies.
func TestBulkBytesFromMemoryLimit(t *testing.T) {
	const KiB, MiB = 1 << 10, 1 << 20
	cases := []struct {
		limit   int64
		writers int
		frames  bool
		bodies  int64 // 0: too small to run
	}{
		{16 * MiB, 2, false, 0},
		{24 * MiB, 2, false, 0},
		{30 * MiB, 2, false, 0},
		{32 * MiB, 2, false, 192 * KiB},
		{32 * MiB, 2, true, 192 * KiB},
		{40 * MiB, 2, false, 576 * KiB}, // the small profile of bench/RESULTS.md
		{40 * MiB, 2, true, 576 * KiB},
		{40 * MiB, 8, false, 320 * KiB},
		{64 * MiB, 2, false, 1 * MiB},
		{128 * MiB, 2, false, 4 * MiB},
		{256 * MiB, 2, false, 8 * MiB},
		{256 * MiB, 2, true, 8 * MiB},
		{256 * MiB, 8, false, 5 * MiB},
		{256 * MiB, 32, false, 1 * MiB},
		{1024 * MiB, 2, false, 8 * MiB},
		{1024 * MiB, 64, true, 3 * MiB},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%dMiB/%dworkers/frames=%v", c.limit>>20, c.writers, c.frames), func(t *testing.T) {
			p := Plan{Limit: c.limit, Writers: c.writers, Outputs: []Bulk{{Workers: 2}}, Frames: c.frames}
			b := p.BulkBytes()
			require.Equal(t, c.bodies, b)
			require.Equal(t, b > 0, p.Fits())
			if b == 0 {
				require.Greater(t, p.Needed(), c.limit)
				return
			}
			s := p.Split(b)
			require.False(t, s.Tight)
			es := OutputBytes(b, c.writers, 2)
			tap := TapShare(c.limit)
			require.Equal(t, es+tap, s.Outputs)
			require.GreaterOrEqual(t, s.Batches, InFlightBytes(b, c.writers, 2), "batches hold the bodies in flight")
			require.LessOrEqual(t, es, 2*s.Batches, "bodies take at most what batches and garbage get")
			require.LessOrEqual(t, s.Outputs+working+s.Frames+2*s.Batches, s.Soft, "all charged, twice the batches, under the soft limit")
			require.LessOrEqual(t, s.Soft, c.limit-binaryPages, "the soft limit leaves the binary's pages")
			require.LessOrEqual(t, p.Needed(), c.limit)
		})
	}
}

// Larger limits never get smaller bodies, and the smallest limit that
// fits is where the sizes start.
func TestBulkBytesGrowsWithTheLimit(t *testing.T) {
	const MiB = 1 << 20
	p := Plan{Writers: 2, Outputs: []Bulk{{Workers: 2}}}
	last := int64(0)
	for l := int64(16); l <= 1024; l++ {
		p.Limit = l * MiB
		b := p.BulkBytes()
		require.GreaterOrEqual(t, b, last, "at %dMiB", l)
		last = b
	}
	p.Limit = 0
	need := p.Needed()
	p.Limit = need
	require.True(t, p.Fits())
	p.Limit = need - MiB
	require.False(t, p.Fits())
}

// An explicit bulk.max_bytes counts as it is; the outputs that leave it
// unset share what is left; Needed says the limit the explicit ones need.
func TestPlanWithExplicitBodies(t *testing.T) {
	const KiB, MiB = 1 << 10, 1 << 20
	p := Plan{Limit: 40 * MiB, Writers: 2, Outputs: []Bulk{{MaxBytes: 5 * MiB, Workers: 2}}}
	require.False(t, p.Fits(), "5MiB bodies at 40MiB: the issue's 76 MB")
	require.Equal(t, int64(126*MiB), p.Needed())
	p.Outputs[0].MaxBytes = 512 * KiB
	require.True(t, p.Fits())

	two := Plan{Limit: 40 * MiB, Writers: 2, Outputs: []Bulk{{MaxBytes: 256 * KiB, Workers: 2}, {Workers: 2}}}
	require.Equal(t, int64(320*KiB), two.BulkBytes(), "the unset output gets what the set one leaves")
}
