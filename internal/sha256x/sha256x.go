// Package sha256x runs the SHA-256 compression function of several
// messages at once on amd64: two with the SHA extensions (SHA-NI,
// Blocks2), sixteen with AVX-512 (Blocks16). One message's SHA256RNDS2
// instructions form a chain, each waiting for the one before; a second,
// independent message's rounds run in the gaps the chain leaves, as far
// as the CPU's SHA unit has room (bench/RESULTS.md has the figures).
// AVX-512 runs the plain rounds of FIPS 180-4 on sixteen messages per
// instruction instead, with no SHA unit at all.
//
// It gives the plain SHA-256 of a message: the caller pads the message
// as FIPS 180-4 says (0x80, zeros, its length in bits) and feeds its
// blocks. Where the extensions are missing (other CPUs, other
// architectures) Supported and Supported16 report false, and the caller
// uses crypto/sha256.
package sha256x

// BlockSize is the size of a SHA-256 block in bytes.
const BlockSize = 64

// State is the chaining value of one message, in the order the SHA
// instructions keep it: abef holds the words f, e, b, a from the low
// dword up, cdgh holds h, g, d, c.
type State struct {
	abef, cdgh [4]uint32
}

// Init returns the state before the first block (FIPS 180-4, 5.3.3).
func Init() State {
	return State{
		abef: [4]uint32{0x9b05688c, 0x510e527f, 0xbb67ae85, 0x6a09e667},
		cdgh: [4]uint32{0x5be0cd19, 0x1f83d9ab, 0xa54ff53a, 0x3c6ef372},
	}
}

// Sum128 returns the first 16 bytes of the digest that s holds after a
// message's last block, as two big-endian halves.
func (s *State) Sum128() (hi, lo uint64) {
	return uint64(s.abef[3])<<32 | uint64(s.abef[2]), uint64(s.cdgh[3])<<32 | uint64(s.cdgh[2])
}

// Blocks runs p's blocks through s. len(p) must be a multiple of
// BlockSize, and Supported() true.
func Blocks(s *State, p []byte) {
	if len(p)%BlockSize != 0 {
		panic("sha256x: partial block")
	}
	blocks(s, p)
}

// Blocks2 runs p0's blocks through s0 and p1's through s1, the two
// messages' rounds interleaved.
// p0 and p1 must be the same length, a multiple of BlockSize, and
// Supported() true.
func Blocks2(s0, s1 *State, p0, p1 []byte) {
	if len(p0) != len(p1) || len(p0)%BlockSize != 0 {
		panic("sha256x: lanes of different lengths or a partial block")
	}
	pair(s0, s1, p0, p1)
}

// Supported reports whether Blocks and Blocks2 can run on this CPU.
func Supported() bool { return supported }

// Supported16 reports whether Blocks16 can run on this CPU.
func Supported16() bool { return supported16 }
