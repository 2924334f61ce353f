//go:build !amd64 || purego

package jsonbytes

// classify reports plainLine(b) as both clean and ascii. Without a vector
// unit the quote bitmap costs more than it saves, so bits is always false.
func classify(b []byte, q *quoteBits) (clean, ascii, bits bool) {
	plain := plainLine(b)
	return plain, plain, false
}

// specialBits sets s's bits for the bytes of b that are '\\' or below
// 0x20. len(b) must be at most maxQuoteBits; s must be zero.
func specialBits(b []byte, s *quoteBits) {
	for i, c := range b {
		if c == '\\' || c < 0x20 {
			s[i>>6] |= 1 << (uint(i) & 63)
		}
	}
}

// walkKeys is walkClean.
func walkKeys(b []byte, q *quoteBits, spans *[16]uint32) (n, end int) {
	return walkClean(b, q, spans)
}
