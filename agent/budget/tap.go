package budget

// Bounds of TapShare.
const (
	minTapShare = 2 << 20
	maxTapShare = 32 << 20
)

// TapShare is the part of memory_limit that the live tap's copies of
// batches may hold, waiting for their clients (agent/tap.Hub.SetMemory):
// limit/16, at least 2 MiB, at most 32 MiB. The runtime counts it with
// the outputs' buffers when it shares memory_limit out (NewSplit), so the
// batches get that much less. Without it, 16 clients that did not read
// held 90 MB at a memory_limit of 64 MiB.
func TapShare(limit int64) int64 {
	return min(max(limit/16, minTapShare), maxTapShare)
}
