// Command kafkarun measures the agent's kafka output on the tail workload
// (bench/workload) into an in-process Kafka broker on loopback (franz-go's
// kfake): records/s from the start until the output has every record
// acknowledged, and the agent's CPU-seconds per million records.
//
//	go build -o /tmp/sluice ./cmd/sluice && go run ./bench/kafkarun -agent /tmp/sluice
//
// With -dump FILE it then reads every record back from the broker and
// writes them (topic, key, value, headers) to FILE, the records that
// bench/kafkaclients produces with each client.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluicelog/sluice/bench/workload"
)

func main() {
	agent := flag.String("agent", "", "sluice binary")
	files := flag.Int("files", 8, "files")
	records := flag.Int("records", 250_000, "records per file")
	compression := flag.String("compression", "snappy", "the output's compression")
	dump := flag.String("dump", "", "write every record the agent produced to this file (bench/kafkaclients reads it)")
	flag.Parse()
	spec := workload.Spec{Files: *files, Records: *records, Seed: 1}
	dir, err := os.MkdirTemp("", "kafkarun")
	check(err)
	defer os.RemoveAll(dir)
	logs := filepath.Join(dir, "logs")
	check(os.MkdirAll(logs, 0o755))
	check(spec.Write(logs))
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(8, "logs"))
	check(err)
	defer c.Close()
	api := freePort()
	cfg := fmt.Sprintf(`node_name: bench
data_dir: %s/data
memory_limit: 256MiB
http: { listen: %s }
kubernetes: { enabled: false }
inputs: [{ name: containers, type: container_logs, paths: [%s/*.log], start_at: head }]
transforms: [{ type: json }]
outputs: [{ name: kafka, type: kafka, brokers: [%s], topic: logs, compression: %s }]
`, dir, api, logs, c.ListenAddrs()[0], *compression)
	cfgPath := filepath.Join(dir, "sluice.yaml")
	check(os.WriteFile(cfgPath, []byte(cfg), 0o600))
	cmd := exec.Command(*agent, "-config", cfgPath)
	cmd.Stderr = os.Stderr
	start := time.Now()
	check(cmd.Start())
	defer cmd.Process.Kill()
	for sent(api, `sluice_output_documents_total{output="kafka",result="sent"}`) < float64(spec.Total()) {
		time.Sleep(100 * time.Millisecond)
	}
	wall := time.Since(start)
	cpu := cpuSeconds(cmd.Process.Pid)
	fmt.Printf("kafka output, %d records (%d files), compression %s: %.0f records/s, %.2f CPU-s per million\n",
		spec.Total(), spec.Files, *compression, float64(spec.Total())/wall.Seconds(), cpu/float64(spec.Total())*1e6)
	if *dump != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		n, err := dumpRecords(ctx, c.ListenAddrs(), "logs", spec.Total(), *dump)
		check(err)
		fmt.Printf("wrote %d records to %s\n", n, *dump)
	}
}

// freePort is a free loopback address for the agent's http.listen.
func freePort() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	defer l.Close()
	return l.Addr().String()
}

// sent reads one series from the agent's /metrics (0 while it starts).
func sent(api, series string) float64 {
	resp, err := http.Get("http://" + api + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

// cpuSeconds is the user+system CPU time of pid (/proc/pid/stat).
func cpuSeconds(pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	check(err)
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // clock ticks (USER_HZ 100)
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
