package tail

import (
	"io"
	"maps"
	"slices"
	"sync/atomic"
	"time"
)

// The delivery ledger: per file, how much it holds, how much of it was
// read, acknowledged and rotated away unread, so an operator can prove
// file by file that nothing was lost (/api/v1/status, logs --status).
// Files let go of stay in it for a while (maxReleased), so a file that
// rotated away and was deleted can still be shown read to its end.

// FileLedger is one file's delivery account.
type FileLedger struct {
	Path      string
	Namespace string
	Pod       string
	Container string
	// State is "reading", or why the reader let go: "released" (rotated
	// away or deleted, and read to its end, or given up on: see
	// RotatedUnread), "idle" (closed after close_inactive, reopened when
	// it changes) or "stopped" (the agent stopped reading it).
	State string
	Size  int64 // the file's size (its last size seen once let go)
	Read  int64 // offset read in the generation being read
	// Acked is the offset up to which lines are delivered (the
	// checkpoint), in generation AckedGeneration; -1 while nothing is.
	Acked           int64
	Generation      uint64 // the file's generation being read: 0, +1 per truncation
	AckedGeneration uint64
	// RotatedUnread is the bytes the file held that left it unread: a
	// truncation without a copy that held them, or a file let go of
	// behind max_lag (drop_oldest).
	RotatedUnread int64
	LastAck       time.Time // when a batch of its lines was last acknowledged
	Released      time.Time // when the reader let go; zero while reading
	// OldestUnacked is when the oldest batch read and not acknowledged
	// was handed over; zero when none is (as OpenFile's).
	OldestUnacked time.Time
}

// maxReleased bounds the files let go of that the ledger still shows.
const maxReleased = 256

// ledgerOf is a reader's running account, for the ledger: set by the
// reader's goroutine, read by status pages.
type ledgerOf struct {
	gen    atomic.Uint64 // the generation being read
	unread atomic.Int64  // bytes rotated away unread
}

// Ledger calls fn for every file being read, in no order, then for the
// files let go of most recently (up to maxReleased), oldest first.
func (t *Tailer) Ledger(fn func(FileLedger)) {
	t.mu.Lock()
	readers := make([]*fileReader, 0, len(t.readers))
	for _, r := range t.readers {
		readers = append(readers, r)
	}
	released := slices.Clone(t.released)
	t.mu.Unlock()
	for _, r := range readers {
		l, ok := r.ledger()
		if ok {
			fn(l)
		}
	}
	for _, rl := range released {
		l := rl.FileLedger
		l.Acked, l.AckedGeneration, l.LastAck = t.acked(rl.key, rl.acks)
		l.OldestUnacked = rl.acks.oldestUnacked()
		fn(l)
	}
}

// ledger is an open file's account; false when it was closed meanwhile.
func (r *fileReader) ledger() (FileLedger, bool) {
	// path, names, key and f are set before the reader is published and
	// never change; *os.File is safe for concurrent use.
	pos, err := r.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return FileLedger{}, false
	}
	fi, err := r.f.Stat()
	if err != nil {
		return FileLedger{}, false
	}
	l := r.account("reading", fi.Size(), pos, r.led.gen.Load())
	l.Acked, l.AckedGeneration, l.LastAck = r.t.acked(r.key, r.acks)
	l.OldestUnacked = r.acks.oldestUnacked()
	return l, true
}

// account is the reader's ledger entry without its acknowledgements.
func (r *fileReader) account(state string, size, read int64, gen uint64) FileLedger {
	return FileLedger{
		Path: r.path, Namespace: r.names.Namespace, Pod: r.names.Pod, Container: r.names.Container,
		State: state, Size: size, Read: read, Generation: gen, RotatedUnread: r.led.unread.Load(),
	}
}

// acked is how far a file's lines are delivered: by this run's acks, or
// else by the checkpoint it started from.
func (t *Tailer) acked(key string, w *watermark) (off int64, gen uint64, last time.Time) {
	m, ok, last := w.delivered()
	if ok {
		return m.end, m.gen, last
	}
	if e, ok := t.store.Get(key); ok {
		return e.Offset, e.Generation, last
	}
	return -1, 0, last
}

// releasedFile is a file let go of, as the ledger keeps it: its account
// when the reader stopped, and its watermark for the acks still to come.
type releasedFile struct {
	FileLedger
	key  string
	acks *watermark
}

// noteStopped keeps the account of a reader that stopped; it runs on the
// reader's goroutine, after run.
func (t *Tailer) noteStopped(r *fileReader, state string) {
	l := r.account(state, max(r.seen, r.pos), r.pos, r.gen)
	l.Released = time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dropReleased(r.key)
	if len(t.released) == maxReleased {
		t.released = slices.Delete(t.released, 0, 1)
	}
	t.released = append(t.released, releasedFile{FileLedger: l, key: r.key, acks: r.acks})
}

// dropReleased forgets the account of a file let go of, reopened now
// (or again let go of). Called with t.mu held.
func (t *Tailer) dropReleased(key string) {
	t.released = slices.DeleteFunc(t.released, func(rl releasedFile) bool { return rl.key == key })
}

// lost counts n bytes a truncation took before they were read.
func (r *fileReader) lost(n int64) {
	r.t.stats.UnreadLost.Add(n)
	r.countUnread(n)
}

// countUnread counts n bytes of the reader's file that left unread, in
// its account and its namespace's.
func (r *fileReader) countUnread(n int64) {
	if n <= 0 {
		return
	}
	r.led.unread.Add(n)
	r.t.mu.Lock()
	r.t.unreadNS[r.names.Namespace] += n
	r.t.mu.Unlock()
}

// RotatedUnread returns the bytes rotated away unread so far, per
// namespace ("" for files whose name says none); the map is the caller's.
func (t *Tailer) RotatedUnread() map[string]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return maps.Clone(t.unreadNS)
}
