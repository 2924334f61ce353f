// Package tail follows container log files: it finds them by glob (inotify
// for prompt pickup, polling as the fallback that always runs), reads them
// in batches, parses the CRI and docker json-file formats, joins partial
// lines and hands batches to the pipeline. A file's checkpoint moves only
// past lines whose batch the outputs have acknowledged.
package tail

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicelog/sluice/agent/checkpoint"
	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/internal/loglimit"
)

// Sink takes batches; Push may block to push back and fails when ctx ends.
type Sink interface {
	Push(ctx context.Context, b *record.Batch) error
}

// ackWaiter is a Sink that wants to know while a file waits for its
// window of batches to be acknowledged (agent/pipeline: its outputs then
// send what they are filling without waiting for bulk.flush_interval).
type ackWaiter interface {
	AckWait()
	AckWaitDone()
}

// Stats are the tailer's counters.
type Stats struct {
	FilesOpened  atomic.Int64
	FilesOpen    atomic.Int64
	FilesClosed  atomic.Int64 // closed for good: deleted or rotated away, and read to the end
	FilesIdle    atomic.Int64 // closed after close_inactive; reopened when they change
	OpenErrors   atomic.Int64
	OpenDeferred atomic.Int64 // files left for a later scan because max_open_files was reached
	Lines        atomic.Int64 // physical lines read
	Records      atomic.Int64 // records handed to the pipeline
	BytesRead    atomic.Int64
	Malformed    atomic.Int64 // lines kept raw because they did not parse
	Truncated    atomic.Int64 // lines cut at max_line_bytes
	Truncations  atomic.Int64 // files seen shrinking or rewritten (copytruncate)
	Pruned       atomic.Int64 // checkpoints dropped for files that are gone
	Scans        atomic.Int64 // scans of the globs done
	// Refused counts matched paths not read, by reason (roots.go); each
	// is counted once while it leads to the same place.
	Refused [numRefusals]atomic.Int64

	// Bytes a truncation left unread under a reader: read from the copy
	// beside the file, or lost (no copy held them; a lower bound, as far
	// as the reader had seen the file).
	UnreadRecovered atomic.Int64
	UnreadLost      atomic.Int64
	// GenerationsNoted counts new generations seen at a file's head while
	// its reader was behind (generations.go).
	GenerationsNoted atomic.Int64

	// fair_share's max_lag with drop_oldest (maxlag.go): records and file
	// bytes skipped, and deleted files let go of with bytes unread.
	SkippedRecords atomic.Int64
	SkippedBytes   atomic.Int64
	LetGo          atomic.Int64

	MultilineJoined atomic.Int64 // records joined from more than one line
	MultilineCut    atomic.Int64 // joined records cut at max_lines or max_bytes (also in Truncated)
}

// idleFile is what a file looked like when it was closed as inactive.
type idleFile struct {
	size  int64
	mtime time.Time
}

// Tailer is one container_logs input.
type Tailer struct {
	cfg    config.Input
	node   string
	sink   Sink
	waiter ackWaiter // sink, if it asks; else nil
	store  *checkpoint.Store
	logger *slog.Logger
	now    func() int64
	stats  Stats
	guard  *guard
	// probeSize checks a file's size for lies before reading it; off only
	// in tests of the check made while reading.
	probeSize bool

	limit      *loglimit.Limiter // warnings a flood could repeat: each message once a second
	scanNow    chan struct{}
	pruneEvery time.Duration // how often checkpoints of vanished files are dropped
	// goneGraceMin is the least quiet time before a moved file is let go
	// (fileReader.goneGrace); longer only in tests.
	goneGraceMin time.Duration

	mu      sync.Mutex
	readers map[string]*fileReader // by checkpoint key: the files being read
	idle    map[string]idleFile    // by checkpoint key: closed as inactive
	failed  map[string]string      // path -> last error, so each is logged once
	wakers  map[string]*fileReader // by resolved path, for inotify write events
	// copies of truncated files that were read (recover.go)
	recovered map[copyID]bool
	// heads: the file each generation's head was read from, by
	// fingerprint, to tell a copy of one file over another (copyOfAnother)
	heads   map[string]fileID
	refused map[string]refusal // path -> why it is not read

	fair *fairShare // nil: fair_share off (fair.go)

	slots readSlots // set by Run (slots.go)

	// The ledger's (ledger.go): files let go of, oldest first, and the
	// bytes rotated away unread by namespace.
	released []releasedFile
	unreadNS map[string]int64
	// This input's checkpoints as the last run left them, until a reader
	// of this run takes one or prune drops it (gone.go).
	before map[string]checkpoint.Entry
}

// New returns a tailer for cfg.
func New(cfg config.Input, node string, sink Sink, store *checkpoint.Store, logger *slog.Logger) *Tailer {
	t := &Tailer{
		cfg:          cfg,
		node:         node,
		sink:         sink,
		store:        store,
		logger:       logger.With("component", "tail", "input", cfg.Name),
		now:          func() int64 { return time.Now().UnixNano() },
		guard:        newGuard(cfg),
		probeSize:    true,
		scanNow:      make(chan struct{}, 1),
		pruneEvery:   time.Minute,
		goneGraceMin: time.Second,
		readers:      map[string]*fileReader{},
		idle:         map[string]idleFile{},
		failed:       map[string]string{},
		wakers:       map[string]*fileReader{},
		recovered:    map[copyID]bool{},
		heads:        map[string]fileID{},
		refused:      map[string]refusal{},
		unreadNS:     map[string]int64{},
	}
	t.limit = loglimit.New(t.logger, time.Second)
	t.waiter, _ = sink.(ackWaiter)
	return t
}

// Stats returns the live counters.
func (t *Tailer) Stats() *Stats { return &t.stats }

// logf logs each message at most once a second, so a flood of bad lines
// cannot flood the agent's own log nor hide another warning; the counters
// keep the full count.
func (t *Tailer) logf(msg string, args ...any) { t.limit.Warn(msg, args...) }

// Run scans for files every poll interval, and at once when inotify says
// something changed, and reads each file in its own goroutine until ctx
// ends. It returns after every reader has stopped.
func (t *Tailer) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	if t.cfg.Watch == nil || *t.cfg.Watch {
		w := newWatcher(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(ctx)
		}()
	}
	// start_at applies to the files found on the agent's first start only;
	// after a restart, a file without a checkpoint is new and read whole.
	first := t.store.Len() == 0
	t.slots = newReadSlots(t.sink, t.chunk())
	t.noteCheckpointsBefore()
	ticker := time.NewTicker(max(t.cfg.PollInterval.Duration(), 10*time.Millisecond))
	defer ticker.Stop()
	lastPrune := time.Now()
	t.scan(ctx, &wg, first)
	t.resumeRotated(ctx, &wg)
	for {
		if time.Since(lastPrune) >= t.pruneEvery {
			t.prune()
			lastPrune = time.Now()
		}
		first = false
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		case <-t.scanNow:
		}
		t.scan(ctx, &wg, first)
	}
}

// requestScan asks Run for a scan now (a file appeared or was renamed).
func (t *Tailer) requestScan() {
	select {
	case t.scanNow <- struct{}{}:
	default:
	}
}

func (t *Tailer) scan(ctx context.Context, wg *sync.WaitGroup, first bool) {
	defer t.stats.Scans.Add(1)
	paths := t.match()
	t.keepRefused(paths)
	for _, path := range paths {
		if t.stats.FilesOpen.Load() >= int64(t.cfg.MaxOpenFiles) {
			// The rest waits for a handle to be released; idle files close
			// after close_inactive.
			t.stats.OpenDeferred.Add(1)
			t.logf("max_open_files reached; other files wait", "max_open_files", t.cfg.MaxOpenFiles)
			return
		}
		r, err := t.open(path, first)
		if err != nil {
			t.reportOpen(path, err)
			continue
		}
		if r != nil {
			t.follow(ctx, wg, r)
		}
	}
}

// follow runs r until its file is let go of.
func (t *Tailer) follow(ctx context.Context, wg *sync.WaitGroup, r *fileReader) {
	t.stats.FilesOpen.Add(1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer t.stats.FilesOpen.Add(-1)
		defer t.forget(r)
		r.joinShare()
		defer r.leaveShare()
		r.run(ctx)
		t.noteStopped(r, t.stopReason(r))
	}()
}

// match expands the globs and removes excluded paths.
func (t *Tailer) match() []string {
	var out []string
	seen := map[string]bool{}
	for _, g := range t.cfg.Paths {
		paths, err := filepath.Glob(g)
		if err != nil {
			t.logf("bad glob", "glob", g, "err", err)
			continue
		}
		for _, p := range paths {
			if !seen[p] && !t.excluded(p) {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

func (t *Tailer) excluded(p string) bool {
	for _, ex := range t.cfg.Exclude {
		if ok, _ := filepath.Match(ex, p); ok {
			return true
		}
		if ok, _ := filepath.Match(ex, filepath.Base(p)); ok {
			return true
		}
	}
	return false
}

func (t *Tailer) reportOpen(path string, err error) {
	t.stats.OpenErrors.Add(1)
	msg := err.Error()
	t.mu.Lock()
	again := t.failed[path] == msg
	t.failed[path] = msg
	t.mu.Unlock()
	if !again {
		t.logger.Warn("cannot read log file; will retry", "path", path, "err", err)
	}
}

// forget drops a reader that stopped; a new reader of the same key (a
// reused inode) is left alone.
func (t *Tailer) forget(r *fileReader) {
	t.mu.Lock()
	if t.readers[r.key] == r {
		delete(t.readers, r.key)
	}
	if t.wakers[r.resolved] == r {
		delete(t.wakers, r.resolved)
	}
	t.mu.Unlock()
}

// owns reports whether r is the current reader of its key, or the key has
// none; only then may r's acks write its checkpoint.
func (t *Tailer) owns(r *fileReader) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	cur := t.readers[r.key]
	return cur == r || cur == nil
}

// wake tells the reader of resolvedPath that its file grew.
func (t *Tailer) wake(resolvedPath string) {
	t.mu.Lock()
	r := t.wakers[resolvedPath]
	t.mu.Unlock()
	if r != nil {
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
}

// open starts following path unless its file is already followed, or is
// an inactive file that has not changed. It returns nil, nil then.
func (t *Tailer) open(path string, first bool) (*fileReader, error) {
	return t.openAs(path, path, first)
}

// openAs follows the file at file under the name path: path gives the
// record's names and is what the reader watches for a rotation; they
// differ for a file rotated away while the agent was down (rotated.go).
func (t *Tailer) openAs(path, file string, first bool) (*fileReader, error) {
	fi, err := os.Stat(file) // follows symlinks: the identity is the target
	if err != nil {
		return nil, fmt.Errorf("stat: %w", err)
	}
	dev, ino := statIDs(fi)
	key := fileKey(t.cfg.Name, dev, ino)
	t.mu.Lock()
	_, busy := t.readers[key]
	idle, wasIdle := t.idle[key]
	t.mu.Unlock()
	if busy || wasIdle && idle.size == fi.Size() && idle.mtime.Equal(fi.ModTime()) {
		return nil, nil
	}
	resolved, err := filepath.EvalSymlinks(file)
	if err != nil {
		return nil, fmt.Errorf("resolve links: %w", err)
	}
	if why, bad := t.guard.check(resolved); bad {
		t.refuse(path, resolved, why, dev, ino)
		return nil, nil
	}
	if t.stillRefused(path, resolved, dev, ino) {
		return nil, nil
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
	}
	f, err := os.OpenFile(file, openFlags, 0)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	// The path may have been replaced between the checks and the open.
	if fi, err = f.Stat(); err != nil {
		f.Close()
		return nil, fmt.Errorf("stat open file: %w", err)
	}
	dev, ino = statIDs(fi)
	if opened, ok := openedPath(f); ok {
		if why, bad := t.guard.check(opened); bad {
			f.Close()
			t.refuse(path, opened, why, dev, ino)
			return nil, nil
		}
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
	}
	if t.probeSize && sizeLies(f) {
		f.Close()
		t.refuse(path, resolved, RefusedSizeUnreliable, dev, ino)
		return nil, nil
	}
	key = fileKey(t.cfg.Name, dev, ino)
	names, _ := parseLogPath(path)
	r := &fileReader{
		t: t, path: path, resolved: resolved, key: key, f: f, dev: dev, ino: ino,
		names: names,
		asm:   newAssembler(int(t.cfg.MaxLineBytes), t.now, &t.stats, t.cfg.Multiline),
		acks:  newWatermark(),
		wake:  make(chan struct{}, 1),
		ackCh: make(chan struct{}, 1),
	}
	head, ok, err := readHead(f, file)
	if err != nil {
		f.Close()
		return nil, err
	}
	var fp string
	if ok {
		fp = headFingerprint(head)
		r.head, r.fp = head, fp
	}
	size := fi.Size()
	r.seen = size
	switch e, ok := t.store.Get(key); {
	case ok && (e.Fingerprint == fp || e.Fingerprint == "") && e.Offset <= size:
		r.pos, r.gen = e.Offset, e.Generation
	case ok && t.recoverAtOpen(r, e):
		// Truncated while we were away, before the checkpoint's
		// generation was read to its end: its copy is read first.
	case ok && (e.Fingerprint == fp || e.Fingerprint == "" || fp == ""):
		// Smaller than the checkpoint: truncated while we were away.
		r.pos, r.gen = 0, e.Generation+1
		t.stats.Truncations.Add(1)
	case ok:
		// A reused inode (the fingerprint differs): a new file, from the
		// head, in a generation of its own so no id repeats the old file's.
		// (Or a copytruncate refilled past the checkpoint while we were
		// away, whose copy is gone.)
		r.gen = e.Generation + 1
	case first && t.cfg.StartAt == "end":
		if r.pos, err = lastLineEnd(f, size); err != nil {
			f.Close()
			return nil, err
		}
	default:
		// A file that appeared later, or start_at: head.
	}
	if r.rec != nil {
		// The copy is read from the checkpoint on; the file from its start.
	} else if _, err := f.Seek(r.pos, 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("seek to %d: %w", r.pos, err)
	}
	r.newSource()
	t.mu.Lock()
	if _, busy := t.readers[key]; busy {
		t.mu.Unlock()
		f.Close()
		if r.rec != nil {
			_ = r.rec.Close()
		}
		return nil, nil
	}
	t.readers[key] = r
	t.wakers[resolved] = r
	delete(t.before, key) // read in this run: its losses are counted by its reader
	delete(t.idle, key)
	t.dropReleased(key)
	delete(t.failed, path)
	delete(t.refused, path)
	t.mu.Unlock()
	t.stats.FilesOpened.Add(1)
	t.logger.Debug("following file", "path", path, "offset", r.pos, "generation", r.gen)
	return r, nil
}

// stopReason says why r stopped, for the ledger.
func (t *Tailer) stopReason(r *fileReader) string {
	if r.acks.isClosed() {
		return "released"
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, idle := t.idle[r.key]; idle {
		return "idle"
	}
	return "stopped"
}

// closedIdle records an inactive file that was closed, so scans skip it
// until it changes.
func (t *Tailer) closedIdle(r *fileReader, fi os.FileInfo) {
	t.stats.FilesIdle.Add(1)
	t.mu.Lock()
	t.idle[r.key] = idleFile{size: fi.Size(), mtime: fi.ModTime()}
	t.mu.Unlock()
}

// prune drops the checkpoints of this input's files that no longer exist
// (or whose path now holds another file) and that nobody reads.
func (t *Tailer) prune() {
	prefix := t.cfg.Name + "|"
	for key, e := range t.store.Entries() {
		if !strings.HasPrefix(key, prefix) {
			continue
		}
		t.mu.Lock()
		_, busy := t.readers[key]
		t.mu.Unlock()
		if busy {
			continue
		}
		if fi, err := os.Stat(e.Path); err == nil {
			if dev, ino := statIDs(fi); dev == e.Dev && ino == e.Inode {
				continue
			}
		}
		t.goneWhileDown(key, e)
		t.store.Delete(key)
		t.mu.Lock()
		delete(t.idle, key)
		t.mu.Unlock()
		t.stats.Pruned.Add(1)
	}
}
