// Package tap lets people watch the documents that flow through the
// pipeline, live: a Hub to which pipeline workers publish each encoded
// batch while somebody listens, and subscribers that each receive copies
// of the documents their Filter matches.
//
// The tap never slows the pipeline: with nobody listening, Publish is not
// even called (Active is one atomic load per batch); a subscriber whose
// buffer is full is dropped, not waited for.
package tap

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/sluicelog/sluice/agent/record"
)

// DefaultBuffer is the chunks a subscriber may have waiting; a chunk holds
// the matching documents of one batch (at most a batch's size, ~64 KiB).
const DefaultBuffer = 64

// DefaultMaxSubscribers bounds the subscribers of one hub.
const DefaultMaxSubscribers = 16

// ErrTooMany is returned by Subscribe when the hub is full.
var ErrTooMany = errors.New("too many tap subscribers")

// Hub fans batches out to subscribers. Its zero value is not usable; use
// NewHub.
type Hub struct {
	active  atomic.Int32 // len(subs), read without the lock by Active
	dropped atomic.Int64 // subscribers dropped for not keeping up

	buffer, maxSubs int

	mu   sync.Mutex
	subs []*Subscriber
}

// NewHub returns a hub whose subscribers buffer `buffer` chunks each, with
// at most maxSubs subscribers; values <= 0 take the defaults.
func NewHub(buffer, maxSubs int) *Hub {
	if buffer <= 0 {
		buffer = DefaultBuffer
	}
	if maxSubs <= 0 {
		maxSubs = DefaultMaxSubscribers
	}
	return &Hub{buffer: buffer, maxSubs: maxSubs}
}

// Active reports whether anyone listens. Workers call it for every batch,
// and Publish only when it is true.
func (h *Hub) Active() bool { return h.active.Load() > 0 }

// Subscribers is the number of current subscribers.
func (h *Hub) Subscribers() int { return int(h.active.Load()) }

// Dropped counts the subscribers dropped because their buffer was full.
func (h *Hub) Dropped() int64 { return h.dropped.Load() }

// Subscriber receives the documents that match its filter.
type Subscriber struct {
	h      *Hub
	filter Filter
	ch     chan []byte
	gone   bool // removed from the hub; ch is closed. Guarded by h.mu.
	slow   bool // dropped for not keeping up. Guarded by h.mu.
}

// Subscribe adds a subscriber. Its channel closes when it is dropped or
// unsubscribed; call Unsubscribe when done in any case.
func (h *Hub) Subscribe(f Filter) (*Subscriber, error) {
	s := &Subscriber{h: h, filter: f, ch: make(chan []byte, h.buffer)}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.subs) >= h.maxSubs {
		return nil, ErrTooMany
	}
	h.subs = append(h.subs, s)
	h.active.Store(int32(len(h.subs)))
	return s, nil
}

// C delivers chunks of NDJSON: whole documents, each followed by '\n'.
// Each chunk belongs to the receiver. C is closed when the subscriber is
// dropped (Dropped then reports true) or unsubscribed.
func (s *Subscriber) C() <-chan []byte { return s.ch }

// Dropped reports whether the hub dropped s because it did not keep up.
func (s *Subscriber) Dropped() bool {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	return s.slow
}

// Unsubscribe removes s; it may be called more than once.
func (s *Subscriber) Unsubscribe() {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	s.h.remove(s)
}

// remove takes s out of the hub and closes its channel; h.mu is held.
func (h *Hub) remove(s *Subscriber) {
	if s.gone {
		return
	}
	s.gone = true
	close(s.ch)
	if i := slices.Index(h.subs, s); i >= 0 {
		h.subs = slices.Delete(h.subs, i, i+1) // clears the freed slot
	}
	h.active.Store(int32(len(h.subs)))
}

// Publish offers the encoded documents of b (b.Doc(i)) to every
// subscriber. Matching documents are copied, so b may be recycled as soon
// as Publish returns. It never blocks on a subscriber: one whose buffer is
// full is dropped and counted. Workers call it only while Active.
func (h *Hub) Publish(b *record.Batch) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := 0; i < len(h.subs); {
		s := h.subs[i]
		chunk := s.filter.appendMatching(nil, b)
		if len(chunk) == 0 {
			i++
			continue
		}
		select {
		case s.ch <- chunk:
			i++
		default:
			// Too slow: drop it rather than wait. remove shifts the slice,
			// so i now points at the next subscriber.
			s.slow = true
			h.dropped.Add(1)
			h.remove(s)
		}
	}
}
