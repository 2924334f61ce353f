package syslog

import (
	"sync"
	"time"

	"github.com/sluicelog/sluice/agent/record"
)

// unacked holds, for every batch handed over and not yet acknowledged by
// the outputs, when its first message was read: the oldest is the input's
// lag in time. Syslog batches finish in any order and nothing is replayed,
// so a table keyed by batch number is all it takes; it costs a lock per
// batch, never per message. It is the batches' record.Acker.
type unacked struct {
	mu   sync.Mutex
	next uint64
	read map[uint64]int64 // batch number (Batch.Seq) → Unix ns its first message was read
}

// add numbers b, notes when its first message was read, and makes the
// table its Acker. Call it before the batch is handed over.
func (u *unacked) add(b *record.Batch, read time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.read == nil {
		u.read = map[uint64]int64{}
	}
	u.next++
	b.Seq = u.next
	u.read[b.Seq] = read.UnixNano()
	b.Acker = u
}

// remove forgets a batch that was not handed over after all (dropped).
func (u *unacked) remove(b *record.Batch) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.read, b.Seq)
}

// Ack implements record.Acker: every output is done with b.
func (u *unacked) Ack(b *record.Batch) { u.remove(b) }

// oldest is when the oldest message read and not yet acknowledged was
// read; zero when every one is. The scan is at scrape time and bounded by
// the batches memory_limit lets wait.
func (u *unacked) oldest() time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	var first int64
	for _, t := range u.read {
		if first == 0 || t < first {
			first = t
		}
	}
	if first == 0 {
		return time.Time{}
	}
	return time.Unix(0, first)
}

// OldestUnacked is when the oldest message this input read and the outputs
// have not acknowledged yet was read (or spooled, for what a Downstream
// keeps); zero when there is none. Its age is the input's lag in time: it
// grows while an output is down.
func (in *Input) OldestUnacked() time.Time {
	oldest := in.unacked.oldest()
	if ds, ok := in.sink.(Downstream); ok {
		now := time.Now()
		if age := ds.OldestAge(now); age > 0 {
			if kept := now.Add(-age); oldest.IsZero() || kept.Before(oldest) {
				oldest = kept
			}
		}
	}
	return oldest
}
