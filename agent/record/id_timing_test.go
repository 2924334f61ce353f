package record

import (
	"crypto/aes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"testing"
)

// A seed like the tailer's (node, dev:ino:fingerprint:generation) and a
// 270-byte JSON line, as in the tail workload (bench/workload).
var (
	benchSource = &Source{IDSeed: []byte("ip-10-0-12-34.eu-west-1.compute.internal\x002049:1835029:9f86d081884c7d659a2feaa0c55ad015:0")}
	benchRecord = &Record{Offset: 123456789, Line: []byte(`{"level":"info","logger":"http.access","file":3,"seq":123456,"method":"GET","path":"/api/v1/orders/81723","status":200,"latency_ms":12.50,"trace_id":"0af7651916cd43dd8448eb211c80319c","msg":"request served the quick brown fox jumps over the lazy dog while the order","end":123456}`)}
)

// go test -run '^$' -bench 'BenchmarkAppendID' -count 6 -benchmem ./agent/record/ | tee id.txt
func BenchmarkAppendID(b *testing.B) {
	for _, v := range []struct {
		name string
		f    func([]byte, *Source, *Record) []byte
	}{{"sluice=sha256", AppendID}} {
		b.Run(v.name, func(b *testing.B) {
			b.SetBytes(int64(len(benchSource.IDSeed) + 8 + len(benchRecord.Line)))
			b.ReportAllocs()
			dst := make([]byte, 0, IDLen)
			for b.Loop() {
				dst = v.f(dst[:0], benchSource, benchRecord)
			}
		})
	}
}

// A syslog message (~170 bytes): its numbered id (IDKey) and what the
// same record would cost hashed with its line.
func BenchmarkAppendIDNumbered(b *testing.B) {
	r := &Record{Offset: 5, Line: make([]byte, 170)}
	key, err := aes.NewCipher(make([]byte, 16))
	if err != nil {
		b.Fatal(err)
	}
	for name, src := range map[string]*Source{
		"numbered":  {IDKey: key, IDConn: 3},
		"with-line": {IDSeed: make([]byte, 24)},
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			dst := make([]byte, 0, IDLen)
			for b.Loop() {
				dst = AppendID(dst[:0], src, r)
			}
		})
	}
}

// TestAppendIDFormat pins the id format (id.go), recomputed here with
// crypto/sha256 directly.
func TestAppendIDFormat(t *testing.T) {
	long := make([]byte, 70000)
	for i := range long {
		long[i] = byte('a' + i%26)
	}
	for _, n := range []int{0, 1, 15, 16, 17, 200, 1000, len(long)} {
		r := &Record{Offset: int64(n) * 3, Line: long[:n]}
		in := binary.BigEndian.AppendUint32(nil, uint32(len(benchSource.IDSeed)))
		in = append(in, benchSource.IDSeed...)
		in = binary.BigEndian.AppendUint64(in, uint64(r.Offset))
		in = append(in, r.Line...)
		sum := sha256.Sum256(in)
		want := base64.RawURLEncoding.EncodeToString(sum[:16])
		if got := string(AppendID(nil, benchSource, r)); got != want {
			t.Fatalf("line of %d bytes: id %s, want %s", n, got, want)
		}
	}
	// A fixed vector, so a change of the format cannot pass unnoticed.
	if got := string(AppendID(nil, &Source{IDSeed: []byte("n\x001:2:fp:0")}, &Record{Offset: 10, Line: []byte("hello")})); got != idVector {
		t.Fatalf("id %s, want %s", got, idVector)
	}
}

func TestAppendIDAllocatesNothing(t *testing.T) {
	dst := make([]byte, 0, IDLen)
	if n := testing.AllocsPerRun(100, func() { dst = AppendID(dst[:0], benchSource, benchRecord) }); n != 0 {
		t.Fatalf("%v allocations per id", n)
	}
}

const idVector = "UgPNnr88oKjkgi-HlwKFvA" // computed independently with Python hashlib

// TestAppendNumberedIDsMatchAppendID: the batch form gives AppendID's ids,
// and declines what it cannot number as a run.
func TestAppendNumberedIDsMatchAppendID(t *testing.T) {
	key, err := aes.NewCipher([]byte("0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		conn  uint64
		first int64
		n     int
	}{{1, 0, 1}, {3, 5, 9}, {7, 250, 1000}, {1<<64 - 1, 1<<63 - 40, 40}, {1 << 63, 1<<32 - 3, 17}} {
		src := &Source{IDKey: key, IDConn: c.conn}
		recs := make([]Record, c.n)
		for i := range recs {
			recs[i].Offset = c.first + int64(i)
		}
		got, _, ok := AppendNumberedIDs([]byte("x"), nil, src, recs)
		if !ok {
			t.Fatalf("conn %d from %d: declined", c.conn, c.first)
		}
		want := []byte("x")
		for i := range recs {
			want = AppendID(want, src, &recs[i])
		}
		if string(got) != string(want) {
			t.Fatalf("conn %d from %d, %d records: ids differ from AppendID's", c.conn, c.first, c.n)
		}
	}
	decline := func(name string, src *Source, recs []Record) {
		t.Helper()
		if dst, _, ok := AppendNumberedIDs([]byte("x"), nil, src, recs); ok || string(dst) != "x" {
			t.Fatalf("%s: ok=%v dst=%q, want declined and dst unchanged", name, ok, dst)
		}
	}
	numbered := &Source{IDKey: key, IDConn: 1}
	decline("a gap", numbered, []Record{{Offset: 1}, {Offset: 3}})
	decline("no offset", numbered, []Record{{Offset: -1}, {Offset: 0}})
	decline("none", numbered, nil)
	decline("hashed source", benchSource, []Record{{Offset: 1}, {Offset: 2}})
}

// BenchmarkAppendNumberedIDs: the ids of a 1,000-message syslog batch at
// once, against AppendID for each (ns per record).
func BenchmarkAppendNumberedIDs(b *testing.B) {
	key, err := aes.NewCipher(make([]byte, 16))
	if err != nil {
		b.Fatal(err)
	}
	src := &Source{IDKey: key, IDConn: 3}
	recs := make([]Record, 1000)
	for i := range recs {
		recs[i].Offset = 5000 + int64(i)
	}
	dst := make([]byte, 0, len(recs)*IDLen)
	b.Run("batch", func(b *testing.B) {
		b.ReportAllocs()
		var ks []byte
		for b.Loop() {
			dst, ks, _ = AppendNumberedIDs(dst[:0], ks, src, recs)
		}
	})
	b.Run("each", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			dst = dst[:0]
			for i := range recs {
				dst = AppendID(dst, src, &recs[i])
			}
		}
	})
}
