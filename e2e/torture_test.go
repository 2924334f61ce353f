package e2e

import (
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/agenttest"
)

// TestTorture proves at least once through rotations and crashes: writers
// append numbered lines to eight kubelet-named CRI files while a rotator
// renames, copytruncates, deletes and recreates them (including inode
// reuse), and the agent is SIGKILLed and restarted at random moments, and
// SIGTERMed once. At the end the store holds every line, and every
// repeated row is a replay with the sluice_id of its line (VictoriaLogs
// ignores _id; Elasticsearch with op_type create keeps one).
//
// Rotations that move a file out of the glob (rename, kubelet rename, a
// delete) lose lines in any agent that is down before it has read the old
// file to its end, and copytruncate loses what the agent had not read at
// the truncate. So the test gives the agent what a real one gets: a rename
// or delete only happens while the agent holds the file open; a restart
// waits until every moved file is read to its end and delivered; a
// copytruncate waits until the file is delivered, with its writer paused.
// A wait that times out is a finding: the test fails with what it waited
// for.
//
// The last rotation of every file is a copytruncate while the agent is
// behind (down, or catching up after a restart), with nothing waited for:
// the agent reads what it had not read from the copies
// (finalCopytruncates).
//
// SLUICE_E2E_SEED replays the decisions (files, kinds, kill points,
// lines); the timing of the processes is not replayed.
func TestTorture(t *testing.T) {
	e := newEnv(t)
	c := e.corpus
	tt := newTorture(t, e)

	runFor, perRound, pause := 30*time.Second, 3, 15*time.Millisecond
	if raceEnabled {
		runFor, perRound, pause = 24*time.Second, 2, 25*time.Millisecond
	}

	pods := []struct{ ns, pod, container string }{
		{"payments", "api-7d9f8c6b5-x2x9q", "api"},
		{"payments", "api-7d9f8c6b5-x2x9q", "istio-proxy"},
		{"web", "frontend-5c8d7f9b4-qwert", "nginx"},
		{"web", "frontend-5c8d7f9b4-asdfg", "nginx"},
		{"batch", "report-28391023-h7k2p", "report"},
		{"kube-system", "coredns-668d6bf9bc-7kq2m", "coredns"},
		{"monitoring", "node-exporter-4xk9z", "node-exporter"},
		{"payments", "ledger-0", "ledger"},
	}
	for _, p := range pods {
		lf := c.addFile(t, p.ns, p.pod, p.container, formatCRI)
		id, _, err := fdID(lf.f)
		require.NoError(t, err)
		tt.files = append(tt.files, &tortureFile{lf: lf, id: id})
		c.appendLines(t, lf, 50)
	}
	t.Cleanup(func() {
		for _, f := range tt.files {
			f.lf.mu.Lock()
			_ = f.lf.f.Close()
			f.lf.mu.Unlock()
		}
	})

	start := time.Now()
	tt.start = start
	t.Cleanup(func() {
		if t.Failed() {
			tt.mu.Lock()
			t.Logf("journal of rotations and restarts:\n  %s", strings.Join(tt.journal, "\n  "))
			tt.mu.Unlock()
		}
	})
	tt.setAgent(agenttest.Start(t, e.config, agenttest.Options{Name: "agent#1"}))

	stopWriters := make(chan struct{})
	var writers sync.WaitGroup
	for _, f := range tt.files {
		writers.Add(1)
		go c.writer(t, f.lf, perRound, pause, stopWriters, &writers)
	}
	haltWriters := sync.OnceFunc(func() { close(stopWriters); writers.Wait() })
	t.Cleanup(haltWriters)
	stopRot := make(chan struct{})
	rotDone := make(chan struct{})
	go tt.rotator(stopRot, rotDone)
	stopMon := make(chan struct{})
	monDone := make(chan struct{})
	go tt.monitor(stopMon, monDone)
	stopBackground := sync.OnceFunc(func() {
		close(stopRot)
		<-rotDone
		close(stopMon)
		<-monDone
	})
	t.Cleanup(stopBackground)

	// Restarts: 3 to 5 SIGKILLs and one SIGTERM, one in each slot of the
	// window, so the last restart leaves time for rotations after it.
	kills := 3 + tt.chaos.IntN(3)
	events := kills + 1
	term := tt.chaos.IntN(events)
	from, to := 2*time.Second, runFor-7*time.Second
	slot := (to - from) / time.Duration(events)
	for i := range events {
		at := from + time.Duration(i)*slot + time.Duration(tt.chaos.Int64N(int64(slot)))
		if d := time.Until(start.Add(at)); d > 0 {
			time.Sleep(d) // the schedule of the chaos; not a sync
		}
		tt.restart(i == term, tt.chaos.IntN(2) == 0 || i == events-1 && tt.recreatesDown == 0)
	}
	end := start.Add(runFor)
	if after := time.Now().Add(5 * time.Second); end.Before(after) {
		end = after
	}
	time.Sleep(time.Until(end)) // rotations go on after the last restart; not a sync
	stopBackground()
	haltWriters()
	tt.gz.Wait()
	tt.finalCopytruncates()
	tt.gz.Wait()
	t.Logf("wrote %s in %v", c.summary(), time.Since(start).Round(time.Millisecond))

	a := tt.current()
	rep := waitForLines(t, e.store, c, a, deliveryTimeout/2)
	tt.logSummary(rep)
	requireIdempotent(t, rep)
	base := a.APIURL(t, 1)
	recovered := metricValue(t, base, "sluice_input_rotated_unread_bytes_total", "result", "recovered")
	t.Logf("torture: %v bytes read from copies after the final copytruncates", recovered)
	require.Positive(t, recovered, "the final copytruncates left lines unread: they must come from the copies")
	require.Zero(t, metricValue(t, base, "sluice_input_rotated_unread_bytes_total", "result", "lost"))
	require.LessOrEqual(t, tt.maxLogFDs.Load(), int64(tortureMaxOpen),
		"the agent held more log files open at once than max_open_files")

	require.Equal(t, 0, a.Stop(t), "exit code after SIGTERM")
	rows := mustQueryAll(t, e.store)
	requireIdempotent(t, c.check(rows))
	tt.logStaleCheckpoints()
}

const (
	tortureCloseInactive = 2 * time.Second
	tortureMaxOpen       = 64
)

// rotKind names one way a file is rotated or replaced.
type rotKind string

const (
	rotRename       rotKind = "rename+create"          // logrotate: x.log -> x.log.1, new x.log
	rotKubelet      rotKind = "kubelet rename+gzip"    // x.log -> x.log.<time>, late writes, gzip later
	rotCopyTruncate rotKind = "copytruncate"           // copy to x.log.1, truncate x.log
	rotDelete       rotKind = "delete+recreate"        // while the agent holds it open
	rotDeleteIdle   rotKind = "delete+recreate (idle)" // after close_inactive: the inode may come back
	rotDeleteDown   rotKind = "delete+recreate (agent down)"
)

var rotKinds = []rotKind{rotRename, rotKubelet, rotCopyTruncate, rotDelete, rotDeleteIdle, rotDeleteDown}

// tortureFile is one writer's file; id is the file now at its path.
type tortureFile struct {
	lf *logFile
	id fileID
}

// movedFile is a file that left the glob while the agent had it open: it
// must be read to its end and delivered before the agent may go down.
type movedFile struct {
	tag  string
	live string // the path it was moved from, where a new file lives now
	kind rotKind
	id   fileID
	fp   string
	size int64 // final: nothing is written to it any more
	at   time.Time
	// reused: the new file at the path got this file's inode, so the agent
	// had let go of it already; an open handle of that inode is the new file.
	reused bool
}

type torture struct {
	t *testing.T
	e *env
	// rot drives the rotator goroutine, chaos the restarts on the test
	// goroutine; both are seeded from the corpus seed.
	rot, chaos *mrand.Rand

	pid       atomic.Int64 // of the running agent, for the monitor
	maxLogFDs atomic.Int64 // most log files the agent held open at once

	mu            sync.Mutex // held by one rotation or one restart at a time
	agent         *agenttest.Agent
	agents        int
	files         []*tortureFile
	moved         []movedFile
	rotations     map[rotKind]int
	skipped       map[string]int
	inodeReuses   int // of which got the inode of the deleted file
	recreatesDown int
	sigkills      int
	sigterms      int
	stamp         int
	start         time.Time
	journal       []string
	gz            sync.WaitGroup
}

func newTorture(t *testing.T, e *env) *torture {
	t.Helper()
	cfg, err := os.ReadFile(e.config)
	require.NoError(t, err)
	// The tailer keys under test, next to the e2e defaults.
	s := strings.Replace(string(cfg), "    poll_interval: 50ms\n",
		fmt.Sprintf("    poll_interval: 50ms\n    close_inactive: %v\n    max_open_files: %d\n", tortureCloseInactive, tortureMaxOpen), 1)
	require.Contains(t, s, "close_inactive")
	require.NoError(t, os.WriteFile(e.config, []byte(s), 0o600))
	return &torture{
		t: t, e: e,
		rot:       mrand.New(mrand.NewPCG(e.corpus.seed, 0x726f74)),
		chaos:     mrand.New(mrand.NewPCG(e.corpus.seed, 0x6b696c6c)),
		rotations: map[rotKind]int{},
		skipped:   map[string]int{},
	}
}

func (tt *torture) setAgent(a *agenttest.Agent) {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	tt.agent = a
	tt.agents++
	tt.pid.Store(int64(a.Pid()))
}

func (tt *torture) current() *agenttest.Agent {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return tt.agent
}

// monitor samples how many log files the agent holds open.
func (tt *torture) monitor(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	for {
		if open, _, err := openFiles(int(tt.pid.Load()), tt.e.logs); err == nil {
			if n := int64(len(open)); n > tt.maxLogFDs.Load() {
				tt.maxLogFDs.Store(n)
			}
		}
		select {
		case <-stop:
			return
		case <-time.After(100 * time.Millisecond): // sampling period
		}
	}
}

// rotator rotates a random file in a random way at random moments.
func (tt *torture) rotator(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	idle := 0
	for {
		select {
		case <-stop:
			return
		case <-time.After(time.Duration(150+tt.rot.IntN(450)) * time.Millisecond): // random moments
		}
		tt.mu.Lock()
		tt.forgetDrained()
		f := tt.files[tt.rot.IntN(len(tt.files))]
		kinds := rotKinds[:4]
		if idle < 2 && tt.rot.IntN(12) == 0 {
			kinds = []rotKind{rotDeleteIdle}
			idle++
		}
		kind := kinds[tt.rot.IntN(len(kinds))]
		if err := tt.rotate(f, kind); err != nil {
			tt.t.Errorf("%s of %s: %v", kind, f.lf.tag, err)
			tt.mu.Unlock()
			return
		}
		tt.mu.Unlock()
	}
}

// rotate does one rotation of f. Caller holds tt.mu.
func (tt *torture) rotate(f *tortureFile, kind rotKind) error {
	lf := f.lf
	late := ""
	switch kind {
	case rotRename, rotKubelet, rotDelete:
		// The agent must be following the file: open, and something of it
		// delivered. Otherwise a rename or delete is a loss for any agent.
		if !tt.waitFollowed(f, 5*time.Second) {
			tt.skipped[string(kind)+": agent not following the file yet"]++
			return nil
		}
		lf.mu.Lock()
		defer lf.mu.Unlock()
		fp := headFingerprint(lf.path)
		var moved string
		switch kind {
		case rotRename:
			moved = lf.path + ".1"
			if err := os.Rename(lf.path, moved); err != nil {
				return err
			}
		case rotKubelet:
			tt.stamp++
			moved = fmt.Sprintf("%s.%s.%d", lf.path, time.Now().UTC().Format("20060102-150405"), tt.stamp)
			if err := os.Rename(lf.path, moved); err != nil {
				return err
			}
			// The runtime writes on into the renamed file until it reopens
			// it, a few milliseconds later.
			delay := time.Duration(tt.rot.IntN(20)) * time.Millisecond
			time.Sleep(delay)
			var buf []byte
			first := lf.nextSeq
			for range 1 + tt.rot.IntN(3) {
				buf = tt.e.corpus.genLine(lf, buf)
			}
			late = fmt.Sprintf(" (seq %d-%d written to the renamed file %v after the rename)", first, lf.nextSeq-1, delay)
			if _, err := lf.f.Write(buf); err != nil {
				return err
			}
		case rotDelete:
			if err := os.Remove(lf.path); err != nil {
				return err
			}
		}
		id, size, err := fdID(lf.f)
		if err != nil {
			return err
		}
		if err := tt.reopen(f, id); err != nil {
			return err
		}
		tt.moved = append(tt.moved, movedFile{tag: lf.tag, live: lf.path, kind: kind, id: id, fp: fp, size: size, at: time.Now(), reused: f.id == id})
		if kind == rotKubelet {
			delay := time.Duration(100+tt.rot.IntN(1400)) * time.Millisecond
			tt.gz.Add(1)
			go func() {
				defer tt.gz.Done()
				time.Sleep(delay) // the kubelet compresses some time later; not a sync
				if err := gzipAndRemove(moved); err != nil {
					tt.t.Errorf("gzip %s: %v", moved, err)
				}
			}()
		}

	case rotCopyTruncate:
		lf.mu.Lock() // the writer pauses: copytruncate loses what the agent has not read
		defer lf.mu.Unlock()
		if !tt.waitDelivered(f, 10*time.Second) {
			tt.skipped[string(kind)+": file not delivered within 10s"]++
			return nil
		}
		if err := copyFile(lf.path, lf.path+".1"); err != nil {
			return err
		}
		if err := os.Truncate(lf.path, 0); err != nil {
			return err
		}

	case rotDeleteIdle:
		// Let the file go idle, delivered, past close_inactive, so the
		// agent lets go of it and the new file may get its inode.
		lf.mu.Lock()
		defer lf.mu.Unlock()
		if !tt.waitDelivered(f, 10*time.Second) {
			tt.skipped[string(kind)+": file not delivered within 10s"]++
			return nil
		}
		held := true
		deadline := time.Now().Add(tortureCloseInactive + 3*time.Second)
		for held && time.Now().Before(deadline) {
			open, _, err := openFiles(tt.agent.Pid(), tt.e.logs)
			if err != nil {
				return fmt.Errorf("open files of %s: %w", tt.agent.Name, err)
			}
			_, held = open[f.id]
			if held {
				time.Sleep(50 * time.Millisecond) // poll interval
			}
		}
		if held {
			tt.t.Errorf("close_inactive %v: %s still holds %s (%s) open, idle and delivered for more than %v",
				tortureCloseInactive, tt.agent.Name, lf.path, f.id, tortureCloseInactive+3*time.Second)
		}
		fp := headFingerprint(lf.path)
		id, size, err := fdID(lf.f)
		if err != nil {
			return err
		}
		if err := os.Remove(lf.path); err != nil {
			return err
		}
		if err := tt.reopen(f, id); err != nil {
			return err
		}
		if held {
			tt.moved = append(tt.moved, movedFile{tag: lf.tag, live: lf.path, kind: kind, id: id, fp: fp, size: size, at: time.Now()})
		}
	}
	tt.rotations[kind]++
	tt.note("%s %s at seq %d%s", lf.tag, kind, lf.nextSeq, late)
	return nil
}

// note adds a line to the journal of rotations and restarts, which the
// test prints when it fails. Caller holds tt.mu.
func (tt *torture) note(format string, args ...any) {
	tt.journal = append(tt.journal, fmt.Sprintf("%8.3fs ", time.Since(tt.start).Seconds())+fmt.Sprintf(format, args...))
}

// reopen closes the writer's file and creates a new one at its path, as a
// runtime does after a rotation; old is the identity of the file that left.
// Caller holds tt.mu and lf.mu.
func (tt *torture) reopen(f *tortureFile, old fileID) error {
	lf := f.lf
	if err := lf.f.Close(); err != nil {
		return err
	}
	nf, err := os.OpenFile(lf.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	lf.f = nf
	id, _, err := fdID(nf)
	if err != nil {
		return err
	}
	f.id = id
	if id == old {
		// ext4 hands a freed inode out again at once; tmpfs never does.
		tt.inodeReuses++
	}
	return nil
}

// waitFollowed waits until the agent holds f's file open and a checkpoint
// of it exists. Caller holds tt.mu.
func (tt *torture) waitFollowed(f *tortureFile, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		open, _, err := openFiles(tt.agent.Pid(), tt.e.logs)
		if err == nil {
			if _, held := open[f.id]; held {
				entries, err := readCheckpoints(tt.e.dataDir)
				if _, ok := entryFor(entries, f.id, headFingerprint(f.lf.path)); err == nil && ok {
					return true
				}
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond) // poll interval
	}
}

// waitDelivered waits until the checkpoint of f covers the whole file.
// Caller holds tt.mu and f.lf.mu (nothing is written meanwhile).
func (tt *torture) waitDelivered(f *tortureFile, timeout time.Duration) bool {
	_, size, err := fdID(f.lf.f)
	if err != nil {
		tt.t.Errorf("stat %s: %v", f.lf.path, err)
		return false
	}
	fp := headFingerprint(f.lf.path)
	deadline := time.Now().Add(timeout)
	for {
		entries, err := readCheckpoints(tt.e.dataDir)
		if e, ok := entryFor(entries, f.id, fp); err == nil && ok && e.Offset >= size || size == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond) // poll interval
	}
}

// drained reports whether a moved file is read to its end, let go and
// delivered: the agent no longer holds it and its checkpoint is gone or at
// its end.
func (tt *torture) drained(m movedFile) bool {
	if m.reused {
		// The agent let go of it before the delete; the new file owns the
		// inode and its checkpoint key. Give the last acks time to land.
		if time.Since(m.at) < 2*time.Second {
			return false
		}
	} else {
		open, _, err := openFiles(tt.agent.Pid(), tt.e.logs)
		if err != nil {
			return false
		}
		// A moved file is renamed out of the glob or deleted (" (deleted)");
		// a handle of its inode at a *.log path is a later file that got
		// the inode.
		if target, held := open[m.id]; held && !strings.HasSuffix(target, ".log") {
			return false
		}
	}
	entries, err := readCheckpoints(tt.e.dataDir)
	if err != nil {
		return false
	}
	e, ok := entryFor(entries, m.id, m.fp)
	return !ok || e.Offset >= m.size
}

// forgetDrained drops the moved files that are done. Caller holds tt.mu.
func (tt *torture) forgetDrained() {
	tt.moved = slicesDeleteFunc(tt.moved, tt.drained)
}

func slicesDeleteFunc(s []movedFile, del func(movedFile) bool) []movedFile {
	out := s[:0]
	for _, m := range s {
		if !del(m) {
			out = append(out, m)
		}
	}
	return out
}

// waitDrained waits until every moved file is done; a timeout is a
// finding (the agent did not read a renamed or deleted file to its end).
// On a timeout the agent gets SIGQUIT, so its goroutines are in its log.
// Caller holds tt.mu.
func (tt *torture) waitDrained(timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for {
		tt.forgetDrained()
		if len(tt.moved) == 0 {
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond) // poll interval
	}
	entries, cerr := readCheckpoints(tt.e.dataDir)
	open, _, oerr := openFiles(tt.agent.Pid(), tt.e.logs)
	if cerr != nil || oerr != nil {
		tt.t.Logf("read checkpoints: %v; open files: %v", cerr, oerr)
	}
	var lines []string
	for _, m := range tt.moved {
		e, ok := entryFor(entries, m.id, m.fp)
		target, held := open[m.id]
		lines = append(lines, fmt.Sprintf("%s %s (%s, %d bytes, fingerprint %s, moved from %s) %v ago: agent holds it open: %v %q; checkpoint %v %+v",
			m.tag, m.id, m.kind, m.size, m.fp, m.live, time.Since(m.at).Round(time.Millisecond), held, target, ok, e))
	}
	tt.t.Errorf("%s did not read %d moved file(s) to their end and deliver them within %v (SIGQUIT: its goroutines follow in its log):%s",
		tt.agent.Name, len(tt.moved), timeout, listHead(lines))
	tt.moved = nil
	tt.agent.Signal(tt.t, syscall.SIGQUIT)
	<-tt.agent.Done()
}

// restart stops the agent (SIGTERM or SIGKILL) and starts a new one. With
// recreate, one file is delivered, then deleted and created again while
// the agent is down, which on ext4 usually hands the new file the old
// inode: the agent's checkpoint then names a file that is not this one.
func (tt *torture) restart(term, recreate bool) {
	t := tt.t
	t.Helper()
	tt.mu.Lock()
	defer tt.mu.Unlock()
	tt.waitDrained(20 * time.Second)
	var f *tortureFile
	if recreate {
		f = tt.files[tt.chaos.IntN(len(tt.files))]
		f.lf.mu.Lock()
		if !tt.waitDelivered(f, 10*time.Second) {
			tt.skipped["recreate while down: file not delivered within 10s"]++
			f.lf.mu.Unlock()
			f = nil
		}
	}
	a := tt.agent
	if term {
		// A SIGTERM before the agent has installed its handler kills it.
		tt.waitStarted(a)
	}
	switch {
	case !a.Running():
		tt.sigkills++ // SIGQUIT after a failed wait
	case term:
		require.Equal(t, 0, a.Stop(t), "%s: exit code after SIGTERM", a.Name)
		tt.sigterms++
	default:
		a.Kill(t)
		tt.sigkills++
	}
	if f != nil {
		old := f.id
		err := os.Remove(f.lf.path)
		if err == nil {
			err = tt.reopen(f, old)
		}
		f.lf.mu.Unlock()
		require.NoError(t, err)
		tt.recreatesDown++
		tt.rotations[rotDeleteDown]++
	}
	how := "SIGKILL"
	if term {
		how = "SIGTERM"
	}
	tt.note("%s %s%s", how, a.Name, map[bool]string{true: fmt.Sprintf("; %s deleted and created again while down", tagOf(f))}[f != nil])
	time.Sleep(time.Duration(50+tt.chaos.IntN(350)) * time.Millisecond) // down for a while; writers go on
	tt.agents++
	a = agenttest.Start(t, tt.e.config, agenttest.Options{Name: fmt.Sprintf("agent#%d", tt.agents)})
	tt.agent = a
	tt.pid.Store(int64(a.Pid()))
}

func tagOf(f *tortureFile) string {
	if f == nil {
		return ""
	}
	return f.lf.tag
}

// waitStarted waits until the agent logs that it started.
func (tt *torture) waitStarted(a *agenttest.Agent) {
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(a.Stderr.String(), "agent started") && a.Running() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // poll interval
	}
}

func (tt *torture) logSummary(rep *report) {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	var kinds []string
	total := 0
	for _, k := range rotKinds {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, tt.rotations[k]))
		total += tt.rotations[k]
	}
	var skipped []string
	for s, n := range tt.skipped {
		skipped = append(skipped, fmt.Sprintf("%s: %d", s, n))
	}
	sort.Strings(skipped)
	recreates := tt.rotations[rotDelete] + tt.rotations[rotDeleteIdle] + tt.rotations[rotDeleteDown]
	tt.t.Logf("torture: %d lines, %d rows, %d replays (extra rows, all checked for the sluice_id of their line)",
		tt.e.corpus.count(), rep.rows, rep.replays())
	tt.t.Logf("torture: %d rotations: %s", total, strings.Join(kinds, ", "))
	tt.t.Logf("torture: %d of %d delete+recreate got the deleted file's inode back", tt.inodeReuses, recreates)
	tt.t.Logf("torture: %d restarts (%d SIGKILL, %d SIGTERM); at most %d log files open at once (max_open_files %d)",
		tt.sigkills+tt.sigterms, tt.sigkills, tt.sigterms, tt.maxLogFDs.Load(), tortureMaxOpen)
	if len(skipped) > 0 {
		tt.t.Logf("torture: skipped rotations: %s", strings.Join(skipped, "; "))
	}
}

// logStaleCheckpoints logs the checkpoints left for files that no longer
// exist (stale entries are pruned, at no set time).
func (tt *torture) logStaleCheckpoints() {
	entries, err := readCheckpoints(tt.e.dataDir)
	if err != nil {
		tt.t.Logf("read checkpoints: %v", err)
		return
	}
	live := map[uint64]bool{}
	paths, _ := filepath.Glob(filepath.Join(tt.e.logs, "*"))
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil {
			live[idOf(fi).ino] = true
		}
	}
	var stale []string
	for k, e := range entries {
		if !live[e.Inode] {
			stale = append(stale, fmt.Sprintf("%s %+v", k, e))
		}
	}
	sort.Strings(stale)
	tt.t.Logf("checkpoints after the last stop: %d entries, %d of files that no longer exist%s", len(entries), len(stale), listHead(stale))
}
