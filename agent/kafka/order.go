package kafka

import (
	"context"
	"sync"
	"time"

	"github.com/sluicelog/sluice/agent/record"
)

// gapWait is how long a batch waits for an earlier batch of its source
// that no writer has taken yet (one the filters dropped whole never
// comes) before it goes ahead.
const gapWait = 250 * time.Millisecond

// sequencer hands a source's batches to the producer in the order the
// source read them (record.Batch.Seq). The pipeline's workers take
// batches side by side, so without it a pod's later lines could reach
// its partition before earlier ones.
type sequencer struct {
	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change
	srcs    map[*record.Source]*srcSeq
	swept   time.Time
}

type srcSeq struct {
	next uint64          // the batch expected next (Seq counts from 0)
	busy map[uint64]bool // batches a writer has and has not handed over yet
	used time.Time
}

func newSequencer() *sequencer {
	return &sequencer{changed: make(chan struct{}), srcs: map[*record.Source]*srcSeq{}}
}

// enter registers b with its source; call leave once b is handed over.
func (q *sequencer) enter(b *record.Batch) {
	q.mu.Lock()
	s := q.srcs[b.Source]
	if s == nil {
		s = &srcSeq{busy: map[uint64]bool{}}
		q.srcs[b.Source] = s
	}
	s.busy[b.Seq] = true
	s.used = time.Now()
	q.mu.Unlock()
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
				gap = time.NewTimer(gapWait)
			}
			gapC = gap.C
		}
		select {
		case <-changed:
		case <-gapC:
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
	s.next = max(s.next, b.Seq+1)
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
