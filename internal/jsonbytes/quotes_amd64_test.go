//go:build amd64 && !purego

package jsonbytes

import (
	"strings"
	"testing"
)

// withoutQuoteBits runs f with classify making no quote bitmap, as on a
// machine without AVX2.
func withoutQuoteBits(f func()) {
	saved := haveAVX2
	haveAVX2 = false
	defer func() { haveAVX2 = saved }()
	f()
}

// TestWalkCompactTakesW1 checks that the compact walk, not the Go walk
// after it, answers for a line of the tail workload, and notes its keys.
func TestWalkCompactTakesW1(t *testing.T) {
	line := []byte(`{"level":"warn","logger":"http.access","file":0,"seq":-12,"method":"POST","status":300,"latency_ms":131.49,"ok":true,"err":null,"retry":false,"msg":"served","end":0}`)
	q := quoteBitsBytes(line)
	var spans [16]uint32
	n, end, _, _, _ := walkCompact(line, &q, &spans)
	if end != len(line)-1 || n != 12 {
		t.Fatalf("walkCompact: %d keys, end %d; want 12, %d", n, end, len(line)-1)
	}
	var keys []string
	for _, s := range spans[:n] {
		keys = append(keys, string(line[s>>16:s&0xffff]))
	}
	if got := strings.Join(keys, ","); got != "level,logger,file,seq,method,status,latency_ms,ok,err,retry,msg,end" {
		t.Fatalf("keys %s", got)
	}
}
