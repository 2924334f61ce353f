// Package record holds the unit of work of the pipeline: a Batch of Records
// that share one Source, and the acknowledgement that travels back with it.
package record

import (
	"crypto/cipher"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/sluicelog/sluice/agent/record/stream"
)

// Flags mark what happened to a record on its way in.
type Flags uint8

const (
	// Truncated: the line was longer than the input's limit and was cut.
	Truncated Flags = 1 << iota
	// Malformed: the line did not parse in its container format and is kept raw.
	Malformed
)

// Record is one log line. Line is owned by the Batch that holds the record
// and is valid until the batch is released.
type Record struct {
	Time   int64 // Unix nanoseconds; 0 when unknown
	Offset int64 // byte offset of the record's first line in its file; -1 when not from a file
	Line   []byte
	Stream stream.Stream
	Flags  Flags

	// Extra holds more top-level members of the document, already encoded
	// as JSON (`"syslog":{…},"source_ip":"…"`), without braces. Sources set
	// it with Batch.AddExtra; it lives in the batch's Buf like Line.
	Extra []byte

	off, extraOff int // starts of Line and Extra in the batch's Buf
}

// Source describes where the records of a batch come from. It is shared by
// every batch from one file (or listener) and is immutable once published.
type Source struct {
	Input string // input name from the config
	Path  string // file path, or listener address

	// Kubernetes names; empty when unknown.
	Namespace, Pod, Container, ContainerID string

	// Meta is the pre-serialised value of the "kubernetes" object
	// (`{"namespace_name":…}`), spliced into every document of this source.
	// Empty when there is none.
	Meta []byte

	// IDSeed identifies the file for document ids: node name, file identity
	// and truncation generation. Empty means records get no deterministic id.
	IDSeed []byte

	// IDKey, when set, numbers the records instead of IDSeed: a source
	// whose records are unique by their Offset under a key of its own (a
	// syslog connection's message number under a random key per listener)
	// gets ids that encrypt (IDConn, Offset) under IDKey (AppendID).
	IDKey  cipher.Block
	IDConn uint64

	// Generation counts the truncations of the file seen so far.
	Generation uint64
}

// Acker is told once that every output has finished with a batch.
type Acker interface {
	Ack(b *Batch)
}

// AckerFunc adapts a function to Acker.
type AckerFunc func(b *Batch)

// Ack calls f(b).
func (f AckerFunc) Ack(b *Batch) { f(b) }

// Batch is a run of records from one source, handed through the pipeline as
// a unit. The records' Line slices point into Buf.
//
// Ownership: the source fills a batch and pushes it; from then on the
// pipeline owns it. Outputs that keep a batch past Write call Retain first
// and Done when they have delivered it; when the count drops to zero the
// Acker runs and the batch goes back to the pool. Nothing may touch a batch
// after its last Done.
type Batch struct {
	Source  *Source
	Records []Record
	Buf     []byte

	// Seq numbers the batches of one source from 0, so acks that arrive out
	// of order can be put back in order. End is the source position just
	// past the batch (a file offset); the checkpoint moves there on ack.
	Seq uint64
	End int64

	// Docs holds each record's JSON document, encoded once by a worker for
	// every output; DocEnds[i] is the end of record i's document in Docs.
	Docs    []byte
	DocEnds []int32

	Acker Acker

	// Meta, when set, replaces Source.Meta for this batch: the worker's
	// Kubernetes enrichment sets it from the pod cache, which may learn
	// more about a file's pod than its name says. Parser, when set, names
	// the parser chosen for the batch's pod (sluice.io/parser). Both are
	// shared, immutable bytes; the batch does not own them.
	Meta   []byte
	Parser string
	// Labels, when set, are the pod's labels from the same cache, all of
	// them whatever the config ships: the tap's label selectors match
	// them. Shared and read-only, like Meta.
	Labels map[string]string

	refs    atomic.Int32
	charged int64
	budget  Releaser
}

// Releaser takes back bytes charged to a batch (agent/budget).
type Releaser interface {
	Release(n int64)
}

// Charge records that n bytes of r are held until the batch is done.
func (b *Batch) Charge(r Releaser, n int64) {
	b.budget, b.charged = r, n
}

var batchPool = sync.Pool{New: func() any { return new(Batch) }}

// maxPooledBuf keeps a batch that a huge line (up to max_line_bytes, 1 MiB
// by default) or a run of tiny records grew out of the pool: reused for a
// small batch it would be charged, and held, at its grown size. Batches
// of the default batch_bytes (64 KiB) stay well under it.
const maxPooledBuf = 256 << 10

// Sizes of what a batch holds besides its byte buffers, for Size.
const (
	recordSize = int(unsafe.Sizeof(Record{}))
	batchSize  = int(unsafe.Sizeof(Batch{}))
)

// NewBatch returns an empty batch from the pool.
func NewBatch(src *Source, acker Acker) *Batch {
	b := batchPool.Get().(*Batch)
	b.Source = src
	b.Acker = acker
	b.refs.Store(1)
	return b
}

// Doc returns the encoded document of record i.
func (b *Batch) Doc(i int) []byte {
	start := int32(0)
	if i > 0 {
		start = b.DocEnds[i-1]
	}
	return b.Docs[start:b.DocEnds[i]]
}

// Size is the memory the batch holds, charged against memory_limit: every
// buffer at its capacity, records at their real size (88 bytes on 64-bit,
// as much as a short line: counting less let the heap outgrow the budget).
func (b *Batch) Size() int {
	return batchSize + cap(b.Buf) + cap(b.Docs) + cap(b.Records)*recordSize + cap(b.DocEnds)*4
}

// Kubernetes is the "kubernetes" object spliced into the batch's documents.
func (b *Batch) Kubernetes() []byte {
	if b.Meta != nil {
		return b.Meta
	}
	return b.Source.Meta
}

// Retain adds n holders of the batch.
func (b *Batch) Retain(n int) { b.refs.Add(int32(n)) }

// Done drops one holder. The last one acks the batch and recycles it.
func (b *Batch) Done() {
	n := b.refs.Add(-1)
	if n > 0 {
		return
	}
	if n < 0 {
		panic("BUG: record.Batch.Done called more often than Retain")
	}
	if b.Acker != nil {
		b.Acker.Ack(b)
	}
	b.release()
}

// Discard recycles a batch that will never be delivered (shutdown before
// it was handed over) without acking it, so its lines are read again.
func (b *Batch) Discard() {
	b.Acker = nil
	b.refs.Store(0)
	b.release()
}

func (b *Batch) release() {
	if b.budget != nil {
		b.budget.Release(b.charged)
		b.budget, b.charged = nil, 0
	}
	clear(b.Records)
	b.Records = b.Records[:0]
	b.Source, b.Acker = nil, nil
	b.Seq, b.End = 0, 0
	b.Meta, b.Parser, b.Labels = nil, "", nil
	b.Buf, b.Docs, b.DocEnds = b.Buf[:0], b.Docs[:0], b.DocEnds[:0]
	if cap(b.Buf) > maxPooledBuf || cap(b.Docs) > maxPooledBuf || cap(b.Records)*recordSize > maxPooledBuf {
		return
	}
	batchPool.Put(b)
}

// Reserve makes room in an empty batch for bufBytes of lines and extras and
// for records records, so that a batch filled to batch_bytes grows once
// instead of a dozen times, each time copying what it held (growslice was
// 16% of the syslog path). A batch from the pool has the room already.
func (b *Batch) Reserve(bufBytes, records int) {
	if len(b.Records) > 0 {
		return // the records point into Buf; only an empty batch is sized
	}
	b.Buf = slices.Grow(b.Buf[:0], bufBytes)
	b.Records = slices.Grow(b.Records[:0], records)
}

// Add appends a record whose line is copied into the batch's buffer.
func (b *Batch) Add(r Record, line []byte) {
	b.AddExtra(r, line, nil)
}

// AddExtra appends a record with its line and extra document members, both
// copied into the batch's buffer.
func (b *Batch) AddExtra(r Record, line, extra []byte) {
	start, oldCap := len(b.Buf), cap(b.Buf)
	b.Buf = append(b.Buf, line...)
	b.Buf = append(b.Buf, extra...)
	b.AddAppended(r, start, start+len(line), oldCap)
}

// AddAppended appends a record whose line the caller has appended to Buf
// at Buf[start:mid], followed by its extra members up to Buf's end: a
// source that encodes the members can write them in place instead of
// into a buffer of its own that AddExtra would copy. oldCap is cap(Buf)
// before those appends; if they moved Buf, the earlier records are
// pointed at the new copy.
func (b *Batch) AddAppended(r Record, start, mid, oldCap int) {
	if cap(b.Buf) != oldCap {
		// The buffer moved: point the earlier records at the new copy so
		// the old array can be collected.
		for i := range b.Records {
			rr := &b.Records[i]
			rr.Line = b.Buf[rr.off : rr.off+len(rr.Line) : rr.off+len(rr.Line)]
			if len(rr.Extra) > 0 {
				rr.Extra = b.Buf[rr.extraOff : rr.extraOff+len(rr.Extra) : rr.extraOff+len(rr.Extra)]
			}
		}
	}
	r.off, r.extraOff = start, mid
	r.Line = b.Buf[start:mid:mid]
	r.Extra = nil
	if len(b.Buf) > mid {
		r.Extra = b.Buf[mid:len(b.Buf):len(b.Buf)]
	}
	b.Records = append(b.Records, r)
}
