package budget

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
	// Frames is what TCP syslog connections' frame buffers may hold beyond
	// their first few KiB (collector/syslog); 0 without a TCP listener.
	Frames int64
	// Tight: memory_limit is too small for the agent's working set, the
	// outputs' bodies and the batches they refer to; Soft was raised to
	// make room, so under load the process goes over memory_limit. A
	// config that asks for it is refused (agent/config, Plan.Fits).
	Tight bool
}

const (
	// binaryPages is resident memory the Go runtime's limit does not see:
	// the binary's text and data pages (14-16 MB under load in the
	// benchmarks, RssFile). A margin of memory_limit/32 comes on top, for
	// freed pages the runtime has not yet given back: at 256MiB the chaos
	// run peaked 5-13 MiB under memory_limit with 24 MiB off.
	binaryPages = 16 << 20
	// working is the agent's own working set outside batches and bodies:
	// idle heap, goroutine stacks, runtime metadata, connection and file
	// read buffers, the Kubernetes cache (≈ 6 MiB in the benchmarks'
	// GC traces), with margin.
	working = 8 << 20
	// minBatches keeps a pipeline that outputs' buffers crowd out moving.
	minBatches = 1 << 20
	// minSoft: under it the collector would run back to back on the
	// agent's own working set.
	minSoft = 12 << 20
	// minFrames lets a few connections at a time hold a long frame
	// (eight of 64 KiB) however small the split.
	minFrames = 512 << 10
)

// NewSplit shares limit between the outputs' buffers (outputs bytes, see
// elasticsearch.Output.BufferBytes), the agent's working set and the
// batches. The soft limit is limit less the binary's pages and a margin.
// Batches get half of what the outputs and the working set leave under
// it; the other half is for what is charged nowhere (batches being filled
// or recycled in the pool) and for garbage between collections, so the
// collector need not run back to back to hold the soft limit.
//
// With frames (a TCP syslog listener), an eighth of that room goes to
// connections' frame buffers first: they are live for as long as a sender
// keeps a frame unfinished, and 600 connections holding 64 KiB frames
// took 43 MB outside memory_limit before they were bounded.
//
// Batches never get less than inFlight, the bytes of the bodies being
// filled and sent at once (see elasticsearch.Output.InFlightBytes): with
// fewer, writers wait with half-filled bodies for batches that cannot
// come until flush_interval, and throughput collapses (bench/RESULTS.md,
// syslog at 32MiB). If that does not fit, the split is Tight and the soft
// limit is raised to make room rather than have the collector run back to
// back on live data to chase a memory_limit that cannot hold.
func NewSplit(limit, outputs, inFlight int64, frames bool) Split {
	natural := limit - binaryPages - limit/32
	soft := max(natural, minSoft)
	room := soft - outputs - working
	s := Split{Limit: limit, Soft: soft, Outputs: outputs}
	if frames {
		s.Frames = max(room/8, minFrames)
	}
	batches := (room - s.Frames) / 2
	if low := max(inFlight, minBatches); batches < low {
		batches = low
		s.Soft = max(soft, outputs+working+s.Frames+2*low)
	}
	s.Tight = s.Soft > natural
	s.Batches = min(batches, max(limit, minBatches))
	return s
}
