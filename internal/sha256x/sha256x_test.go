package sha256x

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"
)

// appendSum appends the first n bytes (n ≤ 32) of the digest that s holds
// after a message's last block.
func appendSum(dst []byte, s *State, n int) []byte {
	h := [8]uint32{s.abef[3], s.abef[2], s.cdgh[3], s.cdgh[2], s.abef[1], s.abef[0], s.cdgh[1], s.cdgh[0]}
	var sum [32]byte
	for i, w := range h {
		binary.BigEndian.PutUint32(sum[4*i:], w)
	}
	return append(dst, sum[:n]...)
}

// appendPadding appends the padding that ends a message of n bytes: 0x80,
// zeros up to 8 bytes short of a block boundary, and the message's length
// in bits. dst must hold the message's last n mod 64 bytes (or any
// multiple of 64 more), so that the result is whole blocks.
func appendPadding(dst []byte, n uint64) []byte {
	at := len(dst)
	zeros := (2*BlockSize - 8 - (at+1)%BlockSize) % BlockSize
	dst = slices.Grow(dst, 1+zeros+8)[:at+1+zeros+8]
	dst[at] = 0x80
	clear(dst[at+1 : at+1+zeros])
	binary.BigEndian.PutUint64(dst[at+1+zeros:], n<<3)
	return dst
}

// sum returns the digest of msg computed by Blocks.
func sum(msg []byte) []byte {
	s := Init()
	Blocks(&s, appendPadding(bytes.Clone(msg), uint64(len(msg))))
	return appendSum(nil, &s, 32)
}

// sum2 returns the digests of a and b computed together by Blocks2 while
// both have blocks, the longer one's rest by Blocks.
func sum2(a, b []byte) ([]byte, []byte) {
	pa := appendPadding(bytes.Clone(a), uint64(len(a)))
	pb := appendPadding(bytes.Clone(b), uint64(len(b)))
	n := min(len(pa), len(pb))
	sa, sb := Init(), Init()
	Blocks2(&sa, &sb, pa[:n], pb[:n])
	Blocks(&sa, pa[n:])
	Blocks(&sb, pb[n:])
	return appendSum(nil, &sa, 32), appendSum(nil, &sb, 32)
}

func needSHA(t testing.TB) {
	t.Helper()
	if !Supported() {
		t.Skip("no SHA extensions on this CPU: crypto/sha256 serves instead (agent/record tests that path)")
	}
}

func TestEveryLengthMatchesCryptoSHA256(t *testing.T) {
	needSHA(t)
	rng := rand.New(rand.NewPCG(1, 2))
	msg := make([]byte, 2101)
	for i := range msg {
		msg[i] = byte(rng.Uint32())
	}
	for n := 0; n <= 2100; n++ {
		want := sha256.Sum256(msg[:n])
		if got := sum(msg[:n]); !bytes.Equal(got, want[:]) {
			t.Fatalf("%d bytes: one lane %x, want %x", n, got, want)
		}
		// The other lane a random length, shorter or longer.
		m := rng.IntN(2101)
		other := msg[2101-m:]
		wantOther := sha256.Sum256(other)
		a, b := sum2(msg[:n], other)
		if !bytes.Equal(a, want[:]) || !bytes.Equal(b, wantOther[:]) {
			t.Fatalf("lanes of %d and %d bytes: %x %x, want %x %x", n, m, a, b, want, wantOther)
		}
		b, a = sum2(other, msg[:n])
		if !bytes.Equal(a, want[:]) || !bytes.Equal(b, wantOther[:]) {
			t.Fatalf("lanes of %d and %d bytes: %x %x, want %x %x", m, n, b, a, wantOther, want)
		}
	}
}

// A known answer (FIPS 180-4 examples), not only agreement with crypto/sha256.
func TestKnownAnswers(t *testing.T) {
	needSHA(t)
	for msg, want := range map[string]string{
		"":    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"abc": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq": "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
	} {
		if got := sum([]byte(msg)); string(hex(got)) != want {
			t.Errorf("SHA-256(%q) = %s, want %s", msg, hex(got), want)
		}
	}
}

func hex(b []byte) []byte {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return out
}

func TestPartialBlocksPanic(t *testing.T) {
	for name, f := range map[string]func(){
		"Blocks":          func() { s := Init(); Blocks(&s, make([]byte, 63)) },
		"Blocks2 unequal": func() { a, b := Init(), Init(); Blocks2(&a, &b, make([]byte, 64), make([]byte, 128)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func FuzzBlocks2(f *testing.F) {
	f.Add([]byte("abc"), []byte(""))
	f.Add(make([]byte, 55), make([]byte, 56))
	f.Add(make([]byte, 64), make([]byte, 119))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		needSHA(t)
		wa, wb := sha256.Sum256(a), sha256.Sum256(b)
		ga, gb := sum2(a, b)
		if !bytes.Equal(ga, wa[:]) || !bytes.Equal(gb, wb[:]) {
			t.Fatalf("lanes of %d and %d bytes: %x %x, want %x %x", len(a), len(b), ga, gb, wa, wb)
		}
	})
}

// go test -run '^$' -bench . ./internal/sha256x/ (CPU ns per block:
// bench/RESULTS.md). Seven blocks a message, as a tail record's id.
func BenchmarkBlocks(b *testing.B) {
	needSHA(b)
	p := make([]byte, 7*BlockSize)
	b.Run("one", func(b *testing.B) {
		b.SetBytes(int64(len(p)))
		s := Init()
		for b.Loop() {
			Blocks(&s, p)
		}
	})
	b.Run("two", func(b *testing.B) {
		b.SetBytes(2 * int64(len(p)))
		s0, s1 := Init(), Init()
		for b.Loop() {
			Blocks2(&s0, &s1, p, p)
		}
	})
}

// Sum128, of a State and of a lane, is the digest's first 16 bytes as
// appendSum gives them.
func TestSum128(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var l Lanes
	for i := range 16 {
		var s State
		for j := range 4 {
			s.abef[j], s.cdgh[j] = rng.Uint32(), rng.Uint32()
		}
		l.Set(i, &s)
		want := appendSum(nil, &s, 16)
		hi, lo := s.Sum128()
		if got := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, hi), lo); !bytes.Equal(got, want) {
			t.Fatalf("State.Sum128 %x, want %x", got, want)
		}
		hi, lo = l.Sum128(i)
		if got := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, hi), lo); !bytes.Equal(got, want) {
			t.Fatalf("lane %d: Lanes.Sum128 %x, want %x", i, got, want)
		}
	}
}
