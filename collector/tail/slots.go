package tail

import (
	"context"
)

// memoryLimited is a Sink that says how many bytes of batches it holds
// at most (agent/pipeline: the batches' share of memory_limit).
type memoryLimited interface {
	MemoryLimit() int64
}

// slotChunks is the memory one reading file holds, in chunks: a read
// buffer and a batch reserved for two reads (read.go, batch).
const slotChunks = 3

// readSlots bounds how many files hold a read buffer and a batch in hand
// at once. Batches are charged to memory_limit only when handed over, so
// without it every file with unread bytes filled a batch of its own and
// waited with it: 300 files read from their heads at memory_limit 32MiB
// took 93 MB. The slots together may hold half the batches' share; two
// at least, so that files take turns even at the smallest limit. A file
// takes a slot to read and gives it back once it holds no batch, so
// files with a backlog take turns by read, in the order they asked.
type readSlots struct {
	sem  chan struct{} // nil: no bound (a sink that does not say)
	bufs chan []byte   // read buffers given back, for the next reader
}

func newReadSlots(sink Sink, chunk int) readSlots {
	m, ok := sink.(memoryLimited)
	if !ok || m.MemoryLimit() <= 0 {
		return readSlots{}
	}
	n := max(2, int(m.MemoryLimit()/int64(2*slotChunks*chunk)))
	return readSlots{sem: make(chan struct{}, n), bufs: make(chan []byte, n)}
}

// takeSlot waits for a slot and gives the reader a read buffer holding
// the unfinished line it kept; false when ctx ended first.
func (r *fileReader) takeSlot(ctx context.Context) bool {
	s := &r.t.slots
	if s.sem != nil {
		select {
		case s.sem <- struct{}{}:
		case <-ctx.Done():
			return false
		}
	}
	r.slot = true
	if r.buf == nil {
		select {
		case r.buf = <-s.bufs:
		default:
			r.buf = make([]byte, 0, max(r.t.chunk(), len(r.spare)))
		}
		r.buf = append(r.buf, r.spare...)
		r.spare = r.spare[:0]
		if cap(r.spare) > r.t.chunk() {
			r.spare = nil // what a huge line grew is not kept (shrink)
		}
	}
	return true
}

// giveSlot gives the slot back with the read buffer, keeping only the
// unfinished line the buffer ends with. Without a bound the reader keeps
// its buffer.
func (r *fileReader) giveSlot() {
	if !r.slot {
		return
	}
	r.slot = false
	s := &r.t.slots
	if s.sem == nil {
		return
	}
	r.spare = append(r.spare[:0], r.buf...)
	if cap(r.buf) == r.t.chunk() {
		select {
		case s.bufs <- r.buf[:0]:
		default:
		}
	}
	r.buf = nil
	<-s.sem
}

// nothingNew reports whether the file holds no byte past what was read
// and the reader nothing unfinished, so that a read would find the end:
// an idle file then waits without taking a slot. The size is trusted
// only once something was read: files whose size lies are refused when
// opened (sizeLies), and otherwise show it on their first reads (a procfs
// file says 0 and holds bytes).
func (r *fileReader) nothingNew() bool {
	if r.pos == 0 || r.rec != nil || r.b != nil || len(r.buf) > 0 || len(r.spare) > 0 {
		return false
	}
	fi, err := r.f.Stat()
	return err == nil && fi.Size() == r.pos
}
