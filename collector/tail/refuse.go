package tail

import (
	"os"
	"syscall"
)

// refusal is a matched path that is not read, remembered so that it is
// logged and counted once, not on every scan.
type refusal struct {
	resolved string
	why      Refusal
	dev, ino uint64
}

// refuse counts and logs a refused path, once for as long as it keeps
// leading to the same place for the same reason.
func (t *Tailer) refuse(path, resolved string, why Refusal, dev, ino uint64) {
	t.mu.Lock()
	prev, seen := t.refused[path]
	t.refused[path] = refusal{resolved: resolved, why: why, dev: dev, ino: ino}
	t.mu.Unlock()
	if seen && prev.resolved == resolved && prev.why == why {
		return
	}
	t.stats.Refused[why].Add(1)
	t.logger.Warn("log file refused; not read", "path", path, "target", resolved, "reason", why.String())
}

// stillRefused reports whether path was refused for its size and still
// leads to the same file: it is not opened again.
func (t *Tailer) stillRefused(path, resolved string, dev, ino uint64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	r, ok := t.refused[path]
	return ok && r.why == RefusedSizeUnreliable && r.resolved == resolved && r.dev == dev && r.ino == ino
}

// keepRefused forgets refusals of paths that no longer match, so the set
// stays as small as the folder; a path that comes back is counted again.
func (t *Tailer) keepRefused(matched []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.refused) == 0 {
		return
	}
	keep := make(map[string]bool, len(matched))
	for _, p := range matched {
		keep[p] = true
	}
	for p := range t.refused {
		if !keep[p] {
			delete(t.refused, p)
		}
	}
}

// sizeProbes is how many times in a row a file must show bytes past its
// size before it is called a liar: a live file can shrink once between
// two looks (copytruncate), not three times within microseconds.
const sizeProbes = 3

// sizeLies reports whether f holds bytes past the size fstat gives it
// while not growing: procfs and sysfs files (size 0 or 4096, whatever
// they hold) and the like. Taken for truncations, such a file would be
// read again and again at full speed, each pass under new ids.
func sizeLies(f *os.File) bool {
	var b [1]byte
	for range sizeProbes {
		before, err := f.Stat()
		if err != nil {
			return false
		}
		if n, _ := f.ReadAt(b[:], before.Size()); n == 0 {
			return false
		}
		after, err := f.Stat()
		if err != nil || after.Size() > before.Size() {
			return false // it grew: a file being written
		}
	}
	return true
}

// unreliableSize reports whether the file, seen smaller than what was
// read (size), is a liar rather than truncated; the file is then
// refused and remembered, so that neither this reader nor a later scan
// reads it again.
func (r *fileReader) unreliableSize(size int64) bool {
	if size >= r.pos || !sizeLies(r.f) {
		return false
	}
	r.t.refuse(r.path, r.resolved, RefusedSizeUnreliable, r.dev, r.ino)
	return true
}

// openFlags opens without blocking on a FIFO swapped in after the checks,
// and without making a terminal the agent's.
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK | syscall.O_NOCTTY
