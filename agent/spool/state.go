package spool

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// state is what the spool keeps beside its segments (state.json):
//
//   - Key numbers the spooled records' document ids. It outlives the
//     process, so a record replayed after a restart carries the id of the
//     copy that may already be stored, and Elasticsearch answers 409.
//   - Segment and Offset: everything before them is acknowledged.
//   - LastSegment: the highest segment number ever used. Numbers are
//     never reused, even when every segment was acknowledged and deleted:
//     a reused number under the same key would give a new record the id of
//     an old one, and its 409 would be silent loss.
type state struct {
	Version     int    `json:"version"`
	Key         []byte `json:"key"`
	Segment     uint64 `json:"segment"`
	Offset      int64  `json:"offset"`
	LastSegment uint64 `json:"last_segment"`
}

const stateFile = "state.json"

// loadState reads dir's state, or makes a new one with a fresh key.
func loadState(dir string) (state, error) {
	raw, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		st := state{Version: 1, Key: make([]byte, 16)}
		if _, err := rand.Read(st.Key); err != nil {
			return state{}, fmt.Errorf("spool key: %w", err)
		}
		// On a full disk the key is saved with the first segment's
		// number (startSegment), before anything is written under it.
		if err := saveState(dir, st); err != nil && !diskFull(err) {
			return state{}, err
		}
		return st, nil
	}
	if err != nil {
		return state{}, fmt.Errorf("read spool state: %w", err)
	}
	var st state
	if err := json.Unmarshal(raw, &st); err != nil || st.Version != 1 || len(st.Key) != 16 || st.Offset < 0 {
		// Without its key the spooled records would be stored again
		// under new ids; refusing is better than duplicating silently.
		return state{}, fmt.Errorf("spool state %s is not a version 1 state file; move the spool folder aside to start a new one (its records would be sent again)", filepath.Join(dir, stateFile))
	}
	return st, nil
}

// saveState writes st atomically: a temporary file, fsync, rename, and an
// fsync of the folder so the rename itself survives a power loss.
func saveState(dir string, st state) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, stateFile+".tmp*")
	if err != nil {
		return fmt.Errorf("spool state: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(raw); err != nil {
		tmp.Close()
		return fmt.Errorf("spool state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("spool state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("spool state: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, stateFile)); err != nil {
		return fmt.Errorf("spool state: %w", err)
	}
	return syncDir(dir)
}

// syncDir fsyncs dir, so names created or renamed in it survive a power
// loss; a variable so a test can see when it runs.
var syncDir = func(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
