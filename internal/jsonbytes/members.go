package jsonbytes

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"math/bits"
	"sync"
	"unicode/utf8"
)

// MaxDepth is how deeply Members lets arrays and objects nest, the outer
// object included: `{"a":{"b":1}}` has depth 2. A line that nests deeper is
// rejected, which also bounds the recursion of the check.
const MaxDepth = 64

// Members checks that line is one JSON object and returns the text between
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
// the line) and nesting deeper than MaxDepth. Escaped lone surrogates such as
// "\ud800" are valid JSON and are accepted.
//
// members is a subslice of line: the members of the object without the
// braces, trimmed of whitespace; empty (not nil) for {}. It is valid as long
// as line is.
//
// conflict is true when a top-level key repeats, or when reserved (if not
// nil) returns true for one. Keys are compared after their escapes are
// undone, so "a" and "\u0061" are the same key. reserved must not keep the
// key it is passed: it may point into line or into a scratch buffer that is
// reused. Nested keys are not looked at. conflict is false when ok is false.
//
// Members does not allocate in steady state (it borrows scratch space from a
// pool for objects with escaped keys or more than a few keys).
func Members(line []byte, reserved func(key []byte) bool) (members []byte, conflict, ok bool) {
	return membersOf(line, reserved, nil)
}

// MembersReserved is Members with the reserved keys given as a set, which
// it looks up for a fraction of a function call's cost: conflict is true
// when a top-level key repeats or is in reserved (if not nil).
func MembersReserved(line []byte, reserved *KeySet) (members []byte, conflict, ok bool) {
	return membersOf(line, nil, reserved)
}

// KeySet is a fixed set of object keys. Its lookup first tests one bit of
// a 64-bit filter, chosen by the key's length and first and last bytes, so
// most keys that are not in it cost no comparison.
type KeySet struct {
	filter uint64
	keys   []string
}

// NewKeySet returns the set of keys.
func NewKeySet(keys ...string) *KeySet {
	s := &KeySet{keys: keys}
	for _, k := range keys {
		s.filter |= keyBit(keySig([]byte(k)))
	}
	return s
}

// Has reports whether key is in s.
func (s *KeySet) Has(key []byte) bool {
	return s.filter&keyBit(keySig(key)) != 0 && s.has(key)
}

func (s *KeySet) has(key []byte) bool {
	for _, k := range s.keys {
		if k == string(key) {
			return true
		}
	}
	return false
}

// keySig is a word of a key's length and first and last bytes: keys that
// differ in it differ.
func keySig(k []byte) uint64 {
	s := uint64(len(k))
	if len(k) > 0 {
		s |= uint64(k[0])<<40 | uint64(k[len(k)-1])<<48
	}
	return s
}

// keyBit picks one bit of 64 for a keySig.
func keyBit(sig uint64) uint64 {
	return 1 << ((sig * 0x9e3779b97f4a7c15) >> 58)
}

// membersOf is Members with the reserved keys given by fn or set (either
// may be nil).
func membersOf(line []byte, fn func(key []byte) bool, set *KeySet) (members []byte, conflict, ok bool) {
	b := trimSpace(line)
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return nil, false, false
	}
	// In most log lines no string holds an escape or a control byte: each
	// then ends at the next quote, found in a bitmap of the line's quotes
	// when classify made one.
	var q quoteBits
	clean, ascii, haveBits := classify(b, &q)
	if !ascii && !utf8.Valid(b) {
		return nil, false, false
	}
	if haveBits {
		if clean {
			return membersClean(b, &q, fn, set)
		}
		return membersSpecial(b, &q, fn, set)
	}
	plain := clean && ascii

	var sc *scratch // borrowed on first need
	defer func() {
		if sc != nil {
			putScratch(sc)
		}
	}()
	var inline [16][]byte // keys of small objects, without the pool
	keys := inline[:0]

	i, c := token(b, 1)
	start := i
	if c == '}' {
		if i != len(b)-1 {
			return nil, false, false
		}
		return b[i:i], false, true
	}
	for {
		if c != '"' {
			return nil, false, false
		}
		end, escaped := scan(b, i+1, plain, nil)
		if end < 0 {
			return nil, false, false
		}
		if !conflict {
			key := b[i+1 : end-1]
			if escaped {
				if sc == nil {
					sc = getScratch()
				}
				n := len(sc.buf)
				// The scanner has checked the escapes, so this cannot fail.
				sc.buf, _ = Unescape(sc.buf, key)
				key = sc.buf[n:len(sc.buf):len(sc.buf)]
			}
			switch {
			case fn != nil && fn(key), set != nil && set.Has(key):
				conflict = true
			case len(keys) < cap(keys):
				keys = append(keys, key)
			default:
				if sc == nil {
					sc = getScratch()
				}
				if len(sc.keys) == 0 {
					sc.keys = append(sc.keys, keys...)
				}
				sc.keys = append(sc.keys, key)
			}
		}
		if i, c = token(b, end); c != ':' {
			return nil, false, false
		}
		i = skipSpace(b, i+1)
		if i = scanValue(b, i, 1, plain, nil); i < 0 {
			return nil, false, false
		}
		i, c = token(b, i)
		switch c {
		case ',':
			i, c = token(b, i+1)
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
	members = trimSpace(b[start:i])
	if !conflict {
		if sc != nil && len(sc.keys) > 0 {
			conflict = hasDuplicates(sc)
		} else {
			conflict = hasDuplicatesSmall(keys)
		}
	}
	return members, conflict, true
}

// membersSpecial is membersQuoted for a line that holds '\\' or control
// bytes: a string with one of them between its quotes is scanned byte by
// byte (scanString), the others end at the next quote.
func membersSpecial(b []byte, q *quoteBits, fn func(key []byte) bool, set *KeySet) (members []byte, conflict, ok bool) {
	var sp quoteBits
	specialBits(b, &sp)
	return membersQuoted(b, q, &sp, fn, set)
}

// membersQuoted is Members for a line b (trimmed, from '{' to '}') of
// valid UTF-8 whose quotes q holds: each string ends at the next quote in
// q unless sp (nil when there are none) has a '\\' or control byte in
// between, and the keys are checked for duplicates as they come.
func membersQuoted(b []byte, q, sp *quoteBits, fn func(key []byte) bool, set *KeySet) (members []byte, conflict, ok bool) {
	var (
		sigs  [16]uint64 // length and first and last bytes of each key
		spans [16]uint64 // start<<32 | end of each key in b
		seen  uint64     // one bit of 64 per key, from its sig
		n     int
		hit   bool     // a key is reserved
		dup   bool     // a key repeats among the first 16
		sc    *scratch // all keys, past 16 of them or from an escaped one on
	)
	defer func() {
		if sc != nil {
			putScratch(sc)
		}
	}()
	i, c := token(b, 1)
	start := i
	if c == '}' {
		if i != len(b)-1 {
			return nil, false, false
		}
		return b[i:i], false, true
	}
	for {
		if c != '"' {
			return nil, false, false
		}
		end := q.next(i + 1)
		if end < 0 {
			return nil, false, false
		}
		escaped := false
		if sp != nil && sp.any(i+1, end-1) {
			if end, escaped = scanString(b, i+1); end < 0 {
				return nil, false, false
			}
		}
		if !hit {
			key := b[i+1 : end-1]
			if escaped {
				// Compared unescaped, so from here on in sc.
				if sc == nil {
					sc = getScratch()
					for _, span := range spans[:n] {
						sc.keys = append(sc.keys, b[span>>32:uint32(span)])
					}
				}
				m := len(sc.buf)
				// The scanner has checked the escapes, so this cannot fail.
				sc.buf, _ = Unescape(sc.buf, key)
				key = sc.buf[m:len(sc.buf):len(sc.buf)]
			}
			s := keySig(key)
			bit := keyBit(s)
			switch {
			case fn != nil && fn(key), set != nil && set.filter&bit != 0 && set.has(key):
				hit = true
			case sc != nil:
				sc.keys = append(sc.keys, key)
			case n < len(sigs):
				if seen&bit != 0 && !dup {
					for j := range n {
						if sigs[j] == s && string(key) == string(b[spans[j]>>32:uint32(spans[j])]) {
							dup = true
							break
						}
					}
				}
				seen |= bit
				sigs[n] = s
				spans[n] = uint64(i+1)<<32 | uint64(end-1)
				n++
			default:
				sc = getScratch()
				for _, span := range spans {
					sc.keys = append(sc.keys, b[span>>32:uint32(span)])
				}
				sc.keys = append(sc.keys, key)
			}
		}
		if i, c = token(b, end); c != ':' {
			return nil, false, false
		}
		i, c = token(b, i+1)
		switch {
		case c == '"':
			j := q.next(i + 1)
			if j > 0 && sp != nil && sp.any(i+1, j-1) {
				j, _ = scanString(b, i+1)
			}
			i = j
		case c == '-' || (c >= '0' && c <= '9'):
			i = scanNumber(b, i)
		case sp != nil:
			i = scanValue(b, i, 1, false, nil)
		default:
			i = scanValue(b, i, 1, true, q)
		}
		if i < 0 {
			return nil, false, false
		}
		i, c = token(b, i)
		switch c {
		case ',':
			i, c = token(b, i+1)
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
	conflict = hit || dup
	if !conflict && sc != nil {
		conflict = hasDuplicates(sc)
	}
	return trimSpace(b[start:i]), conflict, true
}

// scanValue checks the JSON value at b[i:] (i is at its first byte), whose
// enclosing containers nest depth deep, and returns the index just past it,
// or -1 if it is not valid. Reads past the end of b go through at, which
// returns 0, a byte that is never valid where it is read.
func scanValue(b []byte, i, depth int, plain bool, q *quoteBits) int {
	switch c := at(b, i); c {
	case '"':
		end, _ := scan(b, i+1, plain, q)
		return end
	case '{':
		return scanObject(b, i+1, depth+1, plain, q)
	case '[':
		return scanArray(b, i+1, depth+1, plain, q)
	case 't':
		return literal(b, i, "true")
	case 'f':
		return literal(b, i, "false")
	case 'n':
		return literal(b, i, "null")
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return scanNumber(b, i)
		}
		return -1
	}
}

// scanObject checks the rest of an object whose '{' is at i-1.
func scanObject(b []byte, i, depth int, plain bool, q *quoteBits) int {
	if depth > MaxDepth {
		return -1
	}
	i, c := token(b, i)
	if c == '}' {
		return i + 1
	}
	for {
		if c != '"' {
			return -1
		}
		if i, _ = scan(b, i+1, plain, q); i < 0 {
			return -1
		}
		if i, c = token(b, i); c != ':' {
			return -1
		}
		if i = scanValue(b, skipSpace(b, i+1), depth, plain, q); i < 0 {
			return -1
		}
		i, c = token(b, i)
		switch c {
		case ',':
			i, c = token(b, i+1)
		case '}':
			return i + 1
		default:
			return -1
		}
	}
}

// scanArray checks the rest of an array whose '[' is at i-1.
func scanArray(b []byte, i, depth int, plain bool, q *quoteBits) int {
	if depth > MaxDepth {
		return -1
	}
	i, c := token(b, i)
	if c == ']' {
		return i + 1
	}
	for {
		if i = scanValue(b, i, depth, plain, q); i < 0 {
			return -1
		}
		i, c = token(b, i)
		switch c {
		case ',':
			i = skipSpace(b, i+1)
		case ']':
			return i + 1
		default:
			return -1
		}
	}
}

// stringPlain[c] is true for the bytes that stand for themselves inside a
// JSON string: all but control characters, '"' and '\\'. Bytes >= 0x80 are
// fine here because Members has checked UTF-8 for the whole line.
var stringPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// scan is scanString, or on a plain line (plainLine) the next quote: from
// q when the line's quote bitmap is there, else by scanPlain.
func scan(b []byte, i int, plain bool, q *quoteBits) (end int, escaped bool) {
	if q != nil {
		return q.next(i), false
	}
	if plain {
		return scanPlain(b, i), false
	}
	return scanString(b, i)
}

// plainLine reports whether b is all ASCII with no control character and
// no backslash. Its strings then hold no escape and nothing a JSON string
// may not hold, so each ends at the next quote (scanPlain). A word of
// plain bytes sets no high bit in any term (none borrows); the lowest byte
// that is not plain always does, so the answer is exact.
func plainLine(b []byte) bool {
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

// scanPlain returns the index just past the quote that closes a string
// of a plain line (plainLine) whose opening quote is at i-1, or -1.
func scanPlain(b []byte, i int) int {
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

// scanString checks the rest of a string whose opening quote is at i-1 and
// returns the index just past the closing quote, or -1, and whether the
// string holds escapes.
func scanString(b []byte, i int) (end int, escaped bool) {
	for {
		i = nextSpecial(b, i)
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

// nextSpecial returns the index of the first byte at or after i that does
// not stand for itself in a string ('"', '\\' or a control character), or
// len(b): eight bytes at a time, jumping straight to the byte that
// special8 flags.
func nextSpecial(b []byte, i int) int {
	for ; i+8 <= len(b); i += 8 {
		if m := special8(binary.LittleEndian.Uint64(b[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for i < len(b) && stringPlain[b[i]] {
		i++
	}
	return i
}

// special8 sets the high bit of the first (lowest) byte of w that is '"',
// '\\' or below 0x20, and maybe of bytes after it; it is 0 when there is
// none. Bytes >= 0x80 are plain (Members has checked UTF-8 for the whole
// line): the &^w drops them, and they borrow nowhere. A byte that is not
// special borrows in none of the three subtractions, so nothing below the
// first special byte is flagged: the lowest set bit is exact (bits above
// it may be set by its borrow and are ignored).
func special8(w uint64) uint64 {
	return ((w - 0x20*ones) | ((w ^ '"'*ones) - ones) | ((w ^ '\\'*ones) - ones)) &^ w & highs
}

// scanNumber checks the number at b[i:] and returns the index just past it,
// or -1: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(b []byte, i int) int {
	if at(b, i) == '-' {
		i++
	}
	switch c := at(b, i); {
	case c == '0':
		i++
	case c >= '1' && c <= '9':
		i = skipDigits(b, i+1)
	default:
		return -1
	}
	if at(b, i) == '.' {
		j := skipDigits(b, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if c := at(b, i); c == 'e' || c == 'E' {
		i++
		if c := at(b, i); c == '+' || c == '-' {
			i++
		}
		j := skipDigits(b, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

// at returns b[i], or 0 (never valid where JSON syntax is checked) past the
// end of b.
func at(b []byte, i int) byte {
	if i < len(b) {
		return b[i]
	}
	return 0
}

func skipDigits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

func literal(b []byte, i int, lit string) int {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

// skipSpace returns the index of the first non-whitespace byte at or after
// i, or len(b).
func skipSpace(b []byte, i int) int {
	// Every JSON space is at most ' ': one comparison for the usual byte.
	for i < len(b) && b[i] <= ' ' && isSpace(b[i]) {
		i++
	}
	return i
}

// token returns the index of the first non-whitespace byte at or after i
// and that byte, or len(b) and 0.
func token(b []byte, i int) (int, byte) {
	for ; i < len(b); i++ {
		if c := b[i]; c > ' ' || !isSpace(c) {
			return i, c
		}
	}
	return i, 0
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// hasDuplicatesSmall looks for a repeated key among at most 16. Each key
// gets a word made of its length and first and last bytes, and one bit of
// 64 chosen by that word: only a key whose bit is already set is compared
// with the ones before it, first by word, then by bytes.Equal. (A hash set,
// hasDuplicates, costs more below a few dozen keys; comparing every pair
// costs 66 comparisons for the tail workload's 12 keys.)
func hasDuplicatesSmall(keys [][]byte) bool {
	var sigs [16]uint64
	if len(keys) > len(sigs) {
		panic("BUG: json: hasDuplicatesSmall called with too many keys")
	}
	var seen uint64
	for i, k := range keys {
		s := keySig(k)
		bit := keyBit(s)
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

var hashSeed = maphash.MakeSeed()

// hasDuplicates looks for a repeated key in sc.keys with an open-addressing
// hash set of key indexes (plus one, so that zero is empty).
func hasDuplicates(sc *scratch) bool {
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
		h := maphash.Bytes(hashSeed, key) & mask
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

// scratch is the per-call working space of Members for unescaped keys and
// for objects with many keys.
type scratch struct {
	keys  [][]byte // slices of the line or of buf
	buf   []byte   // unescaped keys
	table []int32
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func getScratch() *scratch {
	return scratchPool.Get().(*scratch)
}

// putScratch resets sc, letting go of the caller's line, and pools it unless
// one huge line made it big.
func putScratch(sc *scratch) {
	const maxKeep = 64 << 10
	clear(sc.keys)
	sc.keys = sc.keys[:0]
	sc.buf = sc.buf[:0]
	if cap(sc.keys) > maxKeep/24 || cap(sc.buf) > maxKeep || cap(sc.table) > maxKeep/4 {
		return
	}
	scratchPool.Put(sc)
}
