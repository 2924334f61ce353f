// Package tap lets people watch the documents that flow through the
// pipeline, live: a Hub to which pipeline workers publish each encoded
// batch while somebody listens, and subscribers that each receive the
// documents their Filter matches.
//
// The tap never slows the pipeline: with nobody listening, Publish is not
// even called (Active is one atomic load per batch). Publish copies a
// batch once, into a Chunk shared by every subscriber it may concern, and
// only hands it to their bounded queues; filters are evaluated by each
// subscriber's own goroutine (WriteMatching), so a costly pattern slows
// that subscriber alone. A subscriber whose queue is full, or that holds
// chunks when the tap's memory is used up, is dropped, not waited for.
package tap

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/sluicelog/sluice/agent/budget"
	"github.com/sluicelog/sluice/agent/record"
)

// DefaultBuffer is the chunks a subscriber may have waiting; a chunk holds
// the documents of one batch (~64 KiB of lines, encoded).
const DefaultBuffer = 64

// DefaultMaxSubscribers bounds the subscribers of one hub.
const DefaultMaxSubscribers = 16

// DefaultMemory is what the chunks of a hub may hold at once until
// SetMemory says otherwise (the runtime gives it a share of memory_limit,
// agent/budget.TapShare).
const DefaultMemory = 4 << 20

// ErrTooMany is returned by Subscribe when the hub is full.
var ErrTooMany = errors.New("too many tap subscribers")

// Hub fans batches out to subscribers. Its zero value is not usable; use
// NewHub.
type Hub struct {
	active  atomic.Int32 // len(*subs), read by Active
	dropped atomic.Int64 // subscribers dropped for not keeping up

	buffer, maxSubs int
	mem             atomic.Pointer[budgetBox]

	// subs is replaced, never changed in place, under mu: Publish reads it
	// without a lock.
	subs atomic.Pointer[[]*Subscriber]
	mu   sync.Mutex // Subscribe and Unsubscribe
}

type budgetBox struct{ b *budget.Budget }

// NewHub returns a hub whose subscribers queue `buffer` chunks each, with
// at most maxSubs subscribers; values <= 0 take the defaults.
func NewHub(buffer, maxSubs int) *Hub {
	if buffer <= 0 {
		buffer = DefaultBuffer
	}
	if maxSubs <= 0 {
		maxSubs = DefaultMaxSubscribers
	}
	h := &Hub{buffer: buffer, maxSubs: maxSubs}
	h.subs.Store(&[]*Subscriber{})
	h.mem.Store(&budgetBox{budget.New(DefaultMemory)})
	return h
}

// SetMemory makes b bound the bytes the hub's chunks hold. Call it before
// anyone subscribes.
func (h *Hub) SetMemory(b *budget.Budget) { h.mem.Store(&budgetBox{b}) }

// MemoryUsed is the bytes the hub's chunks hold now.
func (h *Hub) MemoryUsed() int64 { return h.mem.Load().b.Used() }

// Active reports whether anyone listens. Workers call it for every batch,
// and Publish only when it is true.
func (h *Hub) Active() bool { return h.active.Load() > 0 }

// Subscribers is the number of current subscribers.
func (h *Hub) Subscribers() int { return int(h.active.Load()) }

// Dropped counts the subscribers dropped because they did not keep up.
func (h *Hub) Dropped() int64 { return h.dropped.Load() }

// Subscriber receives the chunks that may hold documents its filter
// matches.
type Subscriber struct {
	h      *Hub
	filter Filter

	// mu guards sending on ch and closing it: Publish (on a worker) only
	// ever holds it for a send that does not block.
	mu   sync.Mutex
	ch   chan *Chunk
	gone bool // ch is closed; guarded by mu
	slow atomic.Bool
}

// Subscribe adds a subscriber. Its channel closes when it is dropped or
// unsubscribed; call Unsubscribe when done in any case.
func (h *Hub) Subscribe(f Filter) (*Subscriber, error) {
	s := &Subscriber{h: h, filter: f, ch: make(chan *Chunk, h.buffer)}
	h.mu.Lock()
	defer h.mu.Unlock()
	old := *h.subs.Load()
	if len(old) >= h.maxSubs {
		return nil, ErrTooMany
	}
	subs := append(slices.Clip(old), s)
	h.subs.Store(&subs)
	h.active.Store(int32(len(subs)))
	return s, nil
}

// C delivers chunks; pass each to WriteMatching, which releases it. C is
// closed when the subscriber is dropped (Dropped then reports true) or
// unsubscribed.
func (s *Subscriber) C() <-chan *Chunk { return s.ch }

// Dropped reports whether the hub dropped s because it did not keep up.
func (s *Subscriber) Dropped() bool { return s.slow.Load() }

// Unsubscribe removes s and releases what it had queued; it may be called
// more than once.
func (s *Subscriber) Unsubscribe() {
	s.close()
	s.remove()
}

// remove takes s out of the hub's list; it may be called more than once.
func (s *Subscriber) remove() {
	h := s.h
	h.mu.Lock()
	defer h.mu.Unlock()
	old := *h.subs.Load()
	if i := slices.Index(old, s); i >= 0 {
		subs := slices.Delete(slices.Clone(old), i, i+1)
		h.subs.Store(&subs)
		h.active.Store(int32(len(subs)))
	}
}

// close closes ch, so no chunk is sent to s any more, and releases the
// queued ones. It reports whether it was s's first close.
func (s *Subscriber) close() bool {
	s.mu.Lock()
	first := !s.gone
	if first {
		s.gone = true
		close(s.ch)
	}
	s.mu.Unlock()
	// Whatever the reader does not take is released here; the reader
	// releases what it takes.
	for {
		select {
		case c, ok := <-s.ch:
			if !ok {
				return first
			}
			c.Release()
		default:
			return first
		}
	}
}

// drop closes s for not keeping up and frees its slot at once (its
// reader may be stuck in a write until its deadline). Rare, so taking
// the hub's Subscribe lock here is fine.
func (s *Subscriber) drop() {
	s.slow.Store(true)
	if s.close() {
		s.h.dropped.Add(1)
		s.remove()
	}
}

// offer queues c for s without waiting; false when s's queue is full.
func (s *Subscriber) offer(c *Chunk) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gone {
		return true // gone meanwhile: nothing to deliver, nobody to drop
	}
	c.refs.Add(1)
	select {
	case s.ch <- c:
		return true
	default:
		c.refs.Add(-1)
		return false
	}
}

// Publish offers the encoded documents of b (b.Doc(i)) to the subscribers
// whose filter may match b's source. It copies them once, so b may be
// recycled as soon as Publish returns, takes no lock that a subscriber
// holds for long, and evaluates no pattern. It never blocks on a
// subscriber: one whose queue is full is dropped and counted, and when the
// hub's memory is used up, those holding queued chunks are dropped first.
// Workers call it only while Active.
func (h *Hub) Publish(b *record.Batch) {
	subs := *h.subs.Load()
	targets := make([]*Subscriber, 0, len(subs))
	lines := false
	for _, s := range subs {
		if s.filter.mayMatch(b.Source) {
			targets = append(targets, s)
			lines = lines || s.filter.Grep != nil
		}
	}
	if len(targets) == 0 {
		return
	}
	mem := h.mem.Load().b
	c := newChunk(b, lines, mem)
	if !mem.TryAcquire(c.size) {
		// Those holding queued chunks are behind: dropping them frees
		// their chunks. If that is not enough, the chunks are being
		// written out and nobody can take this one.
		for _, s := range targets {
			if len(s.ch) > 0 {
				s.drop()
			}
		}
		if !mem.TryAcquire(c.size) {
			for _, s := range targets {
				s.drop()
			}
			return
		}
	}
	c.refs.Store(1) // Publish's own, until every target has it
	for _, s := range targets {
		if !s.offer(c) {
			s.drop()
		}
	}
	c.Release()
}
