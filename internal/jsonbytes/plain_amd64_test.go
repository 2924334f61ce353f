//go:build amd64 && !purego

package jsonbytes

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestPlainPrefixAVX2 puts each kind of byte that stops the scan at every
// place of plain strings from 32 to 130 bytes (whole blocks, the
// overlapping last one, the byte just before it), one or two of them.
func TestPlainPrefixAVX2(t *testing.T) {
	if !haveAVX2 {
		t.Skip("no AVX2")
	}
	stops := []byte{'"', '\\', 0, 0x1f, 0x80, 0xc3, 0xff}
	plain := []byte{0x20, '!', '#', '[', ']', 'a', 0x7f}
	rng := rand.New(rand.NewPCG(3, 4))
	for n := 32; n <= 130; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = plain[rng.IntN(len(plain))]
		}
		if got := plainPrefix(b); got != n {
			t.Fatalf("%q: plainPrefix %d, want %d", b, got, n)
		}
		for i := range b {
			for _, c := range stops {
				saved := b[i]
				b[i] = c
				j := i + 1 + rng.IntN(n-i)
				var saved2 byte
				if j < n {
					saved2 = b[j]
					b[j] = stops[rng.IntN(len(stops))]
				}
				if got := plainPrefix(b); got != i {
					t.Fatalf("%q: plainPrefix %d, want %d", b, got, i)
				}
				if j < n {
					b[j] = saved2
				}
				b[i] = saved
			}
		}
	}
	if got := plainPrefix([]byte(strings.Repeat("a", 30) + `"`)); got != 0 {
		t.Fatalf("below 32 bytes plainPrefix is 0, got %d", got)
	}
}
