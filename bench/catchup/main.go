// Command catchup measures what a SIGKILL costs an agent that is catching
// up: a backlog of container-log lines is written, the agent is started
// against a real VictoriaLogs, killed once about half of the backlog is
// acknowledged, and restarted. It reports how much the restarted agent
// reads again (bytes before the acknowledged position it had reached,
// which only the saved checkpoints bound), how many documents it sends
// again, and how long it takes from the restart until every file is read
// to its end (lag 0) and until the last line of every file is stored.
//
//	go run ./bench/catchup -agent bin/sluice [-lines 200000] [-runs 3]
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sluicelog/sluice/internal/vlstore"
)

func main() {
	agent := flag.String("agent", "bin/sluice", "the sluice binary")
	lines := flag.Int("lines", 200000, "backlog lines, over 4 files")
	runs := flag.Int("runs", 3, "kill-and-restart runs (a fresh store and backlog each)")
	flag.Var(&flushInterval, "flush-interval", "the output's bulk.flush_interval (default: the agent's own)")
	flag.Parse()
	var res []result
	for i := range *runs {
		r, err := once(*agent, *lines)
		if err != nil {
			fmt.Fprintln(os.Stderr, "catchup:", err)
			os.Exit(1)
		}
		fmt.Printf("run %d: %s\n", i+1, r)
		res = append(res, r)
	}
	fmt.Printf("median: %s\n", median(res))
}

type result struct {
	reread    int64         // bytes read again: acknowledged position at the kill less the saved one
	resent    int64         // documents the restarted agent sent that the first had sent already
	lagZero   time.Duration // restart → every file read to its end
	delivered time.Duration // restart → the last line of every file stored
}

func (r result) String() string {
	return fmt.Sprintf("re-read %.1f MiB, re-sent %d docs, lag 0 after %v, delivered after %v",
		float64(r.reread)/(1<<20), r.resent, r.lagZero.Round(10*time.Millisecond), r.delivered.Round(10*time.Millisecond))
}

func median(rs []result) result {
	pick := func(f func(result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		sort.Float64s(v)
		return v[len(v)/2]
	}
	return result{
		reread:    int64(pick(func(r result) float64 { return float64(r.reread) })),
		resent:    int64(pick(func(r result) float64 { return float64(r.resent) })),
		lagZero:   time.Duration(pick(func(r result) float64 { return float64(r.lagZero) })),
		delivered: time.Duration(pick(func(r result) float64 { return float64(r.delivered) })),
	}
}

const files = 4

// flushInterval is the output's bulk.flush_interval; 0 leaves the default.
var flushInterval durationFlag

type durationFlag time.Duration

func (d *durationFlag) String() string { return time.Duration(*d).String() }

func (d *durationFlag) Set(s string) error {
	v, err := time.ParseDuration(s)
	*d = durationFlag(v)
	return err
}

func once(agentBin string, lines int) (result, error) {
	var res result
	work, err := os.MkdirTemp("", "sluice-catchup-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(work)
	store, err := vlstore.StartProcess(filepath.Join(work, "store"), io.Discard)
	if err != nil {
		return res, err
	}
	defer store.Stop()
	logs := filepath.Join(work, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return res, err
	}
	var total int64
	for f := range files {
		n, err := writeBacklog(filepath.Join(logs, fmt.Sprintf("p%d_catchup_app-%064d.log", f, f)), f, lines/files)
		if err != nil {
			return res, err
		}
		total += n
	}
	addr, err := freeAddr()
	if err != nil {
		return res, err
	}
	cfg := filepath.Join(work, "sluice.yaml")
	data := filepath.Join(work, "data")
	if err := os.WriteFile(cfg, []byte(config(data, logs, addr, store.URL)), 0o600); err != nil {
		return res, err
	}
	metrics := "http://" + addr + "/metrics"

	a, err := start(agentBin, cfg)
	if err != nil {
		return res, err
	}
	// Kill at about half of the backlog acknowledged.
	var acked float64
	for acked < float64(lines)/2 {
		time.Sleep(10 * time.Millisecond) // metrics poll
		acked, _ = scrape(metrics, `sluice_output_documents_total{output="es",result="sent"}`)
	}
	_ = a.Process.Kill()
	_, _ = a.Process.Wait()
	sentBefore := acked
	// What the first life had read and acknowledged is not known exactly
	// at the kill; the documents it sent are: every line is the same
	// length, so they give the acknowledged position.
	saved, err := savedOffsets(data)
	if err != nil {
		return res, err
	}
	perLine := float64(total) / float64(lines)
	res.reread = max(int64(sentBefore*perLine)-saved, 0)

	t0 := time.Now()
	a, err = start(agentBin, cfg)
	if err != nil {
		return res, err
	}
	defer func() { _ = a.Process.Kill(); _, _ = a.Process.Wait() }()
	for res.lagZero == 0 || res.delivered == 0 {
		if time.Since(t0) > 10*time.Minute {
			return res, fmt.Errorf("not caught up after 10 minutes")
		}
		time.Sleep(20 * time.Millisecond) // poll
		if res.lagZero == 0 {
			lag, err1 := scrape(metrics, `sluice_file_lag_max_bytes{input="containers"}`)
			open, err2 := scrape(metrics, `sluice_files_open{input="containers"}`)
			if err1 == nil && err2 == nil && lag == 0 && open == files {
				res.lagZero = time.Since(t0)
			}
		}
		if res.delivered == 0 && lastLinesStored(store, lines/files) {
			res.delivered = time.Since(t0)
		}
	}
	sent, _ := scrape(metrics, `sluice_output_documents_total{output="es",result="sent"}`)
	res.resent = max(int64(sentBefore+sent)-int64(lines), 0)
	return res, nil
}

// writeBacklog writes n CRI lines of equal length to path.
func writeBacklog(path string, file, n int) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	ts := time.Now().UTC().Add(-time.Hour)
	var size int64
	for i := range n {
		k, _ := fmt.Fprintf(w, "%s stdout F {\"level\":\"info\",\"file\":%d,\"seq\":\"%09d\",\"msg\":\"request handled by the catch-up writer\",\"path\":\"/api/v1/orders\"}\n",
			ts.Add(time.Duration(i)*time.Microsecond).Format("2006-01-02T15:04:05.000000000Z"), file, i)
		size += int64(k)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return 0, err
	}
	return size, f.Close()
}

func config(data, logs, addr, url string) string {
	h := vlstore.HeadersYAML("      ")
	return fmt.Sprintf(`node_name: catchup
data_dir: %q
http: { listen: %q }
inputs:
  - { name: containers, type: container_logs, paths: [%q], start_at: head }
kubernetes: { enabled: false }
transforms:
  - { type: json, field: log }
outputs:
  - name: es
    type: elasticsearch
    urls: [%q]
    index: "logs-{kubernetes.namespace_name}"
    id_field: sluice_id
    headers:
%s`, data, addr, filepath.Join(logs, "*.log"), url, h) + bulk()
}

func bulk() string {
	if flushInterval == 0 {
		return ""
	}
	return fmt.Sprintf("    bulk: { flush_interval: %s }\n", time.Duration(flushInterval))
}

func start(bin, cfg string) (*exec.Cmd, error) {
	cmd := exec.Command(bin, "-config", cfg)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd, cmd.Start()
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// scrape reads one sample from the agent's /metrics.
func scrape(url, sample string) (float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), sample+" "); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /metrics", sample)
}

// savedOffsets sums the offsets in data_dir/checkpoints.json.
func savedOffsets(data string) (int64, error) {
	raw, err := os.ReadFile(filepath.Join(data, "checkpoints.json"))
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var f struct {
		Entries map[string]struct {
			Offset int64 `json:"offset"`
		} `json:"entries"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return 0, err
	}
	var sum int64
	for _, e := range f.Entries {
		sum += e.Offset
	}
	return sum, nil
}

// lastLinesStored reports whether the last line of every file is in the store.
func lastLinesStored(s *vlstore.Store, perFile int) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := s.Count(ctx, fmt.Sprintf(`seq:"%09d"`, perFile-1))
	return err == nil && n >= files
}
