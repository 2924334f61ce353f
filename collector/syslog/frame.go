package syslog

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync/atomic"

	"github.com/sluicelog/sluice/agent/budget"
)

// framer splits a TCP byte stream into syslog frames (RFC 6587): octet
// counting ("LEN SP MSG") and newline (non-transparent) framing, told
// apart frame by frame, so both work on one port and even on one
// connection. It owns its buffer and never holds more than one frame of
// max bytes (plus its header): a longer frame is cut at max, returned
// flagged, and the rest of it is discarded as it arrives, so one huge
// message neither grows memory without bound nor costs the messages after
// it.
//
// What the buffer holds beyond its first size is taken from mem, the
// frame buffers' share of memory_limit, which all connections share: a
// busy connection grows only while there is room, and one whose
// unfinished frame needs more waits for room (waitRoom) or is closed. The
// growth is given back when the connection closes or goes quiet (shrink).
type framer struct {
	buf        []byte
	start, end int
	max        int
	limit      int // the buffer never grows past this

	mem     *budget.Budget // nil: unbounded
	base    int            // the first size, not charged to mem
	charged int64          // len(buf) - base, taken from mem
	held    *atomic.Int64  // the input's count of charged bytes; may be nil

	skip     int  // bytes of an oversized octet-counted frame still to discard
	skipLine bool // discarding the rest of an oversized newline frame

	lastFull bool // the last read filled all the room it had: more is waiting
}

// A connection's buffer starts small (hundreds of idle or slow connections
// then cost little) and doubles, up to busyBuffer, while reads keep
// filling it; beyond that it grows only to hold one long frame.
const (
	firstBuffer = 4 << 10
	busyBuffer  = 64 << 10
)

// octetHeader is the longest "LEN SP" header read as octet counting: nine
// digits and a space. Longer digit runs are taken as newline framing.
const octetHeader = 10

// errNoRoom: the buffer holds only an unfinished frame, and growing it
// does not fit the frame memory now.
var errNoRoom = errors.New("syslog frame memory full")

// newFramer returns a framer for frames of up to max bytes whose growth
// is charged to mem (nil: unbounded).
func newFramer(max int, mem *budget.Budget) *framer {
	limit := max + octetHeader + 1
	base := min(limit, firstBuffer)
	return &framer{buf: make([]byte, base), max: max, limit: limit, mem: mem, base: base}
}

// fill reads once from r into the free end of the buffer, making room
// first. full reports that the read filled all the room it had, a hint
// that more data is already waiting. It reads nothing and returns
// errNoRoom when the buffer holds only an unfinished frame that the frame
// memory has no room to grow for (see waitRoom).
func (f *framer) fill(r io.Reader) (n int, full bool, err error) {
	if f.start == f.end {
		f.start, f.end = 0, 0
	}
	if free := len(f.buf) - f.end; free < len(f.buf)/4 && f.start > 0 {
		f.end = copy(f.buf, f.buf[f.start:f.end])
		f.start = 0
	}
	if f.lastFull && len(f.buf) < min(f.limit, busyBuffer) {
		f.tryGrow() // a bigger read is a help, not a need
	}
	if f.end == len(f.buf) {
		if len(f.buf) >= f.limit {
			// next always returns a frame or discards from a full buffer.
			panic("BUG: syslog framer buffer full without a frame")
		}
		if !f.tryGrow() {
			return 0, false, errNoRoom
		}
	}
	room := len(f.buf) - f.end
	n, err = r.Read(f.buf[f.end:])
	f.end += n
	f.lastFull = n == room
	return n, f.lastFull, err
}

// nextSize is the size the buffer grows to: double, up to limit.
func (f *framer) nextSize() int { return min(2*len(f.buf), f.limit) }

// tryGrow grows the buffer if the frame memory has room now.
func (f *framer) tryGrow() bool {
	n := f.nextSize()
	if f.mem != nil && !f.mem.TryAcquire(int64(n-len(f.buf))) {
		return false
	}
	f.resize(n)
	return true
}

// waitRoom grows the buffer after errNoRoom, waiting for room in the
// frame memory until ctx ends.
func (f *framer) waitRoom(ctx context.Context) error {
	n := f.nextSize()
	if f.mem != nil {
		if err := f.mem.Acquire(ctx, int64(n-len(f.buf))); err != nil {
			return err
		}
	}
	f.resize(n)
	return nil
}

// resize moves what the buffer holds into a new one of n bytes, whose
// growth over the first size is already taken from mem.
func (f *framer) resize(n int) {
	nb := make([]byte, n)
	f.end = copy(nb, f.buf[f.start:f.end])
	f.start, f.buf = 0, nb
	charge := int64(n - f.base)
	if f.mem != nil && charge < f.charged {
		f.mem.Release(f.charged - charge)
	}
	f.count(charge - f.charged)
	f.charged = charge
}

func (f *framer) count(delta int64) {
	if f.held != nil && delta != 0 {
		f.held.Add(delta)
	}
}

// canShrink reports a buffer grown past its first size that what it holds
// would fit again.
func (f *framer) canShrink() bool { return len(f.buf) > f.base && f.end-f.start <= f.base }

// shrink goes back to the first size (when canShrink), giving the growth
// back to the frame memory: a quiet connection holds only its first
// buffer.
func (f *framer) shrink() {
	if f.canShrink() {
		f.resize(f.base)
	}
}

// release gives back the growth for good: the connection is done. The
// buffer may still be read (rest) but not filled.
func (f *framer) release() {
	if f.mem != nil && f.charged > 0 {
		f.mem.Release(f.charged)
	}
	f.count(-f.charged)
	f.charged = 0
}

// next returns the next complete frame in the buffer without reading.
// ok is false when more data is needed. The frame is valid until the next
// call to fill. truncated reports a frame cut at max.
func (f *framer) next() (frame []byte, truncated, ok bool) {
	if f.skip > 0 {
		n := min(f.skip, f.end-f.start)
		f.start += n
		f.skip -= n
		if f.skip > 0 {
			return nil, false, false
		}
	}
	if f.skipLine {
		i := bytes.IndexByte(f.buf[f.start:f.end], '\n')
		if i < 0 {
			f.start = f.end
			return nil, false, false
		}
		f.start += i + 1
		f.skipLine = false
	}
	// Separators between frames: the LF some senders put after an
	// octet-counted frame, blank lines, NULs.
	for f.start < f.end && isSeparator(f.buf[f.start]) {
		f.start++
	}
	data := f.buf[f.start:f.end]
	if len(data) == 0 {
		return nil, false, false
	}
	if data[0] >= '1' && data[0] <= '9' {
		j := 1
		for j < len(data) && j < octetHeader && data[j] >= '0' && data[j] <= '9' {
			j++
		}
		if j == len(data) && j < octetHeader {
			return nil, false, false // cannot tell the framing yet
		}
		if j < len(data) && data[j] == ' ' && j < octetHeader {
			count := 0
			for _, c := range data[:j] {
				count = count*10 + int(c-'0')
			}
			body := data[j+1:]
			if count <= f.max {
				if len(body) < count {
					return nil, false, false
				}
				f.start += j + 1 + count
				return trimEOL(body[:count]), false, true
			}
			if len(body) < f.max {
				return nil, false, false
			}
			f.start += j + 1 + f.max
			f.skip = count - f.max
			return body[:f.max], true, true
		}
	}
	i := bytes.IndexByte(data, '\n')
	switch {
	case i >= 0 && i <= f.max:
		f.start += i + 1
		return trimEOL(data[:i]), false, true
	case i > f.max || len(data) > f.max:
		f.start += f.max
		f.skipLine = true
		return data[:f.max], true, true
	}
	return nil, false, false
}

// rest returns what is left in the buffer once the stream has ended: a
// last newline frame without its LF (complete), or an octet-counted frame
// cut short by the disconnect (incomplete).
func (f *framer) rest() (frame []byte, incomplete bool) {
	if f.skip > 0 || f.skipLine {
		f.start, f.end = 0, 0
		return nil, false
	}
	for f.start < f.end && isSeparator(f.buf[f.start]) {
		f.start++
	}
	data := f.buf[f.start:f.end]
	f.start, f.end = 0, 0
	if len(data) == 0 {
		return nil, false
	}
	if data[0] >= '1' && data[0] <= '9' {
		j := 1
		for j < len(data) && j < octetHeader && data[j] >= '0' && data[j] <= '9' {
			j++
		}
		if j < len(data) && data[j] == ' ' && j < octetHeader {
			return data[j+1:], true
		}
	}
	return trimEOL(data), false
}

func isSeparator(c byte) bool { return c == '\n' || c == '\r' || c == 0 }

// trimEOL drops one trailing LF (counted in some senders' octet counts,
// RFC 6587 3.4.1 does not forbid it) and a CR before it.
func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}
