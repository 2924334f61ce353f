//go:build !amd64 || purego

package jsonbytes

// classify reports whether b is plain (plainLine). Without a vector unit
// the quote bitmap costs more than it saves, so bits is always false.
func classify(b []byte, q *quoteBits) (plain, bits bool) {
	return plainLine(b), false
}
