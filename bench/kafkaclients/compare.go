package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

type runOpts struct {
	dump            string
	clients, codecs []string
	rounds, passes  int
	topics          string
	partitions      int
}

// compare runs every client with every codec once a round, each run with
// a fresh broker process and producer process, alternating which client
// goes first, and prints each run and the medians.
func compare(o runOpts) error {
	if o.dump == "" {
		return errors.New("-dump: the records to produce (go run ./bench/kafkarun -dump FILE)")
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	runs := map[string][]result{}
	for round := range o.rounds {
		clients := slices.Clone(o.clients)
		if round%2 == 1 {
			slices.Reverse(clients)
		}
		for _, codec := range o.codecs {
			for _, client := range clients {
				r, err := oneRun(self, o, client, codec)
				if err != nil {
					return fmt.Errorf("round %d, %s %s: %w", round+1, client, codec, err)
				}
				fmt.Printf("round %d  %-8s %-6s %9.0f records/s  %5.2f CPU-s/million  %6.2f allocs/record  (broker %.2f CPU-s)\n",
					round+1, client, codec, r.recordsPerSec(), r.cpuPerMillion(), r.allocsPerRecord(), r.BrokerCPU)
				runs[client+" "+codec] = append(runs[client+" "+codec], r)
			}
		}
	}
	fmt.Printf("\nmedians of %d runs, %d records a run:\n", o.rounds, firstRecords(runs))
	fmt.Println("| client | compression | records/s | CPU-s per million | allocs/record |")
	fmt.Println("|---|---|---|---|---|")
	for _, codec := range o.codecs {
		for _, client := range o.clients {
			rs := runs[client+" "+codec]
			fmt.Printf("| %s | %s | %s | %.2f | %.2f |\n", client, codec,
				thousands(median(rs, result.recordsPerSec)), median(rs, result.cpuPerMillion), median(rs, result.allocsPerRecord))
		}
	}
	return nil
}

func firstRecords(runs map[string][]result) int64 {
	for _, rs := range runs {
		return rs[0].Records
	}
	return 0
}

// oneRun starts a broker process, runs one producer process against it
// and returns its result with the broker's CPU.
func oneRun(self string, o runOpts, client, codec string) (result, error) {
	broker := exec.Command(self, "-mode", "broker", "-topics", o.topics, "-partitions", strconv.Itoa(o.partitions))
	stdin, err := broker.StdinPipe()
	if err != nil {
		return result{}, err
	}
	stdout, err := broker.StdoutPipe()
	if err != nil {
		return result{}, err
	}
	broker.Stderr = os.Stderr
	if err := broker.Start(); err != nil {
		return result{}, err
	}
	defer func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { broker.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			broker.Process.Kill()
			<-done
		}
	}()
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return result{}, fmt.Errorf("broker: %w", err)
	}
	cpu0 := procCPU(broker.Process.Pid)
	var out bytes.Buffer
	prod := exec.Command(self, "-mode", "produce", "-dump", o.dump, "-broker", strings.TrimSpace(addr),
		"-client", client, "-codec", codec, "-passes", strconv.Itoa(o.passes))
	prod.Stdout, prod.Stderr = &out, os.Stderr
	if err := prod.Run(); err != nil {
		return result{}, fmt.Errorf("producer: %w", err)
	}
	var r result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		return result{}, fmt.Errorf("producer said %q: %w", out.String(), err)
	}
	r.BrokerCPU = procCPU(broker.Process.Pid) - cpu0
	return r, nil
}

// procCPU is pid's user+system CPU seconds (/proc/pid/stat, USER_HZ 100).
func procCPU(pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100
}

func median(rs []result, f func(result) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	if len(v) == 0 {
		return 0
	}
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func thousands(f float64) string {
	s := strconv.FormatInt(int64(f+0.5), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
