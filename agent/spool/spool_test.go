package spool

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/agent/record/stream"
)

// got is one record as the pipeline received it, with its document id.
type got struct {
	id, line, extra string
	time            int64
	flags           record.Flags
	stream          stream.Stream
}

// sink collects what the spool reads back; it acknowledges a batch at
// once unless hold says otherwise, and then keeps it in held.
type sink struct {
	mu   sync.Mutex
	recs []got
	sums []got // summary records, apart from recs
	held []*record.Batch
	hold func(n int) bool // n: the number of batches seen before
	seen int
	more chan struct{}
}

func newSink() *sink { return &sink{more: make(chan struct{}, 1)} }

func (k *sink) Push(ctx context.Context, b *record.Batch) error {
	k.mu.Lock()
	for i := range b.Records {
		r := &b.Records[i]
		to := &k.recs
		if IsSummary(b.Source) {
			to = &k.sums
		}
		*to = append(*to, got{id: string(record.AppendID(nil, b.Source, r)), line: string(r.Line),
			extra: string(r.Extra), time: r.Time, flags: r.Flags, stream: r.Stream})
	}
	hold := k.hold != nil && k.hold(k.seen)
	k.seen++
	if hold {
		k.held = append(k.held, b)
	}
	k.mu.Unlock()
	if !hold {
		b.Done()
	}
	select {
	case k.more <- struct{}{}:
	default:
	}
	return nil
}

// wait returns the records once there are n of them.
func (k *sink) wait(t *testing.T, n int) []got {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		k.mu.Lock()
		if len(k.recs) >= n {
			out := append([]got(nil), k.recs...)
			k.mu.Unlock()
			return out
		}
		k.mu.Unlock()
		select {
		case <-k.more:
		case <-deadline:
			t.Fatalf("the spool read back %d records, want %d", len(k.recs), n)
		}
	}
}

func (k *sink) ackHeld() {
	k.mu.Lock()
	held := k.held
	k.held = nil
	k.mu.Unlock()
	for _, b := range held {
		b.Done()
	}
}

func extra(i int) string { return fmt.Sprintf(`"source_ip":"10.0.%03d.%03d"`, i/250%256, i%250) }

func line(i int) string { return fmt.Sprintf("message %06d", i) }

var discard = slog.New(slog.DiscardHandler)

// batch makes a batch of n records from listener path, numbered from
// first; batches of the same n encode to the same size.
func batch(path string, first, n int) *record.Batch {
	b := record.NewBatch(&record.Source{Input: "syslog", Path: path}, nil)
	for i := first; i < first+n; i++ {
		r := record.Record{Time: int64(i) * 1e9, Offset: int64(i), Stream: stream.Stdout}
		if i%7 == 0 {
			r.Flags = record.Truncated
		}
		b.AddExtra(r, []byte(fmt.Sprintf("message %06d", i)), []byte(extra(i)))
	}
	return b
}

type running struct {
	s    *Spool
	stop context.CancelFunc
	done chan error
}

func start(t *testing.T, cfg Config, k *sink) *running {
	t.Helper()
	s, err := Open(cfg, k, discard)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{s: s, stop: cancel, done: make(chan error, 1)}
	go func() { r.done <- s.Run(ctx) }()
	return r
}

// close stops the reader and closes the spool, as the runtime does.
func (r *running) close(t *testing.T) {
	t.Helper()
	r.stop()
	require.NoError(t, <-r.done)
	require.NoError(t, r.s.Close())
}

func config(dir string) Config {
	return Config{Dir: dir, Input: "syslog", MaxBytes: 64 << 20, Sync: SyncInterval, SyncEvery: 20 * time.Millisecond, WhenFull: Block}
}

// Every record comes back as it went in, under an id that depends only
// on its place in the spool.
func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	k := newSink()
	r := start(t, config(dir), k)
	for i := range 10 {
		require.NoError(t, r.s.Push(context.Background(), batch("tcp://127.0.0.1:514", i*50, 50)))
	}
	recs := k.wait(t, 500)
	ids := map[string]bool{}
	for i, g := range recs {
		require.Equal(t, line(i), g.line)
		require.Equal(t, extra(i), g.extra)
		require.Equal(t, int64(i)*1e9, g.time)
		require.Equal(t, i%7 == 0, g.flags == record.Truncated)
		require.Equal(t, stream.Stdout, g.stream)
		require.Len(t, g.id, record.IDLen)
		require.False(t, ids[g.id], "id %s twice", g.id)
		ids[g.id] = true
	}
	require.Equal(t, int64(500), r.s.Stats().Spooled.Load())
	require.Equal(t, int64(500), r.s.Stats().Replayed.Load())
	r.close(t)
	// All acknowledged: the segments are gone but the newest, empty one.
	require.Zero(t, r.s.Stats().Bytes.Load())
}

// What was not acknowledged before a stop comes back after it, under the
// same ids, and nothing acknowledged comes back.
func TestRestartSendsOnlyUnacknowledged(t *testing.T) {
	dir := t.TempDir()
	k := newSink()
	k.hold = func(n int) bool { return n >= 4 } // batches 0-3 acknowledged
	r := start(t, config(dir), k)
	for i := range 10 {
		require.NoError(t, r.s.Push(context.Background(), batch("udp://0.0.0.0:514", i*10, 10)))
	}
	first := k.wait(t, 100)
	r.close(t)
	k.ackHeld() // too late: the spool is closed, its position saved

	k2 := newSink()
	r2 := start(t, config(dir), k2)
	again := k2.wait(t, 60)
	require.Equal(t, first[40:], again, "the unacknowledged 60 records, same ids")
	require.NoError(t, r2.s.Push(context.Background(), batch("udp://0.0.0.0:514", 100, 5)))
	more := k2.wait(t, 65)
	for _, g := range more[60:] {
		for _, f := range first {
			require.NotEqual(t, f.id, g.id, "a new record took an old id")
		}
	}
	r2.close(t)
}

// A segment cut in the middle of its last entry (a crash mid-write) gives
// every whole entry before the cut; the torn bytes are counted.
func TestTornEntrySkipped(t *testing.T) {
	dir := t.TempDir()
	seg := unacknowledged(t, dir)
	st, err := os.Stat(seg)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(seg, st.Size()-5))

	k2 := newSink()
	r2 := start(t, config(dir), k2)
	recs := k2.wait(t, 20)
	require.Equal(t, line(0), recs[0].line)
	require.Equal(t, line(19), recs[19].line)
	require.NoError(t, r2.s.Push(context.Background(), batch("tcp://x", 100, 1)))
	recs = k2.wait(t, 21)
	require.Equal(t, line(100), recs[20].line, "the torn entry is skipped, not what follows it")
	require.Positive(t, r2.s.Stats().CorruptBytes.Load())
	r2.close(t)
}

// A damaged entry in the middle of a segment costs that entry only.
func TestDamagedEntrySkipped(t *testing.T) {
	dir := t.TempDir()
	seg := unacknowledged(t, dir)
	raw, err := os.ReadFile(seg)
	require.NoError(t, err)
	third := len(raw) / 2 // inside the second entry
	raw[third] ^= 0xff
	require.NoError(t, os.WriteFile(seg, raw, 0o640))

	k2 := newSink()
	r2 := start(t, config(dir), k2)
	recs := k2.wait(t, 20)
	require.Equal(t, line(9), recs[9].line)
	require.Equal(t, line(20), recs[10].line)
	require.Positive(t, r2.s.Stats().CorruptBytes.Load())
	r2.close(t)
}

// unacknowledged leaves three entries of ten records each, none
// acknowledged, in one segment of a stopped spool, and returns its path.
func unacknowledged(t *testing.T, dir string) string {
	t.Helper()
	k := newSink()
	k.hold = func(int) bool { return true }
	r := start(t, config(dir), k)
	for i := range 3 {
		require.NoError(t, r.s.Push(context.Background(), batch("tcp://x", i*10, 10)))
	}
	k.wait(t, 30)
	r.close(t)
	return onlySegment(t, dir)
}

func onlySegment(t *testing.T, dir string) string {
	t.Helper()
	segs, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	require.NoError(t, err)
	var full []string
	for _, s := range segs {
		if st, err := os.Stat(s); err == nil && st.Size() > 0 {
			full = append(full, s)
		}
	}
	require.Len(t, full, 1, "segments with data")
	return full[0]
}

// fits is a spool that holds n batches of 100 records, one per segment,
// and does whenFull past them.
func fits(dir string, n int64, whenFull string) Config {
	cfg := config(dir)
	one := int64(len(appendEntry(nil, batch("tcp://x", 0, 100), 0)))
	cfg.MaxBytes, cfg.SegmentBytes, cfg.WhenFull = n*one, one, whenFull
	return cfg
}

// Full, block: Push waits until acknowledgements make room; an ended ctx
// makes it answer at once, keeping the batch (the UDP path).
func TestFullBlocksUntilAcknowledged(t *testing.T) {
	dir := t.TempDir()
	cfg := fits(dir, 3, Block)
	k := newSink()
	k.hold = func(int) bool { return true }
	r := start(t, cfg, k)
	for i := range 3 {
		require.NoError(t, r.s.Push(context.Background(), batch("tcp://x", i*100, 100)))
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	b := batch("tcp://x", 300, 100)
	require.ErrorIs(t, r.s.Push(done, b), context.Canceled)
	b.Discard()

	pushed := make(chan error, 1)
	go func() { pushed <- r.s.Push(context.Background(), batch("tcp://x", 300, 100)) }()
	k.wait(t, 300)
	select {
	case err := <-pushed:
		t.Fatalf("Push returned %v while the spool was full", err)
	default:
	}
	k.ackHeld()
	require.NoError(t, <-pushed)
	require.Equal(t, line(399), k.wait(t, 400)[399].line)
	r.close(t)
}

// Full, drop_newest: the new batch is dropped and counted.
func TestFullDropNewest(t *testing.T) {
	dir := t.TempDir()
	cfg := fits(dir, 2, DropNewest)
	k := newSink()
	k.hold = func(int) bool { return true }
	r := start(t, cfg, k)
	for i := range 3 {
		require.NoError(t, r.s.Push(context.Background(), batch("tcp://x", i*100, 100)))
	}
	require.Equal(t, int64(100), r.s.Stats().DroppedFull.Load())
	require.Equal(t, int64(200), r.s.Stats().Spooled.Load())
	r.close(t)
}

// Full, drop_oldest: the oldest segment not being read goes, counted.
func TestFullDropOldest(t *testing.T) {
	dir := t.TempDir()
	cfg := fits(dir, 3, DropOldest)
	k := newSink()
	k.hold = func(int) bool { return true }
	s, err := Open(cfg, k, discard) // no reader: nothing is being read
	require.NoError(t, err)
	for i := range 4 {
		require.NoError(t, s.Push(context.Background(), batch("tcp://x", i*100, 100)))
	}
	require.Equal(t, int64(100), s.Stats().DroppedFull.Load())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	recs := k.wait(t, 300)
	require.Equal(t, line(100), recs[0].line, "the oldest segment was dropped")
	cancel()
	require.NoError(t, <-done)
	require.NoError(t, s.Close())
}

// The age of the oldest record not acknowledged grows while the output
// holds it and is 0 once all is acknowledged.
func TestOldestAge(t *testing.T) {
	dir := t.TempDir()
	k := newSink()
	k.hold = func(int) bool { return true }
	r := start(t, config(dir), k)
	require.Zero(t, r.s.OldestAge(time.Now()))
	require.NoError(t, r.s.Push(context.Background(), batch("tcp://x", 0, 1)))
	k.wait(t, 1)
	require.Greater(t, r.s.OldestAge(time.Now().Add(time.Hour)), 59*time.Minute)
	k.ackHeld()
	// The reader notes the hand-over done just after the sink's Push
	// returns, which may be after k.wait saw the records.
	require.Eventually(t, func() bool { return r.s.OldestAge(time.Now()) == 0 }, time.Minute, time.Millisecond)
	r.close(t)
}

// A state file that is not ours stops Open with the way out, rather than
// sending the spool again under new ids.
func TestBadStateRefused(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, stateFile), []byte("{}"), 0o640))
	_, err := Open(config(dir), newSink(), discard)
	require.ErrorContains(t, err, "move the spool folder aside")
}

var _ io.Closer = (*Spool)(nil)
