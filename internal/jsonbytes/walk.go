package jsonbytes

import "encoding/binary"

// Member is one "key":value pair of an object in JSON the agent wrote
// itself (valid, one object, as its encoders produce): the key with its
// quotes at [KeyStart, KeyEnd), the value at [ValStart, ValEnd). Found by
// scanning, never by decoding: the document encoder (time and level
// fields) and the transforms (dotted paths, edits) walk documents this way.
type Member struct{ KeyStart, KeyEnd, ValStart, ValEnd int }

// Key is the member's key without quotes (escapes left as they are).
func (m Member) Key(b []byte) []byte { return b[m.KeyStart+1 : m.KeyEnd-1] }

// SkipSpace returns the index of the first non-space byte at or after i.
func SkipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// SkipString returns the index past the string that opens at i, or -1.
// It tests eight bytes at a time for a quote or a backslash: most of a
// document's bytes are inside strings.
func SkipString(b []byte, i int) int {
	j := i + 1
	for j+8 <= len(b) {
		w := binary.LittleEndian.Uint64(b[j:])
		if hasByte(w, '"') || hasByte(w, '\\') {
			break
		}
		j += 8
	}
	for ; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// hasByte reports whether any byte of w is c.
func hasByte(w uint64, c byte) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	x := w ^ (lo * uint64(c))
	return (x-lo)&^x&hi != 0
}

// SkipValue returns the index past the JSON value at i, or -1.
func SkipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return SkipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				if j = SkipString(b, j); j < 0 {
					return -1
				}
				j--
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	return j
}

// NextMember reads the member at or after i (past a separating comma) in
// an object; ok is false at the object's end.
func NextMember(b []byte, i int) (m Member, next int, ok bool) {
	i = SkipSpace(b, i)
	if i < len(b) && b[i] == ',' {
		i = SkipSpace(b, i+1)
	}
	if i >= len(b) || b[i] != '"' {
		return Member{}, i, false
	}
	m.KeyStart = i
	if i = SkipString(b, i); i < 0 {
		return Member{}, 0, false
	}
	m.KeyEnd = i
	if i = SkipSpace(b, i); i >= len(b) || b[i] != ':' {
		return Member{}, 0, false
	}
	m.ValStart = SkipSpace(b, i+1)
	if m.ValEnd = SkipValue(b, m.ValStart); m.ValEnd < 0 {
		return Member{}, 0, false
	}
	return m, m.ValEnd, true
}
