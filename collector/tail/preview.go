package tail

import (
	"log/slog"
	"path/filepath"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/record"
)

// ReadAll returns the records that in (a container_logs input) makes of
// a file at path holding data, as a reader that read it whole would hand
// them over: CRI and docker lines parsed, partial lines joined, over-long
// lines cut, multiline rules applied; then, as when the file is removed,
// what is still open (a "P" line without its "F", a record held for
// joining) ships as it is. Ids are those of the first generation of a
// file on device 0, inode 0. sluice test and sluice explain read their
// cases' lines with it; nothing is opened or checkpointed. now stands in
// for the clock of lines that carry no time (nil: the real clock).
func ReadAll(in config.Input, node, path string, data []byte, now func() int64) (*record.Batch, *Stats) {
	t := New(in, node, nil, nil, slog.New(slog.DiscardHandler))
	if now != nil {
		t.now = now
	}
	names, _ := parseLogPath(path)
	r := &fileReader{
		t: t, path: path, names: names,
		asm:  newAssembler(int(in.MaxLineBytes), t.now, &t.stats, in.Multiline),
		acks: newWatermark(),
	}
	if head, ok, _ := cutHead(data[:min(len(data), fingerprintLen)]); ok {
		r.head, r.fp = head, headFingerprint(head)
	}
	r.newSource()
	r.buf = append([]byte(nil), data...)
	r.pos = int64(len(data))
	t.stats.BytesRead.Add(int64(len(data)))
	r.asm.tick()
	consumed := r.cutLines(0)
	r.cutLong(0, consumed)
	r.asm.flush(r.batch())
	r.b.Acker = nil // nothing to checkpoint
	return r.b, &t.stats
}

// Takes reports whether in reads a file at path: one of its paths globs
// matches it and none of its excludes does (match, excluded).
func Takes(in config.Input, path string) bool {
	t := &Tailer{cfg: in}
	if t.excluded(path) {
		return false
	}
	for _, g := range in.Paths {
		if ok, _ := filepath.Match(g, path); ok {
			return true
		}
	}
	return false
}
