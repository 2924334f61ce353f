package tail

import (
	"bytes"
	"context"
	"errors"
	"os"
	"time"

	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/internal/timerpool"
)

// The read loop's steps. Each returns false when the reader stops (ctx
// ended, or the file was let go).

// consume cuts the n bytes just read (at the end of r.buf) into lines,
// adds them to the batch and hands the batch over once it is full.
func (r *fileReader) consume(ctx context.Context, n int) bool {
	r.lastData = time.Now()
	r.t.stats.BytesRead.Add(int64(n))
	r.buf = r.buf[:len(r.buf)+n]
	r.pos += int64(n)
	if r.fp == "" && r.setHead() {
		r.newSource()
	}
	r.asm.tick()
	base := r.pos - int64(len(r.buf)) // offset of buf[0] in the generation
	consumed := r.cutLines(base)
	consumed = r.cutLong(base, consumed)
	r.asm.flushDue(r.batch, 0)
	end := r.asm.safe(base + int64(consumed))
	r.buf = r.buf[:copy(r.buf, r.buf[consumed:])]
	chunk := r.t.chunk()
	if r.b != nil && len(r.b.Buf) >= chunk && !r.flush(ctx, end) {
		return false
	}
	r.buf = shrink(r.buf, chunk)
	return true
}

// cutLines adds every complete line in r.buf to the batch; it returns the
// bytes used.
func (r *fileReader) cutLines(base int64) int {
	consumed, lines := 0, int64(0)
	var b *record.Batch // started at the first line: a read without one starts none
	for {
		i := bytes.IndexByte(r.buf[consumed:], '\n')
		if i < 0 {
			// Counted once per read: the counter is shared by every file,
			// and an atomic add per line was a third of this loop.
			r.t.stats.Lines.Add(lines)
			return consumed
		}
		line := r.buf[consumed : consumed+i]
		off := base + int64(consumed)
		consumed += i + 1
		if r.skipping {
			r.skipping = false
			continue
		}
		lines++
		if b == nil {
			b = r.batch()
		}
		r.asm.add(b, line, off, 0)
	}
}

// cutLong ships the first max_line_bytes of an unfinished line longer than
// that, flagged as cut, and drops the rest of it up to its newline.
func (r *fileReader) cutLong(base int64, consumed int) int {
	maxLine := int(r.t.cfg.MaxLineBytes)
	rest := r.buf[consumed:]
	switch {
	case r.skipping:
		return len(r.buf)
	case len(rest) <= maxLine:
		return consumed
	}
	off := base + int64(consumed)
	r.t.stats.Truncated.Add(1)
	r.t.stats.Lines.Add(1)
	r.asm.add(r.batch(), rest[:maxLine], off, record.Truncated)
	r.t.logf("line longer than max_line_bytes cut", "path", r.path, "offset", off, "max_line_bytes", maxLine)
	r.skipping = true
	return len(r.buf)
}

// atEnd hands over what is read, including records held for joining
// whose stream went quiet, lets go of a file that was moved away and
// read, and waits for more (no longer than until the next held record is
// due).
func (r *fileReader) atEnd(ctx context.Context, timer *time.Timer) bool {
	// A file that goes quiet right after a huge line must not keep the
	// buffer that line grew (2 MiB for a 1 MiB max_line_bytes).
	r.buf = shrink(r.buf, r.t.chunk())
	r.asm.tick()
	wait := r.asm.flushDue(r.batch, r.t.cfg.PollInterval.Duration())
	if !r.flush(ctx, r.asm.safe(r.pos-r.unfinished())) {
		return false
	}
	fi, err := r.f.Stat()
	if err == nil && fi.Size() > r.seen && !r.headChanged() {
		// Only the generation's own size: a later one's is not what a
		// truncation of this one leaves unread.
		r.seen = fi.Size()
	}
	if r.movedAndQuiet() {
		// The runtime writes to the old descriptor for a moment after a
		// rotation, until it reopens: ship any unfinished partial line
		// as it is, then let go.
		r.release(ctx)
		return false
	}
	if err == nil && time.Since(r.lastData) >= r.t.cfg.CloseInactive.Duration() && !r.asm.held() &&
		r.readToEnd(fi) && r.waitAcks(ctx, 0, false) {
		// Inactive and fully delivered: release the handle. The
		// checkpoint is exact, so a reopen on change resumes there.
		r.t.closedIdle(r, fi)
		return false
	}
	r.resolve()
	r.giveSlot()
	timer.Reset(max(wait, time.Millisecond))
	r.idle.Store(true)
	defer r.idle.Store(false)
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
	case <-r.wake:
	}
	return true
}

// readToEnd reports whether the file is still what the reader read: as
// long as it read, and with the same head. The last hand-over may have
// waited for the pipeline longer than close_inactive while the file grew
// or was truncated and refilled; closed with that size and time, the
// file would not be opened again until it changed once more, and what
// was written meanwhile would wait for that (forever, once its writer
// is gone). Then the reader reads on instead.
func (r *fileReader) readToEnd(fi os.FileInfo) bool {
	return fi.Size() == r.pos && !r.headChanged()
}

// movedAndQuiet reports whether the file was renamed away or deleted, is
// read to its end, and has been quiet for goneGrace.
func (r *fileReader) movedAndQuiet() bool {
	if !r.gone() {
		r.goneAt = time.Time{}
		return false
	}
	if r.goneAt.IsZero() {
		r.goneAt = time.Now()
		return false
	}
	grace := r.goneGrace()
	return time.Since(r.goneAt) >= grace && time.Since(r.lastData) >= grace
}

// truncation is the one path for a generation that ended under the
// reader (read reports errRewritten: the file shrank below the read
// position, or its head changed): a copy of another file written over a
// moved one is let go; otherwise the rest of the generation is read from
// its copy if the reader had not reached its end, and the next generation
// follows (nextGeneration).
func (r *fileReader) truncation(ctx context.Context) bool {
	fi, err := r.f.Stat()
	if err != nil {
		return true // the next read reports it
	}
	if r.unreliableSize(fi.Size()) {
		r.release(ctx) // not truncated: its size lies (procfs-like)
		return false
	}
	if r.gone() {
		// Rotated away, then rewritten (a later rotation copied the live
		// file over it): that content is the live file's, read by its own
		// reader. Otherwise it was truncated before it was moved (a
		// copytruncate, then a rename), maybe long before a reader that
		// was behind saw it: what it holds since is its own.
		switch another, known := r.copyOfAnother(); {
		case another:
			r.release(ctx)
			return false
		case !known && r.awaitHead():
			// Nothing at its head yet: cp onto a rotated name truncates
			// it in place before it writes, and an empty file cannot tell
			// whose copy it becomes (torture test: a generation read
			// twice, under other ids, from the name it was copied to).
			return r.pause(ctx)
		}
	}
	r.awaitingSince = time.Time{}
	if r.startRecovery(len(r.buf)) {
		return true // buf holds the unfinished line; the copy continues it
	}
	// What is read of the old generation goes first, records held for
	// joining too: the content is gone for good.
	if !r.flush(ctx, r.asm.safe(r.pos-int64(len(r.buf)))) || !r.shipHeld(ctx) {
		return false
	}
	r.nextGeneration(fi.Size())
	r.buf, r.skipping = r.buf[:0], false
	return true
}

// awaitHead reports whether a moved file found truncated, without a first
// line yet, is still given time to show one: up to goneGrace.
func (r *fileReader) awaitHead() bool {
	if r.awaitingSince.IsZero() {
		r.awaitingSince = time.Now()
	}
	return time.Since(r.awaitingSince) < r.goneGrace()
}

// pause waits a poll_interval, or until the file changes; false when ctx
// ended. awaiting is set meanwhile, for tests.
func (r *fileReader) pause(ctx context.Context) bool {
	r.awaiting.Store(true)
	defer r.awaiting.Store(false)
	t := timerpool.Get(r.t.cfg.PollInterval.Duration())
	defer timerpool.Put(t)
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
	case <-r.wake:
	}
	return true
}

// copyRead ends the read of a copy (err: io.EOF, or why it ended early):
// what it held of the generation is handed over, and the next generation
// follows.
func (r *fileReader) copyRead(ctx context.Context, err error) bool {
	r.endRecovery(err, len(r.buf))
	r.asm.flush(r.batch())
	if !r.flush(ctx, r.pos) {
		return false
	}
	fi, serr := r.f.Stat()
	if serr != nil {
		r.t.logf("stat after reading a copy; file released", "path", r.path, "err", serr)
		r.close()
		return false
	}
	r.nextGeneration(fi.Size())
	r.buf, r.skipping = r.buf[:0], false
	return true
}

// batch returns the batch being filled, starting one if needed.
func (r *fileReader) batch() *record.Batch {
	if r.b == nil {
		r.b = record.NewBatch(r.src, r)
		// A batch goes once it holds a chunk after a read (consume): it
		// takes the lines of the read in r.buf and, while under a chunk,
		// those of one more read of up to a chunk. Sized for that, a new
		// one does not grow by append (growslice was 3% of the tail
		// workload, and a batch sized for one chunk grew three times on
		// nearly every second read of a file being caught up, leaving
		// the smaller buffers to the collector), and one that a small
		// read starts is not charged for two chunks. One from the pool
		// has the room already.
		chunk := r.t.chunk()
		r.b.Reserve(chunk+len(r.buf), chunk/128)
	}
	return r.b
}

// flush hands the batch being filled over, its records ending at end;
// an empty batch is dropped.
func (r *fileReader) flush(ctx context.Context, end int64) bool {
	b := r.b
	if b == nil {
		return true
	}
	r.b = nil
	if len(b.Records) == 0 {
		b.Discard()
		return true
	}
	// A full batch comes from a file read faster than its window lets it
	// hand over (a backlog); one cut short at the file's end, from a file
	// being written as it is read, waits for flush_interval like any
	// young data.
	if !r.waitAcks(ctx, r.inFlightCap()-1, len(b.Buf) >= r.t.chunk()) {
		b.Discard()
		return false
	}
	n := int64(len(b.Buf))
	switch adm, size := r.admit(ctx, b, n); adm {
	case admitStop:
		b.Discard()
		return false
	case admitSkip:
		return r.skip(ctx, b, end)
	case admitLetGo:
		r.letGo(ctx, b, size)
		return false
	}
	r.addSummary(b) // of what was skipped before it, if anything
	return r.handCharged(ctx, b, end, n)
}

// hand numbers b, which ends at end, and pushes it; false when ctx ended.
func (r *fileReader) hand(ctx context.Context, b *record.Batch, end int64) bool {
	return r.handCharged(ctx, b, end, 0)
}

// handCharged is hand for a batch that fair_share admitted n bytes of.
func (r *fileReader) handCharged(ctx context.Context, b *record.Batch, end, n int64) bool {
	b.Seq = r.acks.send()
	b.End = end
	r.charge(b.Seq, n)
	r.t.stats.Records.Add(int64(len(b.Records)))
	if err := r.push(ctx, b); err != nil {
		r.acks.unsend() // never pushed: no ack will come for it
		r.refund(b.Seq)
		b.Discard()
		return false
	}
	r.handed = end
	return true
}

// push hands b to the sink, looking at the file every poll_interval while
// the sink makes it wait (look). On error the caller still owns b.
func (r *fileReader) push(ctx context.Context, b *record.Batch) error {
	for {
		pctx, cancel := context.WithTimeout(ctx, r.t.cfg.PollInterval.Duration())
		err := r.t.sink.Push(pctx, b)
		cancel()
		if err == nil || ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		r.look()
	}
}

// shipHeld ships the records held for multiline joining before a
// truncation: their lines are read and the content is gone for good.
func (r *fileReader) shipHeld(ctx context.Context) bool {
	if !r.asm.held() {
		return true
	}
	r.asm.flushHeld(r.batch())
	return r.flush(ctx, r.asm.safe(r.pos-int64(len(r.buf))))
}

// release ships what is read, any unfinished partial line as it is, and
// lets the file go for good.
func (r *fileReader) release(ctx context.Context) {
	if r.left > 0 {
		// Partial lines left in the file (slots.go) go as they are too.
		if !r.takeSlot(ctx) {
			return
		}
		r.cutLines(r.pos - int64(len(r.buf)))
	}
	r.asm.flush(r.batch())
	if r.flush(ctx, r.pos) && r.reportSkipped(ctx) {
		r.close()
	}
}

// grow doubles a read buffer that is full (a line longer than it).
func grow(buf []byte) []byte {
	if len(buf) < cap(buf) {
		return buf
	}
	grown := make([]byte, len(buf), 2*cap(buf))
	copy(grown, buf)
	return grown
}

// shrink gives back a read buffer that a long line grew, once what it
// holds fits in a chunk again.
func shrink(buf []byte, chunk int) []byte {
	if cap(buf) > 4*chunk && len(buf) < chunk {
		return append(make([]byte, 0, chunk), buf...)
	}
	return buf
}
