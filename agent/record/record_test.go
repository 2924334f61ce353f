package record

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/binary"
	"runtime"
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

	// Numbered records (syslog) are told apart by key, connection and
	// number alone.
	key := func(k byte) cipher.Block {
		blk, err := aes.NewCipher(bytes.Repeat([]byte{k}, 16))
		require.NoError(t, err)
		return blk
	}
	num := func(k cipher.Block, conn uint64, n int64, line string) string {
		return string(AppendID(nil, &Source{IDSeed: []byte("ignored"), IDKey: k, IDConn: conn}, &Record{Offset: n, Line: []byte(line)}))
	}
	k1, k2 := key(1), key(2)
	b := num(k1, 1, 7, "hello")
	require.Len(t, b, IDLen)
	require.Equal(t, b, num(k1, 1, 7, "other text"), "the line is not part of it")
	require.NotEqual(t, b, num(k1, 1, 8, "hello"))
	require.NotEqual(t, b, num(k1, 2, 7, "hello"))
	require.NotEqual(t, b, num(k2, 1, 7, "hello"))
	require.NotEqual(t, b, id("ignored", 7, "hello"), "nor is it the file id")
	require.Empty(t, num(k1, 1, -1, "hello"), "no number, no id")

	// Pinned: base64url of AES-128 of the two big-endian numbers.
	block := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, 1), 7)
	k1.Encrypt(block, block)
	require.Equal(t, base64.RawURLEncoding.EncodeToString(block), b)

	// Appended after what dst holds, without touching it.
	dst := AppendID([]byte("prefix:"), &Source{IDKey: k1, IDConn: 1}, &Record{Offset: 7})
	require.Equal(t, "prefix:"+b, string(dst))

	// A permutation: different numbers never share an id under one key.
	seen := map[string]bool{}
	for conn := range uint64(20) {
		for n := range int64(5000) {
			s := num(k1, conn, n, "")
			require.False(t, seen[s], "conn %d message %d repeats an id", conn, n)
			seen[s] = true
		}
	}
}

// TestSizeCoversWhatTheHeapHolds: the bytes charged against memory_limit
// are at least what the batches really take on the heap. Short records
// (syslog messages, small JSON lines) are where the records' own size
// matters: counted at 48 bytes instead of 88, batches held ~17% more than
// charged.
func TestSizeCoversWhatTheHeapHolds(t *testing.T) {
	line := []byte(strings.Repeat("x", 100))
	extra := []byte(`"syslog":{"facility":"user","severity":"info"}`)
	fill := func(b *Batch) {
		for range 400 {
			b.AddExtra(Record{}, line, extra)
		}
	}
	var before, after runtime.MemStats
	batches := make([]*Batch, 200)
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range batches {
		batches[i] = new(Batch) // not from the pool: fresh memory only
		fill(batches[i])
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	charged := 0
	for _, b := range batches {
		charged += b.Size()
	}
	held := int(after.HeapAlloc) - int(before.HeapAlloc)
	t.Logf("charged %d bytes, heap grew by %d", charged, held)
	require.GreaterOrEqual(t, charged+64<<10, held, "Size must cover the heap the batches hold")
	runtime.KeepAlive(batches)
}

// TestPoolSkipsGrownBatches: a batch that a huge line grew is not
// recycled, so it is not reused and charged at that size for small lines.
func TestPoolSkipsGrownBatches(t *testing.T) {
	b := NewBatch(&Source{}, nil)
	b.Add(Record{}, make([]byte, 1<<20))
	b.Done()
	for range 10 {
		n := NewBatch(&Source{}, nil)
		require.Less(t, cap(n.Buf), 1<<20, "a batch grown by a 1 MiB line came back from the pool")
		n.Discard()
	}
}

func TestReserveFillsWithoutGrowing(t *testing.T) {
	b := NewBatch(&Source{}, nil)
	b.Reserve(64<<10, 256)
	buf, recs := cap(b.Buf), cap(b.Records)
	require.GreaterOrEqual(t, buf, 64<<10)
	require.GreaterOrEqual(t, recs, 256)
	line := []byte(strings.Repeat("x", 200))
	for range 256 {
		b.AddExtra(Record{}, line, []byte(`"a":1`))
	}
	require.Equal(t, buf, cap(b.Buf), "no growth up to what was reserved")
	require.Equal(t, recs, cap(b.Records))
	b.Reserve(1<<20, 10000)
	require.Equal(t, buf, cap(b.Buf), "a batch with records is left as it is")
	require.Equal(t, string(line)+`"a":1`, string(b.Buf[b.Records[255].off:][:205]))
	require.Equal(t, string(line), string(b.Records[0].Line))
	b.Discard()
}
