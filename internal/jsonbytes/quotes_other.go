//go:build !amd64 || purego

package jsonbytes

// classify reports plainLine(b) as both clean and ascii. Without a vector
// unit the quote bitmap costs more than it saves, so bits is always false.
func classify(b []byte, q *quoteBits) (clean, ascii, bits bool) {
	plain := plainLine(b)
	return plain, plain, false
}
