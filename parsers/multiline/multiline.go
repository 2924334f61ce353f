// Package multiline joins the continuation lines of one stream (a stack
// trace's frames, a panic's goroutine dump) into the record that starts
// them. Built-in rules cover Java exceptions, Python tracebacks and Go
// panics; a start and/or continue regexp covers the rest.
//
// A Joiner holds at most one unfinished record; it learns that the record
// is finished only when the next line starts a new one, so the caller
// flushes it after a quiet period (the flush timeout). The joiner does not
// allocate per line once its buffers have grown to the largest record.
package multiline

import (
	"bytes"
	"fmt"
	"regexp"
)

// Mode names a rule set.
type Mode uint8

// The rule sets.
const (
	Java Mode = iota + 1
	Python
	Go
	Regex
)

// ParseMode parses java, python, go or regex.
func ParseMode(s string) (Mode, error) {
	switch s {
	case "java":
		return Java, nil
	case "python":
		return Python, nil
	case "go":
		return Go, nil
	case "regex":
		return Regex, nil
	}
	return 0, fmt.Errorf("unknown multiline mode %q (want java, python, go or regex)", s)
}

// Rule decides which lines continue a record. It is immutable and safe for
// concurrent use; each stream has its own Joiner.
type Rule struct {
	mode  Mode
	start *regexp.Regexp // regex mode: a line that starts a record
	cont  *regexp.Regexp // regex mode: a line that continues one
}

// NewRule compiles a rule. start and cont are used by the regex mode only,
// which needs at least one of them:
//   - start only: every line that does not match start continues the record;
//   - continue only: every line that matches continue continues it;
//   - both: a line continues when it matches continue and not start (a line
//     matching neither is a record of its own).
func NewRule(mode Mode, start, cont string) (*Rule, error) {
	r := &Rule{mode: mode}
	if mode != Regex {
		if start != "" || cont != "" {
			return nil, fmt.Errorf("start and continue are for mode regex only")
		}
		if mode < Java || mode > Regex {
			return nil, fmt.Errorf("unknown multiline mode %d", mode)
		}
		return r, nil
	}
	if start == "" && cont == "" {
		return nil, fmt.Errorf("mode regex needs start, continue or both")
	}
	var err error
	if start != "" {
		if r.start, err = regexp.Compile(start); err != nil {
			return nil, fmt.Errorf("start: %w", err)
		}
	}
	if cont != "" {
		if r.cont, err = regexp.Compile(cont); err != nil {
			return nil, fmt.Errorf("continue: %w", err)
		}
	}
	return r, nil
}

// Mode returns the rule's mode.
func (r *Rule) Mode() Mode { return r.mode }

// state is where a record's rule stands after its last line; it depends
// only on the lines of the record, so a reader that restarts at a record's
// first line reaches the same decisions.
type state uint8

const (
	stNone state = iota
	stPyTraceback
	stPyException
	stPyBlank
	stPyChain
	stGoPanic
	stGoStack
)

// begin is the state after a line that starts a record.
func (r *Rule) begin(line []byte) state {
	switch r.mode {
	case Python:
		if bytes.Contains(line, pyTraceback) {
			return stPyTraceback
		}
	case Go:
		switch {
		case hasPrefix(line, "panic: "), hasPrefix(line, "fatal error: "),
			hasPrefix(line, "SIGQUIT: "), hasPrefix(line, "SIGABRT: "), hasPrefix(line, "SIGSEGV: "):
			return stGoPanic
		case goroutineHeader(line):
			return stGoStack
		}
	}
	return stNone
}

// continues reports whether line belongs to the record whose state is *st,
// and moves the state on.
func (r *Rule) continues(st *state, line []byte) bool {
	switch r.mode {
	case Java:
		return javaContinues(line)
	case Python:
		return pyContinues(st, line)
	case Go:
		return goContinues(st, line)
	case Regex:
		switch {
		case r.start != nil && r.cont != nil:
			return r.cont.Match(line) && !r.start.Match(line)
		case r.start != nil:
			return !r.start.Match(line)
		default:
			return r.cont.Match(line)
		}
	}
	return false
}

func hasPrefix(b []byte, p string) bool {
	return len(b) >= len(p) && string(b[:len(p)]) == p
}

// javaContinues: indented lines (frames "\tat ", "    at ", "... 12 more",
// "... 12 common frames omitted", a message's indented detail lines) and
// the "Caused by:" chain. The exception line itself starts the record.
func javaContinues(line []byte) bool {
	if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
		return true
	}
	return hasPrefix(line, "Caused by:")
}

var pyTraceback = []byte("Traceback (most recent call last):")

// pyContinues follows a traceback: indented frame lines, the exception
// line that ends it, and the chains ("During handling of the above
// exception, another exception occurred:", "The above exception was the
// direct cause of the following exception:") with their blank lines.
func pyContinues(st *state, line []byte) bool {
	switch *st {
	case stPyTraceback:
		if len(line) > 0 && line[0] != ' ' && line[0] != '\t' {
			*st = stPyException // the exception line ends the frames
		}
		return true
	case stPyException, stPyBlank:
		switch {
		case len(line) == 0:
			*st = stPyBlank
			return true
		case *st == stPyBlank && (hasPrefix(line, "During handling of the above exception") ||
			hasPrefix(line, "The above exception was the direct cause")):
			*st = stPyChain
			return true
		}
	case stPyChain:
		switch {
		case len(line) == 0:
			return true
		case bytes.Contains(line, pyTraceback):
			*st = stPyTraceback
			return true
		}
	}
	return false
}

// goroutineHeader matches "goroutine 7 [running]:" (and the Go 1.23 form
// "goroutine 1 gp=0x... m=0 mp=0x... [running]:").
func goroutineHeader(line []byte) bool {
	if !hasPrefix(line, "goroutine ") || len(line) < 11 || line[10] < '0' || line[10] > '9' {
		return false
	}
	return line[len(line)-1] == ':'
}

// goContinues follows a panic: its message, "[signal ...]", then the
// goroutine dumps (headers, function lines, indented file lines, "created
// by", blank lines between goroutines).
func goContinues(st *state, line []byte) bool {
	switch *st {
	case stGoPanic, stGoStack:
	default:
		return false
	}
	switch {
	case len(line) == 0, line[0] == ' ', line[0] == '\t':
		return true
	case goroutineHeader(line):
		*st = stGoStack
		return true
	case hasPrefix(line, "[signal "), hasPrefix(line, "panic: "), hasPrefix(line, "fatal error: "),
		hasPrefix(line, "runtime: "), hasPrefix(line, "[recovered"), hasPrefix(line, "PC="):
		return true
	case *st == stGoPanic:
		return false
	case hasPrefix(line, "created by "), hasPrefix(line, "...additional frames elided..."),
		hasPrefix(line, "[originating from goroutine "), hasPrefix(line, "exit status "):
		return true
	}
	return goFuncLine(line)
}

// goFuncLine matches a frame's function line: "main.main()",
// "net/http.(*conn).serve(0xc000118000, {0x6f1b68, 0xc0000a4000})",
// "panic({0x4a5e20?, 0x4e8b50?})": a name without spaces, then (...) to
// the end of the line.
func goFuncLine(line []byte) bool {
	if line[len(line)-1] != ')' {
		return false
	}
	i := bytes.IndexByte(line, '(')
	if i <= 0 {
		return false
	}
	// The name before the first '(' (which may open "(*conn)" of a
	// method) has no spaces; log text almost always does.
	return bytes.IndexByte(line[:i], ' ') < 0
}

// Meta is what a record keeps of its first line: where it starts, its time
// and flags (the caller's; Flags of all lines are or-ed). End is the offset
// of the line's last physical piece when the caller joined it from several
// (CRI partial lines); 0 means Offset.
type Meta struct {
	Offset int64
	End    int64
	Time   int64
	Flags  uint8
}

// Record is a finished record. Line is valid until the next call on the
// Joiner that returned it.
type Record struct {
	Meta
	Line []byte
	// Last is the offset of its last line, for the caller's checkpoints.
	Last int64
	// Lines joined; Cut is true when the record reached max_lines or
	// max_bytes and its remaining lines follow in the next record.
	Lines int
	Cut   bool
}

// Joiner joins the lines of one stream. It is not safe for concurrent use.
type Joiner struct {
	rule     *Rule
	maxLines int
	maxBytes int

	cur, out []byte // the pending record; the last one returned
	meta     Meta
	first    int // length of the pending record's first line
	last     int64
	lines    int
	st       state
	touched  int64 // caller's clock at the last line
}

// NewJoiner returns a joiner that cuts records at maxLines lines or
// maxBytes bytes (a single longer line is kept whole; the caller bounds
// line length). A value <= 0 means no limit.
func NewJoiner(rule *Rule, maxLines, maxBytes int) *Joiner {
	if maxLines <= 0 {
		maxLines = int(^uint(0) >> 1)
	}
	if maxBytes <= 0 {
		maxBytes = int(^uint(0) >> 1)
	}
	return &Joiner{rule: rule, maxLines: maxLines, maxBytes: maxBytes}
}

// Add takes the next line of the stream (without its newline) and the
// caller's clock. When the line starts a new record, the previous one is
// finished and returned.
func (j *Joiner) Add(line []byte, m Meta, now int64) (Record, bool) {
	if j.lines > 0 {
		st := j.st
		if j.rule.continues(&st, line) {
			if j.lines < j.maxLines && len(j.cur)+1+len(line) <= j.maxBytes {
				j.cur = append(j.cur, '\n')
				j.cur = append(j.cur, line...)
				j.lines++
				j.last = max(m.Offset, m.End)
				j.meta.Flags |= m.Flags
				j.st = st
				j.touched = now
				return Record{}, false
			}
			// Too big: ship what we have, cut, and go on with the rest in
			// a record of its own that keeps the rule's state.
			done := j.finish(true)
			j.start(line, m, now, st)
			return done, true
		}
		done := j.finish(false)
		j.start(line, m, now, j.rule.begin(line))
		return done, true
	}
	j.start(line, m, now, j.rule.begin(line))
	return Record{}, false
}

func (j *Joiner) start(line []byte, m Meta, now int64, st state) {
	j.cur = append(j.cur[:0], line...)
	j.meta, j.first, j.last, j.lines, j.st, j.touched = m, len(line), max(m.Offset, m.End), 1, st, now
}

// finish moves the pending record out; the caller starts the next one.
func (j *Joiner) finish(cut bool) Record {
	line := j.cur
	// Blank lines after a traceback or a goroutine dump only waited for
	// a chain that did not come.
	for len(line) > j.first && line[len(line)-1] == '\n' {
		line = line[:len(line)-1]
	}
	m := j.meta
	m.End = 0
	r := Record{Meta: m, Line: line, Last: j.last, Lines: j.lines, Cut: cut}
	j.cur, j.out = j.out[:0], j.cur
	j.lines = 0
	return r
}

// Pending reports the pending record's first offset and the clock of its
// last line; ok is false when there is none.
func (j *Joiner) Pending() (offset, touched int64, ok bool) {
	return j.meta.Offset, j.touched, j.lines > 0
}

// Flush returns the pending record, if any, as it is.
func (j *Joiner) Flush() (Record, bool) {
	if j.lines == 0 {
		return Record{}, false
	}
	return j.finish(false), true
}

// Reset drops the pending record.
func (j *Joiner) Reset() {
	j.cur, j.lines, j.st = j.cur[:0], 0, stNone
}
