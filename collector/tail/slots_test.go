package tail

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Files waiting on lines without their newline keep no more than a chunk
// of them in memory in all; the rest stay in the files and are read again
// once the lines go on, and come out whole at their offsets.
func TestUnfinishedLinesLeftInTheirFiles(t *testing.T) {
	e := newEnv(t)
	e.memoryLimit = 64 << 10 // chunk (BatchBytes) 1 KiB: the kept lines take 1 KiB at most
	const files, long = 6, 3000
	first := criLine("stdout", "F", "done")
	unfinished := criLine("stdout", "F", strings.Repeat("x", long))
	paths := make([]string, files)
	for i := range paths {
		paths[i] = e.path("p"+string(rune('a'+i)), "ns")
		e.write(paths[i], first)
		appendRaw(t, paths[i], unfinished)
	}
	e.start()
	e.waitLines(files)
	// None shipped, none kept: all six are left in their files.
	require.Zero(t, e.tailer.slots.held.Load(), "bytes of unfinished lines kept")

	for _, p := range paths {
		e.write(p, "-end")
	}
	e.waitLines(2 * files)
	want := strings.Repeat("x", long) + "-end"
	for _, g := range e.sink.snapshot()[files:] {
		require.Equal(t, want, g.Line)
		require.Equal(t, int64(len(first)+1), g.Offset)
	}
	require.Zero(t, e.tailer.slots.held.Load())
}

// A short unfinished line is kept while the share allows, and comes out
// whole as well.
func TestShortUnfinishedLineKept(t *testing.T) {
	e := newEnv(t)
	e.memoryLimit = 64 << 10
	p := e.path("p", "ns")
	e.write(p, criLine("stdout", "F", "done"))
	partial := criLine("stdout", "F", "short")
	appendRaw(t, p, partial)
	e.start()
	e.waitLines(1)
	require.Equal(t, int64(len(partial)), e.tailer.slots.held.Load())
	e.write(p, " and the rest")
	e.waitLines(2)
	require.Equal(t, "short and the rest", e.sink.snapshot()[1].Line)
	require.Zero(t, e.tailer.slots.held.Load())
}

// A file truncated and written again while its unfinished line waits in
// it: the line's bytes are gone, and nothing of them or of a stale
// offset mixes into what the file holds now.
func TestUnfinishedLineLeftInATruncatedFile(t *testing.T) {
	e := newEnv(t)
	e.memoryLimit = 64 << 10
	p := e.path("p", "ns")
	e.write(p, criLine("stdout", "F", "before the truncate"))
	appendRaw(t, p, criLine("stdout", "F", strings.Repeat("x", 3000)))
	e.start()
	e.waitLines(1)
	require.Zero(t, e.tailer.slots.held.Load(), "the unfinished line is left in the file")
	require.NoError(t, os.Truncate(p, 0))
	after := []string{criLine("stdout", "F", "after one"), criLine("stdout", "F", "after "+strings.Repeat("y", 4000))}
	e.write(p, after...)
	e.waitLines(3)
	recs := e.sink.snapshot()
	require.Equal(t, "after one", recs[1].Line)
	require.Equal(t, int64(0), recs[1].Offset)
	require.Equal(t, "after "+strings.Repeat("y", 4000), recs[2].Line)
	require.Equal(t, int64(len(after[0])+1), recs[2].Offset)
	require.Equal(t, uint64(1), recs[1].Gen)
}

// appendRaw appends s to path without a newline.
func appendRaw(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(s)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// A copytruncate while an unfinished line waits in the file: the line
// goes on in the copy, and is read from there whole, at its offset, with
// what follows it; nothing of what the file holds now mixes into it.
func TestUnfinishedLineLeftGoesOnInTheCopy(t *testing.T) {
	e := newEnv(t)
	e.memoryLimit = 64 << 10
	p := e.path("p", "ns")
	first := criLine("stdout", "F", "before the copytruncate")
	long := strings.Repeat("x", 3000)
	e.write(p, first)
	appendRaw(t, p, criLine("stdout", "F", long))
	e.start()
	e.waitLines(1)
	require.Zero(t, e.tailer.slots.held.Load(), "the unfinished line is left in the file")

	// The writer finished the line and wrote another before the copy.
	content, err := os.ReadFile(p)
	require.NoError(t, err)
	content = append(content, "-end\n"+criLine("stdout", "F", "last before")+"\n"...)
	require.NoError(t, os.WriteFile(p+".1", content, 0o644))
	// Truncated and written again longer than it was, all before the
	// reader looks (one write over the old bytes): where the line was,
	// the file now holds others.
	after := "after " + strings.Repeat("z", 3100)
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte(criLine("stdout", "F", after)+"\n"), 0)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	e.waitLines(4)
	recs := e.sink.snapshot()
	require.Equal(t, long+"-end", recs[1].Line)
	require.Equal(t, int64(len(first)+1), recs[1].Offset)
	require.Equal(t, uint64(0), recs[1].Gen)
	require.Equal(t, "last before", recs[2].Line)
	require.Equal(t, after, recs[3].Line)
	require.Equal(t, uint64(1), recs[3].Gen)
}

// writePartials writes a finished line, then a record in partial lines
// whose last line has not come yet.
func writePartials(e *env, p string) (first string, parts []string) {
	first = criLine("stdout", "F", "done")
	parts = []string{strings.Repeat("a", 1000), strings.Repeat("b", 1000), strings.Repeat("c", 1000)}
	lines := []string{first}
	for _, s := range parts {
		lines = append(lines, criLine("stdout", "P", s))
	}
	e.write(p, lines...)
	return first, parts
}

// The partial lines of records whose last line has not come are left in
// their files as well, past the share, and read again when it comes: the
// record is whole, at its first line's offset, cut nowhere.
func TestPartialLinesLeftInTheirFiles(t *testing.T) {
	e := newEnv(t)
	e.memoryLimit = 64 << 10
	const files = 6
	paths := make([]string, files)
	var first string
	var parts []string
	for i := range paths {
		paths[i] = e.path("p"+string(rune('a'+i)), "ns")
		first, parts = writePartials(e, paths[i])
	}
	e.start()
	e.waitLines(files)
	require.Zero(t, e.tailer.slots.held.Load(), "bytes of partial records kept")
	for _, p := range paths {
		e.write(p, criLine("stdout", "F", "-end"))
	}
	e.waitLines(2 * files)
	for _, g := range e.sink.snapshot()[files:] {
		require.Equal(t, strings.Join(parts, "")+"-end", g.Line)
		require.Equal(t, int64(len(first)+1), g.Offset)
		require.Zero(t, g.Flags)
	}
	require.Zero(t, e.tailer.slots.held.Load())
}

// Partial lines left in a file that is then renamed away and goes quiet
// are shipped as they are, as a partial record held in memory is.
func TestPartialLinesLeftShippedWhenTheFileGoes(t *testing.T) {
	e := newEnv(t)
	e.memoryLimit = 64 << 10
	p := e.path("p", "ns")
	first, parts := writePartials(e, p)
	e.start()
	e.waitLines(1)
	require.Zero(t, e.tailer.slots.held.Load(), "the partial record is left in the file")
	require.NoError(t, os.Rename(p, p+".1"))
	e.waitLines(2)
	g := e.sink.snapshot()[1]
	require.Equal(t, strings.Join(parts, ""), g.Line)
	require.Equal(t, int64(len(first)+1), g.Offset)
}

// A record whose partial lines interleave with another stream's finished
// record cannot be read again alone: it stays in memory, and comes out
// whole once finished, the other record once.
func TestInterleavedPartialLinesKept(t *testing.T) {
	e := newEnv(t)
	e.memoryLimit = 64 << 10
	p := e.path("p", "ns")
	e.write(p, criLine("stdout", "P", strings.Repeat("a", 1500)), criLine("stderr", "F", "between"),
		criLine("stdout", "P", strings.Repeat("b", 1500)))
	e.start()
	e.waitLines(1)
	e.write(p, criLine("stdout", "F", "-end"))
	e.waitLines(2)
	recs := e.sink.snapshot()
	require.Equal(t, "between", recs[0].Line)
	require.Equal(t, strings.Repeat("a", 1500)+strings.Repeat("b", 1500)+"-end", recs[1].Line)
	require.Zero(t, recs[1].Offset)
}
