package tail

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sluicelog/sluice/agent/checkpoint"
)

// A copytruncate (logrotate's copytruncate, or any tool that copies a log
// and truncates it in place) empties the file under a reader that may not
// have reached its end; the lines it had not read are then only in the
// copy beside the file (x.log.1, x.log-20261206, x.log.1.gz after a
// compress, x.log.2 after the next rotation). The reader finds that copy
// by its head (the copy starts with the same first line as the generation
// being read), reads the range it had not read from it under the original
// file's ids (same source, same offsets: a replay after a crash in the
// middle collides with what was delivered), and then goes on with the
// truncated file in a new generation.

// errRewritten says that the generation being read ended under the
// reader: the file shrank, or its head changed (a read may have returned
// bytes of the next content; it was undone).
var errRewritten = errors.New("file rewritten under the reader")

// recovery is the copy of a truncated generation being read.
type recovery struct {
	path string
	f    *os.File
	r    io.Reader // f at the read position, or a gzip stream over it
	read int64     // bytes read from the copy so far
}

func (c *recovery) Close() error { return c.f.Close() }

// readHead reads the head of f that identifies it: its first line, at
// most fingerprintLen bytes. ok is false while the first line is shorter
// and still unfinished.
func readHead(r io.ReaderAt, name string) ([]byte, bool, error) {
	head := make([]byte, fingerprintLen)
	n, err := r.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, false, fmt.Errorf("read head of %s: %w", name, err)
	}
	return cutHead(head[:n])
}

// cutHead keeps the first line of h, or all of h when it is a full
// fingerprintLen without a newline.
func cutHead(h []byte) ([]byte, bool, error) {
	if i := bytes.IndexByte(h, '\n'); i >= 0 {
		return h[:i], true, nil
	}
	if len(h) < fingerprintLen {
		return nil, false, nil
	}
	return h, true, nil
}

// headFingerprint is the checkpoint's fingerprint of a head.
func headFingerprint(h []byte) string {
	sum := sha256.Sum256(h)
	return hex.EncodeToString(sum[:16])
}

// headChanged reports whether the file no longer starts with the head of
// the generation being read: truncated, and maybe refilled already. A
// read that returns bytes is checked after it: if the head is still there
// the bytes were the generation's own (a truncation after the read does
// not change them); if not, they may be the next content's.
func (r *fileReader) headChanged() bool {
	if len(r.head) == 0 {
		return false
	}
	var buf [fingerprintLen + 1]byte
	n, err := r.f.ReadAt(buf[:len(r.head)+1], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return false // the next read reports it
	}
	if n < len(r.head) || !bytes.Equal(buf[:len(r.head)], r.head) {
		return true
	}
	// A head of fingerprintLen bytes has no newline to compare.
	return len(r.head) < fingerprintLen && n > len(r.head) && buf[len(r.head)] != '\n'
}

// read reads the next bytes of the generation: from the copy while one is
// being read, else from the file. A read from the file whose head changed
// meanwhile is undone and reported as errRewritten, and so is the end of
// a file now shorter than the read position: both are the end of the
// generation (fileReader.truncation).
func (r *fileReader) read(p []byte) (int, error) {
	if r.rec != nil {
		n, err := r.rec.r.Read(p)
		r.rec.read += int64(n)
		r.look()
		return n, err
	}
	n, err := r.f.Read(p)
	if n > 0 && r.headChanged() {
		if _, serr := r.f.Seek(-int64(n), io.SeekCurrent); serr != nil {
			return 0, fmt.Errorf("seek back after a rewrite: %w", serr)
		}
		return 0, errRewritten
	}
	if n == 0 && errors.Is(err, io.EOF) && r.shrank() {
		return 0, errRewritten
	}
	return n, err
}

// shrank reports whether the file is now shorter than what was read.
func (r *fileReader) shrank() bool {
	fi, err := r.f.Stat()
	return err == nil && fi.Size() < r.pos
}

// startRecovery looks for the copy of the generation being read, which
// the file was truncated under, and reads on from it when it holds bytes
// past the read position. false: no copy, or nothing in it unread; then
// what the reader knew was unread is lost, and the unfinished line it
// holds (partial bytes).
func (r *fileReader) startRecovery(partial int) bool {
	if r.rec != nil || r.fp == "" {
		return false
	}
	rec, size, err := r.t.findCopy(r.resolved, r.dev, r.ino, r.fp, r.pos)
	switch {
	case err != nil:
		r.t.logf("copy of a truncated file not readable", "path", r.path, "err", err)
	case rec != nil:
		r.rec = rec
		r.t.logger.Info("file truncated before it was read to its end; reading the rest from its copy",
			"path", r.path, "copy", rec.path, "offset", r.pos)
		return true
	}
	if unread := max(r.seen, size) - r.pos + int64(partial); unread > 0 {
		r.lost(unread)
		r.t.logf("file truncated before it was read to its end, and no copy holds the rest; lines lost",
			"path", r.path, "offset", r.pos, "unread_bytes", unread)
	}
	return false
}

// endRecovery closes the copy once read; left is the unfinished line at
// its end, which can never be completed.
func (r *fileReader) endRecovery(err error, left int) {
	rec := r.rec
	r.rec = nil
	_ = rec.Close()
	r.t.stats.UnreadRecovered.Add(rec.read - int64(left))
	r.lost(int64(left))
	if err != nil && !errors.Is(err, io.EOF) {
		r.t.logf("copy of a truncated file ended early", "path", r.path, "copy", rec.path, "err", err)
	}
	r.t.markRecovered(rec.f, r.fp)
}

// findCopy looks beside resolved (the file's resolved path) for a regular file
// that is not the file itself, starts with the head whose fingerprint is
// fp, and holds bytes past pos. Plain copies are preferred, since a .gz
// may still be being written (the plain one is removed only once it is
// complete). size is the largest copy's length when none holds more than
// pos (nothing unread), else 0.
func (t *Tailer) findCopy(resolved string, dev, ino uint64, fp string, pos int64) (*recovery, int64, error) {
	// A plain copy listed may be gone by the time it is opened: compressed
	// (gzip removes it once the .gz is whole) or rotated on. The folder is
	// listed again then, a few times, so the .gz or the new name is seen.
	for range 3 {
		rec, best, vanished, err := t.findCopyOnce(resolved, dev, ino, fp, pos)
		if rec != nil || !vanished || err != nil {
			return rec, best, err
		}
	}
	return nil, 0, nil
}

// findCopyOnce lists the folder once; vanished says that a candidate was
// gone when it was opened.
func (t *Tailer) findCopyOnce(resolved string, dev, ino uint64, fp string, pos int64) (rec *recovery, best int64, vanished bool, err error) {
	dir, base := filepath.Split(resolved)
	stem := strings.TrimSuffix(base, filepath.Ext(base))
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, 0, false, fmt.Errorf("list %s: %w", dir, err)
	}
	var plain, zipped []string
	for _, e := range ents {
		name := e.Name()
		// Only regular files, never a link that could lead out of the
		// folder; named after the file (x.log.1, x-20261206.log.gz).
		if name == base || !e.Type().IsRegular() || !strings.HasPrefix(name, stem) {
			continue
		}
		if strings.HasSuffix(name, ".gz") {
			zipped = append(zipped, filepath.Join(dir, name))
		} else {
			plain = append(plain, filepath.Join(dir, name))
		}
	}
	sort.Strings(plain)
	sort.Strings(zipped)
	for _, p := range append(plain, zipped...) {
		rec, size, err := t.openCopy(p, dev, ino, fp, pos)
		switch {
		case errors.Is(err, errVanished):
			vanished = true
		case err != nil:
			t.logf("skipping a possible copy of a truncated file", "copy", p, "err", err)
		case rec != nil:
			return rec, 0, false, nil
		default:
			best = max(best, size)
		}
	}
	return nil, best, vanished, nil
}

// beforeOpenCopy, when set (tests only), runs before a possible copy is
// opened: what a compress between the listing and the open looks like.
var beforeOpenCopy func(path string)

// errVanished says that a file listed was gone when it was opened.
var errVanished = errors.New("gone since it was listed")

// openCopy opens p when it is a copy of the generation with fingerprint
// fp holding bytes past pos, positioned at pos. When it is a copy but
// holds nothing past pos, size is its length.
func (t *Tailer) openCopy(p string, dev, ino uint64, fp string, pos int64) (*recovery, int64, error) {
	if beforeOpenCopy != nil {
		beforeOpenCopy(p)
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, errVanished // compressed, rotated on or deleted meanwhile
	}
	if err != nil {
		return nil, 0, fmt.Errorf("open: %w", err)
	}
	keep := false
	defer func() {
		if !keep {
			f.Close()
		}
	}()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("stat: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, 0, nil
	}
	if d, i := statIDs(fi); d == dev && i == ino || t.wasRecovered(copyID{d, i, fp}) {
		return nil, 0, nil // the file itself, or a copy read already
	}
	if !strings.HasSuffix(p, ".gz") {
		h, ok, err := readHead(f, p)
		if err != nil || !ok || headFingerprint(h) != fp {
			return nil, 0, err
		}
		if fi.Size() <= pos {
			return nil, fi.Size(), nil
		}
		if _, err := f.Seek(pos, io.SeekStart); err != nil {
			return nil, 0, fmt.Errorf("seek: %w", err)
		}
		keep = true
		return &recovery{path: p, f: f, r: f}, 0, nil
	}
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 64<<10))
	if err != nil {
		return nil, 0, nil // not gzip, or its header not written yet
	}
	head := make([]byte, fingerprintLen)
	n, _ := io.ReadFull(zr, head)
	h, ok, _ := cutHead(head[:n])
	if !ok || headFingerprint(h) != fp {
		return nil, 0, nil
	}
	// The head is read already: skip the rest of the way to pos.
	skipped := int64(n)
	if pos > skipped {
		m, err := io.CopyN(io.Discard, zr, pos-skipped)
		skipped += m
		if err != nil {
			return nil, skipped, nil // shorter than pos: nothing unread in it
		}
	}
	var r io.Reader = zr
	if skipped > pos {
		r = io.MultiReader(bytes.NewReader(head[pos:n]), zr)
	}
	keep = true
	return &recovery{path: p, f: f, r: r}, 0, nil
}

// markRecovered remembers a copy that was read, so it is never read again
// for a later generation that happens to start with the same line.
func (t *Tailer) markRecovered(f *os.File, fp string) {
	fi, err := f.Stat()
	if err != nil {
		return
	}
	d, i := statIDs(fi)
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.recovered) >= maxRecovered {
		clear(t.recovered) // a bound; a copy matches one generation's head only anyway
	}
	t.recovered[copyID{d, i, fp}] = true
}

// copyID is a copy that was read: its identity and its head, so that a
// later copy on the same inode is not taken for it.
type copyID struct {
	dev, ino uint64
	fp       string
}

func (t *Tailer) wasRecovered(id copyID) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.recovered[id]
}

// maxRecovered bounds the copies remembered.
const maxRecovered = 4096

// recoverAtOpen handles a file found truncated (or rewritten) since its
// checkpoint e was saved, while the agent was away: when a copy of the
// checkpoint's generation holds bytes past its offset, r reads them from
// the copy first, in that generation, then the file from its start.
func (t *Tailer) recoverAtOpen(r *fileReader, e checkpoint.Entry) bool {
	if e.Fingerprint == "" {
		return false
	}
	rec, _, err := t.findCopy(r.resolved, r.dev, r.ino, e.Fingerprint, e.Offset)
	if err != nil {
		t.logf("copy of a truncated file not readable", "path", r.path, "err", err)
	}
	if rec == nil {
		return false // nothing unread in it, or no copy: what was unread is unknown
	}
	r.rec, r.pos, r.gen, r.fp, r.head = rec, e.Offset, e.Generation, e.Fingerprint, nil
	t.logger.Info("file truncated since the last checkpoint, before it was read to its end; reading the rest from its copy",
		"path", r.path, "copy", rec.path, "offset", e.Offset)
	return true
}
