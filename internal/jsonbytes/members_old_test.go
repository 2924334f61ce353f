package jsonbytes

// The implementation of Members before the quote bitmap, kept whole as the
// oracle of FuzzMembersMatchesOld: what it accepts, rejects, returns and
// calls a conflict, the new one must too.

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"math/bits"
	"sync"
	"unicode/utf8"
)

// oldMaxDepth is how deeply oldMembers lets arrays and objects nest, the outer
// object included: `{"a":{"b":1}}` has depth 2. A line that nests deeper is
// rejected, which also bounds the recursion of the check.
const oldMaxDepth = 64

// oldMembers checks that line is one JSON object and returns the text between
// its braces, so that the caller can merge its members into a document it is
// writing:
//
//	dst = append(dst, `{"@timestamp":"...","stream":"stdout"`...)
//	if len(members) > 0 {
//		dst = append(dst, ',')
//		dst = append(dst, members...)
//	}
//	dst = append(dst, '}')
//
// ok is true only if line, less leading and trailing JSON whitespace (space,
// tab, '\n', '\r'), is an object as strict as RFC 8259 and encoding/json.Valid
// ask: no trailing commas, no comments, no single quotes, no NaN, no raw
// control characters in strings, numbers in JSON syntax, nothing after the
// closing brace. Unlike encoding/json.Valid it also rejects invalid UTF-8
// anywhere in the line (encoding/json would turn it into U+FFFD, changing
// the line) and nesting deeper than oldMaxDepth. Escaped lone surrogates such as
// "\ud800" are valid JSON and are accepted.
//
// members is a subslice of line: the members of the object without the
// braces, trimmed of whitespace; empty (not nil) for {}. It is valid as long
// as line is.
//
// conflict is true when a top-level key repeats, or when reserved (if not
// nil) returns true for one. Keys are compared after their escapes are
// undone, so "a" and "\u0061" are the same key. reserved must not keep the
// key it is passed: it may point into line or into a oldScratch buffer that is
// reused. Nested keys are not looked oldAt. conflict is false when ok is false.
//
// oldMembers does not allocate in steady state (it borrows oldScratch space from a
// pool for objects with escaped keys or more than a few keys).
func oldMembers(line []byte, reserved func(key []byte) bool) (members []byte, conflict, ok bool) {
	b := oldTrimSpace(line)
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return nil, false, false
	}
	// Most log lines are plain: their strings then end oldAt the next quote.
	plain := oldPlainLine(b)
	if !plain && !utf8.Valid(b) {
		return nil, false, false
	}

	var sc *oldScratch // borrowed on first need
	defer func() {
		if sc != nil {
			oldPutScratch(sc)
		}
	}()
	var inline [16][]byte // keys of small objects, without the pool
	keys := inline[:0]

	i := oldSkipSpace(b, 1)
	start := i
	if oldAt(b, i) == '}' {
		if i != len(b)-1 {
			return nil, false, false
		}
		return b[i:i], false, true
	}
	for {
		if oldAt(b, i) != '"' {
			return nil, false, false
		}
		end, escaped := oldScan(b, i+1, plain)
		if end < 0 {
			return nil, false, false
		}
		if !conflict {
			key := b[i+1 : end-1]
			if escaped {
				if sc == nil {
					sc = oldGetScratch()
				}
				n := len(sc.buf)
				// The scanner has checked the escapes, so this cannot fail.
				sc.buf, _ = Unescape(sc.buf, key)
				key = sc.buf[n:len(sc.buf):len(sc.buf)]
			}
			switch {
			case reserved != nil && reserved(key):
				conflict = true
			case len(keys) < cap(keys):
				keys = append(keys, key)
			default:
				if sc == nil {
					sc = oldGetScratch()
				}
				if len(sc.keys) == 0 {
					sc.keys = append(sc.keys, keys...)
				}
				sc.keys = append(sc.keys, key)
			}
		}
		i = oldSkipSpace(b, end)
		if oldAt(b, i) != ':' {
			return nil, false, false
		}
		i = oldSkipSpace(b, i+1)
		if i = oldScanValue(b, i, 1, plain); i < 0 {
			return nil, false, false
		}
		i = oldSkipSpace(b, i)
		switch oldAt(b, i) {
		case ',':
			i = oldSkipSpace(b, i+1)
			continue
		case '}':
		default:
			return nil, false, false
		}
		if i != len(b)-1 {
			return nil, false, false
		}
		break
	}
	members = oldTrimSpace(b[start:i])
	if !conflict {
		if sc != nil && len(sc.keys) > 0 {
			conflict = oldHasDuplicates(sc)
		} else {
			conflict = oldHasDuplicatesSmall(keys)
		}
	}
	return members, conflict, true
}

// oldScanValue checks the JSON value oldAt b[i:] (i is oldAt its first byte), whose
// enclosing containers nest depth deep, and returns the index just past it,
// or -1 if it is not valid. Reads past the end of b go through oldAt, which
// returns 0, a byte that is never valid where it is read.
func oldScanValue(b []byte, i, depth int, plain bool) int {
	switch c := oldAt(b, i); c {
	case '"':
		end, _ := oldScan(b, i+1, plain)
		return end
	case '{':
		return oldScanObject(b, i+1, depth+1, plain)
	case '[':
		return oldScanArray(b, i+1, depth+1, plain)
	case 't':
		return oldLiteral(b, i, "true")
	case 'f':
		return oldLiteral(b, i, "false")
	case 'n':
		return oldLiteral(b, i, "null")
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return oldScanNumber(b, i)
		}
		return -1
	}
}

// oldScanObject checks the rest of an object whose '{' is oldAt i-1.
func oldScanObject(b []byte, i, depth int, plain bool) int {
	if depth > oldMaxDepth {
		return -1
	}
	i = oldSkipSpace(b, i)
	if oldAt(b, i) == '}' {
		return i + 1
	}
	for {
		if oldAt(b, i) != '"' {
			return -1
		}
		if i, _ = oldScan(b, i+1, plain); i < 0 {
			return -1
		}
		i = oldSkipSpace(b, i)
		if oldAt(b, i) != ':' {
			return -1
		}
		if i = oldScanValue(b, oldSkipSpace(b, i+1), depth, plain); i < 0 {
			return -1
		}
		i = oldSkipSpace(b, i)
		switch oldAt(b, i) {
		case ',':
			i = oldSkipSpace(b, i+1)
		case '}':
			return i + 1
		default:
			return -1
		}
	}
}

// oldScanArray checks the rest of an array whose '[' is oldAt i-1.
func oldScanArray(b []byte, i, depth int, plain bool) int {
	if depth > oldMaxDepth {
		return -1
	}
	i = oldSkipSpace(b, i)
	if oldAt(b, i) == ']' {
		return i + 1
	}
	for {
		if i = oldScanValue(b, i, depth, plain); i < 0 {
			return -1
		}
		i = oldSkipSpace(b, i)
		switch oldAt(b, i) {
		case ',':
			i = oldSkipSpace(b, i+1)
		case ']':
			return i + 1
		default:
			return -1
		}
	}
}

// oldStringPlain[c] is true for the bytes that stand for themselves inside a
// JSON string: all but control characters, '"' and '\\'. Bytes >= 0x80 are
// fine here because oldMembers has checked UTF-8 for the whole line.
var oldStringPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// oldScan is oldScanString, or oldScanPlain when oldPlainLine said the line is plain.
func oldScan(b []byte, i int, plain bool) (end int, escaped bool) {
	if plain {
		return oldScanPlain(b, i), false
	}
	return oldScanString(b, i)
}

// oldPlainLine reports whether b is all ASCII with no control character and
// no backslash. Its strings then hold no escape and nothing a JSON string
// may not hold, so each ends oldAt the next quote (oldScanPlain). A word of
// plain bytes sets no high bit in any term (none borrows); the lowest byte
// that is not plain always does, so the answer is exact.
func oldPlainLine(b []byte) bool {
	var acc uint64
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		acc |= w | (w - 0x20*ones) | ((w ^ '\\'*ones) - ones)
	}
	for ; i < len(b); i++ {
		if c := b[i]; c < 0x20 || c >= 0x80 || c == '\\' {
			return false
		}
	}
	return acc&highs == 0
}

// oldScanPlain returns the index just past the quote that closes a string
// of a plain line (oldPlainLine) whose opening quote is oldAt i-1, or -1.
func oldScanPlain(b []byte, i int) int {
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:]) ^ '"'*ones
		// The high bit of the lowest zero byte of x, exactly.
		if m := (x - ones) &^ x & highs; m != 0 {
			return i + bits.TrailingZeros64(m)>>3 + 1
		}
	}
	for ; i < len(b); i++ {
		if b[i] == '"' {
			return i + 1
		}
	}
	return -1
}

// oldScanString checks the rest of a string whose opening quote is oldAt i-1 and
// returns the index just past the closing quote, or -1, and whether the
// string holds escapes.
func oldScanString(b []byte, i int) (end int, escaped bool) {
	for {
		i = oldNextSpecial(b, i)
		if i >= len(b) {
			return -1, false
		}
		switch b[i] {
		case '"':
			return i + 1, escaped
		case '\\':
			escaped = true
			if i+1 >= len(b) {
				return -1, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if _, ok := hex4(b[i+2:]); !ok {
					return -1, false
				}
				i += 6
			default:
				return -1, false
			}
		default: // a raw control character
			return -1, false
		}
	}
}

// oldNextSpecial returns the index of the first byte oldAt or after i that does
// not stand for itself in a string ('"', '\\' or a control character), or
// len(b): eight bytes oldAt a time, jumping straight to the byte that
// oldSpecial8 flags.
func oldNextSpecial(b []byte, i int) int {
	for ; i+8 <= len(b); i += 8 {
		if m := oldSpecial8(binary.LittleEndian.Uint64(b[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for i < len(b) && oldStringPlain[b[i]] {
		i++
	}
	return i
}

// oldSpecial8 sets the high bit of the first (lowest) byte of w that is '"',
// '\\' or below 0x20, and maybe of bytes after it; it is 0 when there is
// none. Bytes >= 0x80 are plain (oldMembers has checked UTF-8 for the whole
// line): the &^w drops them, and they borrow nowhere. A byte that is not
// special borrows in none of the three subtractions, so nothing below the
// first special byte is flagged: the lowest set bit is exact (bits above
// it may be set by its borrow and are ignored).
func oldSpecial8(w uint64) uint64 {
	return ((w - 0x20*ones) | ((w ^ '"'*ones) - ones) | ((w ^ '\\'*ones) - ones)) &^ w & highs
}

// oldScanNumber checks the number oldAt b[i:] and returns the index just past it,
// or -1: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func oldScanNumber(b []byte, i int) int {
	if oldAt(b, i) == '-' {
		i++
	}
	switch c := oldAt(b, i); {
	case c == '0':
		i++
	case c >= '1' && c <= '9':
		i = oldSkipDigits(b, i+1)
	default:
		return -1
	}
	if oldAt(b, i) == '.' {
		j := oldSkipDigits(b, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if c := oldAt(b, i); c == 'e' || c == 'E' {
		i++
		if c := oldAt(b, i); c == '+' || c == '-' {
			i++
		}
		j := oldSkipDigits(b, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

// oldAt returns b[i], or 0 (never valid where JSON syntax is checked) past the
// end of b.
func oldAt(b []byte, i int) byte {
	if i < len(b) {
		return b[i]
	}
	return 0
}

func oldSkipDigits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

func oldLiteral(b []byte, i int, lit string) int {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

func oldIsSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

// oldSkipSpace returns the index of the first non-whitespace byte oldAt or after
// i, or len(b).
func oldSkipSpace(b []byte, i int) int {
	for i < len(b) && oldIsSpace(b[i]) {
		i++
	}
	return i
}

func oldTrimSpace(b []byte) []byte {
	for len(b) > 0 && oldIsSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && oldIsSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// oldHasDuplicatesSmall looks for a repeated key among oldAt most 16. Each key
// gets a word made of its length and first and last bytes, and one bit of
// 64 chosen by that word: only a key whose bit is already set is compared
// with the ones before it, first by word, then by bytes.Equal. (A hash set,
// oldHasDuplicates, costs more below a few dozen keys; comparing every pair
// costs 66 comparisons for the tail workload's 12 keys.)
func oldHasDuplicatesSmall(keys [][]byte) bool {
	var sigs [16]uint64
	if len(keys) > len(sigs) {
		panic("BUG: json: oldHasDuplicatesSmall called with too many keys")
	}
	var seen uint64
	for i, k := range keys {
		s := uint64(len(k))
		if len(k) > 0 {
			s |= uint64(k[0])<<40 | uint64(k[len(k)-1])<<48
		}
		bit := uint64(1) << ((s * 0x9e3779b97f4a7c15) >> 58)
		if seen&bit != 0 {
			for j := range i {
				if sigs[j] == s && bytes.Equal(k, keys[j]) {
					return true
				}
			}
		}
		seen |= bit
		sigs[i] = s
	}
	return false
}

var oldHashSeed = maphash.MakeSeed()

// oldHasDuplicates looks for a repeated key in sc.keys with an open-addressing
// hash set of key indexes (plus one, so that zero is empty).
func oldHasDuplicates(sc *oldScratch) bool {
	size := 16
	for size < 2*len(sc.keys) {
		size *= 2
	}
	if cap(sc.table) < size {
		sc.table = make([]int32, size)
	}
	table := sc.table[:size]
	clear(table)
	mask := uint64(size - 1)
	for i, key := range sc.keys {
		h := maphash.Bytes(oldHashSeed, key) & mask
		for table[h] != 0 {
			if bytes.Equal(sc.keys[table[h]-1], key) {
				return true
			}
			h = (h + 1) & mask
		}
		table[h] = int32(i + 1)
	}
	return false
}

// oldScratch is the per-call working space of oldMembers for unescaped keys and
// for objects with many keys.
type oldScratch struct {
	keys  [][]byte // slices of the line or of buf
	buf   []byte   // unescaped keys
	table []int32
}

var oldScratchPool = sync.Pool{New: func() any { return new(oldScratch) }}

func oldGetScratch() *oldScratch {
	return oldScratchPool.Get().(*oldScratch)
}

// oldPutScratch resets sc, letting go of the caller's line, and pools it unless
// one huge line made it big.
func oldPutScratch(sc *oldScratch) {
	const maxKeep = 64 << 10
	clear(sc.keys)
	sc.keys = sc.keys[:0]
	sc.buf = sc.buf[:0]
	if cap(sc.keys) > maxKeep/24 || cap(sc.buf) > maxKeep || cap(sc.table) > maxKeep/4 {
		return
	}
	oldScratchPool.Put(sc)
}
