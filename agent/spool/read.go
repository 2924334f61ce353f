package spool

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"

	"github.com/sluicelog/sluice/agent/record"
)

// reader reads the segments back in order; it is owned by Run.
type reader struct {
	s       *Spool
	seg     *segment
	f       *os.File
	off     int64
	buf     []byte
	window  []byte
	sources map[string]*record.Source // of the current segment, by path
}

func (s *Spool) read(ctx context.Context) error {
	p := s.acks.position()
	r := &reader{s: s, window: make([]byte, 64<<10)}
	defer r.closeFile()
	for {
		if err := r.enter(ctx, p); err != nil {
			return err
		}
		if err := r.drain(ctx); err != nil {
			return err
		}
		// Closed now, not when the next segment comes: a deleted file
		// held open keeps its space, and on a full disk that room is
		// what the writer waits for.
		r.closeFile()
		p = pos{seg: r.seg.num + 1}
	}
}

// enter opens the first segment at or after p, waiting for one.
func (r *reader) enter(ctx context.Context, p pos) error {
	for {
		r.s.mu.Lock()
		var next *segment
		for _, g := range r.s.segs {
			if g.num >= p.seg {
				next = g
				break
			}
		}
		if next != nil {
			r.s.readSeg = next.num
		}
		r.s.mu.Unlock()
		if next != nil {
			r.closeFile()
			f, err := os.Open(next.path)
			if err != nil {
				return fmt.Errorf("spool: %w", err)
			}
			r.seg, r.f, r.off = next, f, 0
			if next.num == p.seg {
				r.off = p.off
			}
			r.sources = map[string]*record.Source{}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.s.wake:
		}
	}
}

func (r *reader) closeFile() {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
}

// drain hands over the current segment's entries until it is sealed and
// read to its end; what is torn or damaged is skipped and counted.
func (r *reader) drain(ctx context.Context) error {
	for {
		sealed := r.seg.sealed.Load() // before size: a sealed size is final
		size := r.seg.size.Load()
		e, n, err := r.entryAt(size)
		switch {
		case err == nil:
			if err := r.handOver(ctx, e, n); err != nil {
				return err
			}
			continue
		case err == errCorrupt:
			next := r.resync(r.off+1, size)
			r.s.stats.CorruptBytes.Add(next - r.off)
			r.s.log.Warn("spool entry damaged; skipped to the next whole one", "segment", r.seg.path, "offset", r.off, "skipped_bytes", next-r.off)
			r.off = next
			continue
		case err != errShort:
			return err
		}
		if sealed {
			if r.off < size {
				r.s.stats.CorruptBytes.Add(size - r.off)
				r.s.log.Warn("spool segment ends in a torn entry (cut by a crash); skipped", "segment", r.seg.path, "skipped_bytes", size-r.off)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.s.wake:
		}
	}
}

// entryAt reads the entry at r.off into r.buf and returns it, checked
// against its CRC, with its length on disk: errShort when the segment does
// not hold all of it (yet).
func (r *reader) entryAt(size int64) (entry, int, error) {
	if r.off+headerLen > size {
		return entry{}, 0, errShort
	}
	r.buf = grow(r.buf, headerLen)
	if _, err := r.f.ReadAt(r.buf[:headerLen], r.off); err != nil {
		return entry{}, 0, fmt.Errorf("spool read %s: %w", r.seg.path, err)
	}
	plen, err := checkHeader(r.buf[:headerLen])
	if err != nil {
		return entry{}, 0, err
	}
	if r.off+headerLen+int64(plen) > size {
		return entry{}, 0, errShort
	}
	r.buf = grow(r.buf, headerLen+plen)
	if _, err := r.f.ReadAt(r.buf[headerLen:headerLen+plen], r.off+headerLen); err != nil {
		return entry{}, 0, fmt.Errorf("spool read %s: %w", r.seg.path, err)
	}
	e, err := decode(r.buf[:headerLen], r.buf[headerLen:headerLen+plen])
	if err != nil {
		return entry{}, 0, err
	}
	return e, headerLen + plen, nil
}

// grow returns b with length n, keeping what it holds.
func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return append(b[:cap(b)], make([]byte, n-cap(b))...)[:n]
	}
	return b[:n]
}

// handOver pushes e, read by entryAt (n bytes on disk), into the sink.
func (r *reader) handOver(ctx context.Context, e entry, n int) error {
	end := pos{seg: r.seg.num, off: r.off + int64(n)}
	if e.count == 0 {
		r.off = end.off
		return nil
	}
	b := record.NewBatch(r.source(e.path), &r.s.acks)
	b.Reserve(len(e.records), e.count)
	base := r.off + int64(n-len(e.records))
	if err := addRecords(b, e, base); err != nil {
		b.Discard()
		r.s.stats.CorruptBytes.Add(int64(n))
		r.off = end.off
		return nil
	}
	b.Seq, b.End = r.s.acks.handOver(end, e.spooled), end.off
	r.s.nextSpooled.Store(e.spooled)
	if err := r.s.sink.Push(ctx, b); err != nil {
		r.s.acks.withdraw(b.Seq)
		b.Discard()
		return err
	}
	r.s.nextSpooled.Store(0)
	if string(e.path) != SummaryPath {
		r.s.stats.Replayed.Add(int64(e.count))
	}
	r.off = end.off
	return nil
}

// source is the batches' Source for path in the current segment: records
// are numbered by their place in the segment under the spool's key.
func (r *reader) source(path []byte) *record.Source {
	if src, ok := r.sources[string(path)]; ok {
		return src
	}
	src := &record.Source{Input: r.s.cfg.Input, Path: string(path), IDKey: r.s.key, IDConn: r.seg.num}
	r.sources[src.Path] = src
	return src
}

// resync finds the next whole entry at or after from, or returns end.
func (r *reader) resync(from, end int64) int64 {
	for at := from; at+headerLen <= end; {
		n, _ := r.f.ReadAt(r.window[:min(int64(len(r.window)), end-at)], at)
		if n < 4 {
			break
		}
		for i := 0; i+4 <= n; i++ {
			if binary.LittleEndian.Uint32(r.window[i:]) != entryMagic {
				continue
			}
			saved := r.off
			r.off = at + int64(i)
			_, _, err := r.entryAt(end)
			r.off = saved
			if err == nil {
				return at + int64(i)
			}
		}
		at += int64(n - 3) // a magic across two windows is seen in the next
	}
	return end
}
