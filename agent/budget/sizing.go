package budget

// The sizing rule: with only memory_limit set, an Elasticsearch output's
// bulk.max_bytes comes from it (Plan.BulkBytes), so that everything the
// agent holds is sized from memory_limit.
//
// What it trades: every bulk request costs Elasticsearch a fixed amount
// of work (parsing the request, routing, a round of replication), so
// larger bodies amortise it; Elastic's tuning guide starts at a few MB.
// But the agent holds about 12 bodies per output at once (one per
// pipeline worker being filled, and per bulk worker the body being sent,
// a rescue body and a retry copy, each kept up to 1.25 × max_bytes), and
// batches must hold at least the bodies in flight, so each byte of
// max_bytes costs ≈ 16 bytes of memory_limit. The rule gives the bodies
// at most half of what memory_limit leaves under the Go runtime's soft
// limit after the binary, the working set, the tap and syslog frames; the
// other half goes to batches and to garbage between collections. So
// 40MiB gets 576KiB bodies, 256MiB the largest, 8MiB (with 2 workers;
// more workers, smaller bodies). Small bodies cost the agent CPU too: on
// this machine's harness each request costs ≈ 0.1 ms (thread wake-ups
// around the round trip), 0.1–0.2 CPU-s per million records at 40MiB's
// bodies against 8MiB's (bench/RESULTS.md, bulk requests at 40MiB).

const (
	// maxSizedBody caps a body sized from memory_limit: beyond a few MB
	// Elasticsearch gains little per request, and AWS OpenSearch Service
	// refuses requests over 10 MiB on its smaller instance types.
	maxSizedBody = 8 << 20
	// minSizedBody is the smallest body the rule gives: below it, a
	// request per few hundred records costs more than the memory saved
	// (W1 at 30MiB with 64KiB bodies: 19,289 requests, 7.8 CPU-s per
	// million, against 2–3 with 192–512KiB).
	minSizedBody = 128 << 10
)

// Bulk is one Elasticsearch output as the split sees it.
type Bulk struct {
	MaxBytes int64 // bulk.max_bytes; 0: sized from memory_limit
	Workers  int   // bulk.workers: requests being sent at once
}

// Plan is what shares memory_limit out: the limit, the pipeline's workers
// (each fills a body per output), the Elasticsearch outputs and whether a
// TCP syslog listener keeps frames.
type Plan struct {
	Limit   int64
	Writers int
	Outputs []Bulk
	Frames  bool
	// Buffers and InFlight are what outputs of a set size hold besides:
	// outside the batches, and of the batches at once (a kafka output:
	// twice buffer_bytes and buffer_bytes, agent/kafka BufferBytes and
	// InFlightBytes).
	Buffers, InFlight int64
}

// OutputBytes bounds what an output with bodies of maxBytes keeps outside
// the batches when writers pipeline workers fill them and senders deliver
// them: one body per writer, and per sender the body it delivers, a rescue
// or dead-letter body and the copy of items being retried, each kept up to
// 1.25 × maxBytes, and its connection's write buffer.
func OutputBytes(maxBytes int64, writers, senders int) int64 {
	body := maxBytes + maxBytes/4
	return int64(writers+3*senders)*body + int64(senders)*WriteBufferBytes
}

// WriteBufferBytes is the size of an HTTP output's connection write
// buffer. It holds a request's line and headers, never its body: net/http
// flushes the headers before a body it does not know to be in memory (an
// internal/httpbody body), and hands the body to the connection with the
// buffer empty, which bypasses it. A buffer sized for whole bodies (up to
// 1 MiB each) held a few hundred bytes and took its size from the bodies:
// at 40MiB, 1 MiB of the split that 576KiB bodies now get instead of 512KiB
// (bench/RESULTS.md, bulk requests at 40MiB).
const WriteBufferBytes = 16 << 10

// InFlightBytes is what the bodies being filled and sent at once hold:
// one per writer and one per sender.
func InFlightBytes(maxBytes int64, writers, senders int) int64 {
	return int64(writers+senders) * maxBytes
}

// Split is p's split with every unset bulk.max_bytes at bodies.
func (p Plan) Split(bodies int64) Split {
	s, _ := p.split(bodies)
	return s
}

// split also returns what the outputs' bodies and buffers take.
func (p Plan) split(bodies int64) (Split, int64) {
	var outputs, inFlight int64
	w := max(p.Writers, 1)
	for _, o := range p.Outputs {
		mb := o.MaxBytes
		if mb == 0 {
			mb = bodies
		}
		outputs += OutputBytes(mb, w, o.Workers)
		inFlight += InFlightBytes(mb, w, o.Workers)
	}
	// The tap's share is held outside the batches, as the outputs' is.
	return NewSplit(p.Limit, outputs+p.Buffers+TapShare(p.Limit), inFlight+p.InFlight, p.Frames), outputs
}

// BulkBytes is bulk.max_bytes for the outputs that leave it unset: the
// largest body size, in steps of 64 KiB up to 1 MiB and of 1 MiB up to
// 8 MiB, with which the split fits (not Tight) and the outputs' buffers
// take at most what batches and garbage get (twice the batches' share).
// 0 means no body size fits: memory_limit is too small to run.
func (p Plan) BulkBytes() int64 {
	for _, b := range bodySizes() {
		s, outputs := p.split(b)
		if !s.Tight && outputs <= 2*s.Batches {
			return b
		}
	}
	return 0
}

// Fits says whether p runs within its memory_limit with its unset bodies
// sized by BulkBytes.
func (p Plan) Fits() bool {
	if !p.sizes() {
		return !p.Split(0).Tight
	}
	return p.BulkBytes() > 0
}

// sizes says whether some output leaves bulk.max_bytes unset.
func (p Plan) sizes() bool {
	for _, o := range p.Outputs {
		if o.MaxBytes == 0 {
			return true
		}
	}
	return false
}

// Needed is the smallest memory_limit, to a MiB, with which p fits (the
// split only gets roomier as the limit grows); 0 if none up to 1 TiB does.
func (p Plan) Needed() int64 {
	fits := func(mib int64) bool {
		q := p
		q.Limit = mib << 20
		return q.Fits()
	}
	lo, hi := int64(0), int64(1)
	for !fits(hi) {
		if hi >= 1<<20 {
			return 0
		}
		lo, hi = hi, hi*2
	}
	for lo+1 < hi {
		if mid := (lo + hi) / 2; fits(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi << 20
}

// bodySizes are the sizes BulkBytes tries, largest first.
func bodySizes() []int64 {
	var s []int64
	for b := int64(maxSizedBody); b >= 1<<20; b -= 1 << 20 {
		s = append(s, b)
	}
	for b := int64(1<<20 - 64<<10); b >= minSizedBody; b -= 64 << 10 {
		s = append(s, b)
	}
	return s
}
