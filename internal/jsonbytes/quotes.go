package jsonbytes

import "math/bits"

// maxQuoteBits is the longest line (after trimming) whose quotes Members
// finds through a bitmap; longer lines scan each string for its end.
const maxQuoteBits = 2048

// quoteBits has bit i%64 of word i/64 set when byte i of the line is '"'.
// Its last word stays 0, so that next may look at the word of an index
// equal to the line's length.
type quoteBits [maxQuoteBits/64 + 1]uint64

// next returns the index just past the first quote at or after i, or -1.
// i must be at most the length of the line the bits were made from.
func (q *quoteBits) next(i int) int {
	w := uint(i) >> 6
	if w >= uint(len(q)) {
		return -1
	}
	if m := q[w] >> (uint(i) & 63); m != 0 {
		return i + bits.TrailingZeros64(m) + 1
	}
	for w++; w < uint(len(q)); w++ {
		if m := q[w]; m != 0 {
			return int(w<<6) + bits.TrailingZeros64(m) + 1
		}
	}
	return -1
}

// any reports whether a bit in [lo, hi) is set.
func (q *quoteBits) any(lo, hi int) bool {
	if lo >= hi {
		return false
	}
	wl, wh := uint(lo)>>6, uint(hi-1)>>6
	low := ^uint64(0) << (uint(lo) & 63)
	high := ^uint64(0) >> (63 - uint(hi-1)&63)
	if wl == wh {
		return q[wl]&low&high != 0
	}
	if q[wl]&low != 0 {
		return true
	}
	for w := wl + 1; w < wh; w++ {
		if q[w] != 0 {
			return true
		}
	}
	return q[wh]&high != 0
}
