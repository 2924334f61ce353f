//go:build !amd64

package sha256x2

// supported is false: the SHA extensions are x86's.
const supported = false

func blocks(*State, []byte) {
	panic("sha256x2: no SHA extensions on this architecture")
}

func pair(*State, *State, []byte, []byte) {
	panic("sha256x2: no SHA extensions on this architecture")
}
