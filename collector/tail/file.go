package tail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/sluicelog/sluice/agent/checkpoint"
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/internal/timerpool"
)

// fingerprintLen bounds the bytes of a file's head that identify it beside
// its inode: its first line, or this many bytes of it.
const fingerprintLen = 256

// fileReader follows one file (one device and inode) from where it starts
// until the file is gone or renamed away and fully read. It is the Acker of
// its batches: acks arrive in any order and move the checkpoint over the
// finished prefix only.
type fileReader struct {
	t     *Tailer
	path  string
	real  string // path with symlinks resolved, for inotify
	key   string // checkpoint key: input name, device and inode
	f     *os.File
	dev   uint64
	ino   uint64
	fp    string // hex fingerprint; "" until the first line is complete
	head  []byte // the first line that fp is of, to see it change
	gen   uint64
	pos   int64 // file offset of the end of what was read
	seen  int64 // largest size of the generation seen, for lost bytes
	rec   *recovery
	later []laterGen // generations seen after this one (generations.go)
	// lastLook is when look last read the file's head.
	lastLook time.Time
	names    podNames
	src      *record.Source
	asm      *assembler

	mu      sync.Mutex
	nextSeq uint64           // seq of the next batch to push
	ackNext uint64           // seq of the oldest batch not yet acked
	acked   map[uint64]int64 // acked out of order: seq -> end offset
	ackGen  map[uint64]uint64
	genFP   map[uint64]string // fingerprint of each generation's content
	closed  bool

	wake  chan struct{} // the file grew (inotify)
	ackCh chan struct{} // an ack arrived
}

// maxInFlight bounds the unacknowledged batches of one file, so that one
// fast file cannot take all of memory_limit and starve the others.
const maxInFlight = 8

func fileKey(input string, dev, ino uint64) string {
	return input + "|" + strconv.FormatUint(dev, 10) + ":" + strconv.FormatUint(ino, 10)
}

func statIDs(fi os.FileInfo) (dev, ino uint64) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0
	}
	return uint64(st.Dev), st.Ino
}

// fingerprint reads the head of f: its first line, up to fingerprintLen
// bytes. ok is false while the first line is shorter and still unfinished.
func fingerprint(f *os.File) (string, bool, error) {
	h, ok, err := readHead(f, f.Name())
	if !ok || err != nil {
		return "", false, err
	}
	return headFingerprint(h), true, nil
}

// setHead reads the head of the file into fp and head; false while the
// first line is unfinished.
func (r *fileReader) setHead() bool {
	h, ok, err := readHead(r.f, r.path)
	if err != nil || !ok {
		return false
	}
	r.head, r.fp = h, headFingerprint(h)
	return true
}

// lastLineEnd returns the offset just past the last '\n' at or before size,
// so that start_at: end never starts in the middle of a line.
func lastLineEnd(f *os.File, size int64) (int64, error) {
	buf := make([]byte, 64<<10)
	for end := size; end > 0; {
		start := max(end-int64(len(buf)), 0)
		n, err := f.ReadAt(buf[:end-start], start)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("read %s: %w", f.Name(), err)
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return start + int64(i) + 1, nil
		}
		end = start
	}
	return 0, nil
}

// newSource builds the Source for the current generation.
func (r *fileReader) newSource() {
	seed := make([]byte, 0, 128)
	seed = append(seed, r.t.node...)
	seed = append(seed, 0)
	seed = strconv.AppendUint(seed, r.dev, 10)
	seed = append(seed, ':')
	seed = strconv.AppendUint(seed, r.ino, 10)
	seed = append(seed, ':')
	seed = append(seed, r.fp...)
	seed = append(seed, ':')
	seed = strconv.AppendUint(seed, r.gen, 10)
	r.src = &record.Source{
		Input:       r.t.cfg.Name,
		Path:        r.path,
		Namespace:   r.names.Namespace,
		Pod:         r.names.Pod,
		Container:   r.names.Container,
		ContainerID: r.names.ContainerID,
		Meta:        appendMeta(nil, r.names, r.t.node),
		IDSeed:      seed,
		Generation:  r.gen,
	}
	// Acks run on output goroutines and save the fingerprint of the acked
	// batch's generation, not whatever r.fp holds by then: a checkpoint
	// that paired an old offset with a newer file's fingerprint would
	// resume in the middle of the new content after a crash.
	r.mu.Lock()
	r.genFP[r.gen] = r.fp
	r.mu.Unlock()
	r.t.noteHead(r.fp, r.dev, r.ino)
}

// Ack implements record.Acker.
func (r *fileReader) Ack(b *record.Batch) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.acked[b.Seq] = b.End
	r.ackGen[b.Seq] = b.Source.Generation
	moved := false
	var end int64
	var gen uint64
	for {
		e, ok := r.acked[r.ackNext]
		if !ok {
			break
		}
		end, gen, moved = e, r.ackGen[r.ackNext], true
		delete(r.acked, r.ackNext)
		delete(r.ackGen, r.ackNext)
		r.ackNext++
	}
	select {
	case r.ackCh <- struct{}{}:
	default:
	}
	if !moved || !r.t.owns(r) {
		// A newer reader of a reused inode owns the checkpoint now.
		return
	}
	if r.closed && r.ackNext == r.nextSeq {
		// Read to the end, released, and all of it delivered.
		r.t.store.Delete(r.key)
		return
	}
	r.t.store.Set(r.key, checkpoint.Entry{
		Path: r.path, Dev: r.dev, Inode: r.ino, Fingerprint: r.genFP[gen],
		Offset: end, Generation: gen,
	})
}

// run reads the file until it is gone and drained, or ctx ends.
func (r *fileReader) run(ctx context.Context) {
	defer r.f.Close()
	defer func() {
		if r.rec != nil {
			_ = r.rec.Close()
		}
	}()
	t := r.t
	chunk := int(t.cfg.BatchBytes)
	maxLine := int(t.cfg.MaxLineBytes)
	buf := make([]byte, 0, chunk)
	skipping := false // dropping the rest of an over-long line
	var b *record.Batch
	var goneAt time.Time // when the path was first seen to lead elsewhere
	lastData := time.Now()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()

	flush := func(end int64) bool {
		if b == nil {
			return true
		}
		if len(b.Records) == 0 {
			b.Discard()
			b = nil
			return true
		}
		if !r.waitAcks(ctx, maxInFlight-1) {
			b.Discard()
			b = nil
			return false
		}
		r.mu.Lock()
		b.Seq = r.nextSeq
		r.nextSeq++
		r.mu.Unlock()
		b.End = end
		t.stats.Records.Add(int64(len(b.Records)))
		if err := r.push(ctx, b); err != nil {
			r.mu.Lock()
			r.nextSeq-- // never pushed: no ack will come for it
			r.mu.Unlock()
			b.Discard()
			b = nil
			return false
		}
		b = nil
		return true
	}

	batch := func() *record.Batch {
		if b == nil {
			b = record.NewBatch(r.src, r)
		}
		return b
	}

	// shipHeld ships the records held for multiline joining before a
	// truncation: their lines are read and the content is gone for good.
	shipHeld := func() bool {
		if !r.asm.held() {
			return true
		}
		r.asm.flushHeld(batch())
		return flush(r.asm.safe(r.pos - int64(len(buf))))
	}

	// release ships any unfinished partial line as it is and lets the file
	// go for good.
	release := func() {
		b = record.NewBatch(r.src, r)
		r.asm.flush(b)
		if flush(r.pos) {
			r.close()
		}
	}

	// truncatedTo handles a file that shrank or was rewritten under the
	// reader: rotated away and overwritten, or read on from its copy, or
	// from its start. false: stop.
	truncatedTo := func(size int64) bool {
		if r.unreliableSize(size) {
			release() // not truncated: its size lies (procfs-like)
			return false
		}
		if r.gone() && r.copyOfAnother() {
			// Rotated away, then rewritten (a later rotation copied
			// the live file over it): that content is the live
			// file's, read by its own reader. Stop here. Otherwise it
			// was truncated before it was moved (a copytruncate, then
			// a rename), maybe long before a reader that was behind
			// saw it: what it holds since is its own, read below like
			// any truncated file's.
			release()
			return false
		}
		if r.startRecovery(len(buf)) {
			return true // buf holds the unfinished line; the copy continues it
		}
		// The batch being filled is the old generation's (a read that
		// found the head changed comes before the end-of-file flush).
		if b != nil && !flush(r.asm.safe(r.pos-int64(len(buf)))) {
			return false
		}
		if !shipHeld() {
			return false
		}
		r.nextGeneration(size)
		buf, skipping = buf[:0], false
		return true
	}

	for {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), 2*cap(buf))
			copy(grown, buf)
			buf = grown
		}
		n, err := r.read(buf[len(buf):cap(buf)])
		if n == 0 && r.rec != nil {
			if err == nil {
				continue // a gzip stream may return nothing for a call
			}
			// The copy is read: what it held of the generation is handed
			// over; the file goes on from its start.
			r.endRecovery(err, len(buf))
			b = batch()
			r.asm.flush(b)
			if !flush(r.pos) {
				return
			}
			fi, serr := r.f.Stat()
			if serr != nil {
				t.logf("stat after reading a copy; file released", "path", r.path, "err", serr)
				r.close()
				return
			}
			r.nextGeneration(fi.Size())
			buf, skipping = buf[:0], false
			continue
		}
		if errors.Is(err, errRewritten) {
			fi, serr := r.f.Stat()
			if serr != nil {
				continue // the next read reports it
			}
			if !truncatedTo(fi.Size()) {
				return
			}
			continue
		}
		if n > 0 {
			lastData = time.Now()
			t.stats.BytesRead.Add(int64(n))
			buf = buf[:len(buf)+n]
			r.pos += int64(n)
			if r.fp == "" && r.setHead() {
				r.newSource()
			}
			r.asm.tick()
			// Offset of buf[0] in the file.
			base := r.pos - int64(len(buf))
			consumed := 0
			for {
				i := bytes.IndexByte(buf[consumed:], '\n')
				if i < 0 {
					break
				}
				line := buf[consumed : consumed+i]
				off := base + int64(consumed)
				consumed += i + 1
				if skipping {
					skipping = false
					continue
				}
				if b == nil {
					b = record.NewBatch(r.src, r)
				}
				t.stats.Lines.Add(1)
				r.asm.add(b, line, off, 0)
			}
			rest := buf[consumed:]
			if !skipping && len(rest) > maxLine {
				// Ship the first max_line_bytes flagged as cut, drop the rest
				// of the line up to its newline.
				if b == nil {
					b = record.NewBatch(r.src, r)
				}
				t.stats.Truncated.Add(1)
				t.stats.Lines.Add(1)
				r.asm.add(b, rest[:maxLine], base+int64(consumed), record.Truncated)
				t.logf("line longer than max_line_bytes cut", "path", r.path, "offset", base+int64(consumed), "max_line_bytes", maxLine)
				skipping = true
				consumed = len(buf)
			} else if skipping {
				consumed = len(buf)
			}
			r.asm.flushDue(batch, 0)
			end := r.asm.safe(base + int64(consumed))
			n := copy(buf, buf[consumed:])
			buf = buf[:n]
			if b != nil && len(b.Buf) >= chunk {
				if !flush(end) {
					return
				}
			}
			buf = shrink(buf, chunk)
			continue
		}
		// A file that goes quiet right after a huge line must not keep
		// the buffer that line grew (2 MiB for a 1 MiB max_line_bytes).
		buf = shrink(buf, chunk)
		if err != nil && !errors.Is(err, io.EOF) {
			t.logf("read failed; file released", "path", r.path, "err", err)
			r.close()
			return
		}
		// At the end of the file: hand over what is read, including
		// records held for joining whose stream went quiet, then wait (no
		// longer than until the next held record is due).
		r.asm.tick()
		wait := r.asm.flushDue(batch, t.cfg.PollInterval.D())
		if b != nil && !flush(r.asm.safe(r.pos-int64(len(buf)))) {
			return
		}
		fi, err := r.f.Stat()
		if err == nil && fi.Size() > r.seen && !r.headChanged() {
			// Only the generation's own size: a later one's is not
			// what a truncation of this one leaves unread.
			r.seen = fi.Size()
		}
		if err == nil && fi.Size() < r.pos {
			if !truncatedTo(fi.Size()) {
				return
			}
			continue
		}
		if !r.gone() {
			goneAt = time.Time{}
		} else if goneAt.IsZero() {
			goneAt = time.Now()
		} else if grace := r.goneGrace(); time.Since(goneAt) >= grace && time.Since(lastData) >= grace {
			// Renamed away or deleted, read to its end, and quiet for a
			// while: the runtime writes to the old descriptor for a moment
			// after a rotation, until it reopens. Ship any unfinished
			// partial line as it is, then let go.
			release()
			return
		}
		if err == nil && time.Since(lastData) >= t.cfg.CloseInactive.D() && !r.asm.held() && r.waitAcks(ctx, 0) {
			// Inactive and fully delivered: release the handle. The
			// checkpoint is exact, so a reopen on change resumes there.
			t.closedIdle(r, fi)
			return
		}
		timer.Reset(max(wait, time.Millisecond))
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-r.wake:
		}
		// Before reading what was added, make sure it was added to the
		// same content: after a copytruncate the writer may have refilled
		// the file past our offset, which the size alone does not show.
		if fi, err := r.f.Stat(); err == nil && (fi.Size() < r.pos || fi.Size() > r.pos && r.rewritten()) {
			if !truncatedTo(fi.Size()) {
				return
			}
		}
	}
}

// shrink gives back a read buffer that a long line grew, once what it
// holds fits in a chunk again.
func shrink(buf []byte, chunk int) []byte {
	if cap(buf) > 4*chunk && len(buf) < chunk {
		return append(make([]byte, 0, chunk), buf...)
	}
	return buf
}

// goneGrace is how long a renamed or deleted file must stay quiet before it
// is released.
func (r *fileReader) goneGrace() time.Duration {
	return max(time.Second, 2*r.t.cfg.PollInterval.D())
}

// waitAcks waits until at most n batches are unacknowledged; false when
// ctx ended first.
func (r *fileReader) waitAcks(ctx context.Context, n uint64) bool {
	var t *time.Timer
	defer func() {
		if t != nil {
			timerpool.Put(t)
		}
	}()
	for {
		r.mu.Lock()
		pending := r.nextSeq - r.ackNext
		r.mu.Unlock()
		if pending <= n {
			return true
		}
		if t == nil {
			t = timerpool.Get(100 * time.Millisecond)
		} else {
			t.Reset(100 * time.Millisecond)
		}
		select {
		case <-ctx.Done():
			return false
		case <-r.ackCh:
		case <-t.C:
			if n == 0 {
				return false // only a check at idle time: do not wait long
			}
		}
		if n > 0 {
			r.look()
		}
	}
}

// rewritten reports whether the head of the file no longer matches its
// fingerprint: a copytruncate followed by enough new writes to reach the
// old size before we looked, which the size alone cannot reveal.
func (r *fileReader) rewritten() bool {
	if r.fp == "" {
		return false
	}
	fp, ok, err := fingerprint(r.f)
	return err == nil && ok && fp != r.fp
}

// gone reports whether the path no longer leads to this file.
func (r *fileReader) gone() bool {
	fi, err := os.Stat(r.path)
	if err != nil {
		return true
	}
	dev, ino := statIDs(fi)
	return dev != r.dev || ino != r.ino
}

// truncated restarts the file from offset 0 under a new generation, so the
// ids of the new lines differ from those of the old ones at equal offsets.
func (r *fileReader) truncated(size int64) {
	r.t.stats.Truncations.Add(1)
	r.t.logf("file truncated; reading from its start", "path", r.path, "size", size, "offset", r.pos)
	r.gen++
	r.pos, r.seen = 0, size
	r.asm.reset()
	if _, err := r.f.Seek(0, io.SeekStart); err != nil {
		r.t.logf("seek after truncation", "path", r.path, "err", err)
	}
	r.fp, r.head = "", nil
	r.setHead()
	r.newSource()
}

func (r *fileReader) close() {
	r.t.stats.FilesClosed.Add(1)
	r.mu.Lock()
	r.closed = true
	all := r.ackNext == r.nextSeq
	r.mu.Unlock()
	if all {
		r.t.store.Delete(r.key)
	}
}
