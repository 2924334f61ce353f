package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// agentRunner runs the agent binary, one process ("life") at a time, and
// watches it from outside: RSS from /proc, counters from /metrics.
type agentRunner struct {
	bin, cfg string
	env      []string
	cred     *syscall.Credential // nil: run as the harness's own user
	logPath  string              // every life's stderr, appended
	httpAddr string
	logf     func(string, ...any)

	mu        sync.Mutex
	cmd       *exec.Cmd
	done      chan struct{}
	expecting bool // the current life is being killed or stopped by us
	lives     []*life
	crashes   []string
	peakRSS   int64 // KiB, sampled VmRSS over every life
	peakHWM   int64 // KiB, VmHWM over every life
}

// life is one agent process: how it ended and its last counters.
type life struct {
	pid     int
	started time.Time
	ended   string
	metrics metricSet // last scrape
	hwm     int64     // KiB
	// At the highest VmRSS sampled: RssAnon (heap, stacks) and RssFile
	// (the binary's pages, which the Go runtime's limit does not see),
	// KiB, so a life over memory_limit says which of them grew.
	rss, anon, file int64
}

// metricSet is one scrape: "name{k=v,...}" → value, labels sorted.
type metricSet map[string]float64

func (m metricSet) get(name string, labels ...string) float64 {
	return m[metricKey(name, labels...)]
}

func metricKey(name string, labels ...string) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('{')
	for i := 0; i+1 < len(labels); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(labels[i] + "=" + labels[i+1])
	}
	b.WriteByte('}')
	return b.String()
}

func (a *agentRunner) start() error {
	f, err := os.OpenFile(a.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("agent log: %w", err)
	}
	a.mu.Lock()
	n := len(a.lives) + 1
	a.mu.Unlock()
	fmt.Fprintf(f, "=== chaos: agent life %d starts at %s ===\n", n, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(a.bin, "-config", a.cfg)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = a.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: a.cred, Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start agent: %w", err)
	}
	f.Close() // the child has its own descriptor
	l := &life{pid: cmd.Process.Pid, started: time.Now()}
	done := make(chan struct{})
	a.mu.Lock()
	a.cmd, a.done, a.expecting = cmd, done, false
	a.lives = append(a.lives, l)
	a.mu.Unlock()
	go func() {
		err := cmd.Wait()
		a.mu.Lock()
		if l.ended == "" {
			l.ended = fmt.Sprint(err)
		}
		if !a.expecting {
			a.crashes = append(a.crashes, fmt.Sprintf("life %d (pid %d) exited on its own: %v", n, l.pid, err))
		}
		a.mu.Unlock()
		close(done)
	}()
	return a.waitReady(done)
}

// waitReady polls /readyz until the agent says it runs.
func (a *agentRunner) waitReady(done chan struct{}) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("agent exited while starting; see %s", a.logPath)
		default:
		}
		resp, err := http.Get("http://" + a.httpAddr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond) // readiness poll
	}
	return errors.New("agent not ready within 60s")
}

func (a *agentRunner) current() (*exec.Cmd, *life, chan struct{}) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.lives) == 0 {
		return nil, nil, nil
	}
	return a.cmd, a.lives[len(a.lives)-1], a.done
}

func (a *agentRunner) running() bool {
	_, _, done := a.current()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// sample records RSS of the running life; called on a ticker.
func (a *agentRunner) sample() {
	_, l, _ := a.current()
	if l == nil {
		return
	}
	rss, err1 := procStatusKiB(l.pid, "VmRSS")
	hwm, err2 := procStatusKiB(l.pid, "VmHWM")
	anon, err3 := procStatusKiB(l.pid, "RssAnon")
	file, err4 := procStatusKiB(l.pid, "RssFile")
	a.mu.Lock()
	defer a.mu.Unlock()
	if err1 == nil && rss > a.peakRSS {
		a.peakRSS = rss
	}
	if err1 == nil && err3 == nil && err4 == nil && rss > l.rss {
		l.rss, l.anon, l.file = rss, anon, file
	}
	if err2 == nil {
		if hwm > l.hwm {
			l.hwm = hwm
		}
		if hwm > a.peakHWM {
			a.peakHWM = hwm
		}
	}
}

// scrape reads /metrics into the current life's last counters.
func (a *agentRunner) scrape() (metricSet, error) {
	_, l, _ := a.current()
	if l == nil {
		return nil, errors.New("no agent")
	}
	m, err := scrapeMetrics("http://" + a.httpAddr + "/metrics")
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	l.metrics = m
	a.mu.Unlock()
	return m, nil
}

// kill scrapes, samples and SIGKILLs the running life.
func (a *agentRunner) kill() error {
	_, _ = a.scrape()
	a.sample()
	return a.end(syscall.SIGKILL, "SIGKILL", 10*time.Second)
}

// stop sends SIGTERM and waits for an orderly exit.
func (a *agentRunner) stop() error {
	_, _ = a.scrape()
	a.sample()
	return a.end(syscall.SIGTERM, "SIGTERM", 40*time.Second)
}

func (a *agentRunner) end(sig syscall.Signal, name string, wait time.Duration) error {
	cmd, l, done := a.current()
	if cmd == nil {
		return nil
	}
	a.mu.Lock()
	a.expecting = true
	a.mu.Unlock()
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal agent: %w", err)
	}
	select {
	case <-done:
	case <-time.After(wait):
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("agent did not exit within %v of %s", wait, name)
	}
	a.mu.Lock()
	l.ended = name + ": " + l.ended
	a.mu.Unlock()
	return nil
}

// procStatusKiB reads a kB field (VmRSS, VmHWM, RssAnon) of /proc/PID/status.
func procStatusKiB(pid int, field string) (int64, error) {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// openInodes lists the inodes of the regular files pid holds open under dir.
func openInodes(pid int, dir string) (map[uint64]bool, error) {
	fdDir := "/proc/" + strconv.Itoa(pid) + "/fd"
	ents, err := os.ReadDir(fdDir)
	if err != nil {
		return nil, fmt.Errorf("list agent fds: %w", err)
	}
	out := map[uint64]bool{}
	for _, e := range ents {
		link := filepath.Join(fdDir, e.Name())
		target, err := os.Readlink(link)
		if err != nil || !strings.HasPrefix(target, dir+"/") {
			continue
		}
		var st syscall.Stat_t
		if err := syscall.Stat(link, &st); err == nil {
			out[st.Ino] = true
		}
	}
	return out, nil
}

func scrapeMetrics(u string) (metricSet, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return nil, fmt.Errorf("scrape: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape: status %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("parse metrics: %w", err)
	}
	out := metricSet{}
	for name, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, lp := range m.GetLabel() {
				labels = append(labels, lp.GetName(), lp.GetValue())
			}
			var v float64
			switch {
			case m.GetCounter() != nil:
				v = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				v = m.GetGauge().GetValue()
			default:
				continue
			}
			out[metricKey(name, labels...)] = v
		}
	}
	return out, nil
}
