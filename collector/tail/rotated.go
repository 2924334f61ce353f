package tail

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/sluicelog/sluice/agent/checkpoint"
)

// A rename rotation (the kubelet's 0.log → 0.log.20261207-043000,
// logrotate's x.log → x.log.1) while the agent is down, or after a crash
// while a reader was still behind in the renamed file, leaves the unread
// tail of that file only under its new name, which the paths' globs do
// not match. The checkpoint still names the file by device and inode, so
// at start-up the agent looks for it beside its old name and reads it
// from the checkpoint to its end, under the old name's ids and metadata,
// before the checkpoint is pruned.

// resumeRotated starts a reader for every checkpointed file of this input
// that now lives under a rotated name beside its old path with bytes
// after its checkpoint.
func (t *Tailer) resumeRotated(ctx context.Context, wg *sync.WaitGroup) {
	prefix := t.cfg.Name + "|"
	for key, e := range t.store.Entries() {
		if !strings.HasPrefix(key, prefix) || t.following(key) {
			continue
		}
		file, ok := rotatedCopy(e)
		if !ok {
			continue
		}
		r, err := t.openAs(e.Path, file, false)
		if err != nil {
			t.reportOpen(file, err)
			continue
		}
		if r != nil {
			t.logger.Info("reading a file rotated away while the agent was down",
				"path", e.Path, "rotated_to", file, "offset", r.pos)
			t.follow(ctx, wg, r)
		}
	}
}

// following reports whether key's file has a reader.
func (t *Tailer) following(key string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, busy := t.readers[key]
	return busy
}

// rotatedCopy finds e's file under a rotated name (its old name and a
// suffix) in the folder of its old path or of the path's link target,
// when it has bytes past the checkpoint. A file still at e.Path is not
// rotated: the scan follows it.
func rotatedCopy(e checkpoint.Entry) (string, bool) {
	if fi, err := os.Stat(e.Path); err == nil {
		if dev, ino := statIDs(fi); dev == e.Dev && ino == e.Inode {
			return "", false
		}
	}
	dirs := []string{e.Path}
	if target, err := filepath.EvalSymlinks(e.Path); err == nil && target != e.Path {
		dirs = append(dirs, target)
	} else if target, err := os.Readlink(e.Path); err == nil {
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(e.Path), target)
		}
		dirs = append(dirs, target)
	}
	for _, old := range dirs {
		if file, ok := findRotated(old, e); ok {
			return file, true
		}
	}
	return "", false
}

// findRotated looks beside old for a regular file named old's name plus a
// suffix, with e's device and inode and more than e.Offset bytes.
func findRotated(old string, e checkpoint.Entry) (string, bool) {
	dir, base := filepath.Dir(old), filepath.Base(old)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", false
	}
	for _, de := range entries {
		name := de.Name()
		if !strings.HasPrefix(name, base) || name == base || !de.Type().IsRegular() {
			continue
		}
		fi, err := de.Info()
		if err != nil {
			continue
		}
		if dev, ino := statIDs(fi); dev == e.Dev && ino == e.Inode && fi.Size() > e.Offset {
			return filepath.Join(dir, name), true
		}
	}
	return "", false
}
