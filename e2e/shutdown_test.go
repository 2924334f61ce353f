package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/agenttest"
)

// The shutdown tests run the built agent against outputs in every state
// a shutdown meets in production and check what its user sees: SIGTERM
// ends the process within shutdown_timeout + 2 s, with exit code 3 when
// the timeout cut delivery (0 when everything was delivered), and the
// checkpoints it saved never cover a line the endpoint did not store.

// shutdownSlack is how long past shutdown_timeout the process may take
// to exit after SIGTERM (docs/operations.md: "within a second or two").
const shutdownSlack = 2 * time.Second

// matrixTimeout is the matrix agents' shutdown_timeout.
const matrixTimeout = 2 * time.Second

// shutdownFile is one container log file the test wrote, and where each
// of its lines ends.
type shutdownFile struct {
	name, path string // name is the documents' "file" field
	ends       []int64
}

// shutdownLine is the JSON application log line seq of file: every
// fourth is at level debug (what the drop transform removes).
func shutdownLine(file string, seq, pad int) string {
	level := "info"
	if seq%4 == 0 {
		level = "debug"
	}
	return fmt.Sprintf(`{"level":%q,"file":%q,"seq":%d,"msg":"shutdown test line %d of %s %s"}`,
		level, file, seq, seq, file, strings.Repeat("x", pad))
}

func droppedByLevel(seq int) bool { return seq%4 == 0 }

// writeShutdownFile writes n CRI lines into a kubelet-named file in dir.
func writeShutdownFile(t *testing.T, dir, name, ns string, n, pad int) *shutdownFile {
	t.Helper()
	f := &shutdownFile{name: name, path: filepath.Join(dir, fmt.Sprintf("%s-0_%s_app-%064d.log", name, ns, len(name)))}
	out, err := os.Create(f.path)
	require.NoError(t, err)
	w := bufio.NewWriterSize(out, 1<<20)
	var off int64
	for seq := range n {
		k, err := fmt.Fprintf(w, "2026-11-25T10:00:00.%09dZ stdout F %s\n", seq, shutdownLine(name, seq, pad))
		require.NoError(t, err)
		off += int64(k)
		f.ends = append(f.ends, off)
	}
	require.NoError(t, w.Flush())
	require.NoError(t, out.Close())
	return f
}

// shutdownCase is one cell of the matrix.
type shutdownCase struct {
	input     string // files | syslog
	transform string // none | drop | throttle
	output    string // refuse | 401 | slow | blackhole | gone | healthy
}

func (c shutdownCase) name() string { return c.input + "/" + c.transform + "/" + c.output }

// cuts reports whether the case ends with delivery cut (exit 3).
func (c shutdownCase) cuts() bool { return c.output != "healthy" }

// shutdownConfig is the agent config of a case.
func shutdownConfig(c shutdownCase, dataDir, logs, syslogAddr, url string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `node_name: %s
data_dir: %q
memory_limit: 32MiB
workers: 2
checkpoint_interval: 100ms
shutdown_timeout: %s
http:
  listen: 127.0.0.1:0
kubernetes:
  enabled: false
inputs:
`, nodeName, dataDir, matrixTimeout)
	if c.input == "files" {
		fmt.Fprintf(&b, "  - { name: containers, type: container_logs, paths: [%q], start_at: head, poll_interval: 50ms, batch_bytes: 8KiB }\n", filepath.Join(logs, "*.log"))
	} else {
		fmt.Fprintf(&b, "  - { name: syslog, type: syslog, tcp: %q, format: auto }\n", syslogAddr)
	}
	b.WriteString("transforms:\n  - { type: json, field: log }\n")
	switch {
	case c.transform == "drop":
		b.WriteString("  - { type: drop, field: level, pattern: \"^debug$\" }\n")
	case c.transform == "throttle" && c.input == "files":
		// Only the noisy namespace's file is throttled: the others keep
		// an exact account of what may be checkpointed.
		b.WriteString("  - { type: throttle, rate: 200, burst: 200, key: pod, summary_interval: 1s, match: { namespaces: [noisy] } }\n")
	case c.transform == "throttle":
		b.WriteString("  - { type: throttle, rate: 1000, burst: 1000, key: field, field: file, summary_interval: 1s }\n")
	}
	fmt.Fprintf(&b, `outputs:
  - name: es
    type: elasticsearch
    urls: [%q]
    index: "logs-{kubernetes.namespace_name}-%%Y.%%m.%%d"
    bulk: { max_bytes: 16KiB, flush_interval: 100ms, workers: 2 }
    retry: { initial: 100ms, max: 1s }
`, url)
	return b.String()
}

// TestShutdownMatrix stops the agent under every combination of input
// (container files, TCP syslog from util-linux logger), filter transform
// (none, drop, throttle) and output state (refusing connections, 401,
// slow, blackholed, gone mid-backlog), plus a healthy control per input.
// The cases run side by side; each waits until its agent is in the state
// it tests (a backlog held, the endpoint seen failing) before SIGTERM.
func TestShutdownMatrix(t *testing.T) {
	agenttest.Binary(t)
	t.Parallel()
	var cases []shutdownCase
	for _, in := range []string{"files", "syslog"} {
		for _, tr := range []string{"none", "drop", "throttle"} {
			for _, out := range []string{"refuse", "401", "slow", "blackhole", "gone"} {
				cases = append(cases, shutdownCase{in, tr, out})
			}
		}
		cases = append(cases, shutdownCase{in, "none", "healthy"})
	}
	// t.Run from several goroutines at once: the cases mostly wait on
	// timers, and -parallel (GOMAXPROCS) would run two at a time.
	const concurrent = 4
	sem := make(chan struct{}, concurrent)
	var wg sync.WaitGroup
	for _, c := range cases {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			t.Run(c.name(), func(t *testing.T) { runShutdownCase(t, c) })
		})
	}
	wg.Wait()
}

func runShutdownCase(t *testing.T, c shutdownCase) {
	dir := t.TempDir()
	logs, dataDir := filepath.Join(dir, "logs"), filepath.Join(dir, "data")
	require.NoError(t, os.MkdirAll(logs, 0o755))

	var fake *fakeBulk
	switch c.output {
	case "refuse":
		fake = startFakeBulk(t, modeRefuse, 0, 0)
	case "401":
		fake = startFakeBulk(t, modeUnauth, 0, 0)
	case "blackhole":
		fake = startFakeBulk(t, modeBlackhole, 0, 0)
	case "slow":
		fake = startFakeBulk(t, modeAnswer, 500*time.Millisecond, 0)
	case "gone":
		fake = startFakeBulk(t, modeAnswer, 50*time.Millisecond, 1500)
	case "healthy":
		fake = startFakeBulk(t, modeAnswer, 0, 0)
	}

	// Enough for a backlog over memory_limit's batch share with every
	// output state; syslog needs more, as the throttle passes 1,000/s.
	const lines, messages, pad = 2000, 12000, 120
	var files []*shutdownFile
	var syslogAddr string
	if c.input == "files" {
		for i, ns := range []string{"payments", "web", "noisy"} {
			files = append(files, writeShutdownFile(t, logs, "f"+strconv.Itoa(i), ns, lines, pad))
		}
	} else {
		syslogAddr = freeAddr(t)
	}
	cfgPath := filepath.Join(dir, "sluice.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(shutdownConfig(c, dataDir, logs, syslogAddr, fake.URL)), 0o600))
	a := agenttest.Start(t, cfgPath, agenttest.Options{Name: "agent " + c.name()})
	base := a.APIURL(t, 1)
	want := len(files) * lines
	if c.input == "syslog" {
		want = messages
		startLogger(t, a, syslogAddr, dir, "s0", messages, pad)
	}
	if c.transform == "drop" {
		want -= want / 4
	}
	waitShutdownState(t, c, a, base, fake, want)
	before := fake.snapshot()
	var ackedBefore map[string]int64
	if c.input == "files" {
		var err error
		ackedBefore, err = ackedNow(base)
		require.NoError(t, err)
	}

	code, took := stopAgentTimed(t, a, matrixTimeout+shutdownSlack)
	after := fake.snapshot()
	t.Logf("%s: exit %d %v after SIGTERM (shutdown_timeout %v); endpoint before/after: %+v / %+v",
		c.name(), code, took.Round(time.Millisecond), matrixTimeout, before, after)
	if c.cuts() {
		require.Equal(t, 3, code, "exit code when shutdown_timeout cut delivery")
		require.Len(t, a.LogEvents("shutdown_timeout reached: delivery cut; checkpoints cover only acknowledged lines, the rest of the files is read again on restart"), 1)
	} else {
		require.Equal(t, 0, code, "exit code of a clean drain")
		require.Less(t, took, matrixTimeout, "a clean drain does not wait for the timeout")
	}
	if c.input == "files" {
		requireCheckpointsWithin(t, c, dataDir, files, fake, ackedBefore)
	}
}

// waitShutdownState waits until the agent is in the state the case
// tests, watching /metrics and the endpoint.
func waitShutdownState(t *testing.T, c shutdownCase, a *agenttest.Agent, base string, fake *fakeBulk, want int) {
	t.Helper()
	// With files, a case whose endpoint stores some lines waits until a
	// checkpoint moved, so that the saved one can be checked against it.
	acked := func() bool {
		if c.input != "files" {
			return true
		}
		m, err := ackedNow(base)
		return err == nil && anyAcked(m)
	}
	pollUntil(t, a, 90*time.Second, c.output+" state", func() (bool, string) {
		s := fake.snapshot()
		retries, err1 := metricNow(base, "sluice_output_retries_total", "output", "es", "kind", "request")
		held, err2 := metricNow(base, "sluice_pipeline_memory_bytes")
		state := fmt.Sprintf("endpoint %+v, request retries %v, held %v bytes (%v)", s, retries, held, errors.Join(err1, err2))
		if err1 != nil || err2 != nil {
			return false, state
		}
		switch c.output {
		case "refuse", "401": // the agent has seen the endpoint fail, with a backlog
			return retries >= 2 && held > 64e3, state
		case "blackhole": // both senders wait for an answer, with a backlog
			return s.requests >= 2 && held > 64e3, state
		case "slow": // deliveries go through, more is held than the timeout lets through
			return s.answered >= 1 && held > 256e3 && acked(), state
		case "gone": // the endpoint went away mid-backlog and the agent saw it
			select {
			case <-fake.gone:
				return retries >= 1 && held > 0 && acked(), state
			default:
				return false, state
			}
		default: // healthy: everything delivered and acknowledged
			return s.docs >= want && held == 0, state
		}
	})
}

// pollUntil calls cond every 20 ms until it holds, failing the test when
// the agent exits or timeout passes first.
func pollUntil(t *testing.T, a *agenttest.Agent, timeout time.Duration, what string, cond func() (ok bool, state string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		a.RequireRunning(t)
		if time.Now().After(deadline) {
			t.Fatalf("%s: waiting for %s: not there after %v; last seen: %s", a.Name, what, timeout, state)
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
}

// ackedNow reads, from /api/v1/status, how far each open file's lines are
// acknowledged (-1: nothing yet), by path.
func ackedNow(base string) (map[string]int64, error) {
	resp, err := http.Get(base + "/api/v1/status")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status page: %s", resp.Status)
	}
	var st struct {
		Inputs []struct {
			Files []struct {
				Path  string `json:"path"`
				Acked int64  `json:"acked"`
			} `json:"files"`
		} `json:"inputs"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, fmt.Errorf("status page: %w", err)
	}
	acked := map[string]int64{}
	for _, in := range st.Inputs {
		for _, f := range in.Files {
			acked[f.Path] = f.Acked
		}
	}
	return acked, nil
}

func anyAcked(acked map[string]int64) bool {
	for _, v := range acked {
		if v > 0 {
			return true
		}
	}
	return false
}

// metricNow reads one sample from /metrics, or says why it cannot.
func metricNow(base, name string, labels ...string) (v float64, err error) {
	st := &softT{}
	defer func() {
		if r := recover(); r != nil {
			if r != errSoftFail {
				panic(r)
			}
			err = errors.New(st.msg)
		}
	}()
	return metricValue(st, base, name, labels...), nil
}

// softT turns a failed require into an error for metricNow.
type softT struct{ msg string }

var errSoftFail = errors.New("soft failure")

func (s *softT) Errorf(format string, args ...any) { s.msg = fmt.Sprintf(format, args...) }
func (s *softT) FailNow()                          { panic(errSoftFail) }

// stopAgentTimed sends SIGTERM and returns the exit code and how long the
// process took to exit; it fails the test if that is over limit (and
// kills the process 30 s later if it is still there).
func stopAgentTimed(t *testing.T, a *agenttest.Agent, limit time.Duration) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	a.Signal(t, syscall.SIGTERM)
	code := a.Wait(t, limit+30*time.Second)
	took := time.Since(start)
	require.LessOrEqual(t, took, limit, "%s: exit after SIGTERM took %v, over shutdown_timeout + %v", a.Name, took, shutdownSlack)
	return code, took
}

// startLogger sends n JSON messages of file over TCP syslog (RFC 5424,
// octet counting) with util-linux logger, which blocks while the agent
// does not read. It is killed when the test ends if still running.
func startLogger(t *testing.T, a *agenttest.Agent, addr, dir, file string, n, pad int) {
	t.Helper()
	bin, err := exec.LookPath("logger")
	if err != nil {
		// Fail, not skip (as collector/syslog's interop tests): `make
		// test` installs it.
		t.Fatal("util-linux logger is not installed: run `make syslog-tools` (Debian bsdutils)")
	}
	a.WaitLog(t, "syslog input listening", 1)
	msgs := filepath.Join(dir, "messages.txt")
	var b strings.Builder
	for seq := range n {
		b.WriteString(shutdownLine(file, seq, pad))
		b.WriteByte('\n')
	}
	require.NoError(t, os.WriteFile(msgs, []byte(b.String()), 0o600))
	host, port, err := splitHostPort(addr)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--tcp", "--server", host, "--port", port, "--rfc5424", "--octet-count", "--tag", "app", "-f", msgs)
	var out agenttest.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		if t.Failed() {
			t.Logf("logger output: %s", out.String())
		}
	})
}

func splitHostPort(addr string) (string, string, error) {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return "", "", fmt.Errorf("no port in %q", addr)
	}
	return addr[:i], addr[i+1:], nil
}

// requireCheckpointsWithin checks the checkpoints saved at exit against
// the endpoint and against what the agent had acknowledged before the
// signal (ackedBefore, by path, from its status page):
//   - saved: each checkpoint is at least where the agent had it before
//     the signal (acknowledgements are never forgotten), and covers every
//     file whole where the endpoint took everything;
//   - never past delivery: every line a checkpoint covers was stored by
//     the endpoint, or dropped by the drop transform, or is in the
//     throttled file (whose throttled lines are acknowledged unsent by
//     design).
func requireCheckpointsWithin(t *testing.T, c shutdownCase, dataDir string, files []*shutdownFile, fake *fakeBulk, ackedBefore map[string]int64) {
	t.Helper()
	entries, err := readCheckpoints(dataDir)
	require.NoError(t, err)
	if anyAcked(ackedBefore) {
		require.NotNil(t, entries, "checkpoints.json saved")
	}
	for _, f := range files {
		fi, err := os.Stat(f.path)
		require.NoError(t, err)
		e, _ := entryFor(entries, idOf(fi), headFingerprint(f.path)) // none: offset 0
		require.GreaterOrEqual(t, e.Offset, ackedBefore[f.path], "%s: the saved checkpoint is behind what was acknowledged before SIGTERM", f.name)
		k := sort.Search(len(f.ends), func(i int) bool { return f.ends[i] > e.Offset })
		require.True(t, e.Offset == 0 || f.ends[k-1] == e.Offset, "%s: checkpoint %d is not at a line end", f.name, e.Offset)
		throttled := c.transform == "throttle" && f.name == "f2"
		for seq := range k {
			if throttled || (c.transform == "drop" && droppedByLevel(seq)) {
				continue
			}
			require.True(t, fake.has(f.name, seq), "%s: checkpoint %d covers line %d, which the endpoint never stored", f.name, e.Offset, seq)
		}
		t.Logf("%s: checkpoint at line %d of %d (offset %d; %d acknowledged before SIGTERM)", f.name, k, len(f.ends), e.Offset, ackedBefore[f.path])
		if c.output == "healthy" {
			require.Equal(t, f.ends[len(f.ends)-1], e.Offset, "%s: everything was delivered: the checkpoint covers the whole file", f.name)
		}
	}
}

// TestShutdownEndpointGone: three container log files of 20,000 lines, a
// bulk endpoint that answers each request after 50 ms, bulk.max_bytes
// 64KiB; after 8 s the endpoint goes away, then SIGTERM. With the default
// shutdown_timeout (20s) the agent must exit within 22 s, with exit code 3
// and checkpoints within what was stored, not wait on the endpoint.
func TestShutdownEndpointGone(t *testing.T) {
	agenttest.Binary(t)
	t.Parallel()
	const defaultTimeout = 20 * time.Second
	dir := t.TempDir()
	logs, dataDir := filepath.Join(dir, "logs"), filepath.Join(dir, "data")
	require.NoError(t, os.MkdirAll(logs, 0o755))
	var files []*shutdownFile
	for i, ns := range []string{"payments", "web", "shop"} {
		files = append(files, writeShutdownFile(t, logs, "f"+strconv.Itoa(i), ns, 20000, 300))
	}
	fake := startFakeBulk(t, modeAnswer, 50*time.Millisecond, 0)
	cfg := fmt.Sprintf(`node_name: %s
data_dir: %q
workers: 2
http:
  listen: 127.0.0.1:0
kubernetes:
  enabled: false
inputs:
  - { name: containers, type: container_logs, paths: [%q], start_at: head }
transforms:
  - { type: json, field: log }
outputs:
  - name: es
    type: elasticsearch
    urls: [%q]
    index: "logs-{kubernetes.namespace_name}-%%Y.%%m.%%d"
    bulk: { max_bytes: 64KiB }
`, nodeName, dataDir, filepath.Join(logs, "*.log"), fake.URL)
	cfgPath := filepath.Join(dir, "sluice.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(cfg), 0o600))
	a := agenttest.Start(t, cfgPath, agenttest.Options{Name: "agent"})
	base := a.APIURL(t, 1)
	pollUntil(t, a, 60*time.Second, "a first answer", func() (bool, string) {
		s := fake.snapshot()
		return s.answered > 0, fmt.Sprintf("%+v", s)
	})
	time.Sleep(8 * time.Second) // 8 s of delivery before the endpoint goes; not a sync
	fake.goAway()
	s := fake.snapshot()
	require.Less(t, s.docs, len(files)*20000, "a backlog is left when the endpoint goes away")
	pollUntil(t, a, 60*time.Second, "the agent to see the endpoint gone", func() (bool, string) {
		v, err := metricNow(base, "sluice_output_retries_total", "output", "es", "kind", "request")
		return err == nil && v >= 1, fmt.Sprintf("request retries %v (%v)", v, err)
	})
	ackedBefore, err := ackedNow(base)
	require.NoError(t, err)
	require.True(t, anyAcked(ackedBefore), "lines were acknowledged before the endpoint went away: %v", ackedBefore)
	code, took := stopAgentTimed(t, a, defaultTimeout+shutdownSlack)
	t.Logf("endpoint stored %d of %d lines in %d requests before going away; exit %d %v after SIGTERM",
		s.docs, len(files)*20000, s.answered, code, took.Round(time.Millisecond))
	require.Equal(t, 3, code)
	requireCheckpointsWithin(t, shutdownCase{input: "files", transform: "none", output: "gone"}, dataDir, files, fake, ackedBefore)
}
