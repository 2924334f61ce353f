package tail

import (
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/parsers/cri"
	"github.com/sluicelog/sluice/parsers/docker"
	"github.com/sluicelog/sluice/parsers/stream"
)

type format uint8

const (
	formatUnknown format = iota // not seen a container line yet
	formatCRI
	formatDocker
)

// pending is a record whose partial lines are still arriving.
type pending struct {
	start int64 // offset of its first line; -1 when empty
	time  int64
	flags record.Flags
	msg   []byte
}

// assembler turns the physical lines of one file into records: it detects
// the file's format, parses each line and joins partial lines (CRI "P",
// docker lines without a trailing "\n") into one record per stream.
type assembler struct {
	format  format
	maxLine int
	now     func() int64
	stats   *Stats
	pend    [3]pending // by stream.Stream
	scratch []byte     // docker's unescaped message
}

func newAssembler(maxLine int, now func() int64, stats *Stats) *assembler {
	a := &assembler{maxLine: maxLine, now: now, stats: stats}
	for i := range a.pend {
		a.pend[i].start = -1
	}
	return a
}

// reset forgets partial state; used when the file is truncated.
func (a *assembler) reset() {
	a.format = formatUnknown
	for i := range a.pend {
		a.pend[i] = pending{start: -1, msg: a.pend[i].msg[:0]}
	}
}

// safe returns the offset up to which every byte belongs to a finished
// record: the start of the oldest unfinished one, or end when none is.
func (a *assembler) safe(end int64) int64 {
	for i := range a.pend {
		if s := a.pend[i].start; s >= 0 && s < end {
			end = s
		}
	}
	return end
}

// add takes one line (without its '\n') that starts at off.
func (a *assembler) add(b *record.Batch, line []byte, off int64, flags record.Flags) {
	if a.format == formatUnknown {
		switch {
		case cri.Looks(line):
			a.format = formatCRI
		case docker.Looks(line):
			a.format = formatDocker
		}
	}
	var (
		t       int64
		st      stream.Stream
		partial bool
		msg     []byte
		err     error
	)
	switch a.format {
	case formatCRI:
		var l cri.Line
		l, err = cri.Parse(line)
		t, st, partial, msg = l.Time, l.Stream, l.Partial, l.Msg
	case formatDocker:
		var l docker.Line
		l, a.scratch, err = docker.Parse(a.scratch[:0], line)
		t, st, partial, msg = l.Time, l.Stream, l.Partial, l.Msg
	default:
		// Not a container log (yet): ship the line as it is.
		b.Add(record.Record{Time: a.now(), Offset: off, Flags: flags}, line)
		return
	}
	if err != nil {
		a.stats.Malformed.Add(1)
		b.Add(record.Record{Time: a.now(), Offset: off, Flags: flags | record.Malformed}, line)
		return
	}
	p := &a.pend[st]
	if !partial && p.start < 0 {
		b.Add(record.Record{Time: t, Offset: off, Stream: st, Flags: flags}, msg)
		return
	}
	if p.start < 0 {
		p.start, p.time, p.flags = off, t, 0
	}
	p.flags |= flags
	room := a.maxLine - len(p.msg)
	if len(msg) > room {
		msg = msg[:max(room, 0)]
		if p.flags&record.Truncated == 0 {
			a.stats.Truncated.Add(1)
		}
		p.flags |= record.Truncated
	}
	p.msg = append(p.msg, msg...)
	if partial {
		return
	}
	b.Add(record.Record{Time: p.time, Offset: p.start, Stream: st, Flags: p.flags}, p.msg)
	p.start, p.msg = -1, p.msg[:0]
}

// flush ships every unfinished record as it is; used when its file is gone
// and the rest of the line will never come.
func (a *assembler) flush(b *record.Batch) {
	for i := range a.pend {
		p := &a.pend[i]
		if p.start < 0 {
			continue
		}
		b.Add(record.Record{Time: p.time, Offset: p.start, Stream: stream.Stream(i), Flags: p.flags}, p.msg)
		p.start, p.msg = -1, p.msg[:0]
	}
}
