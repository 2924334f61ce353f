package checkpoint

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Reasons of sluice_checkpoint_load_errors_total. A bad entry is dropped
// (its file resumes by start_at); an empty or corrupt file is kept aside
// and every file resumes by start_at.
const (
	ReasonBadEntry    = "bad_entry"
	ReasonEmptyFile   = "empty_file"
	ReasonCorruptFile = "corrupt_file"
)

// LoadReasons lists every reason, so each has a series from the start.
var LoadReasons = []string{ReasonBadEntry, ReasonEmptyFile, ReasonCorruptFile}

// Option configures Open.
type Option func(*Store)

// WithLogger sets where load problems are logged; without it they are only
// counted (LoadErrors).
func WithLogger(l *slog.Logger) Option { return func(s *Store) { s.log = l } }

// maxLoggedEntries bounds the lines about bad entries of one load; the
// rest are counted and summed up in one line.
const maxLoggedEntries = 10

// load reads checkpoints.json. A file that cannot be read at all (EACCES,
// EIO) is an error: moving it aside would replay what it still holds.
// One that reads but does not parse is renamed aside and the agent starts
// without it; entries that parse but make no sense are dropped one by one.
func (s *Store) load() error {
	path := filepath.Join(s.dir, fileName)
	raw, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("read checkpoints: %w", err)
	}
	entries, bad, err := decodeFile(raw)
	if err != nil {
		return s.keepAside(path, raw, err)
	}
	logged := 0
	for _, b := range bad {
		s.loadErrors[ReasonBadEntry]++
		if logged < maxLoggedEntries {
			logged++
			s.log.Error("checkpoint entry dropped: its file resumes by start_at",
				"file", path, "key", b.key, "path", b.path, "err", b.err)
		}
	}
	if len(bad) > logged {
		s.log.Error("more checkpoint entries dropped", "file", path, "dropped", len(bad), "logged", logged)
	}
	s.entries = entries
	return nil
}

// keepAside renames a checkpoint file that does not parse to
// checkpoints.json.corrupt-<UTC time>, so it can be looked at and nothing
// is lost by starting without it.
func (s *Store) keepAside(path string, raw []byte, cause error) error {
	reason := ReasonCorruptFile
	if len(bytes.TrimSpace(raw)) == 0 {
		reason, cause = ReasonEmptyFile, errors.New("the file is empty")
	}
	base := path + ".corrupt-" + time.Now().UTC().Format("20060102T150405Z")
	aside := base
	for i := 1; fileExists(aside); i++ {
		aside = base + "." + strconv.Itoa(i)
	}
	if err := os.Rename(path, aside); err != nil {
		return fmt.Errorf("checkpoints %s do not parse (%v) and cannot be moved aside: %w", path, cause, err)
	}
	if err := syncDir(s.dir); err != nil {
		return err
	}
	s.loadErrors[reason]++
	s.log.Error("checkpoints unreadable: kept aside, starting without them; every file resumes by start_at "+
		"(head: read again, ids make the replay idempotent in Elasticsearch; end: lines not yet shipped are skipped)",
		"file", path, "kept_as", aside, "reason", reason, "err", cause)
	return nil
}

func fileExists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// badEntry is an entry that was dropped on load.
type badEntry struct {
	key, path string
	err       error
}

// decodeFile parses the file. Each entry is decoded on its own, so one
// with a wrong type costs that entry only; an error means the file as a
// whole is unusable.
func decodeFile(raw []byte) (map[string]Entry, []badEntry, error) {
	var f struct {
		Version *int                       `json:"version"`
		Entries map[string]json.RawMessage `json:"entries"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, nil, fmt.Errorf("parse: %w", err)
	}
	if f.Version == nil || *f.Version != 1 {
		return nil, nil, errors.New("not a version 1 checkpoint file")
	}
	entries := make(map[string]Entry, len(f.Entries))
	var bad []badEntry
	for key, msg := range f.Entries {
		var e Entry
		err := json.Unmarshal(msg, &e)
		if err == nil && bytes.Equal(bytes.TrimSpace(msg), []byte("null")) {
			err = errors.New("null entry")
		}
		if err == nil {
			err = e.check(key)
		}
		if err != nil {
			bad = append(bad, badEntry{key: key, path: e.Path, err: err})
			continue
		}
		entries[key] = e
	}
	return entries, bad, nil
}

// maxFingerprint is the longest fingerprint taken: hex of SHA-256.
const maxFingerprint = 64

// check reports what makes e unusable as a read position.
func (e Entry) check(key string) error {
	switch {
	case key == "":
		return errors.New("empty key")
	case e.Offset < 0:
		return fmt.Errorf("negative offset %d", e.Offset)
	case e.Size < 0:
		return fmt.Errorf("negative size %d", e.Size)
	case len(e.Fingerprint) > maxFingerprint:
		return fmt.Errorf("fingerprint of %d characters (at most %d)", len(e.Fingerprint), maxFingerprint)
	}
	if _, err := hex.DecodeString(e.Fingerprint); err != nil {
		return errors.New("fingerprint is not hex")
	}
	return nil
}

// LoadErrors returns, by reason, the problems found when the file was
// loaded (sluice_checkpoint_load_errors_total).
func (s *Store) LoadErrors() map[string]int64 {
	out := make(map[string]int64, len(LoadReasons))
	for _, r := range LoadReasons {
		out[r] = s.loadErrors[r]
	}
	return out
}
