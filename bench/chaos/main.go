// Command chaos runs the agent binary under load, crashes, store outages
// and hostile input against the real store (VictoriaLogs behind a
// fault-injecting proxy), then checks every numbered line in the store and
// prints a scorecard (`make chaos DURATION=10m`). It exits 1 if
// a file line or TCP syslog message was lost or duplicated, RSS went over
// memory_limit, or the agent leaked its credentials or crashed.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	o := Long()
	flag.StringVar(&o.Agent, "agent", "bin/sluice", "sluice binary")
	flag.DurationVar(&o.Duration, "duration", o.Duration, "how long the writers write")
	flag.IntVar(&o.Writers, "writers", o.Writers, "container-log files written at once")
	flag.Float64Var(&o.Rate, "rate", o.Rate, "file lines per second, all files together")
	flag.Float64Var(&o.TCPRate, "tcp-rate", o.TCPRate, "numbered TCP syslog messages per second")
	flag.Float64Var(&o.UDPRate, "udp-rate", o.UDPRate, "numbered UDP syslog messages per second")
	flag.IntVar(&o.FloodConns, "flood-conns", o.FloodConns, "connections of the syslog flood")
	flag.IntVar(&o.FloodPerConn, "flood-messages", o.FloodPerConn, "messages per flood connection")
	flag.IntVar(&o.IdleConns, "idle-conns", o.IdleConns, "idle TCP syslog connections")
	flag.StringVar(&o.MemoryLimit, "memory-limit", o.MemoryLimit, "the agent's memory_limit")
	flag.DurationVar(&o.Rotate, "rotate", o.Rotate, "mean time between rotations of one file")
	flag.IntVar(&o.Kills, "kills", o.Kills, "SIGKILLs of the agent (at most 4)")
	flag.DurationVar(&o.Outage, "outage", 0, "store outage (default duration/5)")
	flag.DurationVar(&o.DrainTimeout, "drain-timeout", o.DrainTimeout, "wait at most this for delivery after the writers stop")
	flag.StringVar(&o.WorkDir, "work", "", "work directory (default: a temporary one, removed)")
	flag.BoolVar(&o.Keep, "keep", false, "keep the work directory (agent.log, store)")
	flag.Uint64Var(&o.Seed, "seed", 0, "random seed (0 = random)")
	flag.BoolVar(&o.FailOnSyslogReplays, "fail-on-syslog-replays", o.FailOnSyslogReplays, "fail on TCP syslog duplicates resent after a lost bulk answer")
	flag.StringVar(&o.SpoolMaxBytes, "spool-max-bytes", "1GiB", "each syslog input's spool max_bytes (-syslog-outage)")
	short := flag.Bool("short", false, "the short run of `make test` (flags given explicitly still apply)")
	syslogOutage := flag.Bool("syslog-outage", false, "the syslog-outage scenario: syslog inputs with a spool, a long store outage, SIGKILLs during it (issue 30)")
	flag.Parse()
	switch {
	case *syslogOutage && *short:
		rebase(&o, SyslogOutageShort())
	case *syslogOutage:
		rebase(&o, SyslogOutageLong())
	case *short:
		rebase(&o, Short())
	}
	o.Log = func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+"chaos: "+format+"\n", args...)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := Run(ctx, o)
	if res != nil {
		fmt.Print(res)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(2)
	}
	if !res.OK() {
		os.Exit(1)
	}
}

// rebase replaces o by base, keeping the agent and every flag given
// explicitly: the flags point into o, so they are noted before o is
// replaced and set again.
func rebase(o *Options, base Options) {
	set := map[string]string{}
	flag.Visit(func(f *flag.Flag) {
		if f.Name != "short" && f.Name != "syslog-outage" {
			set[f.Name] = f.Value.String()
		}
	})
	agent := o.Agent
	*o = base
	o.Agent, o.FailOnSyslogReplays = agent, true
	for name, v := range set {
		_ = flag.Set(name, v)
	}
}
