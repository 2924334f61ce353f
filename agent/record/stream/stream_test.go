package stream

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestString(t *testing.T) {
	f := func(s Stream, want string) {
		t.Helper()
		require.Equal(t, want, s.String())
	}
	f(Unknown, "")
	f(Stdout, "stdout")
	f(Stderr, "stderr")
	f(Stream(200), "")
}

func TestParse(t *testing.T) {
	f := func(in string, want Stream) {
		t.Helper()
		require.Equal(t, want, Parse([]byte(in)))
	}
	f("stdout", Stdout)
	f("stderr", Stderr)
	f("", Unknown)
	f("STDOUT", Unknown)
	f("stdout ", Unknown)
	f("stdin", Unknown)
	f("std", Unknown)
}

func TestRoundTrip(t *testing.T) {
	for _, s := range []Stream{Stdout, Stderr} {
		require.Equal(t, s, Parse([]byte(s.String())))
	}
}

func TestParseAllocatesNothing(t *testing.T) {
	b := []byte("stderr")
	n := testing.AllocsPerRun(100, func() {
		if Parse(b) != Stderr {
			t.Fatal("bad parse")
		}
	})
	require.Zero(t, n)
}
