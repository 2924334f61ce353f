package kafka

import (
	"context"
	"sync"
	"time"

	"github.com/sluicelog/sluice/agent/record"
)

// gapWait is how long a batch waits for an earlier batch of its source
// that no writer has taken and none was told to skip (Skip) before it
// goes ahead. Batches the pipeline does not give the output are skipped,
// so this only bounds a wait for a batch that never comes at all; a
// batch in the ring behind a busy worker is not one, hence seconds.
const gapWait = 5 * time.Second

// sequencer hands a source's batches to the producer in the order the
// source read them (record.Batch.Seq). The pipeline's workers take
// batches side by side, so without it a pod's later lines could reach
// its partition before earlier ones.
type sequencer struct {
	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change
	srcs    map[*record.Source]*srcSeq
	swept   time.Time
	gap     time.Duration // gapWait; shorter in tests
}

type srcSeq struct {
	next uint64          // the batch expected next (Seq counts from 0)
	busy map[uint64]bool // batches a writer has and has not handed over yet
	done map[uint64]bool // batches past next handed over or skipped
	used time.Time
}

func newSequencer() *sequencer {
	return &sequencer{changed: make(chan struct{}), srcs: map[*record.Source]*srcSeq{}, gap: gapWait}
}

// enter registers b with its source; call leave once b is handed over.
func (q *sequencer) enter(b *record.Batch) {
	q.mu.Lock()
	s := q.source(b)
	s.busy[b.Seq] = true
	q.mu.Unlock()
}

// source returns b's source's state; caller holds mu.
func (q *sequencer) source(b *record.Batch) *srcSeq {
	s := q.srcs[b.Source]
	if s == nil {
		s = &srcSeq{busy: map[uint64]bool{}, done: map[uint64]bool{}}
		q.srcs[b.Source] = s
	}
	s.used = time.Now()
	return s
}

// wait returns once every earlier batch of b's source is handed over,
// or no writer has it and gapWait passed, or ctx ends.
func (q *sequencer) wait(ctx context.Context, b *record.Batch) error {
	var gap *time.Timer
	defer func() {
		if gap != nil {
			gap.Stop()
		}
	}()
	for {
		q.mu.Lock()
		s := q.srcs[b.Source]
		earlierBusy := false
		for seq := range s.busy {
			earlierBusy = earlierBusy || seq < b.Seq
		}
		ready := b.Seq <= s.next
		changed := q.changed
		q.mu.Unlock()
		if ready {
			return nil
		}
		var gapC <-chan time.Time
		if !earlierBusy { // nobody has the batch before: it may never come
			if gap == nil {
				gap = time.NewTimer(q.gap)
			}
			gapC = gap.C
		}
		select {
		case <-changed:
		case <-gapC:
			q.mu.Lock()
			for s.next < b.Seq { // the batches before are given up
				delete(s.done, s.next)
				s.next++
			}
			q.mu.Unlock()
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// leave marks b handed over.
func (q *sequencer) leave(b *record.Batch) {
	q.mu.Lock()
	defer q.mu.Unlock()
	s := q.srcs[b.Source]
	delete(s.busy, b.Seq)
	q.settle(s, b.Seq)
}

// skip marks b as one this output will not be given (its route does not
// take it, or the filters dropped all its records).
func (q *sequencer) skip(b *record.Batch) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.settle(q.source(b), b.Seq)
}

// settle counts seq as passed and moves next over every batch passed;
// caller holds mu.
func (q *sequencer) settle(s *srcSeq, seq uint64) {
	if seq >= s.next {
		s.done[seq] = true
	}
	for s.done[s.next] {
		delete(s.done, s.next)
		s.next++
	}
	close(q.changed)
	q.changed = make(chan struct{})
	if now := time.Now(); now.Sub(q.swept) > time.Minute {
		q.swept = now
		for src, s := range q.srcs {
			if len(s.busy) == 0 && now.Sub(s.used) > 5*time.Minute {
				delete(q.srcs, src)
			}
		}
	}
}
