//go:build !amd64 || purego

package jsonbytes

// plainPrefix is 0: AppendString's word scan does the work.
func plainPrefix(s []byte) int { return 0 }
