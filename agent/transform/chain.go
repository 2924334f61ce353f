// Package transform runs the filter transforms of the config (drop, keep,
// throttle, fields) over encoded batches, and decides which outputs a
// batch goes to (Match). It works on the documents the encoder wrote, so
// every field a parser found can be tested and edited by its dotted path.
//
// A Chain is compiled once and shared by every worker; each worker owns a
// Worker with its scratch buffers, so nothing on the per-record path takes
// a lock or allocates unless a document changes length (a field is added,
// renamed, removed or redacted). Throttle buckets are shared between
// workers through atomics only.
//
// Dropped records leave the batch: Transform removes them from b.Records
// and their documents from b.Docs, so outputs never see them, while the
// batch itself still travels on and is acknowledged, and with it the
// dropped lines' file positions.
package transform

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"sync/atomic"
	"time"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/record"
)

// Chain is the compiled list of filter transforms, in config order.
type Chain struct {
	steps     []step
	throttles []*throttleStep
}

// step is one transform. apply sees only batches in its scope and marks
// the records it drops on w.
type step interface {
	base() *stepBase
	apply(w *Worker)
}

type stepBase struct {
	name, typ string
	match     *Match
	// filter: drops records, and so leaves throttle summaries alone.
	filter  bool
	dropped atomic.Int64 // records dropped (drop, keep, throttle)
	edited  atomic.Int64 // records changed (fields)
}

func (s *stepBase) base() *stepBase { return s }

// Options are what New needs besides the config.
type Options struct {
	// Now is a monotonic clock in nanoseconds for the throttle buckets;
	// nil uses the process's monotonic clock.
	Now func() int64
	// WallNow is the wall clock of summary records; nil is time.Now.
	WallNow func() time.Time
	// LookupEnv resolves add_env; nil is os.LookupEnv.
	LookupEnv func(string) (string, bool)
}

// New compiles the drop, keep, throttle and fields transforms of ts, in
// order (the parser transforms are the encoder's). It returns nil, and no
// error, when there are none.
func New(ts []config.Transform, opts Options) (*Chain, error) {
	if opts.Now == nil {
		start := time.Now()
		opts.Now = func() int64 { return int64(time.Since(start)) }
	}
	if opts.WallNow == nil {
		opts.WallNow = time.Now
	}
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	c := &Chain{}
	for _, t := range ts {
		f := t.Filter()
		if f == nil {
			continue
		}
		var s step
		var err error
		switch spec := t.Spec.(type) {
		case *config.Drop:
			s, err = newFilter((*config.Condition)(spec), false)
		case *config.Keep:
			s, err = newFilter((*config.Condition)(spec), true)
		case *config.Throttle:
			th := newThrottle(spec, opts)
			c.throttles = append(c.throttles, th)
			s = th
		case *config.Fields:
			s, err = newFields(spec, opts)
		}
		if err != nil {
			return nil, fmt.Errorf("transform %s: %w", f.Name, err)
		}
		b := s.base()
		b.name, b.typ = f.Name, t.Type
		if b.match, err = NewMatch(f.Match); err != nil {
			return nil, fmt.Errorf("transform %s: %w", f.Name, err)
		}
		c.steps = append(c.steps, s)
	}
	if len(c.steps) == 0 {
		return nil, nil
	}
	return c, nil
}

// Worker is one pipeline worker's view of the chain: its scratch buffers.
// It is not safe for concurrent use.
type Worker struct {
	c     *Chain
	b     *record.Batch
	dead  []bool
	ndead int

	out  []byte  // documents being rewritten by a fields step
	ends []int32 // their ends
	bufs [2][]byte
	mid  []byte // remove-then-set of a rename
	ins  []byte // a member being inserted
	val  []byte // a value being moved or re-encoded
	unes []byte // an unescaped string value
	key  []byte // a throttle key
}

// NewWorker returns the state of one worker. A nil chain gives a worker
// that does nothing.
func (c *Chain) NewWorker() *Worker { return &Worker{c: c} }

// Transform runs every transform in scope over b, after the encoder:
// records dropped leave b.Records and their documents leave b.Docs;
// documents edited are rewritten. b stays with the caller.
func (w *Worker) Transform(b *record.Batch) {
	n := len(b.Records)
	if w.c == nil || n == 0 {
		return
	}
	w.b = b
	w.dead = slices.Grow(w.dead[:0], n)[:n]
	clear(w.dead)
	w.ndead = 0
	summary := IsSummary(b.Source)
	for _, s := range w.c.steps {
		if w.ndead == n {
			break
		}
		sb := s.base()
		if summary && sb.filter {
			continue
		}
		if sb.match != nil && !sb.match.Match(b) {
			continue
		}
		s.apply(w)
	}
	if w.ndead > 0 {
		w.compact()
	}
	w.b = nil
}

func (w *Worker) kill(i int) {
	if !w.dead[i] {
		w.dead[i] = true
		w.ndead++
	}
}

// killAll drops every live record and returns how many that was.
func (w *Worker) killAll() int64 {
	n := int64(len(w.dead) - w.ndead)
	for i := range w.dead {
		w.dead[i] = true
	}
	w.ndead = len(w.dead)
	return n
}

// compact removes the dead records and their documents from the batch,
// moving the live ones down in place.
func (w *Worker) compact() {
	b := w.b
	var start int32
	pos, live := 0, 0
	for i := range b.Records {
		end := b.DocEnds[i] // read before DocEnds[live] (live <= i) is written
		if !w.dead[i] {
			pos += copy(b.Docs[pos:], b.Docs[start:end])
			b.Records[live] = b.Records[i]
			b.DocEnds[live] = int32(pos)
			live++
		}
		start = end
	}
	clear(b.Records[live:])
	b.Records = b.Records[:live]
	b.Docs = b.Docs[:pos]
	b.DocEnds = b.DocEnds[:live]
}

// StepStats are one transform's counters.
type StepStats struct {
	Name, Type string
	Dropped    int64 // records dropped
	Edited     int64 // records changed by a fields transform
	// Throttle only: keys tracked, and the keys with the most drops.
	Keys int
	Top  []KeyDrops
}

// KeyDrops is how many records of one throttle key were dropped.
type KeyDrops struct {
	Key     string
	Dropped int64
}

// TopKeys is how many throttle keys Stats reports per transform.
const TopKeys = 10

// Stats returns every transform's counters, for /metrics.
func (c *Chain) Stats() []StepStats {
	if c == nil {
		return nil
	}
	out := make([]StepStats, 0, len(c.steps))
	for _, s := range c.steps {
		b := s.base()
		st := StepStats{Name: b.name, Type: b.typ, Dropped: b.dropped.Load(), Edited: b.edited.Load()}
		if t, ok := s.(*throttleStep); ok {
			st.Keys, st.Top = t.top(TopKeys)
		}
		out = append(out, st)
	}
	return out
}

func sortTop(top []KeyDrops) {
	sort.Slice(top, func(i, j int) bool {
		if top[i].Dropped != top[j].Dropped {
			return top[i].Dropped > top[j].Dropped
		}
		return top[i].Key < top[j].Key
	})
}

func compile(pattern string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("pattern: %w", err)
	}
	return re, nil
}
