package runtime

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/promtest"
)

func TestMetricsCountWhatWasSent(t *testing.T) {
	d := newTestDir(t)
	out := &lineBuffer{}
	_, base := runAgent(t, d.yaml("*.log", ""), out)
	const n = 5000
	api := d.logPath("api-0", "payments", "api")
	web := d.logPath("web-0", "web", "nginx")
	writeCRI(t, api, numbered("api line", 0, n-1000)...)
	writeCRI(t, web, numbered("web line", 0, 999)...)
	writeCRI(t, web, "\xff not utf-8, still a line")
	require.Eventually(t, func() bool { return out.count() >= n }, 30*time.Second, 5*time.Millisecond)

	var size int64
	for _, p := range []string{api, web} {
		fi, err := os.Stat(p)
		require.NoError(t, err)
		size += fi.Size()
	}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		mfs := promtest.Scrape(c, base)
		require.Equal(c, float64(n), promtest.Value(c, mfs, "sluice_input_records_total", "input", "containers"))
		require.Equal(c, float64(size), promtest.Value(c, mfs, "sluice_input_bytes_total", "input", "containers"))
		require.Equal(c, float64(n), promtest.Value(c, mfs, "sluice_output_documents_total", "output", "stdout", "result", "sent"))
		require.Equal(c, float64(len(out.String())), promtest.Value(c, mfs, "sluice_output_bytes_total", "output", "stdout"))
		require.Zero(c, promtest.Value(c, mfs, "sluice_output_documents_total", "output", "stdout", "result", "failed"))
		require.Zero(c, promtest.Value(c, mfs, "sluice_input_truncated_records_total", "input", "containers"))
		require.Zero(c, promtest.Value(c, mfs, "sluice_input_parse_errors_total", "input", "containers"))
		require.Equal(c, 2.0, promtest.Value(c, mfs, "sluice_files_open", "input", "containers"))
		require.Zero(c, promtest.Value(c, mfs, "sluice_input_lag_bytes", "input", "containers"), "both files read to the end")
		require.Zero(c, promtest.Value(c, mfs, "sluice_input_lag_seconds", "input", "containers"), "and acknowledged")
		require.Zero(c, promtest.Value(c, mfs, "sluice_file_lag_max_bytes", "input", "containers"))
		require.Zero(c, promtest.Value(c, mfs, "sluice_pipeline_memory_bytes"), "all acknowledged")
		require.Equal(c, float64(64<<20), promtest.Value(c, mfs, "sluice_pipeline_memory_limit_bytes"))
		require.Equal(c, 1024.0, promtest.Value(c, mfs, "sluice_ring_capacity"))
		require.Zero(c, promtest.Value(c, mfs, "sluice_ring_items"))
		require.Equal(c, 1.0, promtest.Value(c, mfs, "sluice_build_info", "version", "test-1", "revision", "0123abcd", "goversion", runtime.Version()))
		require.Zero(c, promtest.Value(c, mfs, "sluice_tap_subscribers"))
	}, 10*time.Second, 20*time.Millisecond)
	mfs := promtest.Scrape(t, base)
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		require.Contains(t, mfs, name)
	}
	for name, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				require.NotContains(t, []string{"pod", "file", "path", "ip"}, lp.GetName(), "%s: unbounded label", name)
			}
		}
	}
}

// TestTokenFileGuardsAPI: the agent reads http.token_file (its trailing
// newline is not part of the token) and hands it to the API server. Which
// paths the token guards, and how it may be sent, is httpapi's TestToken.
func TestTokenFileGuardsAPI(t *testing.T) {
	d := newTestDir(t)
	tokenFile := filepath.Join(d.root, "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("t0ken\n"), 0o600))
	_, base := runAgent(t, d.yaml("*.log", fmt.Sprintf(", token_file: %q", tokenFile)), &lineBuffer{})
	code, body := httpGet(t, base+"/api/v1/status", "")
	require.Equal(t, http.StatusUnauthorized, code, string(body))
	code, body = httpGet(t, base+"/api/v1/status", "t0ken")
	require.Equal(t, http.StatusOK, code, string(body))
}

func TestStatus(t *testing.T) {
	d := newTestDir(t)
	out := &lineBuffer{}
	_, base := runAgent(t, d.yaml("*.log", ""), out)
	p := d.logPath("api-0", "payments", "api")
	writeCRI(t, p, numbered("line", 0, 100)...)
	require.Eventually(t, func() bool { return out.count() == 100 }, 10*time.Second, time.Millisecond)
	fi, err := os.Stat(p)
	require.NoError(t, err)
	var st Status
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		code, body := httpGet(t, base+"/api/v1/status", "")
		require.Equal(c, http.StatusOK, code)
		st = Status{}
		require.NoError(c, json.Unmarshal(body, &st))
		require.Len(c, st.Inputs, 1)
		require.Len(c, st.Inputs[0].Files, 1)
		f := st.Inputs[0].Files[0]
		require.NotNil(c, f.LastAck)
		require.WithinDuration(c, time.Now(), *f.LastAck, time.Minute)
		f.LastAck = nil
		require.Equal(c, FileStatus{
			Path: p, Namespace: "payments", Pod: "api-0", Container: "api", State: "reading",
			Offset: fi.Size(), Acked: fi.Size(), Size: fi.Size(), Lag: 0,
		}, f)
	}, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, "test-1", st.Version)
	require.Equal(t, "test-node", st.Node)
	require.Positive(t, st.UptimeSeconds)
	require.True(t, st.Ready)
	require.Equal(t, "ok", st.Health)
	require.Equal(t, InputStatus{
		Name: "containers", Type: "container_logs", Records: 100, Bytes: fi.Size(),
		Lost: map[string]int64{}, Files: st.Inputs[0].Files,
	}, st.Inputs[0])
	require.Equal(t, []OutputStatus{{Name: "stdout", Type: "console", Sent: 100, Bytes: int64(len(out.String()))}}, st.Outputs)
	require.Equal(t, 2, st.Pipeline.Workers)
	require.Equal(t, int64(64<<20), st.Pipeline.MemoryLimit, "memory_limit as configured")
	require.Positive(t, st.Pipeline.BatchLimit)
	require.Less(t, st.Pipeline.BatchLimit, st.Pipeline.MemoryLimit, "the batches get a share of it")
}

func TestHealthzFailsWhenAWorkerDies(t *testing.T) {
	d := newTestDir(t)
	out := &lineBuffer{failAfter: 1} // the second write fails: that worker stops
	_, base := runAgent(t, d.yaml("*.log", ""), out)
	p := d.logPath("api-0", "payments", "api")
	code, body := httpGet(t, base+"/healthz", "")
	require.Equal(t, http.StatusOK, code, string(body))
	writeCRI(t, p, "first")
	require.Eventually(t, func() bool { return out.count() == 1 }, 10*time.Second, time.Millisecond)
	code, _ = httpGet(t, base+"/healthz", "")
	require.Equal(t, http.StatusOK, code)
	writeCRI(t, p, "second")
	require.Eventually(t, func() bool {
		code, body = httpGet(t, base+"/healthz", "")
		return code == http.StatusServiceUnavailable
	}, 10*time.Second, 5*time.Millisecond)
	require.Contains(t, string(body), "stopped: console output stdout: stdout is gone")
	code, _ = httpGet(t, base+"/readyz", "")
	require.Equal(t, http.StatusOK, code, "readiness is not liveness")
}

// tapLines reads a tap response line by line into a channel.
func tapLines(t *testing.T, url string) <-chan string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	ch := make(chan string, 1<<16)
	go func() {
		defer resp.Body.Close()
		defer close(ch)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			ch <- sc.Text()
		}
	}()
	return ch
}

func TestTapDeliversExactlyTheFilteredRecords(t *testing.T) {
	d := newTestDir(t)
	out := &lineBuffer{}
	_, base := runAgent(t, d.yaml("*.log", ""), out)
	lines := tapLines(t, base+"/api/v1/tap?namespace=payments&pod=^api-&grep=err(or)?%20[0-9]*[05]$")

	var want []string
	total := 0
	for _, f := range []struct{ pod, ns string }{{"api-0", "payments"}, {"api-1", "payments"}, {"ledger-0", "payments"}, {"api-0", "web"}} {
		var msgs []string
		for i := range 300 {
			m := fmt.Sprintf("%s/%s info %d", f.ns, f.pod, i)
			if i%3 == 0 {
				m = fmt.Sprintf("%s/%s error %d", f.ns, f.pod, i)
				if f.ns == "payments" && strings.HasPrefix(f.pod, "api-") && i%5 == 0 {
					want = append(want, m)
				}
			}
			msgs = append(msgs, m)
		}
		writeCRI(t, d.logPath(f.pod, f.ns, "c"), msgs...)
		total += len(msgs)
	}
	require.Eventually(t, func() bool { return out.count() == total }, 20*time.Second, time.Millisecond)
	// Every batch is published to the tap before it is written to the
	// output; give the stream a moment to pass on the last ones.
	var got []string
	timeout := time.After(2 * time.Second)
collect:
	for {
		select {
		case l, ok := <-lines:
			require.True(t, ok, "tap stream ended early")
			var doc struct {
				Log        string `json:"log"`
				Kubernetes struct {
					Namespace string `json:"namespace_name"`
				} `json:"kubernetes"`
			}
			require.NoError(t, json.Unmarshal([]byte(l), &doc), l)
			require.Equal(t, "payments", doc.Kubernetes.Namespace)
			got = append(got, doc.Log)
		case <-timeout:
			break collect
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	require.Equal(t, want, got)
	require.Len(t, want, 40)
}

// stalledTap opens a tap request on a connection with a tiny receive
// buffer and never reads from it.
func stalledTap(t *testing.T, base string) net.Conn {
	t.Helper()
	dialer := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		if err != nil {
			return err
		}
		return serr
	}}
	conn, err := dialer.DialContext(t.Context(), "tcp", strings.TrimPrefix(base, "http://"))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	_, err = fmt.Fprintf(conn, "GET /api/v1/tap HTTP/1.1\r\nHost: sluice\r\n\r\n")
	require.NoError(t, err)
	return conn
}

// TestStalledTapReaderDoesNotSlowDelivery: while a tap client reads
// nothing, every record is still delivered, and it is the hub that drops
// the client for not keeping up. Its write timeout is an hour here, so
// nothing else can end the stream: were a worker to wait for the client,
// delivery would stop and the wait below run out. No wall-clock bound
// (one failed at 31 s against 30 on a loaded machine): the test writes
// ~2 MiB rounds until the client is dropped, so it does as much work as
// the drop needs and no more.
func TestStalledTapReaderDoesNotSlowDelivery(t *testing.T) {
	d := newTestDir(t)
	out := &lineBuffer{}
	a, base := runAgent(t, d.yaml("*.log", ""), out, func(a *Agent) { a.tapWriteTimeout = time.Hour })
	stalledTap(t, base)
	hub := a.pipe.Tap()
	require.Eventually(t, func() bool { return hub.Subscribers() == 1 }, 10*time.Second, time.Millisecond)

	const per, maxRounds = 2000, 32 // 64 MiB, 16 times the tap's share of 64MiB
	pad := strings.Repeat("p", 1000)
	path := d.logPath("api-0", "payments", "api")
	written := 0
	for hub.Subscribers() == 1 {
		require.Less(t, written, per*maxRounds, "%d records of ~1 KiB delivered and the stalled client is still subscribed", written)
		writeCRI(t, path, numbered(pad, written, per)...)
		written += per
		require.Eventually(t, func() bool { return out.count() == written }, 60*time.Second, time.Millisecond,
			"delivery stopped with a stalled tap client: %d of %d records out", out.count(), written)
	}
	t.Logf("the stalled client was dropped within %d records of ~1 KiB", written)
	require.Equal(t, int64(1), hub.Dropped(), "dropped by the hub for not keeping up")
	mfs := promtest.Scrape(t, base)
	require.Equal(t, 1.0, promtest.Value(t, mfs, "sluice_tap_dropped_subscribers_total"))
	require.Zero(t, promtest.Value(t, mfs, "sluice_tap_subscribers"))
	require.Equal(t, float64(written), promtest.Value(t, mfs, "sluice_output_documents_total", "output", "stdout", "result", "sent"))
}
