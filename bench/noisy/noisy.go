// Package noisy measures noisy neighbours: noisy pods with a
// backlog of pre-written lines in one namespace, quiet pods writing a few
// lines a second in another, behind a store that is the bottleneck. It
// reports how many quiet lines arrive within the window and their delivery
// latency, and whether every line arrived exactly once.
package noisy

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Options describe one run.
type Options struct {
	Agent      string // the sluice binary
	Dir        string // work directory (logs, data, config)
	NoisyPods  int
	NoisyLines int     // pre-written per noisy pod
	NoisyRate  float64 // lines per second per noisy pod written during the window; 0: none
	QuietPods  int
	QuietRate  float64       // lines per second per quiet pod
	Window     time.Duration // quiet pods write for this long
	Delay      time.Duration // the store's time per bulk request
	MaxBytes   string        // bulk.max_bytes
	Flush      time.Duration // bulk.flush_interval; 0: 1s
	FairShare  string        // the input's fair_share value, "" = off
	Drain      bool          // after the window, wait for every line
	// Starve stops the agent this fraction of every 20 ms (SIGSTOP,
	// SIGCONT): a machine whose other processes leave the agent that
	// little CPU, without burning any. 0: never.
	Starve     float64
	DrainLimit time.Duration
	Log        func(format string, args ...any)
}

// Result is what the store saw.
type Result struct {
	QuietWritten, QuietInWindow  int
	NoisyWritten                 int           // every noisy pod's lines, pre-written and live
	NoisyWriteRate               float64       // live noisy lines written per second in the window, all noisy pods
	QuietP50, QuietP99, QuietMax time.Duration // latency of the quiet lines that arrived in the window
	QuietP90                     time.Duration
	NoisyInWindow                int
	DocsPerSec                   float64       // documents stored per second during the window
	Drained                      bool          // every line arrived (Drain)
	QuietAllP50, QuietAllP99     time.Duration // latency of every quiet line (Drain)
	DrainTime                    time.Duration
	DrainRate                    float64 // every line over DrainTime: the run's throughput (Drain)
	Missing, Duplicates, Bad     int
	Requests                     int
	// QuietOvertaken is the p99, over every quiet line (Drain), of the
	// noisy documents stored while it waited (after it was written, in
	// an earlier request than its own): the noisy backlog it waited
	// behind, counted in documents, not seconds, so it does not depend on
	// how fast a busy machine runs the agent.
	QuietOvertaken int
}

func (r Result) String() string {
	s := fmt.Sprintf("quiet %d/%d lines in the window, latency p50 %.2fs p90 %.2fs p99 %.2fs max %.2fs; noisy %d lines in the window (%d written); %.0f docs/s; %d bulk requests",
		r.QuietInWindow, r.QuietWritten, r.QuietP50.Seconds(), r.QuietP90.Seconds(), r.QuietP99.Seconds(), r.QuietMax.Seconds(), r.NoisyInWindow, r.NoisyWritten, r.DocsPerSec, r.Requests)
	if r.Drained || r.Missing > 0 || r.Duplicates > 0 {
		s += fmt.Sprintf("; drained in %.1fs (%.0f docs/s): %d missing, %d duplicates, %d bad; every quiet line: p50 %.2fs p99 %.2fs, overtaken by %d noisy (p99)",
			r.DrainTime.Seconds(), r.DrainRate, r.Missing, r.Duplicates, r.Bad, r.QuietAllP50.Seconds(), r.QuietAllP99.Seconds(), r.QuietOvertaken)
		if r.NoisyWriteRate > 0 && r.DrainRate > 0 {
			// The store's capacity is what the drain reached.
			s += fmt.Sprintf("; noisy wrote %.0f lines/s live, %.1f× that", r.NoisyWriteRate, r.NoisyWriteRate/r.DrainRate)
		}
	}
	return s
}

const cid = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func logPath(dir, pod, ns string) string {
	return filepath.Join(dir, fmt.Sprintf("%s_%s_app-%s.log", pod, ns, cid))
}

// criLine is one kubelet CRI line whose message is "<pod> <seq> <nanos> pad".
func criLine(pod string, seq int, at int64, pad string) string {
	return fmt.Sprintf("2026-12-06T10:00:00.000000000Z stdout F %s %d %d %s\n", pod, seq, at, pad)
}

// Run runs the agent on a fresh directory and measures.
func Run(ctx context.Context, o Options) (Result, error) {
	logf := o.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	logs, data := filepath.Join(o.Dir, "logs"), filepath.Join(o.Dir, "data")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return Result{}, err
	}
	pad := strings.Repeat("x", 60)
	for p := range o.NoisyPods {
		var b strings.Builder
		pod := fmt.Sprintf("noisy-%d", p)
		for i := range o.NoisyLines {
			b.WriteString(criLine(pod, i, 0, pad))
		}
		if err := os.WriteFile(logPath(logs, pod, "noisy"), []byte(b.String()), 0o644); err != nil {
			return Result{}, err
		}
	}
	store := newSlowStore(o.Delay)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Result{}, err
	}
	srv := &http.Server{Handler: store}
	go srv.Serve(ln)
	defer srv.Close()

	flush := o.Flush
	if flush == 0 {
		flush = time.Second
	}
	fair := ""
	if o.FairShare != "" {
		fair = ", fair_share: " + o.FairShare
	}
	cfg := fmt.Sprintf(`node_name: bench
data_dir: %s
memory_limit: 256MiB
http: { listen: "" }
kubernetes: { enabled: false }
inputs:
  - { name: containers, type: container_logs, paths: ["%s/*.log"], start_at: head, poll_interval: 100ms%s }
outputs:
  - name: es
    type: elasticsearch
    urls: ["http://%s"]
    index: noisy-bench
    bulk: { max_bytes: %s, flush_interval: %s, workers: 2, compress: false }
`, data, logs, fair, ln.Addr(), o.MaxBytes, flush)
	cfgPath := filepath.Join(o.Dir, "sluice.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return Result{}, err
	}
	agentLog, err := os.Create(filepath.Join(o.Dir, "agent.log"))
	if err != nil {
		return Result{}, err
	}
	defer agentLog.Close()
	cmd := exec.CommandContext(ctx, o.Agent, "-config", cfgPath)
	cmd.Stdout, cmd.Stderr = agentLog, agentLog
	if err := cmd.Start(); err != nil {
		return Result{}, err
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	logf("agent started; quiet pods write for %s", o.Window)
	if o.Starve > 0 {
		sctx, stop := context.WithCancel(ctx)
		defer stop()
		go starve(sctx, cmd.Process, o.Starve)
	}

	start := time.Now()
	live := make(chan int, 1)
	go func() { live <- writeNoisy(ctx, logs, o) }()
	written := writeQuiet(ctx, logs, o)
	noisyLines := o.NoisyLines + <-live
	if ctx.Err() != nil {
		return Result{}, ctx.Err()
	}
	end := time.Now()
	res := measure(store, o, written, start, end)
	res.NoisyWritten = noisyLines * o.NoisyPods
	res.NoisyWriteRate = float64((noisyLines-o.NoisyLines)*o.NoisyPods) / end.Sub(start).Seconds()
	if !o.Drain {
		return res, nil
	}
	want := o.NoisyPods*noisyLines + written*o.QuietPods
	deadline := time.Now().Add(o.DrainLimit)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for store.count() < want && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-tick.C:
		}
	}
	res.DrainTime = time.Since(start)
	res.DrainRate = float64(store.count()) / res.DrainTime.Seconds()
	res.Missing, res.Duplicates, res.Bad = store.missing(o, noisyLines, written)
	res.Drained = res.Missing == 0
	res.QuietAllP50, res.QuietAllP99 = store.quietLatency()
	res.QuietOvertaken = store.quietOvertaken()
	return res, nil
}

// writeQuiet writes the quiet pods' lines at their rate for the window
// and returns how many each wrote.
func writeQuiet(ctx context.Context, logs string, o Options) int {
	files := make([]*os.File, o.QuietPods)
	for p := range files {
		f, err := os.OpenFile(logPath(logs, fmt.Sprintf("quiet-%d", p), "quiet"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return 0
		}
		defer f.Close()
		files[p] = f
	}
	every := time.Duration(float64(time.Second) / o.QuietRate)
	tick := time.NewTicker(every)
	defer tick.Stop()
	stop := time.After(o.Window)
	n := 0
	for {
		select {
		case <-ctx.Done():
			return n
		case <-stop:
			return n
		case <-tick.C:
			for p, f := range files {
				_, _ = f.WriteString(criLine(fmt.Sprintf("quiet-%d", p), n, time.Now().UnixNano(), "q"))
			}
			n++
		}
	}
}

// starve stops p for fraction f of every 20 ms until ctx ends, and leaves
// it running.
func starve(ctx context.Context, p *os.Process, f float64) {
	const cycle = 20 * time.Millisecond
	off := time.Duration(f * float64(cycle))
	defer p.Signal(syscall.SIGCONT)
	for ctx.Err() == nil {
		_ = p.Signal(syscall.SIGSTOP)
		time.Sleep(off)
		_ = p.Signal(syscall.SIGCONT)
		time.Sleep(cycle - off)
	}
}

// writeNoisy appends NoisyRate lines a second to each noisy pod's file
// for the window, after its pre-written ones, in one write per pod every
// 10 ms (a pod logging as fast as it can, paced to a known rate), and
// returns how many each wrote.
func writeNoisy(ctx context.Context, logs string, o Options) int {
	if o.NoisyRate <= 0 || o.NoisyPods == 0 {
		return 0
	}
	files := make([]*os.File, o.NoisyPods)
	for p := range files {
		f, err := os.OpenFile(logPath(logs, fmt.Sprintf("noisy-%d", p), "noisy"), os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return 0
		}
		defer f.Close()
		files[p] = f
	}
	pad := strings.Repeat("x", 60)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	stop := time.After(o.Window)
	n := 0
	var b []byte
	for {
		select {
		case <-ctx.Done():
			return n
		case <-stop:
			return n
		case <-tick.C:
		}
		due := int(o.NoisyRate * time.Since(start).Seconds())
		for p, f := range files {
			b = b[:0]
			for i := n; i < due; i++ {
				b = fmt.Appendf(b, "2026-12-06T10:00:00.000000000Z stdout F noisy-%d %d 0 %s\n", p, o.NoisyLines+i, pad)
			}
			_, _ = f.Write(b)
		}
		n = max(n, due)
	}
}

func (s *slowStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range s.arrived {
		n += len(m)
	}
	return n
}

// missing counts the lines that never arrived.
func (s *slowStore) missing(o Options, noisy, quiet int) (missing, dups, bad int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	check := func(pod string, n int) {
		for i := range n {
			if _, ok := s.arrived[pod][i]; !ok {
				missing++
			}
		}
	}
	for p := range o.NoisyPods {
		check(fmt.Sprintf("noisy-%d", p), noisy)
	}
	for p := range o.QuietPods {
		check(fmt.Sprintf("quiet-%d", p), quiet)
	}
	return missing, s.dups, s.bad
}

// measure reads the store at the end of the window.
func measure(s *slowStore, o Options, quiet int, start, end time.Time) Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := Result{QuietWritten: quiet * o.QuietPods, Requests: s.requests}
	var lat []time.Duration
	docs := 0
	for pod, m := range s.arrived {
		for seq, at := range m {
			if at.After(end) {
				continue
			}
			docs++
			if strings.HasPrefix(pod, "quiet-") {
				r.QuietInWindow++
				lat = append(lat, at.Sub(time.Unix(0, s.written[pod][seq])))
			} else {
				r.NoisyInWindow++
			}
		}
	}
	r.DocsPerSec = float64(docs) / end.Sub(start).Seconds()
	slices.Sort(lat)
	if len(lat) > 0 {
		r.QuietP50 = lat[len(lat)/2]
		r.QuietP99 = lat[min(len(lat)*99/100, len(lat)-1)]
		r.QuietMax = lat[len(lat)-1]
		r.QuietP90 = lat[min(len(lat)*90/100, len(lat)-1)]
	}
	return r
}

// quietLatency is the p50 and p99 delivery latency of every quiet line
// that arrived.
func (s *slowStore) quietLatency() (p50, p99 time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var lat []time.Duration
	for pod, m := range s.arrived {
		if !strings.HasPrefix(pod, "quiet-") {
			continue
		}
		for seq, at := range m {
			lat = append(lat, at.Sub(time.Unix(0, s.written[pod][seq])))
		}
	}
	if len(lat) == 0 {
		return 0, 0
	}
	slices.Sort(lat)
	return lat[len(lat)/2], lat[min(len(lat)*99/100, len(lat)-1)]
}

// quietOvertaken is the p99 over the quiet lines that arrived of the
// noisy documents stored between the line's write and its own request.
func (s *slowStore) quietOvertaken() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var noisy []time.Time // arrival of every noisy document, sorted
	for pod, m := range s.arrived {
		if strings.HasPrefix(pod, "noisy-") {
			for _, at := range m {
				noisy = append(noisy, at)
			}
		}
	}
	slices.SortFunc(noisy, time.Time.Compare)
	// The first noisy document stored at or after t.
	from := func(t time.Time) int {
		i, _ := slices.BinarySearchFunc(noisy, t, time.Time.Compare)
		return i
	}
	var over []int
	for pod, m := range s.arrived {
		if !strings.HasPrefix(pod, "quiet-") {
			continue
		}
		for seq, at := range m {
			over = append(over, max(0, from(at)-from(time.Unix(0, s.written[pod][seq]))))
		}
	}
	if len(over) == 0 {
		return 0
	}
	slices.Sort(over)
	return over[min(len(over)*99/100, len(over)-1)]
}
