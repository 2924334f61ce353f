// Package tail follows container log files: it finds them by glob, reads
// them in batches, parses the CRI and docker json-file formats, joins
// partial lines and hands batches to the pipeline. A file's checkpoint
// moves only past lines whose batch the outputs have acknowledged.
package tail

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicelog/sluice/agent/checkpoint"
	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/record"
)

// Sink takes batches; Push may block to push back and fails when ctx ends.
type Sink interface {
	Push(ctx context.Context, b *record.Batch) error
}

// Stats are the tailer's counters.
type Stats struct {
	FilesOpened atomic.Int64
	FilesOpen   atomic.Int64
	OpenErrors  atomic.Int64
	Lines       atomic.Int64 // physical lines read
	Records     atomic.Int64 // records handed to the pipeline
	BytesRead   atomic.Int64
	Malformed   atomic.Int64 // lines kept raw because they did not parse
	Truncated   atomic.Int64 // lines cut at max_line_bytes
	Truncations atomic.Int64 // files seen shrinking (copytruncate)
}

// Tailer is one container_logs input.
type Tailer struct {
	cfg    config.Input
	node   string
	sink   Sink
	store  *checkpoint.Store
	logger *slog.Logger
	now    func() int64
	stats  Stats

	lastLog atomic.Int64 // Unix nanos of the last rate-limited log line

	mu      sync.Mutex
	readers map[string]bool   // keys of files being read
	failed  map[string]string // path -> last error, so each is logged once
}

// New returns a tailer for cfg. now gives the read time for lines that
// carry none (a malformed line).
func New(cfg config.Input, node string, sink Sink, store *checkpoint.Store, logger *slog.Logger) *Tailer {
	return &Tailer{
		cfg:     cfg,
		node:    node,
		sink:    sink,
		store:   store,
		logger:  logger.With("component", "tail", "input", cfg.Name),
		now:     func() int64 { return time.Now().UnixNano() },
		readers: map[string]bool{},
		failed:  map[string]string{},
	}
}

// Stats returns the live counters.
func (t *Tailer) Stats() *Stats { return &t.stats }

// logf logs at most once a second, so a flood of bad lines cannot flood
// the agent's own log; the counters keep the full count.
func (t *Tailer) logf(msg string, args ...any) {
	now := time.Now().UnixNano()
	last := t.lastLog.Load()
	if now-last < int64(time.Second) || !t.lastLog.CompareAndSwap(last, now) {
		return
	}
	t.logger.Warn(msg, args...)
}

// Run scans for files every poll interval and reads each in its own
// goroutine until ctx ends. It returns after every reader has stopped.
func (t *Tailer) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	// start_at applies to the files found on the agent's first start only;
	// after a restart, a file without a checkpoint is new and read whole.
	first := t.store.Len() == 0
	ticker := time.NewTicker(max(t.cfg.PollInterval.D(), 100*time.Millisecond))
	defer ticker.Stop()
	for {
		for _, path := range t.match() {
			r, err := t.open(path, first)
			if err != nil {
				t.reportOpen(path, err)
				continue
			}
			if r == nil {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer t.forget(r.key)
				t.stats.FilesOpen.Add(1)
				defer t.stats.FilesOpen.Add(-1)
				r.run(ctx)
			}()
		}
		first = false
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
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
	next:
		for _, p := range paths {
			if seen[p] {
				continue
			}
			for _, ex := range t.cfg.Exclude {
				if ok, _ := filepath.Match(ex, p); ok {
					continue next
				}
				if ok, _ := filepath.Match(ex, filepath.Base(p)); ok {
					continue next
				}
			}
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
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

func (t *Tailer) forget(key string) {
	t.mu.Lock()
	delete(t.readers, key)
	t.mu.Unlock()
}

// open starts following path unless its file is already followed. It
// returns nil, nil for a file that is already being read.
func (t *Tailer) open(path string, first bool) (*fileReader, error) {
	fi, err := os.Stat(path) // follows symlinks: the identity is the target
	if err != nil {
		return nil, fmt.Errorf("stat: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
	}
	dev, ino := statIDs(fi)
	key := fileKey(t.cfg.Name, dev, ino)
	t.mu.Lock()
	busy := t.readers[key]
	t.mu.Unlock()
	if busy {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	// The path may have been replaced between the stat and the open.
	if fi, err = f.Stat(); err != nil {
		f.Close()
		return nil, fmt.Errorf("stat open file: %w", err)
	}
	dev, ino = statIDs(fi)
	key = fileKey(t.cfg.Name, dev, ino)
	names, _ := parseLogPath(path)
	r := &fileReader{
		t: t, path: path, key: key, f: f, dev: dev, ino: ino,
		names:  names,
		asm:    newAssembler(int(t.cfg.MaxLineBytes), t.now, &t.stats),
		acked:  map[uint64]int64{},
		ackGen: map[uint64]uint64{},
	}
	fp, _, err := fingerprint(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.fp = fp
	size := fi.Size()
	switch e, ok := t.store.Get(key); {
	case ok && (e.Fingerprint == fp || e.Fingerprint == "") && e.Offset <= size:
		r.pos, r.gen = e.Offset, e.Generation
	case ok && (e.Fingerprint == fp || e.Fingerprint == "" || fp == ""):
		// Smaller than the checkpoint: truncated while we were away.
		r.pos, r.gen = 0, e.Generation+1
		t.stats.Truncations.Add(1)
	case ok:
		// A reused inode (the fingerprint differs): a new file, from the head.
	case first && t.cfg.StartAt == "end":
		if r.pos, err = lastLineEnd(f, size); err != nil {
			f.Close()
			return nil, err
		}
	default:
		// A file that appeared later, or start_at: head.
	}
	if _, err := f.Seek(r.pos, 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("seek to %d: %w", r.pos, err)
	}
	r.newSource()
	t.mu.Lock()
	if t.readers[key] {
		t.mu.Unlock()
		f.Close()
		return nil, nil
	}
	t.readers[key] = true
	delete(t.failed, path)
	t.mu.Unlock()
	t.stats.FilesOpened.Add(1)
	t.logger.Debug("following file", "path", path, "offset", r.pos, "generation", r.gen)
	return r, nil
}
