package sha256x

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"testing"
)

// sum16 returns the digests of msgs (sixteen) computed by Blocks16: all
// their blocks if whole, else as many as the shortest has, the rest of
// each by Blocks.
func sum16(msgs [][]byte, whole bool) [][]byte {
	var p []byte
	var offs, counts [16]int32
	n := -1
	for i, m := range msgs {
		offs[i] = int32(len(p))
		p = appendPadding(append(p, m...), uint64(len(m)))
		counts[i] = int32((len(p) - int(offs[i])) / BlockSize)
		if n < 0 || int(counts[i]) < n {
			n = int(counts[i])
		}
	}
	if !whole {
		for i := range counts {
			counts[i] = int32(n)
		}
	}
	var l Lanes
	for i := range 16 {
		s := Init()
		l.Set(i, &s)
	}
	Blocks16(&l, p, &offs, &counts)
	sums := make([][]byte, 16)
	for i := range 16 {
		s := l.Get(i)
		end := len(p)
		if i < 15 {
			end = int(offs[i+1])
		}
		Blocks(&s, p[int(offs[i])+int(counts[i])*BlockSize:end])
		sums[i] = appendSum(nil, &s, 32)
	}
	return sums
}

func TestSixteenLanesMatchCryptoSHA256(t *testing.T) {
	needSHA(t)
	if !Supported16() {
		t.Skip("no AVX-512 on this CPU")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	text := make([]byte, 2200)
	for i := range text {
		text[i] = byte(rng.Uint32())
	}
	msgs := make([][]byte, 16)
	for round := range 400 {
		for i := range msgs {
			// Lengths near each other, as a batch's lines, or far apart.
			n := rng.IntN(2101)
			if round%2 == 0 {
				n = 300 + rng.IntN(64)
			}
			at := rng.IntN(len(text) - n + 1)
			msgs[i] = text[at : at+n]
		}
		for _, whole := range []bool{false, true} {
			for i, got := range sum16(msgs, whole) {
				if want := sha256.Sum256(msgs[i]); !bytes.Equal(got, want[:]) {
					t.Fatalf("round %d (every block in Blocks16: %v), lane %d of %d bytes: %x, want %x", round, whole, i, len(msgs[i]), got, want)
				}
			}
		}
	}
}

// Sixteen messages of seven blocks.
func BenchmarkBlocks16(b *testing.B) {
	needSHA(b)
	if !Supported16() {
		b.Skip("no AVX-512 on this CPU")
	}
	p := make([]byte, 16*7*BlockSize)
	var offs, counts [16]int32
	for i := range offs {
		offs[i], counts[i] = int32(i*7*BlockSize), 7
	}
	var l Lanes
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		Blocks16(&l, p, &offs, &counts)
	}
}
