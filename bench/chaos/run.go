package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/internal/vlstore"
)

// Options configure one chaos run.
type Options struct {
	Agent        string        // the sluice binary
	Duration     time.Duration // how long writers write
	Writers      int           // container-log files written at once
	Rate         float64       // file lines per second, all writers together
	TCPConns     int           // steady numbered TCP syslog senders
	TCPRate      float64       // their messages per second, together
	UDPRate      float64       // numbered UDP datagrams per second
	FloodConns   int           // connections of the syslog flood
	FloodPerConn int           // messages on each
	IdleConns    int           // TCP connections that never send
	MemoryLimit  string        // the agent's memory_limit
	Rotate       time.Duration // mean time between rotations of one file
	Kills        int           // SIGKILL + restart of the agent
	Outage       time.Duration // store cut off for this long (default Duration/5)
	DrainTimeout time.Duration // after the writers stop, wait at most this for delivery
	WorkDir      string        // "" = a temporary directory, removed unless Keep
	Keep         bool
	Seed         uint64
	Log          func(format string, args ...any)
	// FailOnSyslogReplays fails the run on TCP syslog duplicates that are
	// resends after a lost bulk answer stored under a second id. The agent
	// gives every message an id when it reads it, so a resend repeats it:
	// on everywhere; off only to look at other findings.
	FailOnSyslogReplays bool
	// SyslogOutage runs the syslog-outage scenario (syslogoutage.go)
	// instead: syslog inputs with a spool of SpoolMaxBytes each.
	SyslogOutage  bool
	SpoolMaxBytes string
}

// Short is the configuration of `make test` (TestChaosShort): every fault
// once, at a rate a race-instrumented harness keeps up with.
func Short() Options {
	return Options{
		Duration: 45 * time.Second, Writers: 6, Rate: 1500,
		TCPConns: 2, TCPRate: 200, UDPRate: 200,
		FloodConns: 40, FloodPerConn: 200, IdleConns: 20,
		MemoryLimit: "256MiB", Rotate: 8 * time.Second, Kills: 2,
		DrainTimeout: 2 * time.Minute, FailOnSyslogReplays: true,
	}
}

// Long is the full run: 20,000 lines/s for 10 minutes.
func Long() Options {
	return Options{
		Duration: 10 * time.Minute, Writers: 40, Rate: 20000,
		TCPConns: 4, TCPRate: 1000, UDPRate: 500,
		FloodConns: 200, FloodPerConn: 2000, IdleConns: 100,
		MemoryLimit: "256MiB", Rotate: 45 * time.Second, Kills: 2,
		DrainTimeout: 5 * time.Minute, FailOnSyslogReplays: true,
	}
}

// The agent runs as nobody with this supplementary group, which may read
// the log files (0640 root:chaosGroup) and nothing else of root's.
const (
	nobody     = 65534
	chaosGroup = 4242
	esUser     = "chaos-shipper"
)

type runner struct {
	o     Options
	logf  func(string, ...any)
	work  string
	logs  string
	data  string
	store *storeClient
	proxy *faultProxy
	agent *agentRunner
	fs    *fileSet
	sys   *syslogSenders
	pass  string
	rng   *mrand.Rand

	memLimit int64
	start    time.Time
	res      *Result
	resMu    sync.Mutex
	baseline faults
	udpBase  int64
	// spooledBefore: messages the killed lives spooled (syslog outage).
	spooledBefore int64
}

// Run runs the whole scenario and returns its scorecard; err is for a
// harness that could not run, not for what the scorecard found.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Log == nil {
		o.Log = func(string, ...any) {}
	}
	if o.Outage == 0 {
		o.Outage = o.Duration / 5
	}
	if o.Seed == 0 {
		o.Seed = mrand.Uint64()
	}
	lim, err := config.ParseByteSize(o.MemoryLimit)
	if err != nil {
		return nil, fmt.Errorf("memory limit: %w", err)
	}
	r := &runner{o: o, logf: o.Log, rng: mrand.New(mrand.NewPCG(o.Seed, 1)), memLimit: int64(lim),
		res: &Result{Options: o}, baseline: faults{LatencyMax: 20 * time.Millisecond}}
	defer r.cleanup()
	if err := r.setup(); err != nil {
		return r.res, err
	}
	if o.SyslogOutage {
		if err := r.runSyslogOutage(ctx); err != nil {
			return r.res, err
		}
		r.checkSyslogOutage(ctx)
		return r.res, nil
	}
	if err := r.run(ctx); err != nil {
		return r.res, err
	}
	r.check(ctx)
	return r.res, nil
}

var cleanups []func()

func (r *runner) cleanup() {
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	cleanups = nil
	if r.work != "" && !r.o.Keep {
		_ = os.RemoveAll(r.work)
	}
}

func freeAddr() (string, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("free port: %w", err)
		}
		addr := l.Addr().String()
		u, err := net.ListenPacket("udp", addr)
		l.Close()
		if err == nil {
			u.Close()
			return addr, nil
		}
	}
	return "", errors.New("no port free for tcp and udp")
}

func (r *runner) setup() error {
	var err error
	r.work = r.o.WorkDir
	if r.work == "" {
		if r.work, err = os.MkdirTemp("", "sluice-chaos-"); err != nil {
			return fmt.Errorf("work dir: %w", err)
		}
	} else if err := os.MkdirAll(r.work, 0o755); err != nil {
		return fmt.Errorf("work dir: %w", err)
	}
	// nobody must pass through to the logs and data_dir.
	if err := os.Chmod(r.work, 0o755); err != nil {
		return fmt.Errorf("work dir: %w", err)
	}
	r.logs = filepath.Join(r.work, "containers")
	r.data = filepath.Join(r.work, "data")
	for _, d := range []string{r.logs, r.data, filepath.Join(r.work, "store")} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return fmt.Errorf("mkdir: %w", err)
		}
	}
	var cred *syscall.Credential
	gid := -1
	if os.Geteuid() == 0 {
		gid = chaosGroup
		cred = &syscall.Credential{Uid: nobody, Gid: nobody, Groups: []uint32{chaosGroup}}
		if err := os.Chown(r.logs, 0, chaosGroup); err != nil {
			return fmt.Errorf("chown logs: %w", err)
		}
		if err := os.Chown(r.data, nobody, nobody); err != nil {
			return fmt.Errorf("chown data_dir: %w", err)
		}
		r.res.NonRoot = fmt.Sprintf("uid %d gid %d, supplementary group %d; logs 0640 root:%d in a 0750 root:%d folder",
			nobody, nobody, chaosGroup, chaosGroup, chaosGroup)
		// nobody may not reach the binary where it is (a test's 0700
		// temporary folder): run a copy from the work dir.
		raw, err := os.ReadFile(r.o.Agent)
		if err != nil {
			return fmt.Errorf("read agent binary: %w", err)
		}
		r.o.Agent = filepath.Join(r.work, "sluice")
		if err := os.WriteFile(r.o.Agent, raw, 0o755); err != nil {
			return fmt.Errorf("copy agent binary: %w", err)
		}
	} else {
		r.res.NonRoot = fmt.Sprintf("not tested: the harness runs as uid %d, so it cannot start the agent as another user", os.Geteuid())
	}
	r.logf("work dir %s, seed %d", r.work, r.o.Seed)

	storeLog, err := os.Create(filepath.Join(r.work, "store.log"))
	if err != nil {
		return fmt.Errorf("store log: %w", err)
	}
	cleanups = append(cleanups, func() { storeLog.Close() })
	// VictoriaLogs skips documents over 256KB by default and answers 400
	// for the whole request after storing the ones before it (Elasticsearch
	// stores nothing on a 400): a 1 MiB line would then be lost and its
	// neighbours stored twice. 2MB is its hard cap; the agent's documents
	// stay under it (max_line_bytes 1MiB).
	vs, err := vlstore.StartProcess(filepath.Join(r.work, "store"), storeLog, "-insert.maxLineSizeBytes=2MB")
	if err != nil {
		return err
	}
	cleanups = append(cleanups, vs.Stop)
	r.store = newStoreClient(vs)

	r.pass = "chaos-secret-" + randHex(24)
	if r.proxy, err = newFaultProxy(vs.Root, esUser, r.pass, r.o.Seed); err != nil {
		return err
	}
	cleanups = append(cleanups, r.proxy.close)
	r.proxy.set(r.baseline, "baseline")

	httpAddr, err := freeAddr()
	if err != nil {
		return err
	}
	tcpAddr, err := freeAddr()
	if err != nil {
		return err
	}
	udpAddr, err := freeAddr()
	if err != nil {
		return err
	}
	cfgPath := filepath.Join(r.work, "sluice.yaml")
	if err := os.WriteFile(cfgPath, []byte(r.config(httpAddr, tcpAddr, udpAddr)), 0o644); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	r.agent = &agentRunner{
		bin: r.o.Agent, cfg: cfgPath, cred: cred, httpAddr: httpAddr, logf: r.logf,
		logPath: filepath.Join(r.work, "agent.log"),
		// The secret reaches the agent only through its environment.
		env: append(os.Environ(), "CHAOS_ES_PASSWORD="+r.pass),
	}
	cleanups = append(cleanups, func() {
		if r.agent.running() {
			_ = r.agent.end(syscall.SIGKILL, "cleanup", 10*time.Second)
		}
	})

	r.fs = &fileSet{dir: r.logs, gid: gid, store: r.store, agent: r.agent, gate: &sync.RWMutex{}, logf: r.logf}
	for i := range r.o.Writers {
		if _, err := r.fs.addWriter(i, i%4 == 3, r.o.Seed); err != nil {
			return err
		}
	}
	if !r.o.SyslogOutage {
		if err := r.fs.addHostile(r.o.Seed); err != nil {
			return err
		}
		cleanups = append(cleanups, func() {
			for _, w := range r.fs.writers {
				w.mu.Lock()
				_ = w.f.Close()
				w.mu.Unlock()
			}
			_ = r.fs.hostile.f.Close()
		})
	}
	r.sys = newSyslogSenders(tcpAddr, udpAddr, r.logf)
	return nil
}

func (r *runner) config(httpAddr, tcpAddr, udpAddr string) string {
	headers := vlstore.HeadersYAML("      ")
	// Defaults of README for everything the scenario does not need to
	// pin: retry, timeouts, bulk sizes, max_line_bytes, max_message_bytes.
	return fmt.Sprintf(`node_name: chaos-node
data_dir: %q
memory_limit: %s
checkpoint_interval: 1s
http:
  listen: %s
inputs:
  - name: containers
    type: container_logs
    paths: [%q]
    start_at: head
  - name: syslog_tcp
    type: syslog
    tcp: %s
    udp: ""%s
  - name: syslog_udp
    type: syslog
    tcp: ""
    udp: %s%s
kubernetes:
  enabled: false
transforms:
  - type: json
    field: log
outputs:
  - name: es
    type: elasticsearch
    urls: [%q]
    index: "logs-chaos-%%Y.%%m.%%d"
    username: %s
    password: ${CHAOS_ES_PASSWORD}
    id_field: sluice_id
    headers:
%s`, r.data, r.o.MemoryLimit, httpAddr, filepath.Join(r.logs, "*.log"), tcpAddr, r.spoolYAML(), udpAddr, r.spoolYAML(), r.proxy.URL(), esUser, headers)
}

func (r *runner) since() string { return time.Since(r.start).Round(time.Second).String() }

// event logs a line of the run's timeline, which the scorecard prints.
func (r *runner) event(format string, args ...any) {
	msg := fmt.Sprintf("%7s  ", r.since()) + fmt.Sprintf(format, args...)
	r.logf("%s", msg)
	r.resMu.Lock()
	r.res.Timeline = append(r.res.Timeline, msg)
	r.resMu.Unlock()
}

func (r *runner) problem(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.event("PROBLEM: %s", msg)
	r.resMu.Lock()
	r.res.Failures = append(r.res.Failures, msg)
	r.resMu.Unlock()
}

func (r *runner) finding(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.event("FINDING: %s", msg)
	r.resMu.Lock()
	r.res.Findings = append(r.res.Findings, msg)
	r.resMu.Unlock()
}

// sleepUntil waits until the run's offset at, or ctx's end.
func (r *runner) sleepUntil(ctx context.Context, at time.Duration) {
	d := time.Until(r.start.Add(at))
	if d <= 0 {
		return
	}
	select {
	case <-ctx.Done():
	case <-time.After(d): // the schedule
	}
}

func (r *runner) fault(ctx context.Context, f faults, d time.Duration, what string) {
	r.event("fault on for %v: %s", d.Round(time.Second), what)
	r.proxy.set(f, what)
	select {
	case <-ctx.Done():
	case <-time.After(d): // the fault's length
	}
	r.proxy.set(r.baseline, "baseline")
	r.event("fault off: %s", what)
}

func (r *runner) run(ctx context.Context) error {
	o := r.o
	D := o.Duration
	frac := func(f float64) time.Duration { return time.Duration(f * float64(D)) }
	atLeast := func(d, min time.Duration) time.Duration { return max(d, min) }

	r.start = time.Now()
	r.udpBase = udpRcvbufErrors()
	if err := r.agent.start(); err != nil {
		return fmt.Errorf("first agent start: %w", err)
	}
	r.event("agent started (pid %d), writers start: %d files at %.0f lines/s, %d TCP senders at %.0f msg/s, UDP at %.0f msg/s",
		r.agent.lives[0].pid, o.Writers, o.Rate, o.TCPConns, o.TCPRate, o.UDPRate)

	bg, stopBG := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { stopBG(); wg.Wait() }()
	wg.Go(func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for n := 0; ; n++ {
			select {
			case <-bg.Done():
				return
			case <-t.C:
			}
			r.agent.sample()
			if n%5 == 0 && r.agent.running() {
				_, _ = r.agent.scrape()
			}
		}
	})
	writeCtx, stopWriters := context.WithCancel(ctx)
	var writers sync.WaitGroup
	defer func() { stopWriters(); writers.Wait() }()
	for _, w := range r.fs.writers {
		writers.Go(func() { w.run(writeCtx, o.Rate/float64(o.Writers), o.Rotate, true) })
	}
	writers.Go(func() { r.fs.hostile.run(writeCtx, atLeast(D/120, 300*time.Millisecond), atLeast(D/30, time.Second)) })
	for k := range o.TCPConns {
		writers.Go(func() { r.sys.runTCP(writeCtx, appTCP, "c"+strconv.Itoa(k), o.TCPRate/float64(o.TCPConns)) })
	}
	writers.Go(func() { r.sys.runUDP(writeCtx, o.UDPRate) })
	writers.Go(func() { r.sys.idle(writeCtx, o.IdleConns) })
	writers.Go(func() { r.sys.slow(writeCtx, int(D/(4*time.Second)), 20*time.Millisecond) })
	writers.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-writeCtx.Done():
				return
			case <-time.After(atLeast(D/60, time.Second)): // hostile frame pace
			}
			r.sys.hostileTCP(writeCtx, hostileTCPKinds[i%len(hostileTCPKinds)])
		}
	})
	// Rotated files are deleted once delivered, as the kubelet would.
	wg.Go(func() {
		for {
			select {
			case <-bg.Done():
				return
			case <-time.After(5 * time.Second): // janitor pace
			}
			r.fs.settleMoved(bg, 0)
			r.fs.settleCopies(bg)
		}
	})

	// The schedule: each fault once, then the kills, the outage and the
	// unwritable data_dir, spread over the run.
	r.sleepUntil(ctx, frac(0.05))
	r.fault(ctx, faults{LatencyMax: 1500 * time.Millisecond}, atLeast(frac(0.03), 2*time.Second), "latency up to 1.5s per request")
	r.sleepUntil(ctx, frac(0.10))
	r.fault(ctx, faults{LatencyMax: 20 * time.Millisecond, Request429: 0.7}, atLeast(frac(0.03), 2*time.Second), "70% of bulk requests refused whole with 429")
	r.sleepUntil(ctx, frac(0.14))
	r.fault(ctx, faults{LatencyMax: 20 * time.Millisecond, Item429: 0.2}, atLeast(frac(0.04), 2*time.Second), "20% of bulk items refused with 429 in a 200 answer")
	killAt := []float64{0.20, 0.72, 0.90, 0.95}
	kills := 0
	if o.Kills > 0 {
		r.sleepUntil(ctx, frac(killAt[0]))
		r.killAndRestart(ctx)
		kills++
	}
	r.sleepUntil(ctx, frac(0.24))
	r.fault(ctx, faults{LatencyMax: 20 * time.Millisecond, ResetBefore: 0.25, ResetAfter: 0.25}, atLeast(frac(0.04), 5*time.Second), "25% of bulk requests reset before, 25% after the store stored them")
	r.sleepUntil(ctx, frac(0.29))
	floodDone := make(chan struct{})
	r.event("syslog flood: %d connections × %d messages", o.FloodConns, o.FloodPerConn)
	writers.Go(func() {
		defer close(floodDone)
		r.sys.flood(writeCtx, o.FloodConns, o.FloodPerConn)
		r.event("syslog flood sent")
	})

	r.sleepUntil(ctx, frac(0.33))
	caughtUp := r.outage(ctx, &wg)

	r.sleepUntil(ctx, frac(0.58))
	// The data_dir step needs acks flowing, so not while the backlog of
	// the outage is still in retry backoff.
	select {
	case <-caughtUp:
	case <-time.After(2 * time.Minute):
	}
	r.unwritableDataDir(ctx, atLeast(frac(0.06), 5*time.Second))

	for kills < o.Kills && kills < len(killAt) {
		r.sleepUntil(ctx, frac(killAt[kills]))
		<-floodDone // a flood in progress cannot be quiesced quickly
		r.killAndRestart(ctx)
		kills++
	}
	r.sleepUntil(ctx, frac(0.78))
	r.fault(ctx, faults{LatencyMax: 200 * time.Millisecond, Item429: 0.1, ResetAfter: 0.05}, atLeast(frac(0.05), 2*time.Second), "mixed: latency up to 200ms, 10% item 429s, 5% resets after storing")

	r.sleepUntil(ctx, D)
	stopWriters()
	writers.Wait()
	r.res.WriteTime = time.Since(r.start)
	r.event("writers stopped: %d file lines, %d hostile file lines, %d TCP, %d UDP messages sent",
		r.fs.written(), r.fs.hostile.seq, r.sys.tcpTotal(), r.sys.udpSent.Load())
	r.res.RotRenames, r.res.RotCopyTruncates, r.res.RotSkipped = r.fs.renames.Load(), r.fs.copyTruncates.Load(), r.fs.rotSkipped.Load()
	r.fs.skipReasons.Range(func(k, v any) bool {
		r.res.RotSkipReasons = append(r.res.RotSkipReasons, fmt.Sprintf("%s: %d", k, v.(interface{ Load() int64 }).Load()))
		return true
	})

	r.drain(ctx)
	stopBG()
	wg.Wait()
	if err := r.agent.stop(); err != nil {
		r.problem("graceful stop: %v", err)
	}
	r.event("agent stopped with SIGTERM")
	return nil
}

// killAndRestart SIGKILLs the agent at a moment when that loses nothing
// any agent could have kept: no rotated-away file undelivered, no TCP
// message in flight (see syslogSenders).
func (r *runner) killAndRestart(ctx context.Context) {
	r.fs.gate.Lock()
	defer r.fs.gate.Unlock()
	t0 := time.Now()
	if left := r.fs.settleMoved(ctx, 2*time.Minute); len(left) > 0 {
		r.problem("SIGKILL with rotated files not delivered after 2m: %s", strings.Join(left, "; "))
	}
	if err := r.sys.quiesce(ctx, r.store, 2*time.Minute); err != nil {
		r.problem("SIGKILL with TCP messages not delivered: %v", err)
	}
	_, l, _ := r.agent.current()
	if err := r.agent.kill(); err != nil {
		r.problem("kill: %v", err)
	}
	r.res.Kills++
	r.event("SIGKILL agent pid %d (quiesce took %v; VmHWM %d MiB)", l.pid, time.Since(t0).Round(time.Millisecond), l.hwm>>10)
	if err := r.agent.start(); err != nil {
		r.problem("restart after SIGKILL: %v", err)
	} else {
		_, l, _ = r.agent.current()
		r.event("agent restarted (pid %d)", l.pid)
	}
	r.sys.resume()
}

// outage cuts the store off for Outage, then measures how long the agent
// takes to deliver what was written up to the end of the outage.
func (r *runner) outage(ctx context.Context, wg *sync.WaitGroup) <-chan struct{} {
	r.res.Outages++
	r.event("store outage for %v: every connection to the store is reset", r.o.Outage)
	cutAt := time.Now()
	r.proxy.set(faults{Down: true}, "outage")
	select {
	case <-ctx.Done():
	case <-time.After(r.o.Outage): // the outage
	}
	marks := r.fs.marks()
	r.proxy.set(r.baseline, "baseline")
	r.event("store back; backlog: about %d lines written during the outage", r.backlogLines(cutAt))
	done := make(chan struct{})
	wg.Go(func() {
		defer close(done)
		d, err := r.catchUp(ctx, marks, cutAt)
		r.resMu.Lock()
		r.res.CatchUp, r.res.CatchUpErr = d, err
		r.resMu.Unlock()
		if err != nil {
			r.event("catch-up not reached: %v", err)
		} else {
			r.event("caught up %v after the store came back", d.Round(100*time.Millisecond))
		}
	})
	return done
}

// backlogLines estimates lines written since t from the writers' rate.
func (r *runner) backlogLines(t time.Time) int {
	return int(r.o.Rate * time.Since(t).Seconds())
}

// catchUp polls until every writer's last JSON line from the end of the
// outage is in the store.
func (r *runner) catchUp(ctx context.Context, marks map[string]int, cutAt time.Time) (time.Duration, error) {
	start := time.Now()
	q := fmt.Sprintf(`_stream:{kubernetes.namespace_name=%q} _time:>=%s | stats by (kubernetes.pod_name) max(seq) m`,
		nsLines, cutAt.Add(-2*time.Minute).UTC().Format(time.RFC3339))
	var last error
	for time.Since(start) < 5*time.Minute && ctx.Err() == nil {
		qctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		rows, err := r.store.Query(qctx, q)
		cancel()
		if err == nil {
			have := map[string]int{}
			for _, row := range rows {
				have[row["kubernetes.pod_name"]] = atoi(row["m"])
			}
			behind := 0
			for pod, m := range marks {
				if have[pod] < m {
					behind++
				}
			}
			if behind == 0 {
				return time.Since(start), nil
			}
			last = fmt.Errorf("%d of %d files behind", behind, len(marks))
		} else {
			last = err
		}
		time.Sleep(time.Second) // catch-up poll
	}
	return time.Since(start), fmt.Errorf("not caught up after %v: %w", time.Since(start).Round(time.Second), last)
}

// drain waits, after the writers stopped, until the agent has nothing
// left: no file lag, no batch held.
func (r *runner) drain(ctx context.Context) {
	t0 := time.Now()
	idle := 0
	for time.Since(t0) < r.o.DrainTimeout && ctx.Err() == nil {
		m, err := r.agent.scrape()
		if err == nil && m.get("sluice_file_lag_max_bytes", "input", "containers") == 0 &&
			m.get("sluice_pipeline_memory_bytes") == 0 && m.get("sluice_output_inflight_requests", "output", "es") == 0 {
			idle++
			if idle >= 3 {
				r.res.Drain = time.Since(t0)
				r.event("agent idle %v after the writers stopped", r.res.Drain.Round(100*time.Millisecond))
				return
			}
		} else {
			idle = 0
		}
		time.Sleep(time.Second) // idle poll
	}
	r.problem("agent not idle %v after the writers stopped", r.o.DrainTimeout)
}

// unwritableDataDir makes data_dir read-only for d: checkpoints must stop
// advancing with a clear error and a metric while lines
// keep flowing, and advance again afterwards.
func (r *runner) unwritableDataDir(ctx context.Context, d time.Duration) {
	ck := filepath.Join(r.data, "checkpoints.json")
	logOff := fileSize(r.agent.logPath)
	rowsBefore, err := r.store.count(ctx, "*")
	if err != nil {
		r.problem("count rows before the data_dir step: %v", err)
	}
	const errMetric, okMetric = "sluice_checkpoint_save_errors_total", "sluice_checkpoint_last_success_timestamp_seconds"
	m0, _ := r.agent.scrape()
	errs0, haveErrs := m0[metricKey(errMetric)]
	how, undo, err := makeUnwritable(r.data)
	if err != nil {
		r.finding("data_dir could not be made unwritable: %v", err)
		return
	}
	r.event("data_dir unwritable for %v (%s)", d, how)
	t0 := time.Now()
	mt0 := fileMtime(ck)
	advanced := false
	// At least d, and on until documents were acknowledged meanwhile
	// (there must be a checkpoint to save), up to 30s more.
	flowing := func() bool {
		n, err := r.store.count(ctx, "*")
		return err == nil && n > rowsBefore
	}
	for (time.Since(t0) < d || (time.Since(t0) < d+30*time.Second && !flowing())) && ctx.Err() == nil {
		if mt := fileMtime(ck); !mt.Equal(mt0) {
			advanced = true
		}
		time.Sleep(250 * time.Millisecond) // watch the checkpoint file
	}
	m, _ := r.agent.scrape()
	var ckMetrics []string
	for k, v := range m {
		if strings.Contains(strings.ToLower(k), "checkpoint") {
			ckMetrics = append(ckMetrics, fmt.Sprintf("%s = %v", k, v))
		}
	}
	sort.Strings(ckMetrics)
	saveErrs, staleFor := int64(-1), time.Duration(0)
	if errs, ok := m[metricKey(errMetric)]; ok && haveErrs {
		saveErrs = int64(errs - errs0)
	}
	if ts, ok := m[metricKey(okMetric)]; ok {
		staleFor = time.Since(time.Unix(0, int64(ts*1e9)))
	}
	rowsDuring, _ := r.store.count(ctx, "*")
	errLines, sample := grepFrom(r.agent.logPath, logOff, "checkpoint")
	if err := undo(); err != nil {
		r.problem("restore data_dir: %v", err)
	}
	mtRO := fileMtime(ck)
	resumed := time.Duration(-1)
	for t := time.Now(); time.Since(t) < 15*time.Second; {
		if !fileMtime(ck).Equal(mtRO) {
			resumed = time.Since(t)
			break
		}
		time.Sleep(100 * time.Millisecond) // watch the checkpoint file
	}
	dd := DataDirResult{
		How: how, For: d, AgentAlive: r.agent.running(), CheckpointAdvanced: advanced,
		ErrorLines: errLines, ErrorSample: sample, Metrics: ckMetrics, SaveErrors: saveErrs, StaleFor: staleFor,
		RowsDuring: rowsDuring - rowsBefore, ResumedAfter: resumed, Lasted: time.Since(t0),
	}
	r.res.DataDir = &dd
	r.event("data_dir writable again; %d log lines about checkpoints, checkpoint file advanced again after %v", errLines, resumed)
	if !dd.AgentAlive {
		r.problem("the agent died while data_dir was unwritable")
	}
	if advanced {
		r.problem("checkpoints.json changed while data_dir was read-only")
	}
	if errLines == 0 {
		r.finding("no log line mentions the checkpoint failure while data_dir was unwritable")
	}
	switch {
	case len(ckMetrics) == 0:
		r.finding("no metric shows checkpoint save failures (no metric name contains \"checkpoint\" in /metrics)")
	case saveErrs < 0:
		r.finding("no %s in /metrics (checkpoint metrics: %v)", errMetric, ckMetrics)
	case saveErrs == 0 && !advanced:
		r.finding("%s did not rise while data_dir was unwritable", errMetric)
	}
	if resumed < 0 {
		r.problem("checkpoints did not advance within 15s of data_dir becoming writable")
	}
}

// makeUnwritable makes dir refuse writes even to root: a read-only bind
// mount of it over itself (chmod does not stop root). Without the right to
// mount, a non-root harness uses chmod 0500.
func makeUnwritable(dir string) (string, func() error, error) {
	if err := syscall.Mount(dir, dir, "", syscall.MS_BIND, ""); err == nil {
		if err := syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_BIND|syscall.MS_RDONLY, ""); err != nil {
			_ = syscall.Unmount(dir, syscall.MNT_DETACH)
			return "", nil, fmt.Errorf("remount read-only: %w", err)
		}
		return "read-only bind mount over data_dir", func() error {
			if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
				return fmt.Errorf("unmount %s: %w", dir, err)
			}
			return nil
		}, nil
	} else if os.Geteuid() == 0 {
		return "", nil, fmt.Errorf("bind mount: %w (chmod would not stop root)", err)
	}
	if err := os.Chmod(dir, 0o500); err != nil {
		return "", nil, fmt.Errorf("chmod: %w", err)
	}
	return "chmod 0500 (harness not root)", func() error { return os.Chmod(dir, 0o750) }, nil
}

func fileSize(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func fileMtime(p string) time.Time {
	fi, err := os.Stat(p)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

// grepFrom counts lines of p from offset off that contain word (any case),
// and returns the first.
func grepFrom(p string, off int64, word string) (int, string) {
	raw, err := os.ReadFile(p)
	if err != nil || off > int64(len(raw)) {
		return 0, ""
	}
	n, first := 0, ""
	for _, l := range bytes.Split(raw[off:], []byte("\n")) {
		if bytes.Contains(bytes.ToLower(l), []byte(word)) {
			if n == 0 {
				first = string(l)
			}
			n++
		}
	}
	return n, first
}
