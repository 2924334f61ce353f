//go:build amd64 && !purego

package jsonbytes

// withoutQuoteBits runs f with classify making no quote bitmap, as on a
// machine without AVX2.
func withoutQuoteBits(f func()) {
	saved := haveAVX2
	haveAVX2 = false
	defer func() { haveAVX2 = saved }()
	f()
}
