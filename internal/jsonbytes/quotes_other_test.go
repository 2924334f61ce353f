//go:build !amd64 || purego

package jsonbytes

// withoutQuoteBits runs f; classify makes no quote bitmap here anyway.
func withoutQuoteBits(f func()) { f() }
