// Command harness runs the agent end to end on the tail workload
// and prints records/s, CPU-seconds per million, peak RSS, heap
// allocations per record (the agent's go_memstats_mallocs_total on its
// /metrics) and the correctness check (`make bench-e2e`).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/sluicelog/sluice/bench/e2e"
	"github.com/sluicelog/sluice/bench/workload"
)

func main() {
	spec := workload.Default()
	agent := flag.String("agent", "", "sluice binary (default: build ./cmd/sluice)")
	flag.IntVar(&spec.Files, "files", spec.Files, "files")
	flag.IntVar(&spec.Records, "records", spec.Records, "records per file")
	cache := flag.String("cache", filepath.Join(os.TempDir(), "sluice-bench"), "workload cache directory")
	timeout := flag.Duration("timeout", 10*time.Minute, "give up after")
	cpu := flag.String("cpuprofile", "", "write the agent's CPU profile here")
	mem := flag.String("memprofile", "", "write the agent's allocation profile here")
	limit := flag.String("memory-limit", "256MiB", "the agent's memory_limit")
	maxBytes := flag.String("max-bytes", "", "the output's bulk.max_bytes (default: unset, sized from memory_limit)")
	syslogN := flag.Int("syslog", 0, "instead of the tail workload: this many RFC 5424 messages over -conns TCP connections (issue 9: 1000000)")
	conns := flag.Int("conns", 4, "syslog connections")
	spoolSync := flag.String("spool", "", "with -syslog: the input's disk spool, with this sync policy (interval or batch)")
	fair := flag.String("fair-share", "", "the input's fair_share (issue 28), e.g. '{ by: namespace }'; empty: off")
	output := flag.String("output", "elasticsearch", "the output to the sink: elasticsearch (_bulk), otlp (OTLP/HTTP, gzip) or kafka (a kfake broker in the harness, read back and checked)")
	compression := flag.String("compression", "snappy", "with -output kafka: the output's compression")
	kube := flag.Bool("kube", false, "Kubernetes enrichment from a real kube-apiserver holding the workload's pods (bin/kube, `make kube-tools`)")
	flag.Parse()

	logf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, "harness: "+format+"\n", args...) }
	if *agent == "" {
		*agent = filepath.Join(os.TempDir(), "sluice-bench-agent")
		logf("building ./cmd/sluice")
		build := exec.Command("go", "build", "-o", *agent, "./cmd/sluice")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			logf("build: %v", err)
			os.Exit(1)
		}
	}
	abs := func(p string) string {
		if p == "" {
			return ""
		}
		a, _ := filepath.Abs(p)
		return a
	}
	o := e2e.Options{
		Agent: *agent, Spec: spec, CacheDir: *cache, Timeout: *timeout,
		CPUProfile: abs(*cpu), MemProfile: abs(*mem), MemoryLimit: *limit, MaxBytes: *maxBytes, Output: *output, Compression: *compression, Kube: *kube, FairShare: *fair, Log: logf,
	}
	var res e2e.Result
	var err error
	if *syslogN > 0 {
		res, err = e2e.RunSyslog(context.Background(), e2e.SyslogOptions{Options: o, Messages: *syslogN, Conns: *conns, Spool: *spoolSync})
	} else {
		res, err = e2e.Run(context.Background(), o)
	}
	fmt.Println(res)
	if err != nil {
		logf("%v", err)
		os.Exit(1)
	}
}
