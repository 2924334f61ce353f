// Package fairshare admits a container_logs input's batches into the
// pipeline by weighted fair queuing over what the outputs actually take.
//
// The scheduler holds a budget of bytes read and not yet acknowledged
// (in_flight). While the budget has room, every batch goes at once: spare
// capacity is anyone's (work-conserving). When it is full, the outputs are
// the bottleneck, and the batches that wait are admitted in order of their
// start tags (start-time fair queuing): each key (a namespace, a pod or a
// container) advances its own virtual clock by bytes/weight, so a quiet
// key's next batch carries an early tag and goes before the backlog of a
// noisy one, and backlogged keys share the budget by weight.
//
// Nothing is dropped: a file whose batch waits is not read further, and
// its log file is the buffer (DESIGN.md, delivery). The only way waiting
// can lose is the kubelet deleting a file not read to its end, which the
// tailer counts.
//
// The cost is one mutex per batch (a batch is up to batch_bytes of lines),
// none per record, and no allocation once a reader has its Ticket.
package fairshare

import (
	"container/heap"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Scheduler admits batches of many keys within one budget of bytes in
// flight. Its methods are safe for concurrent use.
type Scheduler struct {
	limit int64
	// Per-key ceilings, bytes and records a second (ceiling.go); 0: none.
	maxBytes, maxRecords int64

	mu       sync.Mutex
	inFlight int64
	vtime    float64 // the start tag of the latest batch admitted
	seq      uint64  // arrival order, to break ties between equal tags
	waiting  queue
	keys     map[string]*Key

	stats Stats
}

// Stats are the scheduler's counters; read them with Load.
type Stats struct {
	Admitted     atomic.Int64 // batches admitted
	AdmittedByte atomic.Int64 // their bytes
	Waited       atomic.Int64 // batches that waited for the budget
	WaitNanos    atomic.Int64 // the time they waited, summed
	InFlight     atomic.Int64 // bytes admitted and not released
	Waiting      atomic.Int64 // batches waiting now
	// Batches delayed by a key's ceiling, and for how long (ceiling.go).
	CeilingWaited atomic.Int64
	CeilingNanos  atomic.Int64
}

// New returns a scheduler whose batches in flight hold at most limit bytes
// (a single batch larger than limit still goes, alone).
func New(limit int64) *Scheduler {
	return &Scheduler{limit: max(limit, 1), keys: map[string]*Key{}}
}

// Limit is the budget of bytes in flight.
func (s *Scheduler) Limit() int64 { return s.limit }

// Stats returns the live counters.
func (s *Scheduler) Stats() *Stats { return &s.stats }

// Key is one share: the files of a namespace, a pod or a container.
type Key struct {
	s      *Scheduler
	name   string
	weight float64
	// Guarded by s.mu.
	finish float64 // the finish tag of the key's latest request
	refs   int     // tickets of this key not yet left

	// The key's ceilings (ceiling.go); nil: none. Safe for concurrent use.
	bytes, records *rate.Limiter

	admitted  atomic.Int64 // bytes admitted
	waited    atomic.Int64 // batches that waited
	waitNanos atomic.Int64
	waiting   atomic.Int64 // batches waiting now
}

// Ticket is one reader's way into the scheduler: it holds at most one
// request at a time. Make one per reader with Join and give it back with
// Leave.
type Ticket struct {
	key   *Key
	ready chan struct{}
	// Guarded by the scheduler's mu.
	n       int64
	start   float64
	seq     uint64
	index   int // in the queue; -1 when not waiting
	granted bool
	since   int64 // when the request started waiting, Unix nanos
}

// Join returns a ticket of key name, whose weight is weight (at least 1)
// the first time the key is seen; a key lives while it has tickets.
func (s *Scheduler) Join(name string, weight int) *Ticket {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.keys[name]
	if k == nil {
		k = &Key{s: s, name: name, weight: float64(max(weight, 1)), finish: s.vtime,
			bytes: newLimiter(s.maxBytes), records: newLimiter(s.maxRecords)}
		s.keys[name] = k
	}
	k.refs++
	return &Ticket{key: k, ready: make(chan struct{}, 1), index: -1}
}

// SetWeight gives the ticket's key weight w (at least 1): a weight that
// became known after the key was joined (a pod's annotation or labels,
// once the pod is in the metadata cache). The key's latest weight holds.
func (t *Ticket) SetWeight(w int) {
	s := t.key.s
	s.mu.Lock()
	defer s.mu.Unlock()
	t.key.weight = float64(max(w, 1))
}

// Leave gives the ticket back; its request, if any, must be over.
func (t *Ticket) Leave() {
	s := t.key.s
	s.mu.Lock()
	defer s.mu.Unlock()
	t.key.refs--
	if t.key.refs == 0 && s.keys[t.key.name] == t.key {
		delete(s.keys, t.key.name)
	}
}

// Key is the ticket's key.
func (t *Ticket) Key() *Key { return t.key }

// Request asks for n bytes. It reports true when they are admitted at once;
// otherwise Ready is signalled when they are, and the caller must wait for
// it or Cancel. The bytes go back with Release once the batch is
// acknowledged.
func (t *Ticket) Request(n int64) bool {
	s := t.key.s
	s.mu.Lock()
	defer s.mu.Unlock()
	k := t.key
	start := max(s.vtime, k.finish)
	k.finish = start + float64(n)/k.weight
	t.n, t.start, t.seq, t.granted = n, start, s.seq, false
	s.seq++
	if len(s.waiting) == 0 && s.fits(n) {
		s.admit(t)
		return true
	}
	t.since = time.Now().UnixNano()
	heap.Push(&s.waiting, t)
	k.waiting.Add(1)
	s.stats.Waiting.Add(1)
	return false
}

// Ready is signalled once a request that had to wait is admitted.
func (t *Ticket) Ready() <-chan struct{} { return t.ready }

// Cancel withdraws a waiting request. It reports true when the request was
// admitted meanwhile: then the caller holds its bytes and must Release
// them.
func (t *Ticket) Cancel() (admitted bool) {
	s := t.key.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.granted {
		select {
		case <-t.ready:
		default:
		}
		return true
	}
	if t.index >= 0 {
		heap.Remove(&s.waiting, t.index)
		t.key.waiting.Add(-1)
		s.stats.Waiting.Add(-1)
	}
	return false
}

// Release gives back n bytes admitted earlier and admits what waits, in
// tag order, while it fits.
func (s *Scheduler) Release(n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inFlight -= n
	s.stats.InFlight.Store(s.inFlight)
	for len(s.waiting) > 0 && s.fits(s.waiting[0].n) {
		t := heap.Pop(&s.waiting).(*Ticket)
		wait := time.Now().UnixNano() - t.since
		t.key.waiting.Add(-1)
		t.key.waited.Add(1)
		t.key.waitNanos.Add(wait)
		s.stats.Waiting.Add(-1)
		s.stats.Waited.Add(1)
		s.stats.WaitNanos.Add(wait)
		s.admit(t)
		t.ready <- struct{}{} // never blocks: one request per ticket
	}
}

// fits says n bytes may go now: the budget has room, or nothing is in
// flight (a batch larger than the budget goes alone).
func (s *Scheduler) fits(n int64) bool {
	return s.inFlight+n <= s.limit || s.inFlight == 0
}

func (s *Scheduler) admit(t *Ticket) {
	t.granted = true
	s.inFlight += t.n
	s.vtime = max(s.vtime, t.start)
	t.key.admitted.Add(t.n)
	s.stats.InFlight.Store(s.inFlight)
	s.stats.Admitted.Add(1)
	s.stats.AdmittedByte.Add(t.n)
}

// KeyStatus is one key as Keys sees it.
type KeyStatus struct {
	Key           string  `json:"key"`
	Weight        int     `json:"weight"`
	Files         int     `json:"files"`
	AdmittedBytes int64   `json:"admitted_bytes"`
	Waited        int64   `json:"waited_batches"`
	WaitSeconds   float64 `json:"wait_seconds"`
	Waiting       int64   `json:"waiting_batches"`
}

// Keys lists the live keys (those with files open).
func (s *Scheduler) Keys() []KeyStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]KeyStatus, 0, len(s.keys))
	for _, k := range s.keys {
		out = append(out, KeyStatus{
			Key: k.name, Weight: int(k.weight), Files: k.refs,
			AdmittedBytes: k.admitted.Load(), Waited: k.waited.Load(),
			WaitSeconds: float64(k.waitNanos.Load()) / 1e9, Waiting: k.waiting.Load(),
		})
	}
	return out
}

// queue is a heap of waiting tickets by start tag, then arrival.
type queue []*Ticket

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if q[i].start != q[j].start {
		return q[i].start < q[j].start
	}
	return q[i].seq < q[j].seq
}
func (q queue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}
func (q *queue) Push(x any) {
	t := x.(*Ticket)
	t.index = len(*q)
	*q = append(*q, t)
}
func (q *queue) Pop() any {
	old := *q
	t := old[len(old)-1]
	old[len(old)-1] = nil
	t.index = -1
	*q = old[:len(old)-1]
	return t
}
