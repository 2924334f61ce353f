package budget

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"
)

// What the binary keeps resident beyond binaryPages comes off the soft
// limit, never below minSoft (or the split's own, if lower).
func TestAdjustSoft(t *testing.T) {
	const mib = 1 << 20
	require.Equal(t, int64(46*mib), AdjustSoft(46*mib, 12*mib), "fewer pages than assumed: as split")
	require.Equal(t, int64(46*mib), AdjustSoft(46*mib, 16*mib))
	require.Equal(t, int64(43*mib), AdjustSoft(46*mib, 19*mib), "3 MiB more resident: 3 MiB less heap")
	require.Equal(t, int64(minSoft), AdjustSoft(20*mib, 40*mib), "never under minSoft")
	require.Equal(t, int64(10*mib), AdjustSoft(10*mib, 40*mib), "nor over the split's own")
}

// The test binary's resident file pages are read (it is a Go binary of
// several MB), and SetSoftLimit applies the adjustment to the runtime.
func TestSetSoftLimitSeesTheBinary(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	prev := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev); softBase.Store(0) })
	file := FileResident()
	require.Greater(t, file, int64(1<<20), "/proc/self/statm: resident file pages")
	const base = 100 << 20
	got := SetSoftLimit(base)
	require.Equal(t, got, debug.SetMemoryLimit(-1), "in effect")
	require.LessOrEqual(t, got, int64(base))
	require.GreaterOrEqual(t, got, int64(base)-max(FileResident()-binaryPages, 0))
}
