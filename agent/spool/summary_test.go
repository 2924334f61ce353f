package spool

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/record"
)

// told adds up the drops the summary records tell.
func told(sums []got) (records, bytes int64) {
	for _, g := range sums {
		r, b := summaryCounts([]byte(g.extra))
		records += r
		bytes += b
	}
	return records, bytes
}

// untoldRecords is what is dropped and not yet in a summary.
func untoldRecords(s *Spool) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.untold.records
}

var summaryLine = regexp.MustCompile(`^sluice spool of input syslog dropped (\d+) records \((\d+) bytes\) in the last [0-9.]+s: new records were dropped while it was full \(max_bytes \d+ or a full disk; when_full: drop_newest\)$`)

// drop_newest: the first drop is told at once in a summary record read
// back from the spool; the drops after it, within the interval, at
// Close, so the next run sends them. The summaries add up to the counter.
func TestDropSummaryNewest(t *testing.T) {
	dir := t.TempDir()
	cfg := fits(dir, 2, DropNewest)
	cfg.SummaryEvery = time.Hour
	one := int64(len(appendEntry(nil, batch("tcp://x", 0, 100), 0)))
	k := newSink()
	k.hold = func(int) bool { return true }
	r := start(t, cfg, k)
	for i := range 3 {
		require.NoError(t, r.s.Push(context.Background(), batch("tcp://x", i*100, 100)))
	}
	k.wait(t, 200)
	require.Eventually(t, func() bool { k.mu.Lock(); defer k.mu.Unlock(); return len(k.sums) == 1 }, time.Minute, time.Millisecond)
	k.mu.Lock()
	sum := k.sums[0]
	k.mu.Unlock()
	m := summaryLine.FindStringSubmatch(sum.line)
	require.NotNil(t, m, sum.line)
	require.Equal(t, "100", m[1])
	require.Regexp(t, `^"level":"warn","sluice":\{"spool":\{"input":"syslog","when_full":"drop_newest","dropped":100,"dropped_bytes":`+
		itoa(int(one))+`,"interval_seconds":[0-9.]+,"max_bytes":`+itoa(int(cfg.MaxBytes))+`\}\}$`, sum.extra)
	require.Len(t, sum.id, record.IDLen)
	require.Zero(t, sum.flags)

	for i := 3; i < 5; i++ {
		require.NoError(t, r.s.Push(context.Background(), batch("tcp://x", i*100, 100)))
	}
	require.Equal(t, int64(200), untoldRecords(r.s), "within the interval: kept for the next summary")
	dropped := r.s.Stats().DroppedFull.Load()
	require.Equal(t, int64(300), dropped)
	r.close(t) // writes the rest
	require.Equal(t, int64(200), r.s.Stats().Replayed.Load(), "summaries are not counted as replayed")

	k2 := newSink()
	r2 := start(t, config(dir), k2)
	k2.wait(t, 200)
	require.Eventually(t, func() bool { k2.mu.Lock(); defer k2.mu.Unlock(); return len(k2.sums) == 2 }, time.Minute, time.Millisecond,
		"the first summary (not acknowledged) and the one written at Close")
	k2.mu.Lock()
	recs, bytes := told(k2.sums)
	require.NotEqual(t, k2.sums[0].id, k2.sums[1].id)
	k2.mu.Unlock()
	require.Equal(t, dropped, recs, "the summaries add up to the counter")
	require.Equal(t, 3*one, bytes)
	r2.close(t)
}

// Drops that go on are told at most once per interval, by the
// housekeeping tick when no push comes.
func TestDropSummaryInterval(t *testing.T) {
	dir := t.TempDir()
	cfg := fits(dir, 1, DropNewest)
	cfg.SummaryEvery = 50 * time.Millisecond
	k := newSink()
	k.hold = func(int) bool { return true }
	r := start(t, cfg, k)
	var first time.Time
	for i := range 6 {
		if i == 1 {
			first = time.Now() // before the first drop and its summary
		}
		require.NoError(t, r.s.Push(context.Background(), batch("tcp://x", i*100, 100)))
	}
	require.Eventually(t, func() bool { return untoldRecords(r.s) == 0 }, time.Minute, time.Millisecond)
	require.GreaterOrEqual(t, time.Since(first), cfg.SummaryEvery, "the second summary waited for the interval")
	require.Eventually(t, func() bool {
		k.mu.Lock()
		defer k.mu.Unlock()
		n, _ := told(k.sums)
		return n == 500
	}, time.Minute, time.Millisecond)
	k.mu.Lock()
	require.Len(t, k.sums, 2, "the first at once, the other four batches in one")
	k.mu.Unlock()
	require.Equal(t, int64(500), r.s.Stats().DroppedFull.Load())
	r.close(t)
}

// drop_oldest may delete segments that hold summaries, in this run or
// one before (found by the scan at Open): what they told is told again,
// so across two runs the summaries read back add up to both runs' drops
// and every record pushed is read back or counted.
func TestDropSummaryOldestToldAgain(t *testing.T) {
	dir := t.TempDir()
	cfg := fits(dir, 3, DropOldest)
	cfg.SummaryEvery = time.Hour
	var dropped int64
	next := 0
	for life := range 2 {
		s, err := Open(cfg, newSink(), discard) // no reader: nothing is being read
		require.NoError(t, err)
		for range 8 {
			require.NoError(t, s.Push(context.Background(), batch("tcp://x", next, 100)))
			next += 100
		}
		require.Positive(t, s.Stats().DroppedFull.Load(), "life %d", life)
		dropped += s.Stats().DroppedFull.Load()
		require.NoError(t, s.Close())
	}
	k := newSink()
	r := start(t, config(dir), k)
	kept := int64(next) - dropped
	recs := k.wait(t, int(kept))
	require.Len(t, recs, int(kept))
	require.Equal(t, line(next-1), recs[len(recs)-1].line, "the newest kept")
	require.Eventually(t, func() bool {
		k.mu.Lock()
		defer k.mu.Unlock()
		n, _ := told(k.sums)
		return n == dropped
	}, time.Minute, time.Millisecond, "the summaries add up to both runs' drops")
	r.close(t)
}
