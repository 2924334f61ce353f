package e2e

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/agenttest"
	"github.com/sluicelog/sluice/internal/vlstore"
)

// TestUnfinishedLinesUnderMemoryLimit: many files that each end in a long
// line still being written (no newline yet, or the runtime's partial
// lines without the last) hold that line while they wait for their next
// bytes; peak RSS stays under memory_limit however many files do it.
func TestUnfinishedLinesUnderMemoryLimit(t *testing.T) {
	bin := agenttest.Bin(t, "./cmd/sluice", false)
	t.Parallel()
	// 120 × 200 KiB held took 57-58 MB (either kind) before the
	// unfinished lines were bounded (collector/tail/slots.go). With
	// 700 KiB lines the peak is still 33 MB (bench/RESULTS.md).
	const files, lines, tail = 120, 20, 200 << 10
	s := vlstore.Start(t)
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	require.NoError(t, os.MkdirAll(logs, 0o755))
	var total int64
	for f := range files {
		name := filepath.Join(logs, fmt.Sprintf("unfinished-%d_payments_api-%s.log", f, strings.Repeat("c", 64)))
		writeJSONLines(t, name, lines)
		fh, err := os.OpenFile(name, os.O_APPEND|os.O_WRONLY, 0)
		require.NoError(t, err)
		w := bufio.NewWriter(fh)
		if f%2 == 0 {
			fmt.Fprintf(w, `2026-12-07T03:00:01.000000000Z stdout F {"msg":"%s`, strings.Repeat("y", tail))
		} else {
			// As the runtime writes a long line whose end has not come:
			// partial lines of 16 KiB.
			for range tail / (16 << 10) {
				fmt.Fprintf(w, "2026-12-07T03:00:01.000000000Z stdout P %s\n", strings.Repeat("y", 16<<10))
			}
		}
		require.NoError(t, w.Flush())
		require.NoError(t, fh.Close())
		fi, err := os.Stat(name)
		require.NoError(t, err)
		total += fi.Size()
	}
	a := startTailingAt32MiB(t, bin, s, dir, "unfinished", "")
	got := waitForCount(t, s, a, files*lines, 3*time.Minute)
	base := a.APIURL(t, 1)
	deadline := time.Now().Add(time.Minute)
	for metricValue(t, base, "sluice_input_bytes_total") < float64(total) {
		require.True(t, time.Now().Before(deadline), "read %v of %d bytes", metricValue(t, base, "sluice_input_bytes_total"), total)
		time.Sleep(50 * time.Millisecond) // poll interval
	}
	hwm, err := procMemKiB(a.Pid(), "VmHWM")
	require.NoError(t, err)
	t.Logf("peak RSS %d KiB with %d files each holding a %d KiB unfinished line (half in partial lines); %d rows", hwm, files, tail>>10, got)
	require.Less(t, hwm, int64(32<<10), "peak RSS (KiB) over memory_limit")
}
