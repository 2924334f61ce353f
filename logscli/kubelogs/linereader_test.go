package kubelogs

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func readAll(t testing.TB, in string, max int) []string {
	lr := newLineReader(strings.NewReader(in), max)
	var out []string
	for {
		line, err := lr.next()
		if line != "" || err == nil {
			out = append(out, line)
		}
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
	}
}

// TestLineReader: lines as written, a last one without a newline, and a
// line longer than the bound cut to it, the lines after it intact.
func TestLineReader(t *testing.T) {
	require.Equal(t, []string{"a", "", "b c"}, readAll(t, "a\n\nb c", 10))
	long := strings.Repeat("x", 200<<10) // past the reader's 64 KiB buffer
	require.Equal(t, []string{strings.Repeat("x", 100<<10), "after"}, readAll(t, long+"\nafter\n", 100<<10))
}

// FuzzLineReader: no line is longer than the bound, and input whose
// lines fit comes out as it went in.
func FuzzLineReader(f *testing.F) {
	f.Add("a\nb\n", 4)
	f.Add("2026-12-07T00:00:00.000000000Z hello\n", 8)
	f.Add("\n\n\n", 1)
	f.Fuzz(func(t *testing.T, in string, max int) {
		if max <= 0 || max > 1<<16 {
			return
		}
		lines := readAll(t, in, max)
		fits := true
		for _, l := range strings.Split(strings.TrimSuffix(in, "\n"), "\n") {
			fits = fits && len(l) <= max
		}
		for _, l := range lines {
			if len(l) > max {
				t.Fatalf("line of %d bytes, bound %d", len(l), max)
			}
		}
		if fits && in != "" {
			require.Equal(t, strings.TrimSuffix(in, "\n"), strings.Join(lines, "\n"))
		}
	})
}
