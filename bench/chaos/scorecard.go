package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Result is the scorecard of one run.
type Result struct {
	Options    Options
	Timeline   []string
	Failures   []string // make the run fail
	Findings   []string // agent gaps the run looks for that do not lose lines
	Lives      []string
	Crashes    []string
	Kills      int
	Outages    int
	WriteTime  time.Duration
	Drain      time.Duration
	CatchUp    time.Duration
	CatchUpErr error
	CheckTime  time.Duration

	Files, Hostile, TCP, HostileTCP Tally
	HostileKinds, HostileTCPKinds   map[string]int
	HostileBig                      int // hostile file lines over max_line_bytes
	HostileTruncatedRows            int
	HostileMalformedRows            int
	HostileUnexpected               []string
	HostileTCPTruncated             int
	HostileTCPMalformed             int
	TCPWriteErrors                  int

	UDPSent              int64
	UDPStored, UDPRows   int
	UDPKernelDrops       int64 // /proc/net/snmp Udp RcvbufErrors over the run (whole host)
	RotRenames           int64
	RotCopyTruncates     int64
	RotSkipped           int64
	RotSkipReasons       []string
	PeakRSS, PeakHWM     int64 // KiB
	StoreRows            int
	Counters             metricSet
	Proxy                proxySnapshot
	SecretHits           int
	AgentLogBytes        int
	NonRoot              string
	DataDir              *DataDirResult
	IdleConns, FloodConn int64
	IdleReopened         int64
	Spool                *SpoolResult // the syslog-outage scenario
}

type proxySnapshot struct {
	Requests, Bulk, Forwarded, Whole429, Item429, Items int64
	ResetsBefore, ResetsAfter, RefusedConns, CutConns   int64
	AuthFailed, StoreErrors                             int64
}

// DataDirResult is what the unwritable data_dir step saw.
type DataDirResult struct {
	How                string
	For                time.Duration
	Lasted             time.Duration
	AgentAlive         bool
	CheckpointAdvanced bool
	ErrorLines         int
	ErrorSample        string
	Metrics            []string
	// SaveErrors is how much sluice_checkpoint_save_errors_total rose
	// during the step (-1: the metric is missing); StaleFor is the age of
	// sluice_checkpoint_last_success_timestamp_seconds at its end.
	SaveErrors   int64
	StaleFor     time.Duration
	RowsDuring   int
	ResumedAfter time.Duration
}

// OK is true when nothing made the run fail.
func (res *Result) OK() bool { return len(res.Failures) == 0 }

func (res *Result) String() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	if res.Spool != nil {
		res.Spool.print(p, res)
		return b.String()
	}
	c := res.Counters
	o := res.Options
	p("=== sluice chaos scorecard ===")
	p("run: %v of writing (%d files at %.0f lines/s, %d TCP senders at %.0f msg/s, UDP %.0f msg/s), memory_limit %s, seed %d",
		res.WriteTime.Round(time.Second), o.Writers, o.Rate, o.TCPConns, o.TCPRate, o.UDPRate, o.MemoryLimit, o.Seed)
	if res.WriteTime > 0 {
		p("achieved file rate: %.0f lines/s", float64(res.Files.Written)/res.WriteTime.Seconds())
	}
	p("")
	p("delivery (exactly once = stored under one sluice_id; see below)")
	p("  file lines, numbered:   %s", &res.Files)
	p("  file lines, hostile:    %s", &res.Hostile)
	p("  TCP syslog, numbered:   %s", &res.TCP)
	p("  TCP syslog, hostile:    %s", &res.HostileTCP)
	udpDrop := c.get("sluice_lost_records_total", "component", "syslog_udp", "reason", "udp_overflow")
	udpIn := c.get("sluice_input_records_total", "input", "syslog_udp")
	p("  UDP syslog (loss allowed): %d sent, %d stored (%d rows); agent-counted udp_overflow drops %.0f (pipeline full); kernel receive-buffer drops on the host %d; received by the agent %.0f of which not stored %.0f (held in memory at a SIGKILL); neither received nor counted %.0f (sent while the agent was down)",
		res.UDPSent, res.UDPStored, res.UDPRows, udpDrop, res.UDPKernelDrops, udpIn, udpIn-float64(res.UDPStored),
		float64(res.UDPSent)-udpIn-udpDrop-float64(res.UDPKernelDrops))
	for _, s := range append(append(append(res.Files.LostSample, res.Hostile.LostSample...), res.TCP.LostSample...), res.HostileTCP.LostSample...) {
		p("    lost: %s", s)
	}
	for _, s := range append(append(append(res.Files.DupSample, res.Hostile.DupSample...), res.TCP.DupSample...), res.HostileTCP.DupSample...) {
		p("    duplicated: %s", s)
	}
	p("  VictoriaLogs ignores _id, so a request replayed after a reset or a kill is")
	p("  stored twice under the same sluice_id; Elasticsearch (op_type create) answers")
	p("  409 and keeps one. So a line counts as delivered once when all its rows share")
	p("  one sluice_id (extra rows = replay rows); under two ids it is a duplicate.")
	p("  Syslog messages get an id when read, so the same holds for them.")
	p("")
	p("faults")
	p("  agent SIGKILL + restart: %d; store outages: %d of %v; crashes: %d", res.Kills, res.Outages, o.Outage, len(res.Crashes))
	if res.CatchUpErr != nil {
		p("  catch-up after the outage: NOT REACHED (%v)", res.CatchUpErr)
	} else {
		p("  catch-up after the outage: %v (store back → every file's last line written before it is stored)", res.CatchUp.Round(100*time.Millisecond))
	}
	p("  drain after the writers stopped: %v", res.Drain.Round(100*time.Millisecond))
	px := res.Proxy
	p("  proxy: %d requests (%d bulk, %d items); whole-request 429: %d; item 429: %d; resets before forwarding: %d, after: %d; connections reset in the outage: %d at accept, %d cut; 401: %d; store errors or unusable store answers: %d",
		px.Requests, px.Bulk, px.Items, px.Whole429, px.Item429, px.ResetsBefore, px.ResetsAfter, px.RefusedConns, px.CutConns, px.AuthFailed, px.StoreErrors)
	p("  rotations: %d rename+create, %d copytruncate, %d skipped %v", res.RotRenames, res.RotCopyTruncates, res.RotSkipped, res.RotSkipReasons)
	p("  hostile file lines by kind: %v (%d over max_line_bytes; store rows flagged truncated %d, malformed %d)",
		sortedCounts(res.HostileKinds), res.HostileBig, res.HostileTruncatedRows, res.HostileMalformedRows)
	for _, u := range res.HostileUnexpected {
		p("    hostile row of no written line: %.300s", u)
	}
	p("  syslog: %d idle TCP connections held open (%d reopened after restarts), %d flood connections", res.IdleConns, res.IdleReopened, res.FloodConn)
	p("  hostile TCP frames by kind: %v (rows flagged truncated %d, malformed %d); TCP write errors %d",
		sortedCounts(res.HostileTCPKinds), res.HostileTCPTruncated, res.HostileTCPMalformed, res.TCPWriteErrors)
	p("")
	p("memory")
	p("  peak RSS %d MiB (VmHWM, max over %d lives; sampled VmRSS max %d MiB) vs memory_limit %s",
		res.PeakHWM>>10, len(res.Lives), res.PeakRSS>>10, o.MemoryLimit)
	for i, l := range res.Lives {
		p("    life %d: %s", i+1, l)
	}
	p("")
	p("agent counters (summed over lives) vs store")
	acked := res.agentAcked()
	p("  output documents: sent %.0f, duplicate %.0f, rescued %.0f, dead_lettered %.0f, failed %.0f; retries item %.0f, request %.0f",
		c.get("sluice_output_documents_total", "output", "es", "result", "sent"),
		c.get("sluice_output_documents_total", "output", "es", "result", "duplicate"),
		c.get("sluice_output_documents_total", "output", "es", "result", "rescued"),
		c.get("sluice_output_documents_total", "output", "es", "result", "dead_lettered"),
		c.get("sluice_output_documents_total", "output", "es", "result", "failed"),
		c.get("sluice_output_retries_total", "kind", "item", "output", "es"),
		c.get("sluice_output_retries_total", "kind", "request", "output", "es"))
	p("  store rows %d; agent-acknowledged %.0f; rows stored but not acknowledged to the agent (answers lost to resets, cuts, kills) %.0f",
		res.StoreRows, acked, float64(res.StoreRows)-acked)
	replays := res.Files.Replays + res.Hostile.Replays
	p("  replay rows (same sluice_id) found in the store: %d", replays)
	p("  input records: containers %.0f (lines written %d + hostile %d; re-read after kills counts again), syslog_tcp %.0f (sent %d), syslog_udp %.0f",
		c.get("sluice_input_records_total", "input", "containers"), res.Files.Written, res.Hostile.Written,
		c.get("sluice_input_records_total", "input", "syslog_tcp"), res.TCP.Written+res.HostileTCP.Written, udpIn)
	var drops []string
	for k, v := range c {
		for _, name := range []string{"sluice_lost_records_total", "sluice_input_truncated_records_total"} {
			if strings.HasPrefix(k, name) && v > 0 {
				drops = append(drops, fmt.Sprintf("%s %.0f", k, v))
			}
		}
	}
	sort.Strings(drops)
	p("  drops counted by the agent: %v", drops)
	p("  parse errors: containers %.0f, syslog_tcp %.0f",
		c.get("sluice_input_parse_errors_total", "input", "containers"), c.get("sluice_input_parse_errors_total", "input", "syslog_tcp"))
	p("")
	p("checks")
	p("  credentials in the agent's log (%d bytes, every life): %d occurrences of the password or its Basic header", res.AgentLogBytes, res.SecretHits)
	p("  non-root: %s", res.NonRoot)
	if d := res.DataDir; d != nil {
		p("  unwritable data_dir (%s, %v): agent alive %v, checkpoint advanced meanwhile %v, %d rows stored meanwhile, %d log lines about checkpoints, checkpoint metrics %v, checkpoints advanced again %v after",
			d.How, d.Lasted.Round(time.Second), d.AgentAlive, d.CheckpointAdvanced, d.RowsDuring, d.ErrorLines, d.Metrics, d.ResumedAfter.Round(time.Millisecond))
		p("    sluice_checkpoint_save_errors_total +%d during the step; last successful save %v before its end", d.SaveErrors, d.StaleFor.Round(100*time.Millisecond))
		if d.ErrorSample != "" {
			p("    first: %.300s", d.ErrorSample)
		}
	}
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
	return b.String()
}

func sortedCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// udpRcvbufErrors is the host's count of UDP datagrams dropped because a
// socket's receive buffer was full (/proc/net/snmp).
func udpRcvbufErrors() int64 {
	raw, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return 0
	}
	var head []string
	for _, l := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(l, "Udp: ") {
			continue
		}
		f := strings.Fields(l)
		if head == nil {
			head = f
			continue
		}
		for i, name := range head {
			if name == "RcvbufErrors" && i < len(f) {
				n, _ := strconv.ParseInt(f[i], 10, 64)
				return n
			}
		}
	}
	return 0
}
