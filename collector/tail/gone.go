package tail

import (
	"strings"

	"github.com/sluicelog/sluice/agent/checkpoint"
)

// Files deleted while the agent was down: their checkpoints hold the file's
// size when each was written (checkpoint.Entry.Size), so when such a
// checkpoint is pruned, size − offset is a lower bound of the bytes the
// file took away unread (what was written after the last checkpoint is
// not known), counted in sluice_rotated_unread_bytes_total.

// sizeFor is the size of the reader's file to keep with checkpoint cp:
// its size now, if the reader is in cp's generation and the file holds at
// least cp's offset; otherwise 0 (unknown), so it can only undercount.
// It runs on the acknowledging goroutine; *os.File is safe for that.
func (r *fileReader) sizeFor(cp checkpoint.Entry) int64 {
	if r.led.gen.Load() != cp.Generation {
		return 0
	}
	fi, err := r.f.Stat()
	if err != nil || fi.Size() < cp.Offset {
		return 0
	}
	return fi.Size()
}

// noteCheckpointsBefore keeps this input's checkpoints as the last run
// left them, so that prune can tell a file gone while the agent was down
// (its checkpoint untouched since) from one let go of in this run, whose
// unread bytes, if any, were counted then.
func (t *Tailer) noteCheckpointsBefore() {
	prefix := t.cfg.Name + "|"
	t.mu.Lock()
	defer t.mu.Unlock()
	t.before = map[string]checkpoint.Entry{}
	for key, e := range t.store.Entries() {
		if strings.HasPrefix(key, prefix) {
			t.before[key] = e
		}
	}
}

// goneWhileDown counts what the file of checkpoint e (key), found gone
// and pruned, took away unread, if nothing touched the checkpoint in this
// run.
func (t *Tailer) goneWhileDown(key string, e checkpoint.Entry) {
	t.mu.Lock()
	defer t.mu.Unlock()
	old, ok := t.before[key]
	if !ok {
		return
	}
	delete(t.before, key)
	if old != e {
		return // a reader of this run moved it
	}
	unread := e.Size - e.Offset
	if unread <= 0 {
		return
	}
	names, _ := parseLogPath(e.Path)
	t.unreadNS[names.Namespace] += unread
	t.logger.Warn("file deleted while the agent was down, with bytes unread at its last checkpoint (at least these were lost)",
		"path", e.Path, "unread_bytes", unread)
}
