package budget

import (
	"os"
	"runtime/debug"
)

// Split shares memory_limit out so that the whole process, not only the
// batches, stays under it. Charging batches alone let the agent reach
// 2.9× memory_limit under the chaos run (bench/RESULTS.md): the outputs'
// bodies, buffers of connections and files, and above all the garbage
// collector, which lets the heap grow to twice what is live before it
// collects, all came on top.
type Split struct {
	Limit   int64 // memory_limit
	Soft    int64 // the Go runtime's soft memory limit (SetSoftLimit)
	Outputs int64 // the outputs' own buffers (bulk bodies), outside the batches
	Batches int64 // what batches not yet acknowledged may hold: the pipeline's budget
}

const (
	// nonHeap is resident memory the Go runtime's limit does not see, the
	// binary's text and data pages (the idle agent is ~19 MB RSS, a few
	// of which are heap), and some margin: at 16 MiB the chaos run
	// peaked 7 MiB under memory_limit.
	nonHeap = 24 << 20
	// minBatches keeps a pipeline that outputs' buffers crowd out moving.
	minBatches = 1 << 20
	// minSoft: under it the collector would run back to back on the
	// agent's own working set (the idle heap is a few MiB) to chase a
	// memory_limit that cannot be met anyway.
	minSoft = 32 << 20
)

// NewSplit shares limit between the outputs' buffers (outputs bytes, see
// elasticsearch.Output.BufferBytes) and the batches. The soft limit is
// limit less what the runtime does not count. Batches get half of what
// the outputs leave under it; the other half is for what is charged
// nowhere (connection and file read buffers, batches being filled,
// batches recycled in the pool) and for garbage between collections, so
// the collector need not run back to back to hold the soft limit.
//
// Batches never get less than the outputs' buffers (nor more than limit):
// with fewer batch bytes than the bodies being filled refer to, writers
// wait with half-filled bodies for batches that cannot come until
// flush_interval, and throughput collapses (bench/RESULTS.md, syslog at
// 32MiB). If that does not fit, the split is Tight and the soft limit is
// raised to 1.5 × what is charged rather than have the collector run
// back to back on live data to chase a memory_limit that cannot hold.
func NewSplit(limit, outputs int64) Split {
	soft := max(limit-nonHeap, minSoft)
	batches := min(max((soft-outputs)/2, limit/4, outputs, minBatches), max(limit, minBatches))
	charged := outputs + batches
	return Split{Limit: limit, Soft: max(soft, charged+charged/2), Outputs: outputs, Batches: batches}
}

// Tight reports that memory_limit is too small for the outputs' buffers
// (bulk.max_bytes × (workers + 3 × bulk.workers) × 1.25) and batches of at
// least their size: under load RSS goes over memory_limit, and lowering
// bulk.max_bytes or raising memory_limit is the fix.
func (s Split) Tight() bool {
	c := s.Outputs + s.Batches
	return c+c/2 > max(s.Limit-nonHeap, minSoft)
}

// SetSoftLimit sets the Go runtime's soft memory limit to soft, so the
// collector runs more often as the heap nears it instead of letting it
// reach twice the live bytes. A GOMEMLIMIT in the environment is the
// operator's choice and wins; the limit in effect is returned either way.
func SetSoftLimit(soft int64) int64 {
	if os.Getenv("GOMEMLIMIT") != "" {
		return debug.SetMemoryLimit(-1)
	}
	debug.SetMemoryLimit(soft)
	return soft
}
