//go:build !amd64

package sha256x

// supported and supported16 are false: the SHA extensions and AVX-512
// are x86's.
const supported, supported16 = false, false

func blocks(*State, []byte) {
	panic("sha256x: no SHA extensions on this architecture")
}

func pair(*State, *State, []byte, []byte) {
	panic("sha256x: no SHA extensions on this architecture")
}

func lanes16(*Lanes, []byte, *[16]int32, *[16]int32, int) {
	panic("sha256x: no AVX-512 on this architecture")
}
