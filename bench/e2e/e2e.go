// Package e2e runs the agent binary end to end on the issue-9 tail
// workload: it generates (or reuses) the workload, starts the fake bulk sink,
// runs the agent from the head of the files into the sink, and measures the
// agent process alone.
package e2e

import (
	"context"
	"errors"
	"fmt"
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
	MaxBytes    string        // the output's bulk.max_bytes (default 5MiB)
	// Kube runs a real kube-apiserver with the workload's pods, and the
	// agent with Kubernetes enrichment from its informer cache.
	Kube bool
	Log  func(format string, args ...any)
}

// Result is what one run measured.
type Result struct {
	Records      int
	Bytes        int64
	Elapsed      time.Duration // agent start to the last record in the sink
	CPU          time.Duration // user+sys of the agent at that moment (/proc/<pid>/stat)
	CPUTotal     time.Duration // user+sys of the agent including shutdown (wait4)
	PeakRSSBytes int64         // VmHWM just before shutdown
	Sink         sink.Report
}

// RecordsPerSec is the end-to-end rate.
func (r Result) RecordsPerSec() float64 { return float64(r.Records) / r.Elapsed.Seconds() }

// CPUPerMillion is CPU-seconds per million records, to the last record.
func (r Result) CPUPerMillion() float64 { return r.CPU.Seconds() / float64(r.Records) * 1e6 }

func (r Result) String() string {
	return fmt.Sprintf("records:        %d (%.0f MB)\n"+
		"elapsed:        %.2fs\n"+
		"records/s:      %.0f\n"+
		"CPU-s/million:  %.2f (user+sys %.2fs to the last record; %.2fs with shutdown)\n"+
		"peak RSS:       %.1f MB (VmHWM)\n"+
		"enriched:       %d documents with kubernetes.pod_id\n"+
		"correctness:    %s",
		r.Records, float64(r.Bytes)/1e6, r.Elapsed.Seconds(), r.RecordsPerSec(),
		r.CPUPerMillion(), r.CPU.Seconds(), r.CPUTotal.Seconds(),
		float64(r.PeakRSSBytes)/1e6, r.Sink.Enriched, r.Sink)
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
http: { listen: "" }
inputs:
  - { name: containers, type: container_logs, paths: ["%s/*.log"], start_at: head }
%s
transforms:
  - { type: json, field: log }
outputs:
  - name: es
    type: elasticsearch
    urls: ["%s"]
    index: "logs-{kubernetes.namespace_name}-%%Y.%%m.%%d"
    bulk: { max_bytes: %s, flush_interval: 1s, workers: 2, compress: false }
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
	if maxBytes == "" {
		maxBytes = "5MiB"
	}
	kube := "kubernetes: { enabled: false }"
	if o.Kube {
		var stop func()
		kube, stop = startKube(ctx, o.Spec, logf)
		defer stop()
	}
	cfg := fmt.Sprintf(config, filepath.Join(work, "data"), limit, logs, kube, "http://"+ln.Addr().String(), maxBytes)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return Result{}, err
	}
	res, err := runAgent(ctx, o, cfgPath, work, sk, nil)
	res.Bytes = size
	return res, err
}

// runAgent runs the agent on cfgPath until the sink has every record (feed,
// when set, sends them once the agent runs), and measures it.
func runAgent(ctx context.Context, o Options, cfgPath, work string, sk *sink.Sink, feed func(context.Context) error) (Result, error) {
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

	res := Result{Records: int(sk.Report().Expected)}
	feedErr := make(chan error, 1)
	if feed != nil {
		go func() { feedErr <- feed(ctx) }()
	}
	timeout := time.NewTimer(o.Timeout)
	defer timeout.Stop()
	var runErr error
	select {
	case <-sk.Done():
		res.Elapsed = time.Since(start)
		res.CPU, _ = procCPU(cmd.Process.Pid)
		res.PeakRSSBytes, _ = procHWM(cmd.Process.Pid)
	case err := <-exited:
		log, _ := os.ReadFile(stderr.Name())
		return Result{Sink: sk.Report()}, fmt.Errorf("agent exited early (%v): %s", err, tailOf(log))
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
	res.Sink = sk.Report()
	if runErr == nil && !res.Sink.OK() {
		runErr = fmt.Errorf("correctness: %s; first bad document: %.400s", res.Sink, res.Sink.FirstBad)
	}
	return res, runErr
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
