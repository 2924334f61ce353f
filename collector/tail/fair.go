package tail

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/sluicelog/sluice/agent/fairshare"
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/internal/timerpool"
)

// The hooks of fair_share (agent/fairshare): a reader asks the input's
// scheduler before it hands a batch over, and gives the bytes back when
// the batch is acknowledged. While it waits it reads nothing more of its
// file: the file is the buffer, and nothing is dropped.

// fairShare is an input's scheduler and how it names keys.
type fairShare struct {
	sched  *fairshare.Scheduler
	policy fairshare.Policy
}

// share is a reader's ticket and what each of its batches in flight was
// charged, by sequence number (at most maxInFlightFair are in flight).
type share struct {
	sched   *fairshare.Scheduler
	ticket  *fairshare.Ticket
	charged [maxInFlightFair]atomic.Int64
	// While the file's pod is not in the metadata cache its weight is the
	// config's; the reader asks again, once a second (the reader's own).
	unresolved int
	asked      time.Time
}

// resolveTries bounds how often a reader asks for its pod's weight.
const resolveTries = 60

// ShareFairly turns fair share on for the files opened from now on; call
// it before Run.
func (t *Tailer) ShareFairly(s *fairshare.Scheduler, p fairshare.Policy) {
	t.fair = &fairShare{sched: s, policy: p}
}

// FairShare is the input's scheduler, or nil when fair_share is off.
func (t *Tailer) FairShare() *fairshare.Scheduler {
	if t.fair == nil {
		return nil
	}
	return t.fair.sched
}

// joinShare gives a new reader its ticket.
func (r *fileReader) joinShare() {
	f := r.t.fair
	if f == nil {
		return
	}
	name, weight := f.policy.Key(r.names.Namespace, r.names.Pod, r.names.Container)
	r.share = &share{sched: f.sched, ticket: f.sched.Join(name, weight), asked: time.Now()}
	if !f.policy.Resolved(r.names.Namespace, r.names.Pod) {
		r.share.unresolved = resolveTries
	}
}

// resolve gives the key its pod's weight once the pod is cached (the
// annotation sluice.io/weight or label_weights). The reader asks before a
// batch and while it waits at its file's end, so a file written once
// before its pod was cached still shows its weight (/api/v1/status).
func (r *fileReader) resolve() {
	s := r.share
	if s == nil || s.unresolved == 0 || time.Since(s.asked) < time.Second {
		return
	}
	s.unresolved--
	s.asked = time.Now()
	p := r.t.fair.policy
	if p.Resolved(r.names.Namespace, r.names.Pod) {
		s.unresolved = 0
		s.ticket.SetWeight(p.Weight(r.names.Namespace, r.names.Pod))
	}
}

// ceiling waits out the key's ceilings for batch b of n bytes, looking at
// the file meanwhile; false when ctx ended.
func (r *fileReader) ceiling(ctx context.Context, b *record.Batch, n int64) bool {
	d := r.share.ticket.Delay(n, int64(len(b.Records)))
	if d <= 0 {
		return true
	}
	poll := r.t.cfg.PollInterval.Duration()
	until := time.Now().Add(d)
	for {
		left := time.Until(until)
		if left <= 0 {
			return true
		}
		tm := timerpool.Get(min(left, poll))
		select {
		case <-ctx.Done():
			timerpool.Put(tm)
			return false
		case <-tm.C:
			timerpool.Put(tm)
			r.look()
		}
	}
}

// leaveShare gives the ticket back when the reader stops; acks of its
// batches still in flight give their bytes back through share.
func (r *fileReader) leaveShare() {
	if r.share != nil {
		r.share.ticket.Leave()
	}
}

// admit waits until the scheduler admits batch b's n bytes, looking at
// the file every poll_interval meanwhile (as push does), and, with
// on_max_lag: drop_oldest, whether it fell behind max_lag (maxlag.go):
// then b is to be skipped or the file let go of (size: its size).
func (r *fileReader) admit(ctx context.Context, b *record.Batch, n int64) (adm admission, size int64) {
	s := r.share
	if s == nil {
		return admitted, 0
	}
	if adm, size := r.overLag(b); adm != admitted {
		return adm, size
	}
	r.resolve()
	if !r.ceiling(ctx, b, n) {
		return admitStop, 0
	}
	if s.ticket.Request(n) {
		return admitted, 0
	}
	poll := r.t.cfg.PollInterval.Duration()
	tm := timerpool.Get(poll)
	defer timerpool.Put(tm)
	for {
		select {
		case <-s.ticket.Ready():
			return admitted, 0
		case <-ctx.Done():
			if s.ticket.Cancel() {
				s.sched.Release(n)
			}
			return admitStop, 0
		case <-tm.C:
			r.look()
			if adm, size := r.overLag(b); adm != admitted {
				if s.ticket.Cancel() {
					s.sched.Release(n)
				}
				return adm, size
			}
			tm.Reset(poll)
		}
	}
}

// maxInFlightFair bounds the unacknowledged batches of one file under
// fair_share: as many as the budget holds (chunk), so that a key of one
// file can take the whole budget when it is alone (work-conserving) or its
// weight's share of it. maxInFlight's bound on memory is the budget's
// here.
const maxInFlightFair = 16

// inFlightCap is how many batches of the file may be unacknowledged.
func (r *fileReader) inFlightCap() uint64 {
	if r.share != nil {
		return maxInFlightFair
	}
	return maxInFlight
}

// charge notes the bytes admitted for batch seq.
func (r *fileReader) charge(seq uint64, n int64) {
	if r.share != nil {
		r.share.charged[seq%maxInFlightFair].Store(n)
	}
}

// refund gives back what batch seq was charged: it was acknowledged, or
// never handed over.
func (r *fileReader) refund(seq uint64) {
	if r.share == nil {
		return
	}
	if n := r.share.charged[seq%maxInFlightFair].Swap(0); n > 0 {
		r.share.sched.Release(n)
	}
}

// minChunk bounds how small fair_share cuts reads and batches.
const minChunk = 4 << 10

// chunk is the size of a read and of a batch: batch_bytes, or with
// fair_share a sixteenth of its budget (maxInFlightFair) if that is less. Batches small
// beside the budget keep several in flight, so the outputs' partly filled
// bulk bodies are pushed out by the next batch rather than by
// flush_interval, and a quiet key never waits behind one huge batch.
func (t *Tailer) chunk() int {
	c := int(t.cfg.BatchBytes)
	if t.fair != nil {
		c = min(c, max(int(t.fair.sched.Limit()/16), minChunk))
	}
	return c
}
