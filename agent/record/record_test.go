package record

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAddKeepsLinesWhenTheBufferGrows(t *testing.T) {
	b := NewBatch(&Source{}, nil)
	var want []string
	for i := range 200 {
		line := strings.Repeat(string(rune('a'+i%26)), i)
		extra := ""
		if i%3 == 0 {
			extra = `"n":` + strings.Repeat("1", i%7+1)
		}
		b.AddExtra(Record{Offset: int64(i)}, []byte(line), []byte(extra))
		want = append(want, line+"|"+extra)
	}
	for i, r := range b.Records {
		require.Equal(t, want[i], string(r.Line)+"|"+string(r.Extra))
		require.Equal(t, int64(i), r.Offset)
	}
}

func TestDoneAcksOnceAfterTheLastHolder(t *testing.T) {
	var acks atomic.Int32
	b := NewBatch(&Source{}, AckerFunc(func(*Batch) { acks.Add(1) }))
	b.Retain(2)
	b.Done()
	b.Done()
	require.Zero(t, acks.Load())
	b.Done()
	require.Equal(t, int32(1), acks.Load())
}

func TestIDDiffersByLineOffsetAndSeed(t *testing.T) {
	id := func(seed string, off int64, line string) string {
		return string(AppendID(nil, &Source{IDSeed: []byte(seed)}, &Record{Offset: off, Line: []byte(line)}))
	}
	a := id("n|1:2:fp:0", 10, "hello")
	require.Len(t, a, IDLen)
	require.Equal(t, a, id("n|1:2:fp:0", 10, "hello"), "a replay collides")
	require.NotEqual(t, a, id("n|1:2:fp:0", 10, "hellp"), "another line at the same place does not")
	require.NotEqual(t, a, id("n|1:2:fp:0", 11, "hello"))
	require.NotEqual(t, a, id("n|1:2:fp:1", 10, "hello"), "a new truncation generation does not")
	require.Empty(t, id("", 10, "hello"), "no seed, no id")
	require.Empty(t, id("seed", -1, "hello"), "not from a file, no id")
}
