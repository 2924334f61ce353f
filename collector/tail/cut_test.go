package tail

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/config"
)

// Cutting a read into records, parsing CRI lines and joining partials
// allocates nothing once the reader's batch and join buffers exist: it
// runs for every line the agent tails.
func TestCutLinesAllocatesNothing(t *testing.T) {
	in := config.Input{Name: "containers", Type: "container_logs", MaxLineBytes: 4096, BatchBytes: 64 << 10}
	tl := New(in, "node-1", nil, nil, slog.New(slog.DiscardHandler))
	r := &fileReader{
		t: tl, path: "/var/log/pods/ns_pod_uid/app/0.log",
		asm:  newAssembler(int(in.MaxLineBytes), tl.now, &tl.stats, nil),
		acks: newWatermark(),
	}
	r.newSource()
	msg := `{"level":"info","msg":"request served","path":"/api/v1/items","status":200,"duration_ms":12}`
	var lines []string
	for i := range 100 {
		if i%10 == 9 {
			lines = append(lines, criLine("stderr", "P", "first half "), criLine("stderr", "F", "second half"))
			continue
		}
		lines = append(lines, criLine("stdout", "F", msg))
	}
	data := []byte(strings.Join(lines, "\n") + "\n" + criLine("stdout", "F", "unfinished"))
	cut := func() int {
		if r.b != nil {
			r.b.Records, r.b.Buf = r.b.Records[:0], r.b.Buf[:0]
		}
		r.buf = append(r.buf[:0], data...)
		return r.cutLines(0)
	}
	require.Equal(t, len(data)-len(criLine("stdout", "F", "unfinished")), cut(), "the unfinished line stays")
	require.Len(t, r.b.Records, 100)
	require.Equal(t, msg, string(r.b.Records[0].Line))
	require.Equal(t, "first half second half", string(r.b.Records[9].Line))
	require.Equal(t, int64(110), tl.stats.Lines.Load())
	require.Zero(t, testing.AllocsPerRun(100, func() { cut() }))
	require.Equal(t, int64(110*102), tl.stats.Lines.Load(), "physical lines, each counted once")
}
