package tail

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
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
//
// A file that gives its slot back keeps the unfinished line its buffer
// ended with and the partial lines it is joining, but all files together
// keep at most one chunk of them (heldMax): the others are left in their
// files and read again when the reader next takes a slot (takeBack).
// Without that bound every file waiting for the end of a long line kept
// it: 120 files each waiting on 200 KiB took 58 MB at memory_limit 32MiB.
type readSlots struct {
	sem     chan struct{} // nil: no bound (a sink that does not say)
	bufs    chan []byte   // read buffers given back, for the next reader
	held    *atomic.Int64 // bytes of unfinished lines kept (fileReader.kept)
	heldMax int64
}

func newReadSlots(sink Sink, chunk int) readSlots {
	m, ok := sink.(memoryLimited)
	if !ok || m.MemoryLimit() <= 0 {
		return readSlots{}
	}
	n := max(2, int(m.MemoryLimit()/int64(2*slotChunks*chunk)))
	return readSlots{sem: make(chan struct{}, n), bufs: make(chan []byte, n), held: new(atomic.Int64), heldMax: int64(chunk)}
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
		if r.left > 0 {
			r.takeBack()
		} else {
			r.buf = append(r.buf, r.spare...)
		}
		r.forgetUnfinished()
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
	r.keepUnfinished()
	if cap(r.buf) == r.t.chunk() {
		select {
		case s.bufs <- r.buf[:0]:
		default:
		}
	}
	r.buf = nil
	<-s.sem
}

// keepUnfinished keeps the unfinished line the read buffer ends with in
// spare, and the partial lines the assembler joins, while the slots'
// share for them allows it. Otherwise the line is left in the file (left
// bytes before the read position), and so are the partial lines when
// reading them again from their start rebuilds the same record and
// nothing else (assembler.partialStart). What is read from a truncated
// file's copy is always kept: a copy may be a gzip stream, which cannot
// be read again at an offset.
func (r *fileReader) keepUnfinished() {
	s := &r.t.slots
	hold := int64(len(r.buf) + r.asm.partialBytes())
	if hold == 0 {
		r.spare = r.spare[:0]
		return
	}
	if s.held.Add(hold) <= s.heldMax || r.rec != nil {
		r.spare = append(r.spare[:0], r.buf...)
		r.kept = hold
		return
	}
	s.held.Add(-hold)
	if start, ok := r.asm.partialStart(); ok {
		r.asm.forgetPartial()
		r.left = int(r.pos - start)
		return
	}
	r.left = len(r.buf)
}

// unfinished is the length of the unfinished line the reader holds, in
// its read buffer, kept, or left in the file: the bytes before pos that
// are not yet part of a record.
func (r *fileReader) unfinished() int64 {
	return int64(len(r.buf) + len(r.spare) + r.left)
}

// forgetUnfinished gives back the share of what the reader kept.
func (r *fileReader) forgetUnfinished() {
	r.spare = r.spare[:0]
	if r.kept > 0 {
		r.t.slots.held.Add(-r.kept)
		r.kept = 0
	}
}

// takeBack reads what was left in the file back into the read buffer.
// Should the file no longer hold it (truncated, or its head rewritten
// meanwhile), the read position moves back to where it starts instead,
// where the next read finds the truncation and takes it from there as
// from any read position (fileReader.truncation).
func (r *fileReader) takeBack() {
	n := r.left
	r.left = 0
	if cap(r.buf) < n {
		r.buf = make([]byte, 0, n+r.t.chunk())
	}
	got, err := r.f.ReadAt(r.buf[:n], r.pos-int64(n))
	if got == n && !r.headChanged() {
		r.buf = r.buf[:n]
		return
	}
	if err != nil && !errors.Is(err, io.EOF) {
		r.t.logf("unfinished line not read again; reading from its start", "path", r.path, "err", err)
	}
	r.pos -= int64(n)
	if _, err := r.f.Seek(r.pos, io.SeekStart); err != nil {
		r.t.logf("seek back to an unfinished line failed", "path", r.path, "err", err)
	}
}

// nothingNew reports whether the file holds no byte past what was read,
// so that a read would find the end: an idle file then waits without
// taking a slot, its unfinished line kept or left (atEnd counts it as
// unread). The size is trusted only once something was read: files whose
// size lies are refused when opened (sizeLies), and otherwise show it on
// their first reads (a procfs file says 0 and holds bytes).
func (r *fileReader) nothingNew() bool {
	if r.pos == 0 || r.rec != nil || r.b != nil || len(r.buf) > 0 {
		return false
	}
	fi, err := r.f.Stat()
	return err == nil && fi.Size() == r.pos
}
