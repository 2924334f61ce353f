package tail

import (
	"context"
	"sync"
	"time"

	"github.com/sluicelog/sluice/agent/checkpoint"
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/internal/timerpool"
)

// watermark is the acknowledgement order of one file's batches: they are
// numbered as they are pushed, acks arrive in any order, and the
// checkpoint moves over the finished prefix only (Beats' ack loop). Acks
// run on output goroutines, so it has its own mutex.
type watermark struct {
	mu     sync.Mutex
	next   uint64          // seq of the next batch to push
	oldest uint64          // seq of the oldest batch not yet acked
	acked  map[uint64]mark // acked out of order
	// fps is the fingerprint of each generation with batches out, so that
	// a checkpoint pairs an offset with its own generation's content, not
	// with whatever the reader reads by the time the ack comes: that
	// would resume in the middle of the newer content after a crash.
	fps    map[uint64]string
	closed bool      // the reader let go: no batch follows
	pushed pushTimes // when each unacknowledged batch was numbered (status.go)
	// For the ledger (ledger.go): where the finished prefix ends, whether
	// it moved at all, and when the last ack came (Unix nanoseconds).
	done    mark
	anyDone bool
	lastAck int64
}

// mark is where a batch ends: its generation and the offset in it.
type mark struct {
	gen uint64
	end int64
}

func newWatermark() *watermark {
	return &watermark{acked: map[uint64]mark{}, fps: map[uint64]string{}}
}

// generation records the fingerprint of generation gen ("" while its
// first line is unfinished).
func (w *watermark) generation(gen uint64, fp string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.fps[gen] = fp
}

// send numbers the next batch.
func (w *watermark) send() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pushed.set(w.next)
	w.next++
	return w.next - 1
}

// unsend takes back the last number: that batch was never pushed, and no
// ack will come for it.
func (w *watermark) unsend() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.next--
}

// pending is the number of batches pushed and not acknowledged.
func (w *watermark) pending() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.next - w.oldest
}

// ack records batch seq as done at m. When the finished prefix moved, cp
// is the checkpoint it reached (offset, generation and that generation's
// fingerprint) and moved is true; done says every batch is acknowledged
// and the reader let go.
func (w *watermark) ack(seq uint64, m mark) (cp checkpoint.Entry, moved, done bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.acked[seq] = m
	w.lastAck = time.Now().UnixNano()
	var last mark
	for {
		e, ok := w.acked[w.oldest]
		if !ok {
			break
		}
		last, moved = e, true
		delete(w.acked, w.oldest)
		w.oldest++
	}
	if !moved {
		return cp, false, false
	}
	// Older generations are behind the prefix: no ack needs them now.
	for g := range w.fps {
		if g < last.gen {
			delete(w.fps, g)
		}
	}
	w.done, w.anyDone = last, true
	cp = checkpoint.Entry{Fingerprint: w.fps[last.gen], Offset: last.end, Generation: last.gen}
	return cp, true, w.closed && w.oldest == w.next
}

// delivered is where the finished prefix ends (ok: it moved in this
// run), and when the last ack came (zero: none yet).
func (w *watermark) delivered() (m mark, ok bool, last time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.lastAck != 0 {
		last = time.Unix(0, w.lastAck)
	}
	return w.done, w.anyDone, last
}

// isClosed reports whether the reader let go for good.
func (w *watermark) isClosed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closed
}

// close records that the reader let go; true when every batch is
// acknowledged already.
func (w *watermark) close() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	return w.oldest == w.next
}

// Ack implements record.Acker.
func (r *fileReader) Ack(b *record.Batch) {
	r.publish(b)
	r.refund(b.Seq)
	select {
	case r.ackCh <- struct{}{}:
	default:
	}
}

// publish moves the watermark past b and saves the checkpoint it gives.
// Acks come from several goroutines at once (the outputs' senders, a
// sink's own); one at a time here, or an older checkpoint computed first
// could be saved after a newer one, and stay: the position went back,
// and a restart read again what was delivered.
func (r *fileReader) publish(b *record.Batch) {
	r.ackMu.Lock()
	defer r.ackMu.Unlock()
	cp, moved, done := r.acks.ack(b.Seq, mark{gen: b.Source.Generation, end: b.End})
	if !moved || !r.t.owns(r) {
		// A newer reader of a reused inode owns the checkpoint now.
		return
	}
	if done {
		// Read to the end, released, and all of it delivered.
		r.t.store.Delete(r.key)
		return
	}
	cp.Path, cp.Dev, cp.Inode = r.path, r.dev, r.ino
	cp.Size = r.sizeFor(cp)
	r.t.store.Set(r.key, cp)
}

// waitAcks waits until at most n batches are unacknowledged; false when
// ctx ended first. While it waits it looks at the file (look) every
// poll_interval, which is as often as look reads it: every ack wakes it
// anyway, so a longer sleep costs no latency, and a file whose output is
// down does not wake more often than one at its end. behind says that the
// file has more to read than its window lets it hand over: the sink is
// told while the wait lasts (ackWaiter), so that its outputs do not hold
// the acknowledgements up until bulk.flush_interval.
func (r *fileReader) waitAcks(ctx context.Context, n uint64, behind bool) bool {
	var t *time.Timer
	told := false
	defer func() {
		if t != nil {
			timerpool.Put(t)
		}
		if told {
			r.t.waiter.AckWaitDone()
		}
	}()
	wait := 100 * time.Millisecond // n == 0: a check at idle time
	if n > 0 {
		wait = max(wait, r.t.cfg.PollInterval.Duration())
	}
	for {
		if r.acks.pending() <= n {
			return true
		}
		if t == nil {
			if behind && r.t.waiter != nil {
				r.t.waiter.AckWait()
				told = true
			}
			t = timerpool.Get(wait)
		} else {
			t.Reset(wait)
		}
		select {
		case <-ctx.Done():
			return false
		case <-r.ackCh:
		case <-t.C:
			if n == 0 {
				return false // only a check at idle time: do not wait long
			}
		}
		if n > 0 {
			r.look()
		}
	}
}
