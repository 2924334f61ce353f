package e2e

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/internal/agenttest"
)

// cutProxy forwards TCP connections on 127.0.0.1 to a target until the
// test cuts it: then every open connection is closed and new ones are
// accepted and closed at once (the agent sees resets and EOFs, as when a
// store's node dies), until restore.
type cutProxy struct {
	l      net.Listener
	target string

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func startCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &cutProxy{l: l, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Go(p.accept)
	t.Cleanup(func() {
		_ = l.Close()
		p.cut()
		p.wg.Wait()
	})
	return p
}

func (p *cutProxy) accept() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return // listener closed
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			_ = c.Close()
			continue
		}
		up, err := net.DialTimeout("tcp", p.target, 2*time.Second)
		if err != nil {
			_ = c.Close()
			continue
		}
		if !p.track(c, up) {
			continue
		}
		p.wg.Go(func() { p.pipe(c, up) })
		p.wg.Go(func() { p.pipe(up, c) })
	}
}

// track registers a connection pair, or closes it if the proxy was cut
// meanwhile.
func (p *cutProxy) track(a, b net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		_ = a.Close()
		_ = b.Close()
		return false
	}
	p.conns[a], p.conns[b] = struct{}{}, struct{}{}
	return true
}

func (p *cutProxy) pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
	_ = src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// cut drops every connection and refuses new ones.
func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

func (p *cutProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

// procMemKiB reads a field such as VmRSS or VmHWM, in KiB, from
// /proc/<pid>/status.
func procMemKiB(pid int, field string) (int64, error) {
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
	return 0, os.ErrNotExist
}

// The store is cut off for a few seconds while files keep growing: the
// agent retries, stops reading when memory_limit is reached (the files
// buffer), and once the store is back every line arrives, each with its
// own sluice_id (a request whose answer was lost in the cut is stored
// again by VictoriaLogs, which ignores _id; Elasticsearch would answer
// 409). The agent's peak RSS stays under memory_limit plus the runtime's
// overhead.
func TestStoreOutage(t *testing.T) {
	agenttest.Binary(t)
	const (
		memoryLimit = 40 << 20 // small: 256KiB bodies need 33MiB
		outage      = 5 * time.Second
	)
	// Peak RSS allowed beyond memory_limit: none, since memory_limit
	// counts the binary and the runtime too; the race
	// detector multiplies heap and adds its own shadow memory.
	overhead := int64(0)
	if raceEnabled {
		overhead = 256 << 20
	}

	e := newEnv(t)
	u, err := url.Parse(e.store.URL)
	require.NoError(t, err)
	proxy := startCutProxy(t, u.Host)
	u.Host = proxy.l.Addr().String()
	ac := agentConfig(configParams{
		DataDir:  e.dataDir,
		Paths:    []string{filepath.Join(e.logs, "*.log")},
		StoreURL: u.String(),
	})
	ac.MemoryLimit = config.ByteSize(memoryLimit)
	ac.Outputs[0].Timeout = config.Duration(2 * time.Second)
	ac.Outputs[0].Retry.Max = config.Duration(500 * time.Millisecond)
	cfg := renderConfig(t, ac)
	cfgPath := filepath.Join(filepath.Dir(e.dataDir), "outage.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(cfg), 0o600))

	c := e.corpus
	files := e.standardFiles(t)
	for _, lf := range files {
		c.appendLines(t, lf, 300)
	}
	a := agenttest.Start(t, cfgPath, agenttest.Options{Name: "agent"})
	pid := a.Pid()
	waitForCount(t, e.store, a, 1000, deliveryTimeout)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	stopWriters := sync.OnceFunc(func() { close(stop); wg.Wait() })
	t.Cleanup(stopWriters)
	for _, lf := range files {
		wg.Add(1)
		go c.writer(t, lf, 60, 10*time.Millisecond, stop, &wg)
	}
	time.Sleep(time.Second) // writers and agent under way; not a sync

	var peakRSS int64
	sample := func() {
		if v, err := procMemKiB(pid, "VmRSS"); err == nil && v > peakRSS {
			peakRSS = v
		}
	}
	before := c.count()
	proxy.cut()
	cutAt := time.Now()
	for time.Since(cutAt) < outage {
		sample()
		a.RequireRunning(t)
		time.Sleep(100 * time.Millisecond) // sampling interval
	}
	during := c.count() - before
	proxy.restore()
	t.Logf("store cut off for %v; %d lines written meanwhile", outage, during)
	time.Sleep(time.Second) // writers keep going after the restore; not a sync
	stopWriters()
	t.Logf("wrote %s", c.summary())

	rep := waitForLines(t, e.store, c, a, 2*deliveryTimeout)
	requireIdempotent(t, rep)
	t.Logf("%d lines, %d rows, %d replays of requests cut mid-flight (same sluice_id)", c.count(), rep.rows, rep.replays())

	hwm, err := procMemKiB(pid, "VmHWM")
	require.NoError(t, err)
	limitKiB := (int64(memoryLimit) + overhead) >> 10
	t.Logf("agent RSS: peak %d KiB (VmHWM), %d KiB sampled during the outage; memory_limit %d KiB + overhead %d KiB = bound %d KiB (race: %v)",
		hwm, peakRSS, memoryLimit>>10, overhead>>10, limitKiB, raceEnabled)
	require.Less(t, hwm, limitKiB, "peak RSS over memory_limit plus overhead")

	require.Equal(t, 0, a.Stop(t), "exit code after SIGTERM")
	rows := mustQueryAll(t, e.store)
	requireIdempotent(t, c.check(rows))
}
