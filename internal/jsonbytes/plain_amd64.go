//go:build amd64 && !purego

package jsonbytes

// plainPrefix returns how many bytes at the start of s AppendString copies
// as they are: the index of its first '"', '\\', byte below 0x20 or byte
// from 0x80, or len(s). With AVX2 it looks at 32 bytes an instruction, a
// third of AppendString's time on an 80-byte syslog message; below 32
// bytes, or without AVX2, it returns 0 and leaves the scan to AppendString.
func plainPrefix(s []byte) int {
	if !haveAVX2 || len(s) < 32 {
		return 0
	}
	return plainPrefixAVX2(s)
}

// plainPrefixAVX2 is plainPrefix for len(s) ≥ 32.
//
//go:noescape
func plainPrefixAVX2(s []byte) int
