package spool

import (
	"sync"

	"github.com/sluicelog/sluice/agent/record"
)

// pos is a place in the spool: a segment and an offset in it.
type pos struct {
	seg uint64
	off int64
}

// acks orders the acknowledgements of the batches read back: they are
// numbered as they are handed over, arrive in any order, and the position
// moves over the acknowledged prefix only, as a file's checkpoint does.
// Acks come from output goroutines, hence the mutex.
type acks struct {
	mu     sync.Mutex
	next   uint64 // number of the next batch handed over
	oldest uint64 // number of the oldest batch not acknowledged
	out    map[uint64]sent
	done   pos // everything before it is acknowledged
}

// sent is a batch handed over: where it ends, when it was spooled, and
// whether it is acknowledged.
type sent struct {
	end     pos
	spooled int64
	acked   bool
}

func (a *acks) init(p pos) {
	a.out = map[uint64]sent{}
	a.done = p
}

// handOver numbers a batch that ends at end.
func (a *acks) handOver(end pos, spooled int64) uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := a.next
	a.next++
	a.out[n] = sent{end: end, spooled: spooled}
	return n
}

// withdraw forgets the last batch numbered, which was not handed over
// after all (the reader is stopping).
func (a *acks) withdraw(n uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if n == a.next-1 {
		delete(a.out, n)
		a.next--
	}
}

// Ack is record.Acker: the batch numbered b.Seq is delivered.
func (a *acks) Ack(b *record.Batch) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.out[b.Seq]
	if !ok {
		return
	}
	s.acked = true
	a.out[b.Seq] = s
	for {
		s, ok := a.out[a.oldest]
		if !ok || !s.acked {
			return
		}
		a.done = s.end
		delete(a.out, a.oldest)
		a.oldest++
	}
}

// position is the end of the acknowledged prefix.
func (a *acks) position() pos {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.done
}

// oldestSpooled is when the oldest batch not acknowledged was spooled
// (Unix ns), 0 when none is out.
func (a *acks) oldestSpooled() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s, ok := a.out[a.oldest]; ok {
		return s.spooled
	}
	return 0
}

var _ record.Acker = (*acks)(nil)
