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

// Blocks16 runs n blocks of each of sixteen messages through l: message
// i's are p[offs[i]:offs[i]+n*BlockSize]. Supported16 must be true.
func Blocks16(l *Lanes, p []byte, offs *[16]int32, n int) {
	if len(p) > math.MaxInt32 || n < 0 {
		panic("sha256x: more than 2 GiB of blocks")
	}
	for _, o := range offs {
		if o < 0 || int(o)+n*BlockSize > len(p) {
			panic("sha256x: blocks past the end of p")
		}
	}
	if n > 0 {
		lanes16(l, p, offs, n)
	}
}
