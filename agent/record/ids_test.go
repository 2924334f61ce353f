package record

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/sluicelog/sluice/bench/workload"
	"github.com/sluicelog/sluice/internal/sha256x"
)

// hashPaths are AppendIDs' ways to hash: sixteen records at a time with
// AVX-512 (and the SHA extensions for what is left), two at a time with
// the SHA extensions, sixteen at a time on CPUs with AVX-512 and without
// the SHA extensions (Skylake to Cooper Lake Xeons), and crypto/sha256
// per record, the path of CPUs without either.
var hashPaths = []struct {
	name          string
	pairs, lane16 bool
}{{"x16", true, true}, {"pairs", true, false}, {"x16-without-sha-ni", false, true}, {"crypto-sha256", false, false}}

// bothPaths runs f on each of hashPaths this CPU can run.
func bothPaths(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	for _, p := range hashPaths {
		t.Run(p.name, func(t *testing.T) {
			if p.pairs && !sha256x.Supported() || p.lane16 && !sha256x.Supported16() {
				t.Skip("this CPU lacks the SHA extensions or AVX-512")
			}
			defer func(pairs, lane16 bool) { hashInPairs, hashIn16 = pairs, lane16 }(hashInPairs, hashIn16)
			hashInPairs, hashIn16 = p.pairs, p.lane16
			f(t)
		})
	}
}

// oneByOne returns the ids AppendID gives recs, concatenated.
func oneByOne(src *Source, recs []Record) []byte {
	var want []byte
	for i := range recs {
		want = AppendID(want, src, &recs[i])
	}
	return want
}

// checkIDs asserts that AppendIDs gives recs the ids AppendID gives them,
// appended after what dst held.
func checkIDs(t *testing.T, src *Source, recs []Record) {
	t.Helper()
	dst := []byte("kept")
	got, _, ok := AppendIDs(dst, nil, src, recs)
	if !ok {
		t.Fatalf("seed of %d bytes, %d records: not ok", len(src.IDSeed), len(recs))
	}
	if want := append([]byte("kept"), oneByOne(src, recs)...); !bytes.Equal(got, want) {
		for i := range recs {
			if g, w := got[4+i*IDLen:4+(i+1)*IDLen], want[4+i*IDLen:4+(i+1)*IDLen]; !bytes.Equal(g, w) {
				t.Fatalf("seed of %d bytes, record %d of %d (line of %d bytes, offset %d): id %s, want %s",
					len(src.IDSeed), i, len(recs), len(recs[i].Line), recs[i].Offset, g, w)
			}
		}
		t.Fatalf("ids %q, want %q", got, want)
	}
}

func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// Every line length 0..2100, in a pair with a line of another random
// length (so both lanes run out first, and both alone) and in a batch of
// seventeen (sixteen lanes, then one) whose other lines are of random
// lengths, near it or not; under seeds that share no, one and two whole
// blocks across the batch, at random offsets.
func TestAppendIDsEveryLengthMatchesAppendID(t *testing.T) {
	bothPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		text := randomBytes(rng, 4200)
		for _, seedLen := range []int{1, 59, 60, 92, 124, 200} {
			src := &Source{IDSeed: randomBytes(rng, seedLen)}
			recs := make([]Record, 0, 17)
			for n := 0; n <= 2100; n++ {
				m := rng.IntN(2101)
				recs = append(recs[:0],
					Record{Offset: rng.Int64(), Line: text[:n]},
					Record{Offset: int64(rng.IntN(1 << 20)), Line: text[4200-m:]})
				if n%2 == 1 {
					recs[0], recs[1] = recs[1], recs[0]
				}
				checkIDs(t, src, recs)
				for len(recs) < cap(recs) {
					m := rng.IntN(2101)
					if n%3 != 0 {
						m = max(0, min(2100, n+rng.IntN(129)-64))
					}
					at := rng.IntN(4200 - m + 1)
					recs = append(recs, Record{Offset: rng.Int64(), Line: text[at : at+m]})
				}
				rng.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
				checkIDs(t, src, recs)
			}
		}
	})
}

// Odd and even batches of lines of mixed lengths, offsets 0 and up; and
// batches around the windows AppendIDs sorts by length (idWindow), of
// lines from empty to over maxCopiedLine, so that the sixteen hashed
// together differ in length as much as a batch can make them.
func TestAppendIDsBatchSizes(t *testing.T) {
	bothPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		src := &Source{IDSeed: []byte("node-a\x002049:1835029:9f86d081884c7d659a2feaa0c55ad015:0")}
		sizes := []int{idWindow - 15, idWindow - 1, idWindow, idWindow + 1, idWindow + 16, 2*idWindow + 1, 700}
		for size := 1; size <= 40; size++ {
			sizes = append(sizes, size)
		}
		for _, size := range sizes {
			recs := make([]Record, size)
			var off int64
			for i := range recs {
				n := rng.IntN(700)
				switch {
				case size > 40 && i%37 == 5:
					n = maxCopiedLine - 2 + rng.IntN(5)
				case size > 40 && i%3 == 1:
					n = rng.IntN(maxCopiedLine + 1)
				}
				recs[i] = Record{Offset: off, Line: randomBytes(rng, n)}
				off += int64(len(recs[i].Line)) + 1
			}
			checkIDs(t, src, recs)
		}
	})
}

// Batches as the tail workload's files give them (bench/workload, W1):
// lines at their byte offsets, a seed like the tailer's.
func TestAppendIDsWorkloadBatches(t *testing.T) {
	bothPaths(t, func(t *testing.T) {
		spec := workload.Default()
		for f := range spec.Files {
			src := &Source{IDSeed: fmt.Appendf(nil, "ip-10-0-12-34.eu-west-1.compute.internal\x002049:%d:9f86d081884c7d659a2feaa0c55ad015:0", 1835029+f)}
			gen := workload.NewGen(spec, f)
			var text []byte
			var off int64
			for range 5 {
				recs := make([]Record, 0, 1001)
				for range cap(recs) - f%2 {
					text = gen.Next(text[:0])
					for line := range bytes.Lines(text) {
						line = bytes.TrimSuffix(line, []byte("\n"))
						recs = append(recs, Record{Offset: off, Line: bytes.Clone(line)})
						off += int64(len(line)) + 1
					}
				}
				checkIDs(t, src, recs)
			}
		}
	})
}

// Where a record gets no id, or the source is numbered, AppendIDs leaves
// the batch to AppendID and AppendNumberedIDs.
func TestAppendIDsDeclines(t *testing.T) {
	bothPaths(t, func(t *testing.T) {
		seeded := &Source{IDSeed: []byte("n\x001:2:fp:0")}
		line := []byte("hello")
		for name, c := range map[string]struct {
			src  *Source
			recs []Record
		}{
			"no records":        {seeded, nil},
			"no seed":           {&Source{}, []Record{{Offset: 1, Line: line}}},
			"an offset below 0": {seeded, []Record{{Offset: 1, Line: line}, {Offset: -1, Line: line}, {Offset: 3, Line: line}}},
			"numbered, gaps":    {&Source{IDKey: mustAES(t), IDConn: 1}, []Record{{Offset: 1}, {Offset: 3}}},
		} {
			dst := []byte("kept")
			got, _, ok := AppendIDs(dst, nil, c.src, c.recs)
			if ok || string(got) != "kept" {
				t.Errorf("%s: ok %v, dst %q; want false, %q", name, ok, got, "kept")
			}
		}
		numbered := &Source{IDKey: mustAES(t), IDConn: 9}
		recs := []Record{{Offset: 7}, {Offset: 8}, {Offset: 9}}
		got, _, ok := AppendIDs(nil, nil, numbered, recs)
		if want := oneByOne(numbered, recs); !ok || !bytes.Equal(got, want) {
			t.Errorf("numbered run: ok %v, ids %q; want true, %q", ok, got, want)
		}
	})
}

func mustAES(t *testing.T) cipher.Block {
	t.Helper()
	k, err := aes.NewCipher([]byte("0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// With dst and scratch kept from the batch before, as the output's
// writer keeps them, a batch's ids allocate nothing.
func TestAppendIDsAllocatesNothing(t *testing.T) {
	bothPaths(t, func(t *testing.T) {
		recs := make([]Record, 101)
		for i := range recs {
			recs[i] = Record{Offset: int64(i) * 400, Line: benchRecord.Line[:180+i]}
		}
		ids, scratch, _ := AppendIDs(nil, nil, benchSource, recs)
		if n := testing.AllocsPerRun(100, func() {
			ids, scratch, _ = AppendIDs(ids[:0], scratch, benchSource, recs)
		}); n != 0 {
			t.Errorf("%.1f allocations per batch of %d records, want 0", n, len(recs))
		}
	})
}

// Lines and seeds from the fuzzer, split into a batch at its choice:
// AppendIDs must give every record the id AppendID gives it.
func FuzzAppendIDs(f *testing.F) {
	f.Add([]byte("n\x001:2:fp:0"), []byte("hello"), uint8(1), int64(10))
	f.Add(make([]byte, 60), make([]byte, 700), uint8(3), int64(0))
	f.Add(make([]byte, 124), make([]byte, 129), uint8(2), int64(1<<62))
	f.Fuzz(func(t *testing.T, seed, text []byte, parts uint8, off int64) {
		if len(seed) == 0 || off < 0 || parts == 0 {
			return
		}
		recs := make([]Record, 0, parts)
		for i := range int(parts) {
			cut := len(text) * (i + 1) / int(parts)
			recs = append(recs, Record{Offset: off + int64(i), Line: text[:cut]})
			text = text[cut:]
		}
		defer func(pairs, lane16 bool) { hashInPairs, hashIn16 = pairs, lane16 }(hashInPairs, hashIn16)
		for _, p := range hashPaths {
			if p.pairs && !sha256x.Supported() || p.lane16 && !sha256x.Supported16() {
				continue
			}
			hashInPairs, hashIn16 = p.pairs, p.lane16
			checkIDs(t, &Source{IDSeed: seed}, recs)
		}
	})
}

// CPU per record of a batch's ids against AppendID one by one, W1's lines
// (bench/RESULTS.md measures the CPU time of the process, not ns/op).
//
//	go test -c -o /tmp/record.test ./agent/record/
//	/tmp/cpu/cpuop.sh /tmp/record.test 'BenchmarkAppendIDs/^x16$' 4000 (÷ 1000 records)
func BenchmarkAppendIDs(b *testing.B) {
	gen := workload.NewGen(workload.Default(), 0)
	src := &Source{IDSeed: []byte("ip-10-0-12-34.eu-west-1.compute.internal\x002049:1835029:9f86d081884c7d659a2feaa0c55ad015:0")}
	recs := make([]Record, 1000)
	var off int64
	for i := range recs {
		line := bytes.TrimSuffix(gen.Next(nil), []byte("\n"))
		recs[i] = Record{Offset: off, Line: line}
		off += int64(len(line)) + 1
	}
	b.Run("one-by-one", func(b *testing.B) {
		b.ReportAllocs()
		var ids []byte
		for b.Loop() {
			ids = ids[:0]
			for i := range recs {
				ids = AppendID(ids, src, &recs[i])
			}
		}
	})
	for _, p := range hashPaths[:3] {
		b.Run(p.name, func(b *testing.B) {
			if p.pairs && !sha256x.Supported() || p.lane16 && !sha256x.Supported16() {
				b.Skip("this CPU lacks the SHA extensions or AVX-512")
			}
			defer func(pairs, lane16 bool) { hashInPairs, hashIn16 = pairs, lane16 }(hashInPairs, hashIn16)
			hashInPairs, hashIn16 = p.pairs, p.lane16
			b.ReportAllocs()
			var ids, scratch []byte
			for b.Loop() {
				ids, scratch, _ = AppendIDs(ids[:0], scratch, src, recs)
			}
		})
	}
}

// Lines longer than AppendIDs copies, among short ones, get their ids,
// and the scratch space it keeps stays at sixteen short messages however
// long the lines (up to a 1 MiB max_line_bytes): a writer keeps it for
// good.
func TestAppendIDsLongLinesKeepScratchSmall(t *testing.T) {
	bothPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(11, 12))
		src := &Source{IDSeed: []byte("node-b\x002049:77:fp:3")}
		recs := make([]Record, 0, 60)
		for i := range cap(recs) {
			n := rng.IntN(600)
			switch i % 7 {
			case 3:
				n = maxCopiedLine + rng.IntN(3)
			case 5:
				n = 1<<20 - rng.IntN(100)
			}
			recs = append(recs, Record{Offset: int64(i) << 20, Line: randomBytes(rng, n)})
		}
		checkIDs(t, src, recs)
		_, scratch, _ := AppendIDs(nil, nil, src, recs)
		if limit := 16 * (maxCopiedLine + 3*sha256x.BlockSize); cap(scratch) > limit {
			t.Errorf("scratch of %d bytes kept, want at most %d", cap(scratch), limit)
		}
	})
}

// putID128 encodes a digest's first 16 bytes as
// base64.RawURLEncoding does, every bit in its place.
func TestPutID128MatchesBase64(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	check := func(hi, lo uint64) {
		t.Helper()
		sum := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, hi), lo)
		want := base64.RawURLEncoding.EncodeToString(sum)
		var id [IDLen]byte
		if putID128(&id, hi, lo); string(id[:]) != want {
			t.Fatalf("%x: id %s, want %s", sum, id, want)
		}
	}
	check(0, 0)
	check(1<<64-1, 1<<64-1)
	for i := range 128 {
		if i < 64 {
			check(1<<i, 0)
		} else {
			check(0, 1<<(i-64))
		}
	}
	for range 1000 {
		check(rng.Uint64(), rng.Uint64())
	}
}

// BatchIDs gives each record of a batch the id AppendID gives it, nil
// where it gives none, whether AppendIDs takes the batch or declines it,
// and allocates nothing once its memory is grown.
func TestBatchIDsMatchAppendID(t *testing.T) {
	bothPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(9, 10))
		seeded := &Source{IDSeed: []byte("node-c\x002049:78:fp:1")}
		numbered := &Source{IDKey: mustAES(t), IDConn: 4}
		lines := func(offs ...int64) []Record {
			recs := make([]Record, len(offs))
			for i, off := range offs {
				recs[i] = Record{Offset: off, Line: randomBytes(rng, rng.IntN(600))}
			}
			return recs
		}
		many := make([]int64, 300)
		for i := range many {
			many[i] = int64(i) * 1000
		}
		cases := []struct {
			name string
			src  *Source
			recs []Record
		}{
			{"seeded", seeded, lines(many...)},
			{"seeded, an offset below 0", seeded, lines(0, 500, -1, 1500)},
			{"no seed", &Source{}, lines(0, 10)},
			{"numbered run", numbered, lines(7, 8, 9, 10)},
			{"numbered, gaps and below 0", numbered, lines(7, 9, -1, 12)},
			{"one record", seeded, lines(42)},
		}
		var ids BatchIDs
		var scratch []byte
		for _, c := range cases {
			scratch = ids.Compute(scratch, c.src, c.recs)
			for i := range c.recs {
				want := AppendID(nil, c.src, &c.recs[i])
				got := ids.At(i)
				if !bytes.Equal(got, want) || (want == nil) != (got == nil) {
					t.Fatalf("%s: record %d: id %q, want %q", c.name, i, got, want)
				}
				if got != nil && cap(got) != IDLen {
					t.Fatalf("%s: record %d: id of capacity %d, want %d", c.name, i, cap(got), IDLen)
				}
			}
		}
		for _, c := range cases {
			// A numbered run's keystream (cipher.NewCTR) costs two
			// allocations a batch, whatever its length.
			want := 0.0
			if c.name == "numbered run" {
				want = 2
			}
			if n := testing.AllocsPerRun(20, func() { scratch = ids.Compute(scratch, c.src, c.recs) }); n != want {
				t.Errorf("%s: %.1f allocations per batch, want %.0f", c.name, n, want)
			}
		}
	})
}
