package budget

import (
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"
)

// What the binary keeps resident beyond binaryPages comes off the soft
// limit, never below minSoft (or the split's own, if lower); what the
// runtime counts but never wrote comes back on it, up to an eighth of
// the split's.
func TestAdjustSoft(t *testing.T) {
	const mib = 1 << 20
	require.Equal(t, int64(46*mib), AdjustSoft(46*mib, 12*mib, 0), "fewer pages than assumed: as split")
	require.Equal(t, int64(46*mib), AdjustSoft(46*mib, 16*mib, 0))
	require.Equal(t, int64(43*mib), AdjustSoft(46*mib, 19*mib, 0), "3 MiB more resident: 3 MiB less heap")
	require.Equal(t, int64(minSoft), AdjustSoft(20*mib, 40*mib, 0), "never under minSoft")
	require.Equal(t, int64(10*mib), AdjustSoft(10*mib, 40*mib, 0), "nor over the split's own")
	require.Equal(t, int64(45*mib), AdjustSoft(46*mib, 19*mib, 2*mib), "2 MiB counted, not resident: 2 MiB back")
	require.Equal(t, int64(24*mib+3*mib), AdjustSoft(24*mib, 16*mib, 5*mib), "at most base/8")
	require.Equal(t, int64(43*mib), AdjustSoft(46*mib, 19*mib, -mib), "more resident than counted: nothing back")
}

// Untouched is what the runtime counts less what is resident: memory
// the test allocates and writes is in both, so it does not raise it.
func TestUntouchedIsCountedButNotResident(t *testing.T) {
	_, anon := Resident()
	require.Greater(t, anon, int64(1<<20), "/proc/self/statm: resident anonymous pages")
	before := Untouched(anon)
	require.GreaterOrEqual(t, before, int64(0))
	require.Zero(t, Untouched(1<<50), "more resident than the runtime counts (memory outside it): 0")
	require.Zero(t, Untouched(0), "unknown: 0")

	buf := make([]byte, 8<<20)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}
	_, anon = Resident()
	after := Untouched(anon)
	require.Less(t, after, before+4<<20, "8 MiB written is resident, not untouched")
	runtime.KeepAlive(buf)
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
	require.GreaterOrEqual(t, got, int64(base)-max(FileResident()-binaryPages, 0))
	require.LessOrEqual(t, got, int64(base)+base/8)
}
