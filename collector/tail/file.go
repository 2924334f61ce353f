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
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sluicelog/sluice/agent/record"
)

// A fileReader follows one file (one device and inode) from where it
// starts until the file is gone or renamed away and fully read. Its parts:
//
//   - identity and generations (generations.go, recover.go): which content
//     is being read, under which ids; a truncation starts a new generation,
//     read from the copy the truncation left when the reader was behind;
//   - the read loop (this file, read.go): lines into batches, batches to
//     the sink, the end of the file, one path for every truncation;
//   - the acknowledgement watermark (watermark.go): the reader is the
//     Acker of its batches; acks arrive in any order and move the
//     checkpoint over the finished prefix only.
type fileReader struct {
	t        *Tailer
	path     string
	resolved string // path with symlinks resolved, for inotify and copies
	key      string // checkpoint key: input name, device and inode
	f        *os.File
	dev      uint64
	ino      uint64
	names    podNames
	asm      *assembler

	// A read slot (slots.go) and, while the reader holds none, the
	// unfinished line its read buffer ended with: kept in spare (kept
	// counts it and the assembler's partial lines in the slots' share),
	// or left in the file, the left bytes before pos.
	slot  bool
	spare []byte
	kept  int64
	left  int

	// The generation being read; only the reader's goroutine touches it.
	fp    string // hex fingerprint; "" until the first line is complete
	head  []byte // the first line that fp is of, to see it change
	gen   uint64
	pos   int64 // offset of the end of what was read in the generation
	seen  int64 // largest size of the generation seen, for lost bytes
	src   *record.Source
	rec   *recovery  // the copy being read instead of the file
	later []laterGen // generations seen after this one (generations.go)
	// lastLook is when look last read the file's head.
	lastLook time.Time

	// The read loop's state (read.go).
	buf      []byte        // read, not yet cut into lines
	skipping bool          // dropping the rest of an over-long line
	b        *record.Batch // the batch being filled
	goneAt   time.Time     // when the path was first seen to lead elsewhere
	// awaitingSince is when a moved file was found truncated with no
	// first line yet (read.go, awaitHead).
	awaitingSince time.Time
	lastData      time.Time // when the last bytes were read

	// idle is set while the reader waits at the end of the file with
	// what it read handed over (but records held for joining): what
	// tests wait on to know that nothing more arrives until a held record
	// falls due or the file changes.
	idle atomic.Bool
	// awaiting is set while the reader waits for the first line of a
	// moved file found truncated (pause), for tests.
	awaiting atomic.Bool

	acks  *watermark
	ackMu sync.Mutex    // one ack's checkpoint saved at a time (publish)
	share *share        // fair_share's ticket; nil when off (fair.go)
	wake  chan struct{} // the file grew (inotify)
	ackCh chan struct{} // an ack arrived

	led ledgerOf // the account the ledger shows (ledger.go)
	// handed is where the last batch handed over (or skipped) ends in the
	// generation: what lies past it is not delivered (maxlag.go).
	handed  int64
	skipped skipRun // skipped behind max_lag, not yet reported
}

// fingerprintLen bounds the bytes of a file's head that identify it beside
// its inode: its first line, or this many bytes of it.
const fingerprintLen = 256

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

// run reads the file until it is gone and drained, or ctx ends.
func (r *fileReader) run(ctx context.Context) {
	defer r.closeFiles()
	defer r.forgetUnfinished()
	defer r.giveSlot()
	r.lastData = time.Now()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if !r.slot {
			if r.nothingNew() {
				if !r.atEnd(ctx, timer) {
					return
				}
				continue
			}
			if !r.takeSlot(ctx) {
				return
			}
		}
		r.buf = grow(r.buf)
		n, err := r.read(r.buf[len(r.buf):cap(r.buf)])
		var goOn bool
		switch {
		case n == 0 && r.rec != nil && err == nil:
			goOn = true // a gzip stream may return nothing for a call
		case n == 0 && r.rec != nil:
			goOn = r.copyRead(ctx, err)
		case errors.Is(err, errRewritten):
			goOn = r.truncation(ctx)
		case n > 0:
			goOn = r.consume(ctx, n)
		case err != nil && !errors.Is(err, io.EOF):
			r.t.logf("read failed; file released", "path", r.path, "err", err)
			r.close()
		default:
			goOn = r.atEnd(ctx, timer)
		}
		if !goOn {
			return
		}
		if r.b == nil {
			r.giveSlot()
		}
	}
}

// closeFiles closes the file and the copy being read, if any.
func (r *fileReader) closeFiles() {
	if r.rec != nil {
		_ = r.rec.Close()
	}
	_ = r.f.Close()
}

// goneGrace is how long a renamed or deleted file must stay quiet before it
// is released.
func (r *fileReader) goneGrace() time.Duration {
	return max(r.t.goneGraceMin, 2*r.t.cfg.PollInterval.Duration())
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

// close lets the file go for good; its checkpoint goes once everything
// read is acknowledged.
func (r *fileReader) close() {
	r.t.stats.FilesClosed.Add(1)
	if r.acks.close() {
		r.t.store.Delete(r.key)
	}
}
