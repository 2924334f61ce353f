package kafka

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicelog/sluice/agent/record"
)

// tracker is one batch on its way to Kafka: the copies of its documents
// and ids the records point at, and the count of records not finished
// yet. The batch is acknowledged when the count reaches zero. Trackers
// are reused (trackers), so a batch's records cost no allocation.
type tracker struct {
	out  *Output
	b    *record.Batch
	docs []byte // every document, copied: b.Doc is valid only during Write
	ids  record.BatchIDs
	hdrs []kgo.RecordHeader
	msgs []msg
	held int64        // bytes of o.mem
	left atomic.Int32 // records not finished, plus the writer's hold
}

// trackers keeps finished trackers' buffers for the next batches.
var trackers = sync.Pool{New: func() any { return new(tracker) }}

// maxPooledDocs is the largest document buffer a finished tracker keeps:
// a rare huge batch must not leave its buffer behind unaccounted.
const maxPooledDocs = 1 << 20

func newTracker(o *Output, b *record.Batch) *tracker {
	n := len(b.Records)
	t := trackers.Get().(*tracker)
	t.out, t.b = o, b
	t.docs = slices.Grow(t.docs[:0], len(b.Docs))
	t.hdrs = slices.Grow(t.hdrs[:0], n)
	if cap(t.msgs) < n {
		t.msgs = make([]msg, n)
	}
	t.msgs = t.msgs[:n]
	t.held = int64(len(b.Docs) + n*record.IDLen + n*msgSize)
	t.left.Store(int32(n + 1))
	return t
}

// msgSize is about what a record costs besides its bytes: the kgo.Record
// and its header, and what the producer keeps per record.
const msgSize = 256

// addDoc copies a document, trimmed of its trailing newline.
func (t *tracker) addDoc(doc []byte) []byte {
	for len(doc) > 0 && (doc[len(doc)-1] == '\n' || doc[len(doc)-1] == ' ') {
		doc = doc[:len(doc)-1]
	}
	start := len(t.docs)
	t.docs = append(t.docs, doc...)
	return t.docs[start:len(t.docs):len(t.docs)]
}

func (t *tracker) header(id []byte) []kgo.RecordHeader {
	t.hdrs = append(t.hdrs, kgo.RecordHeader{Key: IDHeader, Value: id})
	n := len(t.hdrs)
	return t.hdrs[n-1 : n : n]
}

// done finishes one record (or the writer's hold); the last one
// acknowledges the batch and gives the tracker back: no record of it is
// in the producer any more (franz-go is done with a record once its
// promise has run).
func (t *tracker) done(o *Output) {
	if t.left.Add(-1) != 0 {
		return
	}
	o.mem.Release(t.held)
	b := t.b
	t.out, t.b = nil, nil
	if cap(t.docs) <= maxPooledDocs {
		trackers.Put(t)
	}
	b.Done()
}

// msg is one record of a tracker.
type msg struct {
	rec     kgo.Record
	t       *tracker
	attempt int
	stage   stage
	due     time.Time // retryLoop: when to produce it again
}

// stage is where a record is on its way: it goes solo after its topic
// refused it as too large, and to the dead-letter topic after that.
type stage uint8

const (
	stageMain stage = iota
	stageSolo
	stageDeadLetter
)

// A msg is its own record's Context (which franz-go carries for the
// producer's use and never cancels on by itself: the Produce ctx does),
// so that one promise function finds the msg of every record; a method
// value per record would be an allocation per record.
func (m *msg) Deadline() (time.Time, bool) { return time.Time{}, false }
func (m *msg) Done() <-chan struct{}       { return nil }
func (m *msg) Err() error                  { return nil }
func (m *msg) Value(any) any               { return nil }

// promise is the producer's answer for a record of a msg.
func promise(r *kgo.Record, err error) {
	m := r.Context.(*msg)
	m.t.out.answer(m, err)
}

// answer handles the producer's result for m.
func (o *Output) answer(m *msg, err error) {
	switch {
	case err == nil:
		o.finish(m, resultSent)
	case abandoned(err):
		// Stopping: m stays unfinished, so its batch is never
		// acknowledged and its lines are read again.
	case errors.Is(err, kerr.MessageTooLarge) && m.stage == stageMain:
		o.stats.tooLarge.Add(1)
		m.stage, m.attempt = stageSolo, 0
		o.singles.push(m)
	case errors.Is(err, kerr.MessageTooLarge):
		o.tooLarge(m, err)
	default:
		o.stats.retries.Add(1)
		o.stats.fail(cause(err))
		o.warn("kafka produce failed; retrying", "topic", m.rec.Topic, "attempt", m.attempt+1, "error", err)
		m.due = time.Now().Add(o.backoff.delay(m.attempt))
		m.attempt++
		o.retries.push(m)
	}
}

// tooLarge handles a record that its topic refused on its own: it goes
// to the dead-letter topic, and one the dead-letter topic refuses too, or
// with none configured, is lost: counted and logged, never silently.
func (o *Output) tooLarge(m *msg, err error) {
	if m.stage == stageSolo && o.deadLetter != "" {
		orig := m.rec.Topic
		m.rec = kgo.Record{
			Topic: o.deadLetter, Key: m.rec.Key, Value: m.rec.Value, Timestamp: m.rec.Timestamp, Context: m,
			Headers: append(m.rec.Headers[:len(m.rec.Headers):len(m.rec.Headers)],
				kgo.RecordHeader{Key: ErrorHeader, Value: []byte("record too large for its topic: " + err.Error())},
				kgo.RecordHeader{Key: TopicHeader, Value: []byte(orig)}),
		}
		m.stage, m.attempt = stageDeadLetter, 0
		o.warn("kafka topic refused a record as too large; sending it to the dead-letter topic",
			"topic", orig, "dead_letter_topic", o.deadLetter, "bytes", len(m.rec.Value))
		o.singles.push(m)
		return
	}
	o.warn("kafka refused a record as too large and it has no dead-letter topic to go to; it is lost",
		"topic", m.rec.Topic, "bytes", len(m.rec.Value), "error", err)
	o.finish(m, resultFailed)
}

type result uint8

const (
	resultSent result = iota
	resultDeadLettered
	resultFailed
)

// finish counts m's result and drops its hold on its batch.
func (o *Output) finish(m *msg, r result) {
	switch {
	case r == resultFailed:
		o.stats.docsFailed.Add(1)
	case m.stage == stageDeadLetter:
		o.stats.docsDeadLettered.Add(1)
	default:
		o.stats.docsSent.Add(1)
		o.stats.lastSuccess.Store(time.Now().UnixNano())
	}
	o.stats.pending.Add(-1)
	m.t.done(o)
}

// queue is a list of records waiting for one of Run's loops; push never
// blocks the producer's promise goroutine.
type queue struct {
	mu   sync.Mutex
	msgs []*msg
	sig  chan struct{}
}

func newQueue() *queue { return &queue{sig: make(chan struct{}, 1)} }

func (q *queue) push(m *msg) {
	q.mu.Lock()
	q.msgs = append(q.msgs, m)
	q.mu.Unlock()
	select {
	case q.sig <- struct{}{}:
	default:
	}
}

// take waits for records and returns them all, or nil once ctx ends.
func (q *queue) take(ctx context.Context) []*msg {
	for {
		q.mu.Lock()
		ms := q.msgs
		q.msgs = nil
		q.mu.Unlock()
		if len(ms) > 0 {
			return ms
		}
		select {
		case <-ctx.Done():
			return nil
		case <-q.sig:
		}
	}
}

// retryLoop produces failed records again once their backoff is over.
func (o *Output) retryLoop(ctx context.Context) {
	for {
		ms := o.retries.take(ctx)
		if ms == nil {
			return
		}
		for _, m := range ms {
			if !sleepUntil(ctx, m.due) {
				return
			}
			if m.stage != stageMain {
				o.singles.push(m)
				continue
			}
			o.client.Produce(ctx, &m.rec, promise)
		}
	}
}

// soloLoop sends records one at a time through the solo producer, so
// that a record refused as too large is refused alone, not for the
// records batched with it.
func (o *Output) soloLoop(ctx context.Context) {
	for {
		ms := o.singles.take(ctx)
		if ms == nil {
			return
		}
		for _, m := range ms {
			err := o.solo.ProduceSync(ctx, &m.rec).FirstErr()
			if ctx.Err() != nil {
				return
			}
			o.answer(m, err)
		}
	}
}

func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-tm.C:
		return true
	}
}

// cause names a produce failure for the failures metric: the Kafka error
// code's name, or network for an error below the protocol.
func cause(err error) string {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Message
	}
	if errors.Is(err, kgo.ErrRecordTimeout) {
		return "timeout"
	}
	return "network"
}
