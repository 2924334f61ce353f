package tail

import (
	"bytes"
	"io"
	"strconv"
	"time"

	"github.com/sluicelog/sluice/agent/record"
)

// A generation is one content of the file under its identity (device and
// inode): a truncation (copytruncate) starts the next one, from offset 0.
// Ids are seeded per generation, and a checkpoint saves the generation
// with the fingerprint of its head (its first line), so a replay after a
// crash repeats the ids it had and a reused inode is told apart.

// setHead reads the head of the file into fp and head; false while the
// first line is unfinished.
func (r *fileReader) setHead() bool {
	h, ok, err := readHead(r.f, r.path)
	if err != nil || !ok {
		return false
	}
	r.head, r.fp = h, headFingerprint(h)
	return true
}

// newSource builds the Source of the current generation.
func (r *fileReader) newSource() {
	seed := make([]byte, 0, 128)
	seed = append(seed, r.t.node...)
	seed = append(seed, 0)
	seed = strconv.AppendUint(seed, r.dev, 10)
	seed = append(seed, ':')
	seed = strconv.AppendUint(seed, r.ino, 10)
	seed = append(seed, ':')
	seed = append(seed, r.fp...)
	seed = append(seed, ':')
	seed = strconv.AppendUint(seed, r.gen, 10)
	r.src = &record.Source{
		Input:       r.t.cfg.Name,
		Path:        r.path,
		Namespace:   r.names.Namespace,
		Pod:         r.names.Pod,
		Container:   r.names.Container,
		ContainerID: r.names.ContainerID,
		Meta:        appendMeta(nil, r.names, r.t.node),
		IDSeed:      seed,
		Generation:  r.gen,
	}
	r.acks.generation(r.gen, r.fp)
	r.led.gen.Store(r.gen)
	r.handed = r.pos
	r.t.noteHead(r.fp, r.dev, r.ino)
}

// truncated restarts the file from offset 0 under a new generation, so the
// ids of the new lines differ from those of the old ones at equal offsets.
func (r *fileReader) truncated(size int64) {
	r.t.stats.Truncations.Add(1)
	r.t.logf("file truncated; reading from its start", "path", r.path, "size", size, "offset", r.pos)
	r.gen++
	r.pos, r.seen = 0, size
	r.asm.reset()
	if _, err := r.f.Seek(0, io.SeekStart); err != nil {
		r.t.logf("seek after truncation", "path", r.path, "err", err)
	}
	r.fp, r.head = "", nil
	r.setHead()
	r.newSource()
}

// A reader that is behind does not read its file for a while: it waits
// for room in the pipeline or for acknowledgements, or reads the copy of a
// generation truncated under it. Two copytruncates in that time would
// leave it the first copy only, and the content between them, copied
// aside by the second, would never be read. So while it waits it looks
// at the file's head every poll_interval and notes each new generation
// it sees start (later); when it is done with the generation it was
// reading, each noted generation the file no longer holds is read from
// its copy, in order, before the file itself.
//
// The bound: a generation whose first line the reader never saw (it was
// written and truncated again within one poll_interval while the reader
// was behind, or while the agent was down) is not known, so neither read
// nor counted.

// laterGen is a generation of the file seen after the one being read.
type laterGen struct {
	head []byte // its first line, as in fileReader.head
	fp   string
	size int64 // the largest size it was seen with
}

// maxLater bounds the generations noted; past it the oldest note is
// dropped and its size counted lost (a reader behind by 64 copytruncates
// has lost the copies to logrotate's rotate count anyway).
const maxLater = 64

// look notes a new generation at the head of the file, at most once per
// poll_interval. It runs on the reader's goroutine only.
func (r *fileReader) look() {
	now := time.Now()
	if now.Sub(r.lastLook) < r.t.cfg.PollInterval.Duration() {
		return
	}
	r.lastLook = now
	known := r.head
	if n := len(r.later); n > 0 {
		known = r.later[n-1].head
	} else if len(known) == 0 && r.rec == nil {
		return // the generation being read has no first line yet
	}
	fi, err := r.f.Stat()
	if err != nil {
		return
	}
	h, ok, err := readHead(r.f, r.path)
	if err != nil || !ok {
		return // empty, or its first line unfinished: look again later
	}
	if bytes.Equal(h, known) {
		if n := len(r.later); n > 0 {
			r.later[n-1].size = max(r.later[n-1].size, fi.Size())
		} else if r.rec == nil {
			r.seen = max(r.seen, fi.Size())
		}
		return
	}
	if len(r.later) == maxLater {
		r.lostGen(r.later[0], 0)
		r.later = r.later[1:]
	}
	r.later = append(r.later, laterGen{head: h, fp: headFingerprint(h), size: fi.Size()})
	r.t.stats.GenerationsNoted.Add(1)
}

// holds reports whether the file starts with head now.
func (r *fileReader) holds(head []byte) bool {
	h, ok, err := readHead(r.f, r.path)
	return err == nil && ok && bytes.Equal(h, head)
}

// nextGeneration moves the reader past the generation it has finished
// with, which the file no longer holds: to the oldest noted generation
// that was truncated too, read from its copy (r.rec set), or else to the
// file's start (size is the file's size, for the log).
func (r *fileReader) nextGeneration(size int64) {
	for len(r.later) > 0 {
		g := r.later[0]
		r.later = r.later[1:]
		if r.holds(g.head) {
			break // the file's own generation: read from its start
		}
		r.t.stats.Truncations.Add(1)
		r.gen++
		r.pos, r.seen = 0, g.size
		r.head, r.fp = g.head, g.fp
		r.asm.reset()
		r.newSource()
		rec, csize, err := r.t.findCopy(r.resolved, r.dev, r.ino, g.fp, 0)
		if err != nil {
			r.t.logf("copy of a truncated file not readable", "path", r.path, "err", err)
		}
		if rec != nil {
			r.rec = rec
			r.t.logger.Info("file truncated again while its reader was behind; reading that generation from its copy",
				"path", r.path, "copy", rec.path, "generation", r.gen)
			return
		}
		r.lostGen(g, csize)
	}
	r.later = r.later[:0]
	r.truncated(size)
}

// lostGen counts a noted generation whose copy was not found.
func (r *fileReader) lostGen(g laterGen, copySize int64) {
	lost := max(g.size, copySize)
	if lost <= 0 {
		return
	}
	r.lost(lost)
	r.t.logf("file truncated again while its reader was behind, and no copy holds that generation; lines lost",
		"path", r.path, "unread_bytes", lost)
}

// fileID is a file's identity: device and inode.
type fileID struct{ dev, ino uint64 }

// maxHeads bounds the heads remembered; past it they are forgotten all at
// once (a copy over a moved file is found within its grace period, while
// the live file's head is among the newest anyway).
const maxHeads = 4096

// noteHead remembers that the generation with fingerprint fp was read
// from the file (dev, ino).
func (t *Tailer) noteHead(fp string, dev, ino uint64) {
	if fp == "" {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.heads[fp]; !ok && len(t.heads) >= maxHeads {
		clear(t.heads)
	}
	t.heads[fp] = fileID{dev, ino}
}

// copyOfAnother reports whether the file now starts with a generation read
// from another file: a rotation copied that file over this one (logrotate
// copying the live file onto the name this one was moved to). A file
// truncated and written to again starts with a head of its own. known is
// false while the file has no first line to tell by.
func (r *fileReader) copyOfAnother() (another, known bool) {
	h, ok, err := readHead(r.f, r.path)
	if err != nil || !ok {
		return false, false
	}
	r.t.mu.Lock()
	defer r.t.mu.Unlock()
	id, ok := r.t.heads[headFingerprint(h)]
	return ok && id != fileID{r.dev, r.ino}, true
}
