//go:build amd64

package sha256x

import "golang.org/x/sys/cpu"

// supported is true when the CPU has the SHA extensions and SSSE3, which
// Blocks and Blocks2 use.
var supported = detect()

func detect() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	_, ebx7, _, _ := cpuid(7, 0)
	const ssse3, sha = 1 << 9, 1 << 29
	return ecx1&ssse3 != 0 && ebx7&sha != 0
}

// supported16 is true when the CPU and the OS run AVX-512 (F and BW),
// which Blocks16 uses.
var supported16 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW

func lanes16(l *Lanes, p []byte, offs, counts *[16]int32, n int) {
	if !supported16 {
		panic("sha256x: no AVX-512 on this CPU")
	}
	blocks16(l, &p[0], offs, counts, n)
}

func blocks(s *State, p []byte) {
	if !supported {
		panic("sha256x: no SHA extensions on this CPU")
	}
	if len(p) > 0 {
		blocks1(s, &p[0], len(p)/BlockSize)
	}
}

func pair(s0, s1 *State, p0, p1 []byte) {
	if !supported {
		panic("sha256x: no SHA extensions on this CPU")
	}
	if len(p0) > 0 {
		blocks2(s0, s1, &p0[0], &p1[0], len(p0)/BlockSize)
	}
}

//go:noescape
func blocks1(s *State, p *byte, n int)

//go:noescape
func blocks2(s0, s1 *State, p0, p1 *byte, n int)

func cpuid(leaf, sub uint32) (a, b, c, d uint32)

//go:noescape
func blocks16(l *Lanes, p *byte, offs, counts *[16]int32, n int)
