package spool

import (
	"context"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// tmpfs mounts a tmpfs of size bytes on a new folder: a disk that fills
// up for real (ENOSPC from the kernel). It needs root or CAP_SYS_ADMIN;
// without, the test is skipped with one line (the e2e disk-full test
// tries an unprivileged user namespace instead).
func tmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("sluice-spool-test", dir, "tmpfs", 0, "size="+itoa(size)); err != nil {
		t.Skipf("skipped: mounting a tmpfs needs root or CAP_SYS_ADMIN: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// diskConfig is a spool whose max_bytes is far more than its disk holds.
func diskConfig(dir, whenFull string) Config {
	cfg := config(dir)
	cfg.SegmentBytes, cfg.WhenFull = 128<<10, whenFull
	return cfg
}

// pushUntilFull pushes batches of 100 records from first on until a
// write has failed (with drop_newest the failed batch is dropped); it
// returns the next first.
func pushUntilFull(t *testing.T, s *Spool, first int) int {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for s.Stats().WriteErrors.Load() == 0 {
		require.NoError(t, s.Push(context.Background(), batch("tcp://x", first, 100)))
		first += 100
		require.True(t, time.Now().Before(deadline), "the disk never filled")
	}
	return first
}

// Disk full, block: the write fails, is counted and cut back; the input
// waits; nothing spooled is lost, even across a restart on the full disk
// (the spool opens and reads back); once acknowledged segments are
// deleted there is room again and the waiting push goes through.
func TestDiskFullBlocks(t *testing.T) {
	dir := tmpfs(t, 1<<20)
	cfg := diskConfig(dir, Block)
	cfg.SegmentBytes = 0 // the default, 8 MiB: the disk fills inside one segment
	k := newSink()
	k.hold = func(int) bool { return true }
	r := start(t, cfg, k)
	pushErr := make(chan error, 1)
	go func() {
		for i := 0; ; i += 100 {
			if err := r.s.Push(context.Background(), batch("tcp://x", i, 100)); err != nil {
				pushErr <- err
				return
			}
		}
	}()
	require.Eventually(t, func() bool { return r.s.Stats().WriteErrors.Load() > 0 }, time.Minute, 5*time.Millisecond, "the disk never filled")
	spooled := int(r.s.Stats().Spooled.Load())
	k.wait(t, spooled)
	require.Never(t, func() bool { return len(pushErr) > 0 }, 300*time.Millisecond, 20*time.Millisecond, "the push waits while the disk is full")
	require.Equal(t, int64(spooled), r.s.Stats().Spooled.Load(), "nothing spooled while the disk is full")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b := batch("tcp://x", spooled, 100)
	require.ErrorIs(t, r.s.Push(ctx, b), context.Canceled, "full: an ended ctx answers at once (UDP)")
	b.Discard()
	r.close(t) // unacknowledged: all stays
	require.ErrorIs(t, <-pushErr, errClosed, "the waiting push keeps its batch")

	k = newSink()
	k.hold = func(int) bool { return true }
	r = start(t, cfg, k) // on the full disk
	recs := k.wait(t, spooled)
	require.Len(t, recs, spooled)
	for i, g := range recs {
		require.Equal(t, line(i), g.line)
	}
	go func() { pushErr <- r.s.Push(context.Background(), batch("tcp://x", spooled, 100)) }()
	require.Never(t, func() bool { return len(pushErr) > 0 }, 300*time.Millisecond, 20*time.Millisecond, "the push waits while the disk is full")
	k.mu.Lock()
	k.hold = nil
	k.mu.Unlock()
	k.ackHeld() // the store is back: acknowledged segments go, making room
	require.NoError(t, <-pushErr)
	require.NoError(t, r.s.Push(context.Background(), batch("tcp://x", spooled+100, 100)))
	recs = k.wait(t, spooled+200)
	require.Equal(t, line(spooled+199), recs[len(recs)-1].line)
	require.Zero(t, r.s.Stats().CorruptBytes.Load(), "failed writes were cut back")
	r.close(t)
}

// Disk full in one life, the reader caught up and waiting at the end of
// the segment being written: once the outputs acknowledge, the segments
// are deleted and their space freed (the reader let go of them), and the
// waiting push goes through.
func TestDiskFullRecoversWhileRunning(t *testing.T) {
	dir := tmpfs(t, 1<<20)
	cfg := diskConfig(dir, Block)
	cfg.SegmentBytes = 0 // the default, 8 MiB: the disk fills inside one segment
	k := newSink()
	k.hold = func(int) bool { return true }
	r := start(t, cfg, k)
	var stop atomic.Bool
	pushed := make(chan error, 1)
	go func() {
		for i := 0; !stop.Load(); i += 100 {
			if err := r.s.Push(context.Background(), batch("tcp://x", i, 100)); err != nil {
				pushed <- err
				return
			}
		}
		pushed <- nil
	}()
	st := r.s.Stats()
	require.Eventually(t, func() bool { return st.WriteErrors.Load() > 0 }, time.Minute, 5*time.Millisecond, "the disk never filled")
	spooled := st.Spooled.Load()
	k.wait(t, int(spooled)) // the reader caught up: it waits at the end of the full segment
	require.Never(t, func() bool { return st.Spooled.Load() > spooled }, 300*time.Millisecond, 20*time.Millisecond, "spooled on a full disk")
	k.mu.Lock()
	k.hold = nil
	k.mu.Unlock()
	k.ackHeld() // the store is back
	require.Eventually(t, func() bool { return st.Spooled.Load() > spooled+1000 }, time.Minute, 5*time.Millisecond, "the disk never had room again")
	stop.Store(true)
	require.NoError(t, <-pushed)
	recs := k.wait(t, int(st.Spooled.Load()))
	for i, g := range recs {
		require.Equal(t, line(i), g.line)
	}
	require.Zero(t, st.CorruptBytes.Load())
	r.close(t)
}

// Disk full, drop_newest: the batch that does not fit is dropped and
// counted, the push does not wait; what was spooled is all read back.
func TestDiskFullDropNewest(t *testing.T) {
	dir := tmpfs(t, 1<<20)
	k := newSink()
	k.hold = func(int) bool { return true }
	r := start(t, diskConfig(dir, DropNewest), k)
	next := pushUntilFull(t, r.s, 0)
	for range 5 {
		require.NoError(t, r.s.Push(context.Background(), batch("tcp://x", next, 100)))
		next += 100
	}
	st := r.s.Stats()
	require.Positive(t, st.DroppedFull.Load())
	require.Equal(t, int64(next), st.Spooled.Load()+st.DroppedFull.Load(), "every record spooled or counted as dropped")
	recs := k.wait(t, int(st.Spooled.Load()))
	require.Equal(t, line(0), recs[0].line)
	require.Zero(t, st.CorruptBytes.Load())
	r.close(t)
}

// Disk full, drop_oldest: the oldest segment nobody reads is deleted to
// make room, counted; the newest records are kept.
func TestDiskFullDropOldest(t *testing.T) {
	dir := tmpfs(t, 1<<20)
	k := newSink()
	s, err := Open(diskConfig(dir, DropOldest), k, discard) // no reader: nothing is being read
	require.NoError(t, err)
	next := 0
	for s.Stats().DroppedFull.Load() == 0 {
		require.NoError(t, s.Push(context.Background(), batch("tcp://x", next, 100)))
		next += 100
		require.Less(t, next, 1_000_000, "nothing was dropped")
	}
	st := s.Stats()
	require.Positive(t, st.WriteErrors.Load(), "the disk filled, not max_bytes")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	kept := int(st.Spooled.Load() - st.DroppedFull.Load())
	recs := k.wait(t, kept)
	require.Len(t, recs, kept)
	require.Equal(t, line(next-1), recs[len(recs)-1].line, "the newest kept")
	require.NotEqual(t, line(0), recs[0].line, "the oldest dropped")
	cancel()
	require.NoError(t, <-done)
	require.NoError(t, s.Close())
}
