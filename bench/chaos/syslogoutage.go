package main

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sluicelog/sluice/agent/config"
)

// The syslog-outage scenario (`-syslog-outage`): both syslog
// inputs write through a disk spool, the store is down for most of the
// run, and the agent is SIGKILLed twice during the outage. Syslog senders
// cannot send again, so the scorecard asks for every TCP and UDP message
// exactly once after the store is back, no drop while the spool had room,
// and TCP senders never held back; it shows the spool's peak bytes and
// oldest age, and what a 2-hour outage at the run's rate would need.

// SyslogOutageShort is the scenario's short run (TestChaosSyslogOutageShort).
func SyslogOutageShort() Options {
	return Options{
		SyslogOutage: true, Duration: 24 * time.Second, Outage: 18 * time.Second,
		TCPConns: 2, TCPRate: 200, UDPRate: 200, MemoryLimit: "64MiB", Kills: 2,
		SpoolMaxBytes: "256MiB", DrainTimeout: 2 * time.Minute, FailOnSyslogReplays: true,
	}
}

// SyslogOutageLong is its full length: a 10-minute outage in a 12-minute
// run at a modest rate.
func SyslogOutageLong() Options {
	return Options{
		SyslogOutage: true, Duration: 12 * time.Minute, Outage: 10 * time.Minute,
		TCPConns: 4, TCPRate: 500, UDPRate: 500, MemoryLimit: "64MiB", Kills: 2,
		SpoolMaxBytes: "1GiB", DrainTimeout: 10 * time.Minute, FailOnSyslogReplays: true,
	}
}

// SpoolResult is what the syslog-outage scenario saw of the spools.
type SpoolResult struct {
	MaxBytes     int64         // each input's spool max_bytes
	PeakBytes    int64         // both spools together, sampled each second
	PeakAge      time.Duration // the older spool's oldest record, sampled
	AtStoreBack  int64         // bytes in both spools as the store came back
	SentInOutage int64         // TCP + UDP messages sent while the store was down
	PerMessage   float64       // spool bytes per message, AtStoreBack / SentInOutage
	MaxWrite     time.Duration // longest TCP write (held back = long)
	UDP          Tally
	Delivered    time.Duration // store back → every message stored
	Lost         []string      // sluice_lost_records_total of the syslog inputs, non-zero
	WriteErrors  float64
	Corrupt      float64
}

var syslogInputs = []string{"syslog_tcp", "syslog_udp"}

// spoolYAML is the spool of each syslog input, or nothing.
func (r *runner) spoolYAML() string {
	if !r.o.SyslogOutage {
		return ""
	}
	return fmt.Sprintf("\n    spool: { max_bytes: %s, sync: interval, sync_interval: 1s, when_full: block }", r.o.SpoolMaxBytes)
}

func (r *runner) runSyslogOutage(ctx context.Context) error {
	o := r.o
	D := o.Duration
	sp := &SpoolResult{}
	r.res.Spool = sp
	if n, err := config.ParseByteSize(o.SpoolMaxBytes); err == nil {
		sp.MaxBytes = int64(n)
	}
	r.start = time.Now()
	r.udpBase = udpRcvbufErrors()
	if err := r.agent.start(); err != nil {
		return fmt.Errorf("first agent start: %w", err)
	}
	r.event("agent started (pid %d); %d TCP senders at %.0f msg/s, UDP at %.0f msg/s, spool max_bytes %s per input",
		r.agent.lives[0].pid, o.TCPConns, o.TCPRate, o.UDPRate, o.SpoolMaxBytes)

	bg, stopBG := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { stopBG(); wg.Wait() }()
	wg.Go(func() { r.watchSpools(bg, sp) })
	writeCtx, stopWriters := context.WithCancel(ctx)
	var writers sync.WaitGroup
	defer func() { stopWriters(); writers.Wait() }()
	r.sys.udpGated = true
	for k := range o.TCPConns {
		writers.Go(func() { r.sys.runTCP(writeCtx, appTCP, "c"+strconv.Itoa(k), o.TCPRate/float64(o.TCPConns)) })
	}
	writers.Go(func() { r.sys.runUDP(writeCtx, o.UDPRate) })

	cutAt := frac(D, 0.05)
	r.sleepUntil(ctx, cutAt)
	r.res.Outages++
	sentAtCut := r.sys.sentSyslog()
	r.proxy.set(faults{Down: true}, "outage")
	r.event("store outage for %v: every connection to the store is reset", o.Outage)
	for i, at := range []float64{0.35, 0.7} {
		if i >= o.Kills {
			break
		}
		r.sleepUntil(ctx, cutAt+frac(o.Outage, at))
		r.killQuiesced(ctx)
	}
	r.sleepUntil(ctx, cutAt+o.Outage)
	sp.AtStoreBack = r.spoolBytes()
	sp.SentInOutage = r.sys.sentSyslog() - sentAtCut
	if sp.SentInOutage > 0 {
		sp.PerMessage = float64(sp.AtStoreBack) / float64(sp.SentInOutage)
	}
	r.proxy.set(r.baseline, "baseline")
	back := time.Now()
	r.event("store back; the spools hold %d MiB (%d messages sent during the outage)", sp.AtStoreBack>>20, sp.SentInOutage)

	r.sleepUntil(ctx, D)
	stopWriters()
	writers.Wait()
	r.res.WriteTime = time.Since(r.start)
	r.event("senders stopped: %d TCP, %d UDP messages sent", r.sys.tcpTotal(), r.sys.udpSent.Load())
	r.waitSyslogStored(ctx, back, sp)
	stopBG()
	wg.Wait()
	if err := r.agent.stop(); err != nil {
		r.problem("graceful stop: %v", err)
	}
	r.event("agent stopped with SIGTERM")
	return nil
}

func frac(d time.Duration, f float64) time.Duration { return time.Duration(f * float64(d)) }

// sentSyslog is every numbered TCP and UDP message sent.
func (s *syslogSenders) sentSyslog() int64 { return int64(s.tcpTotal()) + s.udpSent.Load() }

// watchSpools samples the spools' bytes and oldest age every second.
func (r *runner) watchSpools(ctx context.Context, sp *SpoolResult) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r.agent.sample()
		m, err := r.agent.scrape()
		if err != nil {
			continue
		}
		var bytes int64
		for _, in := range syslogInputs {
			bytes += int64(m.get("sluice_spool_bytes", "input", in))
			age := time.Duration(m.get("sluice_spool_oldest_age_seconds", "input", in) * float64(time.Second))
			r.resMu.Lock()
			sp.PeakAge = max(sp.PeakAge, age)
			r.resMu.Unlock()
		}
		r.resMu.Lock()
		sp.PeakBytes = max(sp.PeakBytes, bytes)
		r.resMu.Unlock()
	}
}

func (r *runner) spoolBytes() int64 {
	m, err := r.agent.scrape()
	if err != nil {
		return 0
	}
	var n int64
	for _, in := range syslogInputs {
		n += int64(m.get("sluice_spool_bytes", "input", in))
	}
	return n
}

// killQuiesced pauses the senders, waits until the agent has spooled all
// they sent (what is still in a socket buffer is lost at a SIGKILL, for
// any agent), then SIGKILLs and restarts it; the senders go on on new
// connections. The store is down meanwhile: the spool is the only copy.
func (r *runner) killQuiesced(ctx context.Context) {
	s := r.sys
	s.gate.Lock()
	t0 := time.Now()
	want := s.sentSyslog()
	var have int64
	for time.Since(t0) < 2*time.Minute && ctx.Err() == nil {
		if m, err := r.agent.scrape(); err == nil {
			have = r.spooledBefore
			for _, in := range syslogInputs {
				have += int64(m.get("sluice_spool_records_total", "event", "spooled", "input", in))
			}
			if have >= want {
				break
			}
		}
		time.Sleep(100 * time.Millisecond) // spooled poll
	}
	if have < want {
		r.problem("SIGKILL with %d of %d messages spooled after %v", have, want, time.Since(t0).Round(time.Second))
	}
	_, l, _ := r.agent.current()
	if err := r.agent.kill(); err != nil {
		r.problem("kill: %v", err)
	}
	r.spooledBefore = have
	r.res.Kills++
	r.event("SIGKILL agent pid %d with %d messages spooled (quiesce took %v)", l.pid, have, time.Since(t0).Round(time.Millisecond))
	if err := r.agent.start(); err != nil {
		r.problem("restart after SIGKILL: %v", err)
	} else {
		_, l, _ = r.agent.current()
		r.event("agent restarted (pid %d)", l.pid)
	}
	s.resume()
}

// waitSyslogStored waits until the store holds every message sent.
func (r *runner) waitSyslogStored(ctx context.Context, back time.Time, sp *SpoolResult) {
	want := int(r.sys.sentSyslog())
	t0 := time.Now()
	have := 0
	for time.Since(t0) < r.o.DrainTimeout && ctx.Err() == nil {
		tcp, err1 := r.sys.tcpDelivered(ctx, r.store)
		udp, err2 := r.store.stats(ctx, `syslog.app_name:="`+appUDP+`" | stats count_uniq(syslog.msg_id) n`)
		if err1 == nil && err2 == nil {
			if have = tcp + atoi(udp["n"]); have >= want {
				sp.Delivered = time.Since(back)
				r.event("every message stored %v after the store came back", sp.Delivered.Round(100*time.Millisecond))
				return
			}
		}
		time.Sleep(time.Second) // delivery poll
	}
	r.problem("%d of %d messages stored %v after the senders stopped", have, want, r.o.DrainTimeout)
}

// checkSyslogOutage tallies the store against what was sent.
func (r *runner) checkSyslogOutage(ctx context.Context) {
	res, sp := r.res, r.res.Spool
	t0 := time.Now()
	r.tallyTCP(ctx)
	r.sys.mu.Lock()
	res.TCPWriteErrors = r.sys.tcpErrors
	r.sys.mu.Unlock()
	sent := int(r.sys.udpSent.Load())
	res.UDPSent = int64(sent)
	udp := newLines(sent)
	err := r.store.streamRows(ctx, `syslog.app_name:="`+appUDP+`" | fields syslog.msg_id, sluice_id`, func(row map[string]string) {
		n, err := strconv.Atoi(strings.TrimPrefix(row["syslog.msg_id"], "m"))
		if err != nil || !udp.add(n, row["sluice_id"]) {
			sp.UDP.Unexpected++
		}
	})
	if err != nil {
		r.problem("read back UDP syslog: %v", err)
	}
	udp.into(&sp.UDP, "udp", true, r.proxy.answerLost)
	res.UDPKernelDrops = udpRcvbufErrors() - r.udpBase
	res.StoreRows, _ = r.store.count(ctx, "*")
	res.CheckTime = time.Since(t0)
	sp.MaxWrite = time.Duration(r.sys.maxWrite.Load())
	r.counters()
	r.secrets()
	c := res.Counters
	for k, v := range c {
		if strings.HasPrefix(k, "sluice_lost_records_total{") && strings.Contains(k, "component=syslog_") && v > 0 {
			sp.Lost = append(sp.Lost, fmt.Sprintf("%s %.0f", k, v))
		}
	}
	for _, in := range syslogInputs {
		sp.WriteErrors += c.get("sluice_spool_write_errors_total", "input", in)
		sp.Corrupt += c.get("sluice_spool_corrupt_bytes_total", "input", in)
	}
	r.verdict()
	r.spoolVerdict(sp)
}

// tallyTCP reads back the numbered TCP messages into res.TCP.
func (r *runner) tallyTCP(ctx context.Context) {
	res := r.res
	r.sys.mu.Lock()
	tcp := map[string]*lines{}
	for k, n := range r.sys.tcpSent {
		tcp[k] = newLines(n)
	}
	r.sys.mu.Unlock()
	err := r.store.streamRows(ctx, numberedTCP+` | fields syslog.app_name, syslog.proc_id, syslog.msg_id, sluice_id`, func(row map[string]string) {
		l := tcp[row["syslog.app_name"]+"/"+row["syslog.proc_id"]]
		n, err := strconv.Atoi(strings.TrimPrefix(row["syslog.msg_id"], "m"))
		if l == nil || err != nil || !l.add(n, row["sluice_id"]) {
			res.TCP.Unexpected++
		}
	})
	if err != nil {
		r.problem("read back TCP syslog: %v", err)
	}
	keys := make([]string, 0, len(tcp))
	for k := range tcp {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		tcp[k].into(&res.TCP, k, true, r.proxy.answerLost)
	}
}

// heldBack is a TCP write long enough to say the agent stopped reading.
const heldBack = 10 * time.Second

func (r *runner) spoolVerdict(sp *SpoolResult) {
	if sp.UDP.bad() {
		r.problem("UDP syslog messages lost or duplicated with a spool: %s (kernel receive-buffer drops on the host %d)", &sp.UDP, r.res.UDPKernelDrops)
	}
	if len(sp.Lost) > 0 && sp.PeakBytes < sp.MaxBytes*9/10 {
		r.problem("records dropped while the spools had room: %s", strings.Join(sp.Lost, ", "))
	}
	if sp.MaxWrite >= heldBack && sp.PeakBytes < sp.MaxBytes*9/10 {
		r.problem("a TCP sender was held back %v while the spools had room", sp.MaxWrite.Round(time.Millisecond))
	}
	if sp.WriteErrors > 0 {
		r.finding("%.0f spool write errors", sp.WriteErrors)
	}
	if sp.SentInOutage > 0 && sp.AtStoreBack == 0 {
		r.problem("the spools were empty as the store came back, after %d messages sent during the outage", sp.SentInOutage)
	}
}

func (sp *SpoolResult) print(p func(string, ...any), res *Result) {
	o := res.Options
	p("=== sluice chaos scorecard: syslog outage with a spool ===")
	p("run: %v of sending (%d TCP senders at %.0f msg/s, UDP %.0f msg/s), store down %v, %d SIGKILLs during the outage, memory_limit %s, spool max_bytes %s per input, seed %d",
		res.WriteTime.Round(time.Second), o.TCPConns, o.TCPRate, o.UDPRate, o.Outage, res.Kills, o.MemoryLimit, o.SpoolMaxBytes, o.Seed)
	p("")
	p("delivery (exactly once = stored under one sluice_id)")
	p("  TCP syslog: %s", &res.TCP)
	p("  UDP syslog: %s", &sp.UDP)
	for _, s := range append(append(res.TCP.LostSample, sp.UDP.LostSample...), append(res.TCP.DupSample, sp.UDP.DupSample...)...) {
		p("    %s", s)
	}
	p("  every message stored %v after the store came back", sp.Delivered.Round(100*time.Millisecond))
	p("  drops counted by the agent for the syslog inputs: %v; UDP kernel receive-buffer drops on the host %d", sp.Lost, res.UDPKernelDrops)
	p("")
	p("spool")
	p("  peak bytes %.1f MiB (both inputs) of %s each; oldest record's peak age %v",
		float64(sp.PeakBytes)/(1<<20), o.SpoolMaxBytes, sp.PeakAge.Round(time.Second))
	p("  at the store's return: %.1f MiB for %d messages sent in the outage = %.0f bytes per message",
		float64(sp.AtStoreBack)/(1<<20), sp.SentInOutage, sp.PerMessage)
	if sp.PerMessage > 0 {
		rate := o.TCPRate + o.UDPRate
		need := sp.PerMessage * rate * 7200
		p("  a 2-hour outage at %.0f msg/s needs %.0f MiB; max_bytes %s holds %.1f hours at this rate",
			rate, need/(1<<20), o.SpoolMaxBytes, float64(sp.MaxBytes)/sp.PerMessage/rate/3600)
	}
	p("  longest TCP write %v (held back: ≥ %v); TCP write errors %d", sp.MaxWrite.Round(time.Millisecond), heldBack, res.TCPWriteErrors)
	p("  spool write errors %.0f, corrupt bytes skipped %.0f", sp.WriteErrors, sp.Corrupt)
	p("")
	p("memory: peak RSS %d MiB (VmHWM over %d lives) vs memory_limit %s", res.PeakHWM>>10, len(res.Lives), o.MemoryLimit)
	for i, l := range res.Lives {
		p("    life %d: %s", i+1, l)
	}
	p("credentials in the agent's log: %d", res.SecretHits)
	p("")
	p("timeline")
	for _, t := range res.Timeline {
		p("  %s", t)
	}
	p("")
	for _, f := range res.Findings {
		p("FINDING (does not fail the run): %s", f)
	}
	if res.OK() {
		p("RESULT: PASS")
	} else {
		for _, f := range res.Failures {
			p("FAIL: %s", f)
		}
		p("RESULT: FAIL")
	}
}
