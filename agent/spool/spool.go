// Package spool keeps the batches of an input that cannot read its
// source again (syslog) on disk until the outputs have acknowledged them,
// so an outage longer than memory_limit can hold loses nothing.
//
// The input pushes batches into the spool instead of the pipeline: each
// is appended to the newest segment file in one write before the input
// reads more from its connection. A reader goroutine reads the segments
// back in order and pushes their batches into the pipeline; the spool's
// position moves, like a file checkpoint, only over acknowledged batches,
// and a segment is deleted once all of it is acknowledged. Each entry has
// a CRC: a torn or damaged entry is skipped (counted), never a segment.
package spool

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/internal/loglimit"
)

// Sink takes the batches read back (agent/pipeline): Push may block to
// push back and fails when ctx ends; on error the caller keeps the batch.
type Sink interface {
	Push(ctx context.Context, b *record.Batch) error
}

// Policies when the spool is full.
const (
	Block      = "block"       // the input waits (TCP stops reading; UDP drops, counted)
	DropNewest = "drop_newest" // the new batch is dropped, counted
	DropOldest = "drop_oldest" // the oldest segment not yet being read is dropped, counted
)

// Sync policies.
const (
	SyncInterval = "interval" // fsync the segment being written every SyncEvery
	SyncBatch    = "batch"    // fsync after every batch, before the input reads on
)

// Config of one spool.
type Config struct {
	Dir          string // the spool's own folder (data_dir/spool/<input>)
	Input        string // the input's name, on the batches read back
	MaxBytes     int64  // segments on disk, at most
	SegmentBytes int64  // a segment is closed past this; default MaxBytes/8 within [1 MiB, 64 MiB]
	Sync         string
	SyncEvery    time.Duration
	WhenFull     string
	// SummaryEvery spaces the summary records of drops (default 10s).
	SummaryEvery time.Duration
}

// Stats are the spool's counters and gauges.
type Stats struct {
	Bytes        atomic.Int64 // on disk (gauge)
	Segments     atomic.Int64 // on disk (gauge)
	Spooled      atomic.Int64 // records written
	Replayed     atomic.Int64 // records read back into the pipeline
	DroppedFull  atomic.Int64 // records dropped by drop_newest or drop_oldest
	CorruptBytes atomic.Int64 // bytes skipped as torn or damaged
	WriteErrors  atomic.Int64 // failed writes or fsyncs of a segment (a full disk)
}

// OldestAge is how long the oldest record not yet acknowledged has been
// in the spool: the oldest batch read back and not acknowledged, or the
// next one to read; 0 when the reader has caught up and all is
// acknowledged.
func (s *Spool) OldestAge(now time.Time) time.Duration {
	at := s.acks.oldestSpooled()
	if next := s.nextSpooled.Load(); next != 0 && (at == 0 || next < at) {
		at = next
	}
	if at == 0 {
		return 0
	}
	return max(now.Sub(time.Unix(0, at)), 0)
}

// Spool is one input's disk spool. Push may be called from many
// goroutines; Run reads back until its ctx ends; Close comes after the
// outputs have finished, so the last acknowledgements are saved.
type Spool struct {
	cfg  Config
	sink Sink
	log  *slog.Logger
	// limit keeps write errors to one line a second per message, with
	// the count held back.
	limit *loglimit.Limiter
	key   cipher.Block

	mu       sync.Mutex
	st       state
	segs     []*segment // oldest first; the last one is written
	active   *os.File   // the last segment's file; nil after a failed write: the next starts a new one
	room     chan struct{}
	dirty    bool   // written since the last fsync
	readSeg  uint64 // the segment the reader is in (drop_oldest spares it)
	saved    pos    // the position in state.json
	closed   bool
	wake     chan struct{} // a write for the reader
	acks     acks
	stats    Stats
	encoders sync.Pool
	// nextSpooled is when the entry the reader is about to hand over was
	// spooled (Unix ns; 0: the reader has caught up).
	nextSpooled atomic.Int64
	untold      untold // drops not yet in a summary record
}

// Open opens or creates the spool in cfg.Dir, finds what an earlier run
// left unacknowledged, and starts a new segment for this run's writes.
func Open(cfg Config, sink Sink, logger *slog.Logger) (*Spool, error) {
	if cfg.SegmentBytes <= 0 {
		cfg.SegmentBytes = min(max(cfg.MaxBytes/8, 1<<20), 64<<20)
	}
	if cfg.SyncEvery <= 0 {
		cfg.SyncEvery = time.Second
	}
	if cfg.SummaryEvery <= 0 {
		cfg.SummaryEvery = summaryEvery
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	st, err := loadState(cfg.Dir)
	if err != nil {
		return nil, err
	}
	key, err := aes.NewCipher(st.Key)
	if err != nil {
		return nil, fmt.Errorf("spool key: %w", err)
	}
	segs, err := listSegments(cfg.Dir)
	if err != nil {
		return nil, err
	}
	s := &Spool{cfg: cfg, sink: sink, log: logger, limit: loglimit.New(logger, time.Second), key: key, st: st, segs: segs,
		room: make(chan struct{}), wake: make(chan struct{}, 1)}
	s.saved = pos{seg: st.Segment, off: st.Offset}
	s.acks.init(s.saved)
	s.dropAcked(s.saved)
	for _, g := range s.segs {
		s.stats.Bytes.Add(g.size.Load())
		s.st.LastSegment = max(s.st.LastSegment, g.num)
	}
	old := len(s.segs)
	if err := s.startSegment(); err != nil {
		if !diskFull(err) {
			return nil, err
		}
		// A full disk must not keep the agent from starting: what is
		// spooled is read back, and the first write starts a segment.
		s.stats.WriteErrors.Add(1)
		logger.Error(s.failedMsg("spool cannot start a segment", err), "dir", cfg.Dir, "err", err)
	}
	if old > 0 {
		logger.Info("spool holds records of an earlier run; sending them first", "dir", cfg.Dir, "segments", old, "bytes", s.stats.Bytes.Load())
	}
	return s, nil
}

// Dropped is the records a full spool dropped (drop_newest, drop_oldest).
func (s *Spool) Dropped() int64 { return s.stats.DroppedFull.Load() }

// Stats returns the spool's counters.
func (s *Spool) Stats() *Stats { return &s.stats }

// startSegment makes the next segment the one written. Its number is
// saved before the file exists, so no number is ever used twice. Caller
// holds mu (or has the spool to itself).
func (s *Spool) startSegment() error {
	num := s.st.LastSegment + 1
	st := s.st
	st.LastSegment = num
	if err := saveState(s.cfg.Dir, st); err != nil {
		return err
	}
	s.st = st
	path := filepath.Join(s.cfg.Dir, segmentName(num))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("spool segment: %w", err)
	}
	// An fsync of the file does not make its name durable: without the
	// folder's, a power loss can take the whole segment with it.
	if err := syncDir(s.cfg.Dir); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("spool segment: %w", err)
	}
	if s.active != nil {
		s.sealActive()
	}
	s.active = f
	s.segs = append(s.segs, &segment{num: num, path: path})
	s.stats.Segments.Store(int64(len(s.segs)))
	return nil
}

// sealActive closes the segment being written: it gets no more writes,
// so once acknowledged it may be deleted. Caller holds mu.
func (s *Spool) sealActive() {
	if s.dirty {
		s.syncActive()
	}
	s.active.Close()
	s.active = nil
	s.segs[len(s.segs)-1].sealed.Store(true)
	// The reader waits at the end of this segment: it moves on, and
	// lets go of the file, which may then be deleted and its space freed.
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// syncActive fsyncs the segment being written; caller holds mu.
func (s *Spool) syncActive() {
	if err := s.active.Sync(); err != nil {
		s.stats.WriteErrors.Add(1)
		s.logError("spool fsync failed; records written since the last one may not survive a power loss", err)
		return
	}
	s.dirty = false
}

// logError logs a write problem at most once a second per message.
func (s *Spool) logError(msg string, err error) {
	s.limit.Error(msg, "dir", s.cfg.Dir, "err", err)
}

// errClosed is Push's answer once the spool is closed.
var errClosed = errors.New("spool closed")

// Push writes b to the spool and takes it: its Acker runs once it is on
// disk (or dropped, when full and configured so), and the records go on
// to the pipeline when read back. When the spool is full it
// waits (Block, until ctx ends: an ended ctx makes it answer at once) or
// drops, as configured. On error the caller keeps b.
func (s *Spool) Push(ctx context.Context, b *record.Batch) error {
	buf := s.encode(b)
	defer s.encoders.Put(buf)
	n := int64(len(*buf))
	s.mu.Lock()
	for {
		if s.closed {
			s.mu.Unlock()
			return errClosed
		}
		// A full disk is full as max_bytes is: when_full decides.
		full := s.stats.Bytes.Load()+n > s.cfg.MaxBytes
		if !full {
			err := s.writeLocked(*buf, int64(len(b.Records)))
			if err == nil {
				break
			}
			full = diskFull(err)
		}
		if full && s.cfg.WhenFull == DropOldest && s.dropOldestLocked() {
			continue
		}
		if full && s.cfg.WhenFull != Block {
			s.stats.DroppedFull.Add(int64(len(b.Records)))
			s.droppedLocked(int64(len(b.Records)), n)
			s.summarizeLocked(time.Now(), false)
			s.mu.Unlock()
			b.Done() // finished with: lost, counted and told
			return nil
		}
		// Full, or the write failed: wait for acknowledged segments to be
		// deleted, or a second before trying again.
		if err := ctx.Err(); err != nil {
			s.mu.Unlock()
			return err
		}
		room := s.room
		s.mu.Unlock()
		t := time.NewTimer(time.Second)
		select {
		case <-room:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
		s.mu.Lock()
	}
	s.summarizeLocked(time.Now(), false) // drop_oldest's, when due
	s.mu.Unlock()
	s.stats.Spooled.Add(int64(len(b.Records)))
	// Safe on disk: for the input, the batch is delivered.
	b.Done()
	s.wakeReader()
	return nil
}

// wakeReader tells the reader there is more to read.
func (s *Spool) wakeReader() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// writeLocked appends one entry to the newest segment, starting a new one
// past SegmentBytes. A failed write is cut off again, so the segment never
// holds half an entry of this run; caller holds mu.
func (s *Spool) writeLocked(entry []byte, records int64) error {
	if s.active == nil || s.segs[len(s.segs)-1].size.Load() > 0 &&
		s.segs[len(s.segs)-1].size.Load()+int64(len(entry)) > s.cfg.SegmentBytes {
		if err := s.startSegment(); err != nil {
			s.stats.WriteErrors.Add(1)
			s.logError(s.failedMsg("spool cannot start a segment", err), err)
			return err
		}
	}
	seg := s.segs[len(s.segs)-1]
	if _, err := s.active.Write(entry); err != nil {
		s.stats.WriteErrors.Add(1)
		s.logError(s.failedMsg("spool write failed", err), err)
		// Cut off what part of the entry made it (if the cut fails too,
		// the reader skips it by its CRC). A segment with entries is
		// sealed: nothing is appended after a failed write, and on a full
		// disk it can be deleted once acknowledged, which makes room (an
		// unsealed one never would). An empty one is tried again.
		if err := s.active.Truncate(seg.size.Load()); err != nil || seg.size.Load() > 0 {
			s.sealActive()
		}
		return err
	}
	if s.cfg.Sync == SyncBatch {
		if err := s.active.Sync(); err != nil {
			s.stats.WriteErrors.Add(1)
			s.logError("spool fsync failed; the batch is kept but may not survive a power loss", err)
		}
	} else {
		s.dirty = true
	}
	seg.records.Add(records)
	seg.size.Add(int64(len(entry)))
	s.stats.Bytes.Add(int64(len(entry)))
	return nil
}

// dropOldestLocked deletes the oldest segment the reader has not started
// and that is not being written, counting its records as dropped. It
// reports false when there is none; caller holds mu.
func (s *Spool) dropOldestLocked() bool {
	old := s.segs
	if s.active != nil {
		old = old[:len(old)-1]
	}
	for i, g := range old {
		if g.num <= s.readSeg {
			continue
		}
		if err := os.Remove(g.path); err != nil {
			return false
		}
		s.stats.DroppedFull.Add(g.records.Load())
		// Its summaries are lost with it: what they told is told again.
		s.droppedLocked(g.records.Load()+g.toldRecords, g.size.Load()-g.summaryBytes+g.toldBytes)
		s.stats.Bytes.Add(-g.size.Load())
		s.segs = append(s.segs[:i], s.segs[i+1:]...)
		s.stats.Segments.Store(int64(len(s.segs)))
		s.log.Warn("spool full: dropped its oldest unread segment (when_full: drop_oldest)", "dir", s.cfg.Dir, "records", g.records.Load())
		return true
	}
	return false
}

func (s *Spool) encode(b *record.Batch) *[]byte {
	buf, _ := s.encoders.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	*buf = appendEntry((*buf)[:0], b, time.Now().UnixNano())
	return buf
}

// Run reads the spool back into the sink until ctx ends, and saves the
// acknowledged position every SyncEvery (fsyncing the segment being
// written first, with the interval policy).
func (s *Spool) Run(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.housekeep(ctx)
	}()
	err := s.read(ctx)
	<-done
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func (s *Spool) housekeep(ctx context.Context) {
	t := time.NewTicker(s.cfg.SyncEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.checkpoint()
	}
}

// checkpoint fsyncs what was written, saves the acknowledged position and
// deletes the segments wholly before it, waking writers that wait for
// room.
func (s *Spool) checkpoint() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.summarizeLocked(time.Now(), false)
	}
	if s.dirty && s.active != nil {
		s.syncActive()
	}
	var err error
	if p := s.acks.position(); p != s.saved {
		st := s.st
		st.Segment, st.Offset = p.seg, p.off
		if err = saveState(s.cfg.Dir, st); err != nil {
			s.stats.WriteErrors.Add(1)
			s.logError("spool position not saved; a restart sends acknowledged records again", err)
		} else {
			s.st, s.saved = st, p
		}
	}
	// What is acknowledged goes even when the position could not be
	// saved (a full disk): deleting it is what makes room. A restart
	// resumes at the first segment at or after the saved one, so one
	// deleted early is skipped, never read in part.
	if s.dropAcked(s.acks.position()) {
		close(s.room)
		s.room = make(chan struct{})
	}
	return err
}

// diskFull reports whether err says the disk (or the quota) is full.
func diskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// failedMsg says what a failed write leads to.
func (s *Spool) failedMsg(what string, err error) string {
	if !diskFull(err) {
		return what + " (disk full?); the input waits and tries again"
	}
	switch s.cfg.WhenFull {
	case DropNewest:
		return what + ": disk full; new messages are dropped and counted until there is room (when_full: drop_newest)"
	case DropOldest:
		return what + ": disk full; the oldest unread segment is dropped to make room (when_full: drop_oldest)"
	}
	return what + ": disk full; the input waits and tries again every second (when_full: block)"
}

// dropAcked deletes the sealed segments that end at or before p; caller
// holds mu (or has the spool to itself). It reports whether any went.
func (s *Spool) dropAcked(p pos) bool {
	kept := s.segs[:0]
	gone := false
	for _, g := range s.segs {
		if g.sealed.Load() && (g.num < p.seg || g.num == p.seg && p.off >= g.size.Load()) {
			if err := os.Remove(g.path); err == nil || errors.Is(err, os.ErrNotExist) {
				s.stats.Bytes.Add(-g.size.Load())
				gone = true
				continue
			}
		}
		kept = append(kept, g)
	}
	clear(s.segs[len(kept):])
	s.segs = kept
	s.stats.Segments.Store(int64(len(s.segs)))
	return gone
}

// Close saves the last acknowledged position; call it after the outputs
// have finished. Records not acknowledged stay for the next run.
func (s *Spool) Close() error {
	var err error
	s.mu.Lock()
	// What is untold is written for the next run to send.
	s.summarizeLocked(time.Now(), true)
	s.closed = true
	if s.active != nil {
		if serr := s.active.Sync(); serr != nil {
			err = fmt.Errorf("spool fsync: %w", serr)
		}
		s.dirty = false
		s.active.Close()
		s.active = nil
		// The next run writes a segment of its own: this one may go
		// once it is acknowledged.
		s.segs[len(s.segs)-1].sealed.Store(true)
	}
	s.mu.Unlock()
	return errors.Join(err, s.checkpoint())
}
