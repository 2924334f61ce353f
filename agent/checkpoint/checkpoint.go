// Package checkpoint keeps the read position of every file in data_dir.
// Positions change in memory as acks arrive and reach the disk on a sync
// period and at shutdown, written atomically (temp file, fsync, rename,
// fsync of the directory), so a crash leaves the previous or the new file,
// never a torn one.
package checkpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sluicelog/sluice/internal/loglimit"
)

const fileName = "checkpoints.json"

// Entry is the saved state of one file.
type Entry struct {
	Path        string `json:"path"`
	Dev         uint64 `json:"dev"`
	Inode       uint64 `json:"inode"`
	Fingerprint string `json:"fingerprint"` // hex SHA-256 of the file's first line (up to 256 bytes)
	Offset      int64  `json:"offset"`      // everything before it is delivered
	Generation  uint64 `json:"generation"`  // bumped on every detected truncation
	Updated     int64  `json:"updated"`     // Unix seconds of the last change
	// Size is the file's size when the checkpoint was written, in its
	// generation; 0: unknown. If the file is gone at the next start,
	// Size − Offset is a lower bound of the bytes it took away unread
	// (what was written after the checkpoint is not known).
	Size int64 `json:"size,omitempty"`
}

type fileFormat struct {
	Version int              `json:"version"`
	Entries map[string]Entry `json:"entries"`
}

// lockDir takes the exclusive lock of data_dir dir.
func lockDir(dir string) (*os.File, error) {
	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open data_dir lock: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("lock data_dir %s (is another agent using it?): %w", dir, err)
	}
	return lock, nil
}

// Store holds the checkpoints of every input. It is safe for concurrent use.
type Store struct {
	dir string

	saveMu sync.Mutex // one save at a time; guards lock
	lock   *os.File

	mu      sync.Mutex
	entries map[string]Entry
	dirty   bool
	early   earlySave // acknowledged progress since the last save (early.go)

	// For sluice_checkpoint_* metrics: failed saves, and when the file
	// was last known to hold the positions in memory.
	saveErrors atomic.Int64
	lastSaved  atomic.Int64 // Unix nanoseconds

	log        *slog.Logger
	loadErrors map[string]int64 // by reason; written only in Open
}

// Open loads the checkpoints in dir, creating it if needed, and takes an
// exclusive lock on it so two agents never share one data_dir. A corrupt
// file or bad entries do not stop it (load.go).
func Open(dir string, opts ...Option) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create data_dir: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	s := &Store{dir: dir, lock: lock, entries: map[string]Entry{}, loadErrors: map[string]int64{},
		log: slog.New(slog.DiscardHandler), early: newEarlySave()}
	for _, o := range opts {
		o(s)
	}
	s.lastSaved.Store(time.Now().UnixNano()) // the file matches what was just read
	if err := s.load(); err != nil {
		lock.Close()
		return nil, err
	}
	return s, nil
}

// Get returns the entry under key.
func (s *Store) Get(key string) (Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[key]
	return e, ok
}

// Set stores e under key.
func (s *Store) Set(key string, e Entry) {
	e.Updated = time.Now().Unix()
	s.mu.Lock()
	old, had := s.entries[key]
	s.entries[key] = e
	s.dirty = true
	if had && old.Generation == e.Generation {
		s.early.add(e.Offset - old.Offset)
	}
	s.mu.Unlock()
}

// Delete removes key.
func (s *Store) Delete(key string) {
	s.mu.Lock()
	if _, ok := s.entries[key]; ok {
		delete(s.entries, key)
		s.dirty = true
	}
	s.mu.Unlock()
}

// Entries returns a copy of every entry, by key.
func (s *Store) Entries() map[string]Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]Entry, len(s.entries))
	for k, e := range s.entries {
		out[k] = e
	}
	return out
}

// Len is the number of entries.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// SaveErrors is the number of syncs that failed to write the file.
func (s *Store) SaveErrors() int64 { return s.saveErrors.Load() }

// LastSaved is when the file last held every position in memory: the last
// successful write, or the last sync that had nothing new to write.
func (s *Store) LastSaved() time.Time { return time.Unix(0, s.lastSaved.Load()) }

// Sync writes the entries to disk if they changed since the last sync.
func (s *Store) Sync() error {
	s.mu.Lock()
	if !s.dirty {
		s.mu.Unlock()
		s.lastSaved.Store(time.Now().UnixNano())
		return nil
	}
	raw, err := json.Marshal(fileFormat{Version: 1, Entries: s.entries})
	s.dirty = false
	s.early.reset()
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("encode checkpoints: %w", err)
	}
	if err := s.write(raw); err != nil {
		s.mu.Lock()
		s.dirty = true
		s.mu.Unlock()
		s.saveErrors.Add(1)
		return err
	}
	s.lastSaved.Store(time.Now().UnixNano())
	return nil
}

// failLogEvery spaces the error lines while data_dir stays unwritable.
const failLogEvery = 30 * time.Second

// Run syncs every interval until ctx ends, and early, at most every
// earlyEvery, once earlyBytes of acknowledged progress are unsaved. The final sync is the caller's,
// after the outputs have drained (Close). A failure is logged at once,
// then every failLogEvery while it lasts (sluice_checkpoint_save_errors_total
// counts each), and the recovery once.
func (s *Store) Run(ctx context.Context, interval time.Duration, logger *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var failingSince time.Time
	failed := 0
	logs := loglimit.New(logger, failLogEvery)
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.early.due:
			if !s.early.pace(ctx, last) {
				return
			}
		}
		last = time.Now()
		err := s.Sync()
		now := time.Now()
		switch {
		case err != nil:
			failed++
			if failingSince.IsZero() {
				failingSince = now
			}
			logs.Error("save checkpoints: cannot write data_dir; delivery goes on, but a restart reads files again from the last saved positions",
				"data_dir", s.dir, "failing_for", now.Sub(failingSince).Round(time.Second).String(), "failed_saves", failed, "err", err)
		case !failingSince.IsZero():
			logger.Info("save checkpoints: data_dir writable again; checkpoints saved",
				"data_dir", s.dir, "failed_for", now.Sub(failingSince).Round(time.Second).String(), "failed_saves", failed)
			failingSince, failed = time.Time{}, 0
			logs = loglimit.New(logger, failLogEvery) // the next failure is logged at once
		}
	}
}

// Close syncs and releases the data_dir lock.
func (s *Store) Close() error {
	err := s.Sync()
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	return errors.Join(err, s.lock.Close())
}

// write saves raw as the checkpoint file. A data_dir that was removed
// while the agent runs (someone cleaned /var/lib, a volume was reset) is
// created again, with its lock, and the positions saved in it: the
// alternative, saving nothing until a restart, would have that restart
// find no checkpoints and read every file by start_at again. Only the
// folder itself is created: a missing parent means the volume is gone,
// and a tree made on whatever is mounted there instead would hide that.
func (s *Store) write(raw []byte) error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	err := writeAtomic(s.dir, fileName, raw)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if _, serr := os.Stat(s.dir); !errors.Is(serr, fs.ErrNotExist) {
		return err
	}
	if merr := os.Mkdir(s.dir, 0o750); merr != nil {
		return fmt.Errorf("%w; data_dir %s is gone and cannot be created again: %w", err, s.dir, merr)
	}
	lock, lerr := lockDir(s.dir)
	if lerr != nil {
		return fmt.Errorf("%w; data_dir %s was created again but not locked: %w", err, s.dir, lerr)
	}
	_ = s.lock.Close() // the lock of the removed folder
	s.lock = lock
	s.log.Warn("data_dir was removed while the agent ran; created it again and saving the checkpoints there", "data_dir", s.dir)
	return writeAtomic(s.dir, fileName, raw)
}

func writeAtomic(dir, name string, data []byte) error {
	tmp, err := os.CreateTemp(dir, name+".tmp*")
	if err != nil {
		return fmt.Errorf("create temporary checkpoint: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write temporary checkpoint: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync temporary checkpoint: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close temporary checkpoint: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("replace checkpoint: %w", err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open data_dir for sync: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync data_dir: %w", err)
	}
	return nil
}
