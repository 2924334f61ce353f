package tail

import (
	"time"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/agent/record/stream"
	"github.com/sluicelog/sluice/parsers/cri"
	"github.com/sluicelog/sluice/parsers/docker"
	"github.com/sluicelog/sluice/parsers/multiline"
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
	last  int64 // offset of its last line so far
	time  int64
	flags record.Flags
	msg   []byte
}

// assembler turns the physical lines of one file into records: it detects
// the file's format, parses each line and joins partial lines (CRI "P",
// docker lines without a trailing "\n") into one record per stream, then,
// when the input has a multiline rule, joins continuation lines per stream.
type assembler struct {
	format  format
	maxLine int
	now     func() int64
	stats   *Stats
	pend    [3]pending // by stream.Stream
	scratch []byte     // docker's unescaped message
	// The file's lines come in time order: its parsers remember the last
	// second of timestamp read.
	cri    cri.Parser
	docker docker.Parser

	// multiline: one joiner per stream, nil when off. clock is the
	// monotonic time of the current read (one clock read per chunk, not
	// per line), which the flush timeout is measured in.
	ml      *config.Multiline
	joiners [3]*multiline.Joiner
	epoch   time.Time
	clock   int64

	// spans are the records handed out that cover more than one line
	// and end at or past floor, the last safe offset. A checkpoint must
	// not fall inside one: a reader restarting there would take its
	// later lines for records of their own (see safe).
	spans []span
	floor int64
	// out is the offset of the last line of the last record handed out
	// since the reset (-1: none): whether a partial record can be read
	// again from its start without handing anything out twice.
	out int64
}

type span struct{ start, last int64 }

func newAssembler(maxLine int, now func() int64, stats *Stats, ml *config.Multiline) *assembler {
	a := &assembler{maxLine: maxLine, now: now, stats: stats, epoch: time.Now(), out: -1}
	for i := range a.pend {
		a.pend[i].start = -1
	}
	if ml != nil && ml.Rule != nil {
		a.ml = ml
		for i := range a.joiners {
			a.joiners[i] = multiline.NewJoiner(ml.Rule, ml.MaxLines, int(ml.MaxBytes))
		}
	}
	return a
}

// tick reads the clock; the reader calls it once per chunk and when idle.
func (a *assembler) tick() int64 {
	a.clock = int64(time.Since(a.epoch))
	return a.clock
}

// reset forgets partial state; used when the file is truncated (after
// held multiline records were shipped with flushHeld).
func (a *assembler) reset() {
	a.format = formatUnknown
	for i := range a.pend {
		a.pend[i] = pending{start: -1, msg: a.pend[i].msg[:0]}
	}
	for _, j := range a.joiners {
		if j != nil {
			j.Reset()
		}
	}
	a.spans, a.floor, a.out = a.spans[:0], 0, -1
}

// safe returns the offset up to which every byte belongs to a finished
// record: the start of the oldest unfinished one (a partial line, a record
// held for joining), or end when none is; and never inside a finished
// record that spans lines, which matters when streams interleave: a
// stderr trace from 100 to 900 finished while a stdout line at 500 is
// still held must not let the checkpoint rest at 500, where a restart
// would ship the trace's tail (600..900) again as records of its own with
// new ids. It moves down to 100 instead; a replay from there rebuilds the
// same records with the same ids.
func (a *assembler) safe(end int64) int64 {
	for i := range a.pend {
		if s := a.pend[i].start; s >= 0 && s < end {
			end = s
		}
	}
	for _, j := range a.joiners {
		if j == nil {
			continue
		}
		if s, _, ok := j.Pending(); ok && s < end {
			end = s
		}
	}
	for moved := true; moved; {
		moved = false
		for _, sp := range a.spans {
			if sp.start < end && end <= sp.last {
				end, moved = sp.start, true
			}
		}
	}
	// Spans that end before the new floor can never contain a later one.
	keep := a.spans[:0]
	for _, sp := range a.spans {
		if sp.last >= end {
			keep = append(keep, sp)
		}
	}
	a.spans, a.floor = keep, end
	return end
}

// emit hands a finished logical line (its CRI partials joined; last is
// the offset of its last piece) to its stream's joiner, or to the batch
// when multiline is off.
func (a *assembler) emit(b *record.Batch, r record.Record, line []byte, last int64) {
	j := a.joiners[r.Stream]
	if j == nil {
		a.add1(b, r, line, last)
		return
	}
	done, ok := j.Add(line, multiline.Meta{Offset: r.Offset, End: last, Time: r.Time, Flags: uint8(r.Flags)}, a.clock)
	if ok {
		a.joined(b, r.Stream, done)
	}
}

// add1 adds a finished record to the batch, remembering its span when it
// covers more than one line.
func (a *assembler) add1(b *record.Batch, r record.Record, line []byte, last int64) {
	if last > r.Offset && last >= a.floor {
		a.spans = append(a.spans, span{r.Offset, last})
	}
	a.out = last
	b.Add(r, line)
}

func (a *assembler) joined(b *record.Batch, st stream.Stream, m multiline.Record) {
	flags := record.Flags(m.Flags)
	if m.Cut {
		flags |= record.Truncated
		a.stats.Truncated.Add(1)
		a.stats.MultilineCut.Add(1)
	}
	if m.Lines > 1 {
		a.stats.MultilineJoined.Add(1)
	}
	a.add1(b, record.Record{Time: m.Time, Offset: m.Offset, Stream: st, Flags: flags}, m.Line, m.Last)
}

// held reports whether a joiner holds a record.
func (a *assembler) held() bool {
	for _, j := range a.joiners {
		if j == nil {
			continue
		}
		if _, _, ok := j.Pending(); ok {
			return true
		}
	}
	return false
}

// flushDue ships the held records whose stream has been quiet for the
// flush timeout, and returns how long until the next one is due (or
// def when none is held).
func (a *assembler) flushDue(newBatch func() *record.Batch, def time.Duration) time.Duration {
	if a.ml == nil {
		return def
	}
	timeout := int64(a.ml.FlushTimeout.Duration())
	wait := int64(def)
	for i, j := range a.joiners {
		_, touched, ok := j.Pending()
		if !ok {
			continue
		}
		if left := touched + timeout - a.clock; left > 0 {
			wait = min(wait, left)
			continue
		}
		if m, ok := j.Flush(); ok {
			a.joined(newBatch(), stream.Stream(i), m)
		}
	}
	return time.Duration(wait)
}

// flushHeld ships every record a joiner holds.
func (a *assembler) flushHeld(b *record.Batch) {
	for i, j := range a.joiners {
		if j == nil {
			continue
		}
		if m, ok := j.Flush(); ok {
			a.joined(b, stream.Stream(i), m)
		}
	}
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
		l, err = a.cri.Parse(line)
		t, st, partial, msg = l.Time, l.Stream, l.Partial, l.Msg
	case formatDocker:
		var l docker.Line
		l, a.scratch, err = a.docker.Parse(a.scratch[:0], line)
		t, st, partial, msg = l.Time, l.Stream, l.Partial, l.Msg
	default:
		// Not a container log (yet): ship the line as it is.
		a.emit(b, record.Record{Time: a.now(), Offset: off, Flags: flags}, line, off)
		return
	}
	if err != nil {
		a.stats.Malformed.Add(1)
		a.out = off
		b.Add(record.Record{Time: a.now(), Offset: off, Flags: flags | record.Malformed}, line)
		return
	}
	p := &a.pend[st]
	if !partial && p.start < 0 {
		a.emit(b, record.Record{Time: t, Offset: off, Stream: st, Flags: flags}, msg, off)
		return
	}
	if p.start < 0 {
		p.start, p.time, p.flags = off, t, 0
	}
	p.flags |= flags
	p.last = off
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
	a.emit(b, record.Record{Time: p.time, Offset: p.start, Stream: st, Flags: p.flags}, p.msg, off)
	p.start, p.msg = -1, p.msg[:0]
}

// partialBytes is what the records whose partial lines are still
// arriving hold.
func (a *assembler) partialBytes() int {
	return len(a.pend[0].msg) + len(a.pend[1].msg) + len(a.pend[2].msg)
}

// partialStart returns where the one record whose partial lines are still
// arriving starts, when reading the file again from there rebuilds it and
// nothing else: no other stream's record is unfinished or was handed out
// since it started, it was not cut, and no multiline rule holds lines.
func (a *assembler) partialStart() (int64, bool) {
	if a.ml != nil {
		return 0, false
	}
	start := int64(-1)
	for i := range a.pend {
		p := &a.pend[i]
		switch {
		case p.start < 0:
		case start >= 0 || p.flags&record.Truncated != 0:
			return 0, false
		default:
			start = p.start
		}
	}
	return start, start > a.out
}

// forgetPartial drops the partial records, to be read again from the
// file (partialStart); what a long one grew is not kept.
func (a *assembler) forgetPartial() {
	for i := range a.pend {
		msg := a.pend[i].msg[:0]
		if cap(msg) > 64<<10 {
			msg = nil
		}
		a.pend[i] = pending{start: -1, msg: msg}
	}
}

// flush ships every unfinished record as it is; used when its file is gone
// and the rest of the line will never come.
func (a *assembler) flush(b *record.Batch) {
	for i := range a.pend {
		p := &a.pend[i]
		if p.start < 0 {
			continue
		}
		a.emit(b, record.Record{Time: p.time, Offset: p.start, Stream: stream.Stream(i), Flags: p.flags}, p.msg, p.last)
		p.start, p.msg = -1, p.msg[:0]
	}
	a.flushHeld(b)
}
