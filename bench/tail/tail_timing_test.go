// Package tailbench measures collector/tail on its own: a sink that acks
// every batch at once, a real checkpoint store, real files on disk. The
// figures go in bench/RESULTS.md: lines/s and CPU per million
// lines for one file and for 1,000 files, and the open handles with 5,000
// idle files.
package tailbench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/checkpoint"
	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/fairshare"
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/collector/tail"
)

// countSink counts records and acks each batch at once; done closes when
// want records have arrived.
type countSink struct {
	n    atomic.Int64
	want int64
	done chan struct{}
	once sync.Once
}

func newCountSink(want int) *countSink {
	return &countSink{want: int64(want), done: make(chan struct{})}
}

func (s *countSink) Push(_ context.Context, b *record.Batch) error {
	n := s.n.Add(int64(len(b.Records)))
	b.Done()
	if n >= s.want {
		s.once.Do(func() { close(s.done) })
	}
	return nil
}

const containerID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// writeFiles creates n kubelet-named CRI files of lines lines each (7 in 10
// JSON, the rest text) and returns their total size.
func writeFiles(tb testing.TB, dir string, n, lines int) int64 {
	tb.Helper()
	require.NoError(tb, os.MkdirAll(dir, 0o755))
	ts := time.Date(2026, 11, 25, 10, 0, 0, 123456789, time.UTC)
	var total int64
	var buf []byte
	for i := range n {
		buf = buf[:0]
		for j := range lines {
			buf = ts.Add(time.Duration(j)*time.Millisecond).AppendFormat(buf, time.RFC3339Nano)
			if j%10 < 7 {
				buf = append(buf, ` stdout F {"level":"info","msg":"handled request`...)
				buf = strconv.AppendInt(buf, int64(j), 10)
				buf = append(buf, `","path":"/api/v1/orders","status":200,"duration_ms":12}`...)
			} else {
				buf = append(buf, " stderr F GET /api/v1/orders?id="...)
				buf = strconv.AppendInt(buf, int64(j), 10)
				buf = append(buf, " 200 12ms user=alice"...)
			}
			buf = append(buf, '\n')
		}
		name := fmt.Sprintf("app-%d-7d9f8c6b5-x2x9q_bench_app-%s.log", i, containerID)
		require.NoError(tb, os.WriteFile(filepath.Join(dir, name), buf, 0o644))
		total += int64(len(buf))
	}
	return total
}

func inputConfig(dir string, maxOpen int, closeInactive time.Duration) config.Input {
	return config.Input{
		Name:          "containers",
		Type:          "container_logs",
		Paths:         []string{filepath.Join(dir, "*.log")},
		StartAt:       "head",
		PollInterval:  config.Duration(20 * time.Millisecond),
		MaxLineBytes:  1 << 20,
		BatchBytes:    64 << 10,
		CloseInactive: config.Duration(closeInactive),
		MaxOpenFiles:  maxOpen,
	}
}

// running is one tailer at work.
type running struct {
	cancel context.CancelFunc
	done   chan struct{}
	store  *checkpoint.Store
}

func startTailer(tb testing.TB, cfg config.Input, sink tail.Sink, tune ...func(*tail.Tailer)) *running {
	tb.Helper()
	store, err := checkpoint.Open(tb.TempDir())
	require.NoError(tb, err)
	tl := tail.New(cfg, "bench-node", sink, store, slog.New(slog.DiscardHandler))
	for _, f := range tune {
		f(tl)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan struct{}), store: store}
	go func() {
		defer close(r.done)
		_ = tl.Run(ctx)
	}()
	return r
}

func (r *running) stop(tb testing.TB) {
	tb.Helper()
	r.cancel()
	<-r.done
	require.NoError(tb, r.store.Close())
}

// cpuSeconds is the user+system CPU time of the process so far.
func cpuSeconds(tb testing.TB) float64 {
	tb.Helper()
	var ru syscall.Rusage
	require.NoError(tb, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// BenchmarkTail reads files from their head to the last line, with a fresh
// checkpoint store each time. One op is every line of every file. fair=on
// admits every batch through fair_share's scheduler (a budget the sink never
// fills: the cost of admission alone).
//
//	go test -run '^$' -bench 'BenchmarkTail$' -benchtime 5x -count 6 -cpu 2 ./bench/tail/ | tee tail.txt
func BenchmarkTail(b *testing.B) {
	for _, tc := range []struct {
		files, lines int
		fair         bool
	}{
		{1, 200_000, false},
		{1000, 200, false},
		{1, 200_000, true},
		{1000, 200, true},
	} {
		name := fmt.Sprintf("files=%d/lines=%d", tc.files, tc.files*tc.lines)
		var tune []func(*tail.Tailer)
		if tc.fair {
			name += "/fair=on"
			tune = append(tune, func(t *tail.Tailer) {
				t.ShareFairly(fairshare.New(10<<20), fairshare.Policy{By: "namespace"})
			})
		}
		b.Run(name, func(b *testing.B) {
			dir := filepath.Join(b.TempDir(), "logs")
			size := writeFiles(b, dir, tc.files, tc.lines)
			total := tc.files * tc.lines
			cfg := inputConfig(dir, 1024, 5*time.Minute)
			b.SetBytes(size)
			cpu0 := cpuSeconds(b)
			for b.Loop() {
				sink := newCountSink(total)
				r := startTailer(b, cfg, sink, tune...)
				<-sink.done
				r.stop(b)
			}
			cpu := cpuSeconds(b) - cpu0
			lines := float64(b.N) * float64(total)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/lines, "ns/line")
			b.ReportMetric(lines/b.Elapsed().Seconds(), "lines/s")
			b.ReportMetric(cpu/lines*1e6, "cpu-s/Mlines")
		})
	}
}

// openFDs counts the entries of /proc/self/fd (the directory's own handle
// included).
func openFDs(tb testing.TB) int {
	tb.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	require.NoError(tb, err)
	return len(ents)
}

const (
	idleFiles         = 5000
	idleMaxOpen       = 256
	idleCloseInactive = 200 * time.Millisecond
	// fdSlack covers the handles of the tailer itself (inotify, the data
	// dir lock) and of the runtime that come and go.
	fdSlack = 16
)

// idleReadWait bounds the wait for every line: a hang, not a speed (a
// loaded 2-core machine under -race took over 15 s).
const idleReadWait = 2 * time.Minute

// idleHandles follows files idle files until every line is read and the
// tailer has settled past close_inactive. It returns the handles open
// above the baseline at the peak and once settled.
func idleHandles(tb testing.TB, files int) (peak, settled int) {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "logs")
	writeFiles(tb, dir, files, 2)
	base := openFDs(tb)
	sink := newCountSink(files * 2)
	r := startTailer(tb, inputConfig(dir, idleMaxOpen, idleCloseInactive), sink)
	defer r.stop(tb)

	var maxSeen atomic.Int64
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if ents, err := os.ReadDir("/proc/self/fd"); err == nil && int64(len(ents)) > maxSeen.Load() {
				maxSeen.Store(int64(len(ents)))
			}
			select {
			case <-stopSampling:
				return
			case <-time.After(5 * time.Millisecond): // sampling period
			}
		}
	}()
	select {
	case <-sink.done:
	case <-time.After(idleReadWait):
		tb.Errorf("read %d of %d lines of %d idle files in %v", sink.n.Load(), files*2, files, idleReadWait)
	}
	// Settle: every file is idle now; wait past close_inactive for the
	// handles to go.
	deadline := time.Now().Add(idleCloseInactive + 2*time.Second)
	for openFDs(tb)-base > fdSlack && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond) // poll interval
	}
	close(stopSampling)
	<-sampled
	return int(maxSeen.Load()) - base, openFDs(tb) - base
}

// TestIdleHandlesBounded: with 5,000 idle files, the tailer never holds
// more than max_open_files handles (plus its own few), and once every file
// has been idle for close_inactive it holds none of them. A bound, not a
// speed.
//
//	go test -run '^TestIdleHandlesBounded$' -v ./bench/tail/
func TestIdleHandlesBounded(t *testing.T) {
	peak, settled := idleHandles(t, idleFiles)
	t.Logf("%d idle files, max_open_files %d, close_inactive %v: peak %d handles above the baseline, %d once settled",
		idleFiles, idleMaxOpen, idleCloseInactive, peak, settled)
	require.LessOrEqual(t, peak, idleMaxOpen+fdSlack, "handles open at the peak")
	require.LessOrEqual(t, settled, fdSlack, "handles open once every file is idle")
}

// BenchmarkIdleHandles reports the handles of TestIdleHandlesBounded as
// metrics: open-fds at the peak and once settled, above the baseline.
//
//	go test -run '^$' -bench 'BenchmarkIdleHandles' -benchtime 1x -count 3 ./bench/tail/
func BenchmarkIdleHandles(b *testing.B) {
	var peak, settled int
	for b.Loop() {
		peak, settled = idleHandles(b, idleFiles)
	}
	b.ReportMetric(float64(peak), "peak-fds")
	b.ReportMetric(float64(settled), "settled-fds")
	b.ReportMetric(float64(idleFiles), "files")
}
