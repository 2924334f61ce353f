package jsonbytes

import "math/bits"

// membersClean is membersQuoted for a line with no '\\' and no control
// byte, in two passes: the walk checks the syntax and notes where each
// key is, then the keys are checked for duplicates and reserved ones.
// Each loop then keeps its few values in registers. A line with more
// keys than spans holds goes to membersQuoted.
func membersClean(b []byte, q *quoteBits, fn func(key []byte) bool, set *KeySet) (members []byte, conflict, ok bool) {
	var spans [16]uint32 // start<<16 | end of each key in b
	n, end := walkKeys(b, q, &spans)
	if n > len(spans) {
		return membersQuoted(b, q, nil, fn, set)
	}
	if fn != nil {
		conflict = keysConflictFunc(b, spans[:n], fn)
	} else {
		conflict = keysConflict(b, spans[:n], set)
	}
	if end < 0 {
		return nil, false, false
	}
	i, _ := token(b, 1)
	return trimSpace(b[i:end]), conflict, true
}

// keysConflict reports whether a key of b at spans repeats or is in set
// (if not nil). Apart from keysConflictFunc, this loop calls no function
// and keeps its values in registers.
func keysConflict(b []byte, spans []uint32, set *KeySet) bool {
	var (
		sigs   [16]uint64 // length and first and last bytes of each key
		seen   uint64     // one bit of 64 per key, from its sig
		filter uint64
	)
	if set != nil {
		filter = set.filter
	}
	for j, span := range spans {
		key := b[span>>16 : span&0xffff]
		s := keySig(key)
		bit := keyBit(s)
		if filter&bit != 0 && set.has(key) {
			return true
		}
		if seen&bit != 0 {
			for m, t := range sigs[:j] {
				if t == s && string(key) == string(b[spans[m]>>16:spans[m]&0xffff]) {
					return true
				}
			}
		}
		seen |= bit
		sigs[j&15] = s
	}
	return false
}

// keysConflictFunc is keysConflict with the reserved keys told by fn,
// which sees each key in turn up to the first it reserves, duplicates
// or not.
func keysConflictFunc(b []byte, spans []uint32, fn func(key []byte) bool) (conflict bool) {
	var (
		sigs [16]uint64
		seen uint64
	)
	for j, span := range spans {
		key := b[span>>16 : span&0xffff]
		if fn(key) {
			return true
		}
		if conflict {
			continue
		}
		s := keySig(key)
		bit := keyBit(s)
		if seen&bit != 0 {
			for m, t := range sigs[:j] {
				if t == s && string(key) == string(b[spans[m]>>16:spans[m]&0xffff]) {
					conflict = true
					break
				}
			}
		}
		seen |= bit
		sigs[j&15] = s
	}
	return conflict
}

// walkClean checks the object b (trimmed, from '{' to '}', no '\\' or
// control byte) and puts the spans of its keys, as far as it got, in
// spans: n is how many keys it found (more than len(spans): it stopped
// there), end the index of the closing brace, or -1 if b is not valid.
func walkClean(b []byte, q *quoteBits, spans *[16]uint32) (n, end int) {
	if i, c := token(b, 1); c == '}' {
		if i != len(b)-1 {
			return 0, -1
		}
		return 0, i
	}
	return walkFrom(b, q, spans, 0, 1, 0, q[0]&^1) // b[0] is '{'
}

// walkFrom is walkClean from the member at or after index i, past n keys
// noted in spans, with the quotes before i taken: those left are m in
// word w and all of the words after it.
func walkFrom(b []byte, q *quoteBits, spans *[16]uint32, n, i, w int, m uint64) (int, int) {
	// On such a line the quote after one that opens a string closes it,
	// so each string takes the next two, and no string's end waits for
	// the walk to get there.
	pop := func() int {
		for m == 0 {
			if w++; w >= len(q) {
				return -1
			}
			m = q[w]
		}
		p := w<<6 + bits.TrailingZeros64(m)
		m &= m - 1
		return p
	}
	i, c := token(b, i)
	for {
		if c != '"' {
			return n, -1
		}
		pop() // i
		e := pop()
		if e < 0 {
			return n, -1
		}
		if n == len(spans) {
			return n + 1, -1
		}
		spans[n] = uint32(i+1)<<16 | uint32(e)
		n++
		if i, c = token(b, e+1); c != ':' {
			return n, -1
		}
		i, c = token(b, i+1)
		switch {
		case c == '"':
			pop() // i
			if i = pop(); i >= 0 {
				i++
			}
		case c == '-' || (c >= '0' && c <= '9'):
			i = scanNumber(b, i)
		default:
			if i = scanValue(b, i, 1, true, q); i >= 0 {
				// The quotes before i are taken.
				w = i >> 6
				m = q[w] &^ (1<<(uint(i)&63) - 1)
			}
		}
		if i < 0 {
			return n, -1
		}
		i, c = token(b, i)
		switch c {
		case ',':
			i, c = token(b, i+1)
			continue
		case '}':
		default:
			return n, -1
		}
		if i != len(b)-1 {
			return n, -1
		}
		return n, i
	}
}
