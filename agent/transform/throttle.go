package transform

import (
	"context"
	"hash/maphash"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/agent/spool"
	"github.com/sluicelog/sluice/parsers/timestamp"
)

// throttleStep lets each key (a pod by default) through at rate records
// per second with bursts of burst, and drops the rest. It never waits.
//
// Buckets use GCRA: one atomic "theoretical arrival time" per key, moved
// forward by a compare-and-swap for as many records as are let through.
// For the batch-level keys (pod, namespace, container) that is one CAS per
// batch; for a field key, one per record.
type throttleStep struct {
	stepBase
	keyKind  string
	field    string
	per      int64 // nanoseconds per record: 1s / rate
	tau      int64 // burst * per: how far ahead the arrival time may run
	rate     float64
	burst    int
	interval time.Duration
	maxKeys  int
	now      func() int64
	wallNow  func() time.Time

	table    atomic.Pointer[table]
	overflow *bucket // shared by every key past max_keys
	seed     maphash.Seed
}

// bucket is the state of one key. Only tat and the counters change after
// it is published.
type bucket struct {
	key      string
	tat      atomic.Int64 // theoretical arrival time (monotonic ns)
	seen     atomic.Int64 // last time a record of the key came (monotonic ns)
	dropped  atomic.Int64
	reported int64 // dropped at the last summary; the reporter's alone

	// For the summary record: a source with the key's names (routed like
	// its records) and the pod's "kubernetes" object when the key is one.
	src  *record.Source
	meta []byte
}

// take lets up to n records through and returns how many.
func (b *bucket) take(n, now, per, tau int64) int64 {
	for {
		tat := b.tat.Load()
		base := max(tat, now)
		avail := (now + tau - base) / per
		if avail <= 0 {
			return 0
		}
		k := min(n, avail)
		if b.tat.CompareAndSwap(tat, base+k*per) {
			return k
		}
	}
}

// table is a fixed-size open-addressing hash table of buckets that
// workers read and insert into with atomics only. Keys are never removed
// from a table; the reporter replaces a full one with a fresh table that
// holds only the recently active keys.
type table struct {
	slots []slot
	mask  uint64
	n     atomic.Int64
}

type slot struct {
	hash atomic.Uint64 // 0: empty
	b    atomic.Pointer[bucket]
}

func newTable(maxKeys int) *table {
	size := 1
	for size < 2*maxKeys {
		size <<= 1
	}
	return &table{slots: make([]slot, size), mask: uint64(size - 1)}
}

func newThrottle(t *config.Throttle, opts Options) *throttleStep {
	s := &throttleStep{
		keyKind: t.Key, field: t.Field, rate: t.Rate, burst: t.Burst,
		interval: t.SummaryInterval.Duration(), maxKeys: t.MaxKeys,
		now: opts.Now, wallNow: opts.WallNow, seed: maphash.MakeSeed(),
	}
	s.filter = true
	s.per = max(1, int64(float64(time.Second)/t.Rate))
	s.tau = int64(t.Burst) * s.per
	s.table.Store(newTable(t.MaxKeys))
	s.overflow = &bucket{key: "_other", src: &record.Source{Path: SummaryPath}}
	return s
}

func (s *throttleStep) apply(w *Worker) {
	b := w.b
	now := s.now()
	var dropped int64
	if s.keyKind == config.ThrottleKeyField {
		var last *bucket
		for i := range b.Records {
			if w.dead[i] {
				continue
			}
			doc := b.Doc(i)
			w.key = w.key[:0]
			if m, ok := find(doc, 0, s.field); ok {
				w.key = append(w.key, stringValue(doc, m, &w.unes)...)
			}
			// Runs of one key are common: skip the lookup.
			if last == nil || last.key != string(w.key) {
				last = s.lookup(w.key, b)
				last.seen.Store(now)
			}
			if last.take(1, now, s.per, s.tau) == 0 {
				w.kill(i)
				last.dropped.Add(1)
				dropped++
			}
		}
	} else {
		bk := s.lookup(s.batchKey(w, b.Source), b)
		bk.seen.Store(now)
		live := int64(len(b.Records) - w.ndead)
		if k := bk.take(live, now, s.per, s.tau); k < live {
			// The first k live records pass, the rest are dropped.
			for i := range b.Records {
				if w.dead[i] {
					continue
				}
				if k > 0 {
					k--
					continue
				}
				w.kill(i)
				dropped++
			}
			bk.dropped.Add(dropped)
		}
	}
	if dropped > 0 {
		s.dropped.Add(dropped)
	}
}

// batchKey writes the key of a batch-level throttle into w.key. Records
// without Kubernetes names (syslog) share one key per input.
func (s *throttleStep) batchKey(w *Worker, src *record.Source) []byte {
	k := w.key[:0]
	if src == nil {
		src = &noSource
	}
	switch {
	case src.Namespace == "":
		k = append(k, "input:"...)
		k = append(k, src.Input...)
	case s.keyKind == config.ThrottleKeyNamespace:
		k = append(k, src.Namespace...)
	default:
		k = append(k, src.Namespace...)
		k = append(k, '/')
		k = append(k, src.Pod...)
		if s.keyKind == config.ThrottleKeyContainer {
			k = append(k, '/')
			k = append(k, src.Container...)
		}
	}
	w.key = k
	return k
}

// lookup finds or adds the bucket of key. b is the batch the key was
// found in, for the names of the summary record of a new key.
func (s *throttleStep) lookup(key []byte, b *record.Batch) *bucket {
	t := s.table.Load()
	h := maphash.Bytes(s.seed, key) | 1
	for i, probes := h&t.mask, uint64(0); probes <= t.mask; i, probes = (i+1)&t.mask, probes+1 {
		sl := &t.slots[i]
		hv := sl.hash.Load()
		if hv == 0 {
			if t.n.Load() >= int64(s.maxKeys) {
				return s.overflow
			}
			if !sl.hash.CompareAndSwap(0, h) {
				hv = sl.hash.Load()
			} else {
				t.n.Add(1)
				nb := s.newBucket(key, b)
				sl.b.Store(nb)
				return nb
			}
		}
		if hv != h {
			continue
		}
		bk := sl.b.Load()
		for bk == nil {
			// Another worker is filling in this slot right now.
			runtime.Gosched()
			bk = sl.b.Load()
		}
		if bk.key == string(key) {
			return bk
		}
	}
	return s.overflow
}

// newBucket builds the bucket of a new key; it allocates, once per key.
func (s *throttleStep) newBucket(key []byte, b *record.Batch) *bucket {
	nb := &bucket{key: string(key)}
	src := b.Source
	if src == nil {
		src = &noSource
	}
	sum := &record.Source{Input: src.Input, Path: SummaryPath}
	switch s.keyKind {
	case config.ThrottleKeyPod, config.ThrottleKeyContainer:
		sum.Namespace, sum.Pod = src.Namespace, src.Pod
		if s.keyKind == config.ThrottleKeyContainer {
			sum.Container = src.Container
		}
		// The pod's object as its first batch had it: its labels route the
		// summary like the pod's records and let Kibana filter on them.
		if meta := b.Kubernetes(); len(meta) > 0 {
			nb.meta = append([]byte(nil), meta...)
		} else if src.Pod != "" {
			nb.meta = podMeta(src)
		}
	case config.ThrottleKeyNamespace:
		sum.Namespace = src.Namespace
		if src.Namespace != "" {
			nb.meta = appendJSONString([]byte(`{"namespace_name":`), src.Namespace)
			nb.meta = append(nb.meta, '}')
		}
	}
	nb.src = sum
	return nb
}

// podMeta is the "kubernetes" object of a summary for a pod that has no
// metadata: its names.
func podMeta(src *record.Source) []byte {
	m := appendJSONString([]byte(`{"namespace_name":`), src.Namespace)
	m = append(m, `,"pod_name":`...)
	m = appendJSONString(m, src.Pod)
	return append(m, '}')
}

// top returns the number of keys and the n with the most drops.
func (s *throttleStep) top(n int) (int, []KeyDrops) {
	t := s.table.Load()
	var top []KeyDrops
	keys := 0
	consider := func(b *bucket) {
		d := b.dropped.Load()
		if d == 0 {
			return
		}
		if len(top) < n {
			top = append(top, KeyDrops{b.key, d})
			sortTop(top)
			return
		}
		if d > top[n-1].Dropped {
			top[n-1] = KeyDrops{b.key, d}
			sortTop(top)
		}
	}
	for i := range t.slots {
		if b := t.slots[i].b.Load(); b != nil {
			keys++
			consider(b)
		}
	}
	consider(s.overflow)
	return keys, top
}

// SummaryPath is the Source.Path of throttle summary records. Filters
// (drop, keep, throttle) leave batches from it, and the spool's
// summaries (spool.SummaryPath), alone.
const SummaryPath = "sluice:throttle-summary"

// IsSummary reports whether src is the source of throttle or spool
// summaries.
func IsSummary(src *record.Source) bool {
	return src != nil && (src.Path == SummaryPath || spool.IsSummary(src))
}

// Sink takes summary batches: the pipeline's Push.
type Sink interface {
	Push(ctx context.Context, b *record.Batch) error
}

// Reporter writes the throttle summary records: once per
// summary_interval, one record per key that lost records meanwhile. Its
// batches come with their documents encoded, so the workers neither enrich
// nor parse them.
type Reporter struct {
	c    *Chain
	sink Sink
}

// Reporter returns the summary writer of the chain's throttles, or nil
// when there are none.
func (c *Chain) Reporter(sink Sink) *Reporter {
	if c == nil || len(c.throttles) == 0 {
		return nil
	}
	return &Reporter{c: c, sink: sink}
}

// Run reports until ctx ends, then once more for what was dropped since,
// and returns. The pipeline must still take batches until it returns.
func (r *Reporter) Run(ctx context.Context) error {
	done := make(chan struct{}, len(r.c.throttles))
	for _, s := range r.c.throttles {
		go func() {
			defer func() { done <- struct{}{} }()
			t := time.NewTicker(s.interval)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					s.report(ctx, r.sink)
				case <-ctx.Done():
					fctx, cancel := context.WithTimeout(context.Background(), time.Second)
					s.report(fctx, r.sink)
					cancel()
					return
				}
			}
		}()
	}
	for range r.c.throttles {
		<-done
	}
	return nil
}

// report pushes one summary per key with new drops, then retires idle
// keys when the table is three quarters full.
func (s *throttleStep) report(ctx context.Context, sink Sink) {
	t := s.table.Load()
	for i := range t.slots {
		if b := t.slots[i].b.Load(); b != nil {
			s.reportKey(ctx, sink, b)
		}
	}
	s.reportKey(ctx, sink, s.overflow)
	if t.n.Load() > int64(s.maxKeys)*3/4 {
		s.retire(t)
	}
}

func (s *throttleStep) reportKey(ctx context.Context, sink Sink, bk *bucket) {
	d := bk.dropped.Load()
	delta := d - bk.reported
	if delta <= 0 || ctx.Err() != nil {
		return
	}
	b := s.summary(bk, delta)
	if err := sink.Push(ctx, b); err != nil {
		// Shutting down: the drops stay counted in /metrics.
		b.Discard()
		return
	}
	bk.reported = d
}

// summary builds the batch of one summary record.
func (s *throttleStep) summary(bk *bucket, dropped int64) *record.Batch {
	now := s.wallNow()
	secs := strconv.FormatFloat(s.interval.Seconds(), 'f', -1, 64)
	msg := "sluice throttle " + s.name + " dropped " + strconv.FormatInt(dropped, 10) +
		" records of " + s.keyKind + " " + bk.key + " in the last " + secs + "s (limit " +
		strconv.FormatFloat(s.rate, 'f', -1, 64) + "/s, burst " + strconv.Itoa(s.burst) + ")"
	b := record.NewBatch(bk.src, nil)
	b.Add(record.Record{Time: now.UnixNano(), Offset: -1}, []byte(msg))
	b.Meta = bk.meta
	d := append(b.Docs[:0], `{"@timestamp":"`...)
	d = timestamp.AppendRFC3339Nano(d, now.UnixNano())
	d = append(d, `","log":`...)
	d = appendJSONString(d, msg)
	d = append(d, `,"level":"warn","sluice":{"throttle":{"transform":`...)
	d = appendJSONString(d, s.name)
	d = append(d, `,"key_type":`...)
	d = appendJSONString(d, s.keyKind)
	d = append(d, `,"key":`...)
	d = appendJSONString(d, bk.key)
	d = append(d, `,"dropped":`...)
	d = strconv.AppendInt(d, dropped, 10)
	d = append(d, `,"interval_seconds":`...)
	d = append(d, secs...)
	d = append(d, `,"rate":`...)
	d = strconv.AppendFloat(d, s.rate, 'f', -1, 64)
	d = append(d, `,"burst":`...)
	d = strconv.AppendInt(d, int64(s.burst), 10)
	d = append(d, `}}`...)
	if len(bk.meta) > 0 {
		d = append(d, `,"kubernetes":`...)
		d = append(d, bk.meta...)
	}
	d = append(d, '}')
	b.Docs = d
	b.DocEnds = append(b.DocEnds[:0], int32(len(d)))
	return b
}

// retire replaces a filling table by one with the keys seen within two
// summary intervals. A key a worker adds to the old table meanwhile is
// lost from the new one and starts again with a full burst: a rare,
// small overshoot, in exchange for no lock.
func (s *throttleStep) retire(old *table) {
	nt := newTable(s.maxKeys)
	cutoff := s.now() - 2*int64(s.interval)
	for i := range old.slots {
		sl := &old.slots[i]
		b := sl.b.Load()
		if b == nil || b.seen.Load() < cutoff {
			continue
		}
		h := sl.hash.Load()
		for j := h & nt.mask; ; j = (j + 1) & nt.mask {
			if nt.slots[j].hash.Load() == 0 {
				nt.slots[j].hash.Store(h)
				nt.slots[j].b.Store(b)
				nt.n.Add(1)
				break
			}
		}
	}
	s.table.Store(nt)
}
