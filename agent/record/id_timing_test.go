package record

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"testing"
)

// appendIDStreaming is the first AppendID (SHA-256, a new digest per
// record), kept as the baseline.
func appendIDStreaming(dst []byte, src *Source, r *Record) []byte {
	h := sha256.New()
	h.Write(src.IDSeed)
	var off [8]byte
	binary.BigEndian.PutUint64(off[:], uint64(r.Offset))
	h.Write(off[:])
	h.Write(r.Line)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return base64.RawURLEncoding.AppendEncode(dst, sum[:16])
}

// A seed like the tailer's (node, dev:ino:fingerprint:generation) and a
// 270-byte JSON line, as in the issue-9 workload.
var (
	benchSource = &Source{IDSeed: []byte("ip-10-0-12-34.eu-west-1.compute.internal\x002049:1835029:9f86d081884c7d659a2feaa0c55ad015:0")}
	benchRecord = &Record{Offset: 123456789, Line: []byte(`{"level":"info","logger":"http.access","file":3,"seq":123456,"method":"GET","path":"/api/v1/orders/81723","status":200,"latency_ms":12.50,"trace_id":"0af7651916cd43dd8448eb211c80319c","msg":"request served the quick brown fox jumps over the lazy dog while the order","end":123456}`)}
)

// go test -run '^$' -bench 'BenchmarkAppendID' -count 6 -benchmem ./agent/record/ | tee id.txt
func BenchmarkAppendID(b *testing.B) {
	for _, v := range []struct {
		name string
		f    func([]byte, *Source, *Record) []byte
	}{{"sluice=gmac", AppendID}, {"baseline=sha256", appendIDStreaming}} {
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

// TestAppendIDFormat pins the id format (id.go): GMAC under the zero key
// and nonce, recomputed here from crypto/cipher directly.
func TestAppendIDFormat(t *testing.T) {
	block, _ := aes.NewCipher(make([]byte, 16))
	gcm, _ := cipher.NewGCM(block)
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
		want := base64.RawURLEncoding.EncodeToString(gcm.Seal(nil, make([]byte, 12), nil, in))
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
	if raceEnabled {
		t.Skip("sync.Pool drops items under -race")
	}
	dst := make([]byte, 0, IDLen)
	if n := testing.AllocsPerRun(100, func() { dst = AppendID(dst[:0], benchSource, benchRecord) }); n != 0 {
		t.Fatalf("%v allocations per id", n)
	}
}

const idVector = "kid1OxE2nfCkK8Cxh8tM0w"
