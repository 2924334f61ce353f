package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/internal/agenttest"
	"github.com/sluicelog/sluice/internal/promtest"
	"github.com/sluicelog/sluice/internal/vlstore"
)

// criWriter appends CRI lines to one file through one descriptor, as a
// container runtime does (it writes on after the file is renamed and
// deleted), and keeps its own account of where each line ends.
type criWriter struct {
	t    *testing.T
	f    *os.File
	size int64
	ends []int64 // offset past line i
	msgs []string
}

func newCRIWriter(t *testing.T, path string) *criWriter {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return &criWriter{t: t, f: f}
}

// write appends n lines in one write.
func (w *criWriter) write(prefix string, n int) {
	var b bytes.Buffer
	ts := time.Now().UTC().Format(time.RFC3339Nano)
	for i := range n {
		m := fmt.Sprintf("%s %05d %080d", prefix, i, 0)
		fmt.Fprintf(&b, "%s stdout F %s\n", ts, m)
		w.msgs = append(w.msgs, m)
		w.ends = append(w.ends, w.size+int64(b.Len()))
	}
	_, err := w.f.Write(b.Bytes())
	require.NoError(w.t, err)
	w.size += int64(b.Len())
}

// The built agent with fair_share's max_lag and on_max_lag: drop_oldest:
// while the store is away its file's reader waits for the budget; the
// kubelet rotates the file away and deletes it, and the container writes
// on through its descriptor until the file is more than max_lag behind.
// The agent lets it go, and the bytes it left unread, by the writer's own
// count, are exactly what sluice_rotated_unread_bytes_total{namespace}
// counts, what the file's row of the delivery ledger shows (the status
// page and `logs --status`) and what the summary record in the store
// says. Every line handed over before is stored once, and
// nothing after it. The agent is stopped (SIGSTOP) while the writer
// writes, so it cannot see a write half done.
func TestFairShareMaxLagCountsRotatedUnread(t *testing.T) {
	agenttest.Binary(t)
	logsBin := agenttest.Bin(t, "./cmd/logs", false)
	store := vlstore.Start(t)
	u, err := url.Parse(store.Root)
	require.NoError(t, err)
	proxy := startCutProxy(t, u.Host)

	dir := t.TempDir()
	logs := filepath.Join(dir, "containers")
	require.NoError(t, os.MkdirAll(logs, 0o755))
	path := filepath.Join(logs, "spam-1_noisy_app-"+strings.Repeat("ab", 32)+".log")
	w := newCRIWriter(t, path)
	w.write("first", 20)

	ac := agentConfig(configParams{
		DataDir: filepath.Join(dir, "data"), Paths: []string{filepath.Join(logs, "*.log")},
		StoreURL: "http://" + proxy.l.Addr().String() + strings.TrimPrefix(store.URL, store.Root),
	})
	// The budget is at least batch_bytes: 4 KiB batches, a 16 KiB budget.
	ac.Inputs[0].BatchBytes = 4 << 10
	ac.Inputs[0].FairShare = &config.FairShare{By: "namespace", InFlight: 16 << 10, OnMaxLag: "drop_oldest"}
	yml := renderConfig(t, ac)
	// MaxLag renders as nothing (it is read from one scalar): set it here,
	// beside on_max_lag and at its indentation.
	i := strings.Index(yml, "on_max_lag: drop_oldest\n")
	require.Positive(t, i)
	indent := yml[strings.LastIndexByte(yml[:i], '\n')+1 : i]
	yml = yml[:i] + "max_lag: 64KiB\n" + indent + yml[i:]
	cfg := filepath.Join(dir, "sluice.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(yml), 0o600))

	a := agenttest.Start(t, cfg, agenttest.Options{Name: "agent"})
	base := a.WaitReady(t)
	waitForCount(t, store, a, 20, deliveryTimeout)

	// The store goes away: what is read waits for acknowledgement until
	// the 16 KiB budget is full and the reader waits for it, 30 KiB of
	// lines written (under max_lag).
	proxy.cut()
	w.write("second", 250)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var st statusPage
		getJSONc(c, base+"/api/v1/status", &st)
		require.Len(c, st.Inputs, 1)
		require.NotNil(c, st.Inputs[0].FairShare)
		require.Positive(c, st.Inputs[0].FairShare.Waiting, "the reader waits for the budget")
	}, 30*time.Second, 20*time.Millisecond)

	// Rotated away and deleted; the container writes 100 KiB more.
	a.Signal(t, syscall.SIGSTOP)
	require.NoError(t, os.Rename(path, path+".20261207-140000"))
	require.NoError(t, os.Remove(path+".20261207-140000"))
	w.write("third", 900)
	a.Signal(t, syscall.SIGCONT)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, 1.0, metricValue(c, base, "sluice_fair_share_files_let_go_total", "input", "containers"))
	}, 30*time.Second, 20*time.Millisecond)

	// The store is back: what was handed over is delivered; the ledger's
	// row ends with acked + rotated_unread = size.
	proxy.restore()
	var row fileRow
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var st statusPage
		getJSONc(c, base+"/api/v1/status", &st)
		require.Len(c, st.Inputs, 1)
		require.Len(c, st.Inputs[0].Released, 1)
		row = st.Inputs[0].Released[0]
		require.Equal(c, "released", row.State)
		require.Positive(c, row.RotatedUnread)
		require.Equal(c, row.Size, row.Acked+row.RotatedUnread, "every byte delivered or counted unread: %+v", row)
	}, 60*time.Second, 50*time.Millisecond)

	// The writer's own count: the bytes after the last line stored.
	delivered := -1
	for i, end := range w.ends {
		if end == row.Acked {
			delivered = i + 1
		}
	}
	require.Positive(t, delivered, "acked %d ends a line the writer wrote", row.Acked)
	unread := w.size - w.ends[delivered-1]
	t.Logf("written %d lines, %d bytes; delivered %d lines, %d bytes; left unread %d bytes", len(w.msgs), w.size, delivered, row.Acked, unread)
	require.Greater(t, unread, int64(64<<10), "more than max_lag was left")
	require.Equal(t, w.size, row.Size, "the ledger's size is the writer's")
	require.Equal(t, unread, row.RotatedUnread, "the ledger's rotated_unread is the writer's count")
	m := promtest.Scrape(t, base)
	require.Equal(t, float64(unread), promtest.Value(t, m, "sluice_rotated_unread_bytes_total", "namespace", "noisy"),
		"exactly the bytes the writer wrote and the agent never read")
	require.Zero(t, promtest.Value(t, m, "sluice_fair_share_skipped_records_total", "input", "containers"), "nothing skipped: the file was let go of")

	// In the store: every line handed over once, in order, and the summary.
	waitForCount(t, store, a, delivered+1, deliveryTimeout)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	rows, err := store.Query(ctx, "*")
	require.NoError(t, err)
	var got, summaries []string
	for _, r := range rows {
		require.Equal(t, "spam-1", r["kubernetes.pod_name"])
		if strings.HasPrefix(r["_msg"], "sluice fair_share") {
			summaries = append(summaries, r["_msg"])
			continue
		}
		got = append(got, r["_msg"])
	}
	require.ElementsMatch(t, w.msgs[:delivered], got, "the lines handed over, each once")
	require.Equal(t, []string{"sluice fair_share let go of this file: it was deleted with " + strconv.FormatInt(unread, 10) +
		" bytes unread while more than max_lag 65536 bytes behind (on_max_lag: drop_oldest)"}, summaries)

	// logs --status shows the same row.
	out, err := exec.CommandContext(t.Context(), logsBin, "--status", "--agent", base, "-o", "json").Output()
	require.NoError(t, err, "logs --status")
	var shown []fileRow
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var r fileRow
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r), "%s", sc.Bytes())
		shown = append(shown, r)
	}
	require.Len(t, shown, 1, "%s", out)
	require.Equal(t, row, shown[0])
	require.Equal(t, 0, a.Stop(t))
}

// statusPage is what these tests read of /api/v1/status.
type statusPage struct {
	Inputs []struct {
		Released  []fileRow `json:"released_files"`
		FairShare *struct {
			Waiting int64 `json:"waiting_batches"`
		} `json:"fair_share"`
	} `json:"inputs"`
}

// fileRow is one file of the delivery ledger.
type fileRow struct {
	Path          string `json:"path"`
	Namespace     string `json:"namespace"`
	State         string `json:"state"`
	Size          int64  `json:"size"`
	Acked         int64  `json:"acked"`
	RotatedUnread int64  `json:"rotated_unread"`
}
