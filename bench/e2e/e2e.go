// Package e2e runs the agent binary end to end on the tail workload
// (bench/workload): it generates (or reuses) the workload, starts the fake bulk sink,
// runs the agent from the head of the files into the sink, and measures the
// agent process alone.
package e2e

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sluicelog/sluice/bench/sink"
	"github.com/sluicelog/sluice/bench/workload"
)

// Options configure one run.
type Options struct {
	Agent       string        // path of the sluice binary
	Spec        workload.Spec // the workload
	CacheDir    string        // where workloads are kept between runs
	Timeout     time.Duration // give up after this long
	CPUProfile  string        // SLUICE_CPUPROFILE for the agent, if set
	MemProfile  string        // SLUICE_MEMPROFILE for the agent, if set
	MemoryLimit string        // the agent's memory_limit (default 256MiB)
	MaxBytes    string        // the output's bulk.max_bytes (default: unset, sized from memory_limit)
	// Output is the output's type: elasticsearch (the default) or otlp,
	// both to the sink, or kafka, to a kfake broker whose records the
	// sink reads back (kafka.go).
	Output string
	// Compression is the kafka output's compression (default snappy).
	Compression string
	// Kube runs a real kube-apiserver with the workload's pods, and the
	// agent with Kubernetes enrichment from its informer cache.
	Kube bool
	// FairShare is the input's fair_share value ("" = off), for the cost
	// of the scheduler.
	FairShare string
	Log       func(format string, args ...any)
}

// Result is what one run measured.
type Result struct {
	Records      int
	Bytes        int64
	Elapsed      time.Duration // agent start to the last record in the sink
	CPU          time.Duration // user+sys of the agent at that moment (/proc/<pid>/stat)
	CPUTotal     time.Duration // user+sys of the agent including shutdown (wait4)
	PeakRSSBytes int64         // VmHWM just before shutdown
	// Mallocs is the agent's go_memstats_mallocs_total at the last record
	// less its value in the first /metrics answer (start-up excluded);
	// MallocsErr says why it is missing when it is. EarlyRecords is
	// sluice_input_records_total in that first answer: records the inputs
	// had taken already, whose reading is not in Mallocs.
	Mallocs      int64
	MallocsErr   string
	EarlyRecords int64
	Sink         sink.Report
}

// RecordsPerSec is the end-to-end rate.
func (r Result) RecordsPerSec() float64 { return float64(r.Records) / r.Elapsed.Seconds() }

// CPUPerMillion is CPU-seconds per million records, to the last record.
func (r Result) CPUPerMillion() float64 { return r.CPU.Seconds() / float64(r.Records) * 1e6 }

// AllocsPerRecord is the agent's heap allocations (objects) per record,
// from its first /metrics answer to the last record; valid when
// MallocsErr is "".
func (r Result) AllocsPerRecord() float64 { return float64(r.Mallocs) / float64(r.Records) }

func (r Result) String() string {
	allocs := "n/a (" + r.MallocsErr + ")"
	if r.MallocsErr == "" {
		allocs = fmt.Sprintf("%.3f (go_memstats_mallocs_total, from the agent's first /metrics answer to the last record; %s objects",
			r.AllocsPerRecord(), thousands(r.Mallocs))
		if r.EarlyRecords > 0 {
			allocs += fmt.Sprintf("; the inputs had taken %s records by that answer", thousands(r.EarlyRecords))
		}
		allocs += ")"
	}
	return fmt.Sprintf("records:        %d (%.0f MB)\n"+
		"elapsed:        %.2fs\n"+
		"records/s:      %.0f\n"+
		"CPU-s/million:  %.2f (user+sys %.2fs to the last record; %.2fs with shutdown)\n"+
		"peak RSS:       %.1f MB (VmHWM)\n"+
		"allocs/record:  %s\n"+
		"enriched:       %d documents with kubernetes.pod_id\n"+
		"correctness:    %s",
		r.Records, float64(r.Bytes)/1e6, r.Elapsed.Seconds(), r.RecordsPerSec(),
		r.CPUPerMillion(), r.CPU.Seconds(), r.CPUTotal.Seconds(),
		float64(r.PeakRSSBytes)/1e6, allocs, r.Sink.Enriched, r.Sink)
}

// thousands formats n with commas: 123,456.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Prepare returns the directory holding spec's files, generating it the
// first time.
func Prepare(cacheDir string, spec workload.Spec) (string, int64, error) {
	dir := filepath.Join(cacheDir, spec.Key())
	logs := filepath.Join(dir, "containers")
	marker := filepath.Join(dir, "complete")
	if _, err := os.Stat(marker); err != nil {
		os.RemoveAll(dir)
		if err := spec.Write(logs); err != nil {
			return "", 0, err
		}
		if err := os.WriteFile(marker, nil, 0o644); err != nil {
			return "", 0, err
		}
	}
	var size int64
	ents, err := os.ReadDir(logs)
	if err != nil {
		return "", 0, err
	}
	for _, e := range ents {
		if fi, err := e.Info(); err == nil {
			size += fi.Size()
		}
	}
	return logs, size, nil
}

const config = `node_name: ` + nodeName + `
data_dir: %s
memory_limit: %s
http: { listen: "%s" }
inputs:
  - { name: containers, type: container_logs, paths: ["%s/*.log"], start_at: head%s }
%s
transforms:
  - { type: json, field: log }
outputs:
  - name: es
    type: elasticsearch
    urls: ["%s"]
    index: "logs-{kubernetes.namespace_name}-%%Y.%%m.%%d"
    bulk: { %sflush_interval: 1s, workers: 2, compress: false }
`

// otlpOutput replaces the outputs of config for Options.Output otlp.
const otlpOutput = `outputs:
  - name: otlp
    type: otlp
    endpoint: "%s/v1/logs"
    bulk: { %sflush_interval: 1s, workers: 2 }
`

// Run runs the agent once on a fresh data_dir.
func Run(ctx context.Context, o Options) (Result, error) {
	logf := o.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	logf("workload %s in %s", o.Spec.Key(), o.CacheDir)
	logs, size, err := Prepare(o.CacheDir, o.Spec)
	if err != nil {
		return Result{}, fmt.Errorf("workload: %w", err)
	}
	work, err := os.MkdirTemp("", "sluice-bench-run-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(work)

	sk := sink.New(o.Spec)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Result{}, err
	}
	srv := &http.Server{Handler: sk}
	go srv.Serve(ln)
	defer srv.Close()

	cfgPath := filepath.Join(work, "sluice.yaml")
	limit := o.MemoryLimit
	if limit == "" {
		limit = "256MiB"
	}
	maxBytes := o.MaxBytes
	if maxBytes != "" { // unset: sized from memory_limit
		maxBytes = "max_bytes: " + maxBytes + ", "
	}
	kube := "kubernetes: { enabled: false }"
	if o.Kube {
		var stop func()
		kube, stop = startKube(ctx, o.Spec, logf)
		defer stop()
	}
	ports, err := freePorts(1)
	if err != nil {
		return Result{}, err
	}
	api := ports[0]
	fair := ""
	if o.FairShare != "" {
		fair = ", fair_share: " + o.FairShare
	}
	cfg := fmt.Sprintf(config, filepath.Join(work, "data"), limit, api, logs, fair, kube, "http://"+ln.Addr().String(), maxBytes)
	if o.Output == "otlp" {
		cfg, _, _ = strings.Cut(cfg, "outputs:\n")
		cfg += fmt.Sprintf(otlpOutput, "http://"+ln.Addr().String(), maxBytes)
	}
	if o.Output == "kafka" {
		broker, stop, err := startKafka(sk, logf)
		if err != nil {
			return Result{}, err
		}
		defer stop()
		cfg, _, _ = strings.Cut(cfg, "outputs:\n")
		cfg += fmt.Sprintf(kafkaOutput, broker, cmp.Or(o.Compression, "snappy"))
	}
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return Result{}, err
	}
	res, err := runAgent(ctx, o, cfgPath, work, api, sk, nil)
	res.Bytes = size
	return res, err
}

// freePorts returns n free loopback addresses (127.0.0.1:port) for the
// agent's listeners, all held open until every one is picked so they
// differ.
func freePorts(n int) ([]string, error) {
	addrs := make([]string, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		addrs = append(addrs, l.Addr().String())
	}
	return addrs, nil
}

// runAgent runs the agent on cfgPath until the sink has every record (feed,
// when set, sends them once the agent runs), and measures it. api is the
// agent's http.listen, for the go_memstats_mallocs_total scrapes.
func runAgent(ctx context.Context, o Options, cfgPath, work, api string, sk *sink.Sink, feed func(context.Context) error) (Result, error) {
	stderr, err := os.Create(filepath.Join(work, "agent.log"))
	if err != nil {
		return Result{}, err
	}
	defer stderr.Close()
	cmd := exec.Command(o.Agent, "-config", cfgPath, "-log-level", "warn")
	cmd.Stdout, cmd.Stderr = stderr, stderr
	cmd.Env = os.Environ()
	if o.CPUProfile != "" {
		cmd.Env = append(cmd.Env, "SLUICE_CPUPROFILE="+o.CPUProfile)
	}
	if o.MemProfile != "" {
		cmd.Env = append(cmd.Env, "SLUICE_MEMPROFILE="+o.MemProfile)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Result{}, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	// The start-up baseline of go_memstats_mallocs_total: the agent's first
	// /metrics answer (it binds http.listen before it runs, and serves it
	// just before its inputs start).
	metricsURL := "http://" + api + "/metrics"
	firstCtx, stopFirst := context.WithCancel(ctx)
	defer stopFirst()
	first := make(chan scrape, 1)
	go func() { first <- firstScrape(firstCtx, metricsURL) }()

	res := Result{Records: int(sk.Report().Expected)}
	feedErr := make(chan error, 1)
	if feed != nil {
		// The feed waits for that answer (or its failure, or 30s), so the
		// baseline comes before the first record.
		go func() {
			select {
			case f := <-first:
				first <- f // for lastMallocs
			case <-time.After(30 * time.Second):
			case <-ctx.Done():
				feedErr <- ctx.Err()
				return
			}
			feedErr <- feed(ctx)
		}()
	}
	timeout := time.NewTimer(o.Timeout)
	defer timeout.Stop()
	var runErr error
	select {
	case <-sk.Done():
		res.Elapsed = time.Since(start)
		res.CPU, _ = procCPU(cmd.Process.Pid)
		res.PeakRSSBytes, _ = procHWM(cmd.Process.Pid)
		res.Mallocs, res.EarlyRecords, res.MallocsErr = lastMallocs(ctx, metricsURL, first, stopFirst)
	case err := <-exited:
		log, _ := os.ReadFile(stderr.Name())
		return Result{Sink: sk.Report(), MallocsErr: "the agent exited early"}, fmt.Errorf("agent exited early (%v): %s", err, tailOf(log))
	case err := <-feedErr:
		if err != nil {
			runErr = fmt.Errorf("feed: %w", err)
			break
		}
		// Fed: now wait for the sink as above.
		select {
		case <-sk.Done():
			res.Elapsed = time.Since(start)
			res.CPU, _ = procCPU(cmd.Process.Pid)
			res.PeakRSSBytes, _ = procHWM(cmd.Process.Pid)
			res.Mallocs, res.EarlyRecords, res.MallocsErr = lastMallocs(ctx, metricsURL, first, stopFirst)
		case <-timeout.C:
			runErr = fmt.Errorf("timeout after %s: %s", o.Timeout, sk.Report())
		case <-ctx.Done():
			runErr = ctx.Err()
		}
	case <-timeout.C:
		runErr = fmt.Errorf("timeout after %s: %s", o.Timeout, sk.Report())
	case <-ctx.Done():
		runErr = ctx.Err()
	}
	// A clean shutdown, so the agent writes its profiles; a replay after
	// the last record would show up as a duplicate.
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-exited
		runErr = errors.Join(runErr, errors.New("agent did not stop within 30s of SIGTERM"))
	}
	if ps := cmd.ProcessState; ps != nil {
		res.CPUTotal = ps.UserTime() + ps.SystemTime()
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok && res.PeakRSSBytes == 0 {
			res.PeakRSSBytes = ru.Maxrss * 1024
		}
	}
	if res.Elapsed == 0 {
		res.MallocsErr = "the run did not reach the last record"
	}
	res.Sink = sk.Report()
	if runErr == nil && !res.Sink.OK() {
		// The log (warnings and up) says whether the agent sent records
		// again, and why: what a duplicate needs to be explained.
		log, _ := os.ReadFile(stderr.Name())
		runErr = fmt.Errorf("correctness: %s; first bad document: %.400s; the agent's log ends: %s", res.Sink, res.Sink.FirstBad, tailOf(log))
	}
	return res, runErr
}

// A scrape is one reading of the agent's /metrics, or why there is none.
type scrape struct {
	mallocs float64 // go_memstats_mallocs_total
	records float64 // sluice_input_records_total, summed over the inputs
	err     error
}

// scrapeClient reads the agent's /metrics; a request may wait in the
// listen backlog while the agent starts.
var scrapeClient = &http.Client{Timeout: 10 * time.Second}

// firstScrape polls url every 20 ms until the agent answers, and returns
// that first answer. It stops polling once the agent answered, or when ctx
// ends.
func firstScrape(ctx context.Context, url string) scrape {
	for {
		sc, answered := scrapeMetrics(ctx, url)
		if answered || ctx.Err() != nil {
			return sc
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
			return scrape{err: ctx.Err()}
		}
	}
}

// lastMallocs scrapes url at the last record and returns the mallocs since
// the first answer and the records taken before it, or why there is no
// figure.
func lastMallocs(ctx context.Context, url string, first <-chan scrape, stopFirst func()) (mallocs, early int64, why string) {
	stopFirst() // done already, unless the agent never answered
	f := <-first
	switch {
	case f.err != nil && errors.Is(f.err, context.Canceled):
		return 0, 0, "no /metrics answer before the last record"
	case f.err != nil:
		return 0, 0, "first scrape: " + f.err.Error()
	}
	end, _ := scrapeMetrics(ctx, url)
	if end.err != nil {
		return 0, 0, "last scrape: " + end.err.Error()
	}
	return int64(end.mallocs - f.mallocs), int64(f.records), ""
}

// scrapeMetrics reads go_memstats_mallocs_total and
// sluice_input_records_total from the agent's /metrics, in the text
// exposition ("go_memstats_mallocs_total 1.234e+06"); answered is false
// when no HTTP response came (the agent is not serving yet).
func scrapeMetrics(ctx context.Context, url string) (sc scrape, answered bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return scrape{err: err}, true
	}
	// Plain text, not the protobuf a Prometheus server would negotiate.
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := scrapeClient.Do(req)
	if err != nil {
		return scrape{err: err}, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		return scrape{err: fmt.Errorf("%s: %s %q", url, resp.Status, b)}, true
	}
	lines := bufio.NewScanner(resp.Body)
	lines.Buffer(make([]byte, 64<<10), 1<<20)
	found := false
	for lines.Scan() {
		name, _, ok := strings.Cut(lines.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		metric, _, _ := strings.Cut(name, "{")
		switch metric {
		case "go_memstats_mallocs_total", "sluice_input_records_total":
		default:
			continue
		}
		// A label value may hold a space: the value is the last field.
		f := strings.Fields(lines.Text())
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			return scrape{err: fmt.Errorf("%s: %q: %w", url, lines.Text(), err)}, true
		}
		if metric == "go_memstats_mallocs_total" {
			sc.mallocs, found = v, true
		} else {
			sc.records += v
		}
	}
	if err := lines.Err(); err != nil {
		return scrape{err: err}, true
	}
	if !found {
		sc.err = fmt.Errorf("%s has no go_memstats_mallocs_total", url)
	}
	return sc, true
}

// procCPU reads utime+stime of pid from /proc/<pid>/stat (in clock ticks of
// 1/100 s, the Linux USER_HZ).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may hold spaces
	if i < 0 {
		return 0, errors.New("bad /proc stat")
	}
	f := strings.Fields(s[i+1:])
	// Fields after the name start at field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(ut+st) * 10 * time.Millisecond, nil
}

// procHWM reads VmHWM (peak resident set) of pid, in bytes.
func procHWM(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no VmHWM")
}

func tailOf(b []byte) string {
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}
