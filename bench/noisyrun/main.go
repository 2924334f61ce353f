// Command noisyrun measures noisy neighbours without and with
// fair_share in one invocation: 10 noisy pods × 20,000 pre-written lines,
// 3 quiet pods at 5 lines/s for 20 s, a bulk endpoint answering one
// request at a time after 50 ms, bulk.max_bytes 64KiB.
//
//	go build -o /tmp/sluice ./cmd/sluice && go run ./bench/noisyrun -agent /tmp/sluice
//
// The issue's own scenario (one noisy pod writing over 20× what the store
// takes, five quiet pods at 20 lines/s, every line checked once):
//
//	go run ./bench/noisyrun -agent /tmp/sluice -noisy-pods 1 -noisy-lines 0 -noisy-rate 70000 -quiet-pods 5 -quiet-rate 20 -window 10s -drain
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sluicelog/sluice/bench/noisy"
)

func main() {
	o := noisy.Options{}
	flag.StringVar(&o.Agent, "agent", "", "sluice binary (required)")
	flag.IntVar(&o.NoisyPods, "noisy-pods", 10, "noisy pods")
	flag.IntVar(&o.NoisyLines, "noisy-lines", 20000, "pre-written lines per noisy pod")
	flag.Float64Var(&o.NoisyRate, "noisy-rate", 0, "lines per second per noisy pod written during the window, after the pre-written ones")
	flag.IntVar(&o.QuietPods, "quiet-pods", 3, "quiet pods")
	flag.Float64Var(&o.QuietRate, "quiet-rate", 5, "lines per second per quiet pod")
	flag.DurationVar(&o.Window, "window", 20*time.Second, "how long the quiet pods write")
	flag.DurationVar(&o.Delay, "delay", 50*time.Millisecond, "the store's time per bulk request")
	flag.StringVar(&o.MaxBytes, "max-bytes", "64KiB", "bulk.max_bytes")
	flag.DurationVar(&o.Flush, "flush-interval", time.Second, "bulk.flush_interval")
	flag.Float64Var(&o.Starve, "starve", 0, "stop the agent this fraction of every 20 ms (a machine leaving it little CPU)")
	flag.BoolVar(&o.Drain, "drain", false, "after the window, wait until every line arrived and check")
	flag.DurationVar(&o.DrainLimit, "drain-limit", 5*time.Minute, "give up draining after")
	fair := flag.String("fair-share", "{ by: namespace }", "the input's fair_share for the second run")
	modes := flag.String("runs", "off,on", "which runs, in order: off (no fair_share), on")
	flag.Parse()
	if o.Agent == "" {
		fmt.Fprintln(os.Stderr, "noisyrun: -agent is required")
		os.Exit(2)
	}
	o.Log = func(format string, args ...any) { fmt.Fprintf(os.Stderr, "noisyrun: "+format+"\n", args...) }
	failed := false
	for _, mode := range strings.Split(*modes, ",") {
		run := o
		run.FairShare = ""
		if mode == "on" {
			run.FairShare = *fair
		}
		dir, err := os.MkdirTemp("", "noisyrun-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		run.Dir = dir
		res, err := noisy.Run(context.Background(), run)
		os.RemoveAll(dir)
		if err != nil {
			fmt.Fprintf(os.Stderr, "noisyrun: %s: %v\n", mode, err)
			os.Exit(1)
		}
		fmt.Printf("fair_share %-3s %s\n", mode, res)
		failed = failed || o.Drain && !res.Drained || res.Duplicates > 0
	}
	if failed {
		os.Exit(1)
	}
}
