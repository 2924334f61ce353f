package sha256x

import "math"

// Lanes holds the states of sixteen messages for Blocks16: word j (a, b,
// … h) of message i at [j][i].
type Lanes [8][16]uint32

// Set makes s message i's state.
func (l *Lanes) Set(i int, s *State) {
	l[0][i], l[1][i], l[4][i], l[5][i] = s.abef[3], s.abef[2], s.abef[1], s.abef[0]
	l[2][i], l[3][i], l[6][i], l[7][i] = s.cdgh[3], s.cdgh[2], s.cdgh[1], s.cdgh[0]
}

// Get returns message i's state.
func (l *Lanes) Get(i int) State {
	return State{
		abef: [4]uint32{l[5][i], l[4][i], l[1][i], l[0][i]},
		cdgh: [4]uint32{l[7][i], l[6][i], l[3][i], l[2][i]},
	}
}

// Sum128 returns the first 16 bytes of message i's digest, once l has
// taken its last block, as State.Sum128 does.
func (l *Lanes) Sum128(i int) (hi, lo uint64) {
	return uint64(l[0][i])<<32 | uint64(l[1][i]), uint64(l[2][i])<<32 | uint64(l[3][i])
}

// Blocks16 runs the blocks of sixteen messages through l: counts[i]
// blocks of message i, p[offs[i]:offs[i]+counts[i]*BlockSize]. The
// sixteen lanes run as many blocks as the longest message has, the
// shorter ones idle, so messages of about the same length fill them
// best. Supported16 must be true.
func Blocks16(l *Lanes, p []byte, offs, counts *[16]int32) {
	if len(p) > math.MaxInt32 {
		panic("sha256x: more than 2 GiB of blocks")
	}
	n := 0
	for i, o := range offs {
		c := int(counts[i])
		if o < 0 || c < 0 || int(o)+c*BlockSize > len(p) {
			panic("sha256x: blocks past the end of p")
		}
		n = max(n, c)
	}
	if n > 0 {
		lanes16(l, p, offs, counts, n)
	}
}
