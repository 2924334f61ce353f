package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Tally is what the store holds for one kind of numbered line.
//
// A line is "once" when the store holds it under exactly one id, however
// many rows: VictoriaLogs ignores _id, so a replay of the same request
// (after a reset or a kill) is stored again under the same sluice_id, and
// Elasticsearch with op_type create would have kept one (409). Those extra
// rows are Replays. A line stored under two different ids is Dup: ES would
// keep both, a real duplicate. Syslog messages get an id per message when
// they are read, so the same holds for them: a bulk request sent again after
// a lost answer repeats the ids.
type Tally struct {
	Written, Once, Dup, Lost, Replays int
	// DupLostAnswer: of Dup, syslog messages whose bulk request the store
	// took but whose answer the agent never got (a reset, a cut), sent
	// again under a different id: Elasticsearch would store both.
	DupLostAnswer         int
	NoID, Unexpected      int
	LostSample, DupSample []string
}

func (t *Tally) String() string {
	s := fmt.Sprintf("%d written, %d exactly once, %d duplicated, %d lost", t.Written, t.Once, t.Dup, t.Lost)
	if t.DupLostAnswer > 0 {
		s += fmt.Sprintf(" (%d of the duplicates resent after a lost bulk answer)", t.DupLostAnswer)
	}
	if t.Replays > 0 {
		s += fmt.Sprintf(", %d replay rows (same id)", t.Replays)
	}
	if t.NoID > 0 {
		s += fmt.Sprintf(", %d rows without sluice_id", t.NoID)
	}
	if t.Unexpected > 0 {
		s += fmt.Sprintf(", %d rows of no written line", t.Unexpected)
	}
	return s
}

func (t *Tally) bad() bool { return t.Dup > 0 || t.Lost > 0 || t.NoID > 0 }

// lines counts rows and ids of n numbered lines.
type lines struct {
	rows  []uint16
	id    []uint64
	multi []bool
}

func newLines(n int) *lines {
	return &lines{rows: make([]uint16, n), id: make([]uint64, n), multi: make([]bool, n)}
}

func idHash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64() | 1 // never 0, which means "no row yet"
}

// add records a row of line i with id ("" when the row has none).
func (l *lines) add(i int, id string) bool {
	if i < 0 || i >= len(l.rows) {
		return false
	}
	if l.rows[i] < 65535 {
		l.rows[i]++
	}
	h := uint64(1)
	if id != "" {
		h = idHash(id)
	}
	if l.id[i] == 0 {
		l.id[i] = h
	} else if l.id[i] != h {
		l.multi[i] = true
	}
	return true
}

// into adds these lines to t; withIDs: a second row with the same id is a
// replay, not a duplicate.
func (l *lines) into(t *Tally, name string, withIDs bool, lostAnswer func(string) bool) {
	t.Written += len(l.rows)
	lostFrom := -1 // first seq of the run of lost lines being counted
	for i, n := range l.rows {
		if n != 0 && lostFrom >= 0 {
			t.sampleLost(name, lostFrom, i-1)
			lostFrom = -1
		}
		switch {
		case n == 0:
			t.Lost++
			if lostFrom < 0 {
				lostFrom = i
			}
		case l.multi[i] || (!withIDs && n > 1):
			t.Dup++
			key := fmt.Sprintf("%s#%d", name, i)
			why := ""
			if lostAnswer != nil && lostAnswer(key) {
				t.DupLostAnswer++
				why = ", its bulk answer was lost"
			}
			if len(t.DupSample) < 10 {
				t.DupSample = append(t.DupSample, fmt.Sprintf("%s (%d rows%s)", key, n, why))
			}
		default:
			t.Once++
			t.Replays += int(n) - 1
		}
	}
	if lostFrom >= 0 {
		t.sampleLost(name, lostFrom, len(l.rows)-1)
	}
}

// sampleLost notes a run of lost lines as a range: a rotation loses a run,
// and where it starts and ends tells which.
func (t *Tally) sampleLost(name string, first, last int) {
	if len(t.LostSample) >= 10 {
		return
	}
	if first == last {
		t.LostSample = append(t.LostSample, fmt.Sprintf("%s#%d", name, first))
		return
	}
	t.LostSample = append(t.LostSample, fmt.Sprintf("%s#%d-%d (%d lines)", name, first, last, last-first+1))
}

func (r *runner) check(ctx context.Context) {
	res := r.res
	t0 := time.Now()
	// Files: one query per writer's pod.
	for _, w := range r.fs.writers {
		l := newLines(w.seq)
		q := podStream(nsLines, w.pod) + ` | extract "seq=<tseq> " from _msg | fields seq, tseq, sluice_id`
		err := r.store.stream(ctx, q, func(b []byte) error {
			var row struct {
				Seq  string `json:"seq"`
				TSeq string `json:"tseq"`
				ID   string `json:"sluice_id"`
			}
			if err := json.Unmarshal(b, &row); err != nil {
				return fmt.Errorf("decode %.200q: %w", b, err)
			}
			s := row.Seq
			if s == "" {
				s = row.TSeq
			}
			n, err := strconv.Atoi(s)
			if err != nil || !l.add(n, row.ID) {
				res.Files.Unexpected++
			}
			if row.ID == "" {
				res.Files.NoID++
			}
			return nil
		})
		if err != nil {
			r.problem("read back %s: %v", w.src, err)
		}
		l.into(&res.Files, w.src, true, nil)
	}

	// Hostile file lines: the marker is in the log text, or in a merged
	// JSON field (hmark, or json.hmark when the line's keys clash).
	h := r.fs.hostile
	hl := newLines(h.seq)
	q := podStream(nsHostile, h.pod) + ` | extract "hostile seq=<h1> " from _msg | extract "hostile seq=<h2> " from hmark | extract "hostile seq=<h3> " from json.hmark | fields h1, h2, h3, sluice_id, sluice.truncated, sluice.malformed`
	err := r.store.streamRows(ctx, q, func(row map[string]string) {
		s := row["h1"] + row["h2"] + row["h3"]
		if n, err := strconv.Atoi(s); err != nil || !hl.add(n, row["sluice_id"]) {
			res.Hostile.Unexpected++
			if len(res.HostileUnexpected) < 5 {
				b, _ := json.Marshal(row)
				res.HostileUnexpected = append(res.HostileUnexpected, string(b))
			}
		}
		if row["sluice_id"] == "" {
			res.Hostile.NoID++
		}
		if row["sluice.truncated"] == "true" {
			res.HostileTruncatedRows++
		}
		if row["sluice.malformed"] == "true" {
			res.HostileMalformedRows++
		}
	})
	if err != nil {
		r.problem("read back hostile lines: %v", err)
	}
	hl.into(&res.Hostile, "hostile", true, nil)
	res.HostileKinds = h.kinds
	res.HostileBig = h.big

	// TCP syslog: numbered senders by (app, proc), seq in MSGID "m<seq>".
	r.sys.mu.Lock()
	tcp := map[string]*lines{}
	for k, n := range r.sys.tcpSent {
		tcp[k] = newLines(n)
	}
	hostileTCP := newLines(r.sys.hostile)
	res.HostileTCPKinds = r.sys.hostKinds
	res.TCPWriteErrors = r.sys.tcpErrors
	r.sys.mu.Unlock()
	err = r.store.streamRows(ctx, numberedTCP+` | fields syslog.app_name, syslog.proc_id, syslog.msg_id, sluice_id`, func(row map[string]string) {
		l := tcp[row["syslog.app_name"]+"/"+row["syslog.proc_id"]]
		n, err := strconv.Atoi(strings.TrimPrefix(row["syslog.msg_id"], "m"))
		if l == nil || err != nil || !l.add(n, row["sluice_id"]) {
			res.TCP.Unexpected++
		}
	})
	if err != nil {
		r.problem("read back TCP syslog: %v", err)
	}
	keys := make([]string, 0, len(tcp))
	for k := range tcp {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		tcp[k].into(&res.TCP, k, true, r.proxy.answerLost)
	}
	err = r.store.streamRows(ctx, hostileTCPRows+` | extract "htcp seq=<h> " from _msg | fields h, sluice.truncated, sluice.malformed, sluice_id`, func(row map[string]string) {
		n, err := strconv.Atoi(row["h"])
		if err != nil || !hostileTCP.add(n, row["sluice_id"]) {
			res.HostileTCP.Unexpected++
		}
		if row["sluice.truncated"] == "true" {
			res.HostileTCPTruncated++
		}
		if row["sluice.malformed"] == "true" {
			res.HostileTCPMalformed++
		}
	})
	if err != nil {
		r.problem("read back hostile TCP frames: %v", err)
	}
	hostileTCP.into(&res.HostileTCP, "htcp", true, r.proxy.answerLost)

	// UDP: loss allowed, reported with the agent's own drop counter.
	res.UDPSent = r.sys.udpSent.Load()
	if row, err := r.store.stats(ctx, `syslog.app_name:="`+appUDP+`" | stats count_uniq(syslog.msg_id) u, count() c`); err == nil {
		res.UDPStored, res.UDPRows = atoi(row["u"]), atoi(row["c"])
	} else {
		r.problem("count UDP rows: %v", err)
	}
	res.UDPKernelDrops = udpRcvbufErrors() - r.udpBase
	res.IdleConns, res.IdleReopened, res.FloodConn = r.sys.idleOpen.Load(), r.sys.idleReopened.Load(), r.sys.floodConns.Load()
	res.StoreRows, _ = r.store.count(ctx, "*")
	res.CheckTime = time.Since(t0)

	r.counters()
	r.secrets()
	r.verdict()
}

// counters sums the agent's counters over its lives (each life starts
// from zero; a killed life's last scrape is taken just before the kill).
func (r *runner) counters() {
	res := r.res
	sum := metricSet{}
	r.agent.mu.Lock()
	for _, l := range r.agent.lives {
		for k, v := range l.metrics {
			if strings.HasPrefix(k, "sluice_") && (strings.Contains(k, "_total{")) {
				sum[k] += v
			}
		}
		res.Lives = append(res.Lives, fmt.Sprintf("pid %d: %s, VmHWM %d MiB (highest VmRSS sampled %.1f MiB: RssAnon %.1f, RssFile %.1f)",
			l.pid, l.ended, l.hwm>>10, float64(l.rss)/1024, float64(l.anon)/1024, float64(l.file)/1024))
	}
	res.PeakRSS, res.PeakHWM = r.agent.peakRSS, r.agent.peakHWM
	res.Crashes = append(res.Crashes, r.agent.crashes...)
	r.agent.mu.Unlock()
	res.Counters = sum
	res.Proxy = proxySnapshot{
		Requests: r.proxy.st.Requests.Load(), Bulk: r.proxy.st.Bulk.Load(), Forwarded: r.proxy.st.Forwarded.Load(),
		Whole429: r.proxy.st.Whole429.Load(), Item429: r.proxy.st.Item429.Load(), Items: r.proxy.st.Items.Load(),
		ResetsBefore: r.proxy.st.ResetsBefore.Load(), ResetsAfter: r.proxy.st.ResetsAfter.Load(),
		RefusedConns: r.proxy.st.RefusedConns.Load(), CutConns: r.proxy.st.CutConns.Load(),
		AuthFailed: r.proxy.st.AuthFailed.Load(), StoreErrors: r.proxy.st.StoreErrors.Load(),
	}
}

// secrets scans everything the agent logged for the password and the
// Authorization value built from it.
func (r *runner) secrets() {
	raw, err := os.ReadFile(r.agent.logPath)
	if err != nil {
		r.problem("read agent log: %v", err)
		return
	}
	r.res.AgentLogBytes = len(raw)
	basic := base64.StdEncoding.EncodeToString([]byte(esUser + ":" + r.pass))
	for _, s := range []string{r.pass, basic} {
		r.res.SecretHits += bytes.Count(raw, []byte(s))
	}
}

func (r *runner) verdict() {
	res := r.res
	c := res.Counters
	if res.Files.bad() || res.Hostile.bad() {
		r.problem("file lines lost or duplicated: numbered %s; hostile %s", &res.Files, &res.Hostile)
	}
	tcpLost := res.TCP.Lost + res.HostileTCP.Lost
	tcpDup := res.TCP.Dup + res.HostileTCP.Dup
	tcpDupLost := res.TCP.DupLostAnswer + res.HostileTCP.DupLostAnswer
	switch {
	case tcpLost > 0 || tcpDup > tcpDupLost:
		r.problem("TCP syslog messages lost or duplicated: numbered %s; hostile %s", &res.TCP, &res.HostileTCP)
	case tcpDup > 0 && r.o.FailOnSyslogReplays:
		r.problem("TCP syslog messages duplicated under two ids, %d resent after a lost bulk answer", tcpDup)
	case tcpDup > 0:
		r.finding("%d TCP syslog messages stored under two ids after a lost bulk answer (not failing: FailOnSyslogReplays is off)", tcpDup)
	}
	if res.PeakHWM<<10 > r.memLimit || res.PeakRSS<<10 > r.memLimit {
		r.problem("peak RSS %d MiB over memory_limit %s", max(res.PeakHWM, res.PeakRSS)>>10, r.o.MemoryLimit)
	}
	if res.SecretHits > 0 {
		r.problem("the agent logged its Elasticsearch credentials %d times", res.SecretHits)
	}
	if len(res.Crashes) > 0 {
		r.problem("agent crashes: %s", strings.Join(res.Crashes, "; "))
	}
	if f := c.get("sluice_output_documents_total", "output", "es", "result", "failed"); f > 0 {
		r.problem("the agent counted %v documents as failed (lost)", f)
	}
	if res.Proxy.AuthFailed > 0 {
		r.problem("%d requests reached the proxy without the right credentials", res.Proxy.AuthFailed)
	}
	acked := res.agentAcked()
	if float64(res.StoreRows) < acked {
		r.problem("the agent counts %v documents acknowledged but the store holds %d rows", acked, res.StoreRows)
	}
}

func (res *Result) agentAcked() float64 {
	c := res.Counters
	var n float64
	for _, k := range []string{"sent", "duplicate", "rescued", "dead_lettered"} {
		n += c.get("sluice_output_documents_total", "output", "es", "result", k)
	}
	return n
}
