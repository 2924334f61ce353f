package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Namespaces of the generated files; every pod is its own stream in the
// store, so each writer's lines are read back with one query.
const (
	nsLines   = "chaos"
	nsHostile = "chaos-hostile"
)

// fileSet is every container-log file of the run and its writers.
type fileSet struct {
	dir   string
	gid   int // group that may read the logs (-1: leave as is)
	store *storeClient
	agent *agentRunner
	// gate: rotations hold it shared; a SIGKILL holds it exclusively, so
	// no file leaves the glob while the agent is down.
	gate *sync.RWMutex
	logf func(string, ...any)

	writers []*fileWriter
	hostile *hostileWriter

	mu    sync.Mutex
	moved []*movedFile
	// copies of copytruncated files, kept until their lines are stored
	copies []*movedFile

	renames, copyTruncates, rotSkipped atomic.Int64
	skipReasons                        sync.Map // reason → *atomic.Int64
}

// movedFile is a rotated-away file (out of the glob): it has to be read to
// its end and delivered before the agent may be killed, since a restarted
// agent never sees it again (true of any agent).
type movedFile struct {
	w           *fileWriter
	path        string
	first, last int // seq range it holds
}

// fileWriter appends numbered lines to one kubelet-named file.
type fileWriter struct {
	fs     *fileSet
	src    string // "w07": the writer's tag in every line
	pod    string
	docker bool
	path   string
	rng    *mrand.Rand

	mu        sync.Mutex // the file and the counters below
	f         *os.File
	ino       uint64
	seq       int          // next seq
	fileFirst int          // first seq of the current file
	lastJSON  atomic.Int64 // last seq written as a JSON line (-1: none)
	rot       int
	written   atomic.Int64
}

func randHex(n int) string {
	b := make([]byte, n/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// kubeletPath is <pod>_<namespace>_<container>-<64 hex>.log, which gives the
// agent namespace and pod names without an API server.
func kubeletPath(dir, pod, ns, container string) string {
	return filepath.Join(dir, pod+"_"+ns+"_"+container+"-"+randHex(64)+".log")
}

// createLog creates path readable by fs.gid only (0640), atomically: it is
// made under a name outside the glob, then renamed, so the agent never
// finds it before its group is set.
func (fs *fileSet) createLog(path string) (*os.File, uint64, error) {
	tmp := path + ".creating"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_APPEND|os.O_EXCL, 0o640)
	if err != nil {
		return nil, 0, fmt.Errorf("create %s: %w", tmp, err)
	}
	if fs.gid >= 0 {
		if err := f.Chown(0, fs.gid); err != nil {
			f.Close()
			return nil, 0, fmt.Errorf("chown %s: %w", tmp, err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("rename %s: %w", tmp, err)
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("stat %s: %w", path, err)
	}
	return f, st.Ino, nil
}

func (fs *fileSet) addWriter(i int, docker bool, seed uint64) (*fileWriter, error) {
	src := fmt.Sprintf("w%02d", i)
	pod := src + "-" + randHex(10)
	w := &fileWriter{
		fs: fs, src: src, pod: pod, docker: docker,
		path: kubeletPath(fs.dir, pod, nsLines, "app"),
		rng:  mrand.New(mrand.NewPCG(seed, uint64(i))),
	}
	f, ino, err := fs.createLog(w.path)
	if err != nil {
		return nil, err
	}
	w.f, w.ino = f, ino
	w.lastJSON.Store(-1)
	fs.writers = append(fs.writers, w)
	return w, nil
}

// line appends the entry (or entries) of line seq to buf.
func (w *fileWriter) line(buf []byte, seq int, now time.Time) []byte {
	r := w.rng
	var content string
	if r.IntN(10) == 0 {
		content = fmt.Sprintf("chaos %s seq=%d plain text line, user=alice action=login latency=%dms", w.src, seq, r.IntN(900))
	} else {
		w.lastJSON.Store(int64(seq))
		b, _ := json.Marshal(struct {
			Level string `json:"level"`
			Src   string `json:"src"`
			Seq   int    `json:"seq"`
			Msg   string `json:"msg"`
			Path  string `json:"path"`
			Code  int    `json:"status"`
		}{"info", w.src, seq, "request handled by the chaos writer, héllo wörld ✓", "/api/v1/orders?id=" + strconv.Itoa(r.IntN(100000)), 200 + 100*r.IntN(4)})
		content = string(b)
	}
	stream := "stdout"
	if r.IntN(5) == 0 {
		stream = "stderr"
	}
	ts := now.UTC().Format(time.RFC3339Nano)
	if w.docker {
		b, _ := json.Marshal(struct {
			Log    string `json:"log"`
			Stream string `json:"stream"`
			Time   string `json:"time"`
		}{content + "\n", stream, ts})
		return append(append(buf, b...), '\n')
	}
	// 2% of CRI lines come in partials, as the runtime writes long lines.
	if r.IntN(50) == 0 && len(content) > 10 {
		cut := 1 + r.IntN(len(content)-1)
		buf = fmt.Appendf(buf, "%s %s P %s\n", ts, stream, content[:cut])
		content = content[cut:]
	}
	return fmt.Appendf(buf, "%s %s F %s\n", ts, stream, content)
}

// run writes rate lines per second until ctx ends, and rotates the file
// every rotateEvery (±50%).
func (w *fileWriter) run(ctx context.Context, rate float64, rotateEvery time.Duration, copyTruncate bool) {
	const tick = 20 * time.Millisecond
	t := time.NewTicker(tick)
	defer t.Stop()
	nextRot := time.Now().Add(jitter(w.rng, rotateEvery))
	var owed float64
	var buf []byte
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// By elapsed time, so a writer paused by a copytruncate or a
		// kill makes up for it in a burst, as a real app's buffer would.
		now := time.Now()
		owed += rate * min(now.Sub(last), 5*time.Second).Seconds()
		last = now
		n := int(owed)
		owed -= float64(n)
		if n > 0 {
			w.mu.Lock()
			buf = buf[:0]
			now := time.Now()
			for range n {
				buf = w.line(buf, w.seq, now)
				w.seq++
			}
			// A torn write now and then, so the agent sees half lines.
			if cut := w.rng.IntN(len(buf)); w.rng.IntN(4) == 0 && cut > 0 {
				_, err1 := w.f.Write(buf[:cut])
				_, err2 := w.f.Write(buf[cut:])
				if err1 != nil || err2 != nil {
					w.fs.logf("write %s: %v %v", w.path, err1, err2)
				}
			} else if _, err := w.f.Write(buf); err != nil {
				w.fs.logf("write %s: %v", w.path, err)
			}
			w.written.Add(int64(n))
			w.mu.Unlock()
		}
		if rotateEvery > 0 && time.Now().After(nextRot) {
			w.rotate(ctx, copyTruncate && w.rng.IntN(2) == 0)
			nextRot = time.Now().Add(jitter(w.rng, rotateEvery))
		}
	}
}

func jitter(r *mrand.Rand, d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d/2 + time.Duration(r.Int64N(int64(d)))
}

func (fs *fileSet) skip(reason string) {
	fs.rotSkipped.Add(1)
	v, _ := fs.skipReasons.LoadOrStore(reason, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

// rotate renames the file away and starts a new one (logrotate's create,
// the kubelet's rotation), or copies and truncates it (copytruncate).
func (w *fileWriter) rotate(ctx context.Context, copyTruncate bool) {
	fs := w.fs
	fs.gate.RLock()
	defer fs.gate.RUnlock()
	// Only rotate a file the agent has open: a file moved out of the glob
	// before any agent opened it is lost for every agent.
	_, l, _ := fs.agent.current()
	if l == nil {
		return
	}
	open, err := openInodes(l.pid, fs.dir)
	if err != nil || !open[w.ino] {
		fs.skip("the agent did not hold the file open")
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.rot++
	if copyTruncate {
		// Not waited for: an agent that is behind (the store lags, or it
		// was just restarted) reads what it had not read from the copy,
		// which logrotate leaves beside the file.
		copyPath := fmt.Sprintf("%s.%d", w.path, w.rot)
		if err := fs.copyLog(w.path, copyPath); err != nil {
			fs.logf("copytruncate copy: %v", err)
			return
		}
		if err := w.f.Truncate(0); err != nil {
			fs.logf("copytruncate truncate: %v", err)
			return
		}
		fs.mu.Lock()
		fs.copies = append(fs.copies, &movedFile{w: w, path: copyPath, first: w.fileFirst, last: w.seq - 1})
		fs.mu.Unlock()
		fs.logf("copytruncate of %s: seq %d-%d into %s", w.src, w.fileFirst, w.seq-1, filepath.Base(copyPath))
		w.fileFirst = w.seq
		fs.copyTruncates.Add(1)
		return
	}
	moved := fmt.Sprintf("%s.%d", w.path, w.rot)
	if err := os.Rename(w.path, moved); err != nil {
		fs.logf("rotate rename: %v", err)
		return
	}
	f, ino, err := fs.createLog(w.path)
	if err != nil {
		fs.logf("rotate create: %v", err)
		// Carry on in the moved file: its lines are still tracked.
		_ = os.Rename(moved, w.path)
		return
	}
	_ = w.f.Close()
	fs.mu.Lock()
	fs.moved = append(fs.moved, &movedFile{w: w, path: moved, first: w.fileFirst, last: w.seq - 1})
	fs.mu.Unlock()
	w.f, w.ino, w.fileFirst = f, ino, w.seq
	fs.renames.Add(1)
}

// copyLog copies src to dst as logrotate's copytruncate does: dst is
// created with the log's owner and mode before any byte is written, so the
// agent (not root) can read the copy.
func (fs *fileSet) copyLog(src, dst string) error {
	raw, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("read %s: %w", src, err)
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return fmt.Errorf("create %s: %w", dst, err)
	}
	if fs.gid >= 0 {
		if err := f.Chown(0, fs.gid); err != nil {
			f.Close()
			return fmt.Errorf("chown %s: %w", dst, err)
		}
	}
	if _, err := f.Write(raw); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", dst, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", dst, err)
	}
	return nil
}

// settleMoved waits until every rotated-away file is delivered, deleting
// each one once it is (the kubelet deletes old rotations too). It returns
// the files still undelivered at the deadline.
func (fs *fileSet) settleMoved(ctx context.Context, timeout time.Duration) []string {
	return fs.settle(ctx, &fs.moved, timeout)
}

// settleCopies deletes the copies of copytruncated files whose lines are
// delivered (logrotate's rotate count, in effect). Unlike moved files, a
// SIGKILL need not wait for them: the restarted agent finds them.
func (fs *fileSet) settleCopies(ctx context.Context) []string {
	return fs.settle(ctx, &fs.copies, 0)
}

func (fs *fileSet) settle(ctx context.Context, list *[]*movedFile, timeout time.Duration) []string {
	deadline := time.Now().Add(timeout)
	for {
		fs.mu.Lock()
		pending := append([]*movedFile(nil), *list...)
		fs.mu.Unlock()
		var left []string
		for _, m := range pending {
			if m.last < m.first {
				fs.drop(list, m)
				continue
			}
			ok, err := fs.store.delivered(ctx, m.w.pod, m.first, m.last, 0)
			if ok {
				fs.drop(list, m)
				continue
			}
			left = append(left, fmt.Sprintf("%s seq %d-%d (%v)", filepath.Base(m.path), m.first, m.last, err))
		}
		if len(left) == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			return left
		}
		time.Sleep(500 * time.Millisecond) // delivery poll
	}
}

func (fs *fileSet) drop(list *[]*movedFile, m *movedFile) {
	_ = os.Remove(m.path)
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, x := range *list {
		if x == m {
			*list = append((*list)[:i], (*list)[i+1:]...)
			return
		}
	}
}

// marks is the last JSON seq of every writer now: catch-up is when the
// store holds them all.
func (fs *fileSet) marks() map[string]int {
	out := map[string]int{}
	for _, w := range fs.writers {
		if s := w.lastJSON.Load(); s >= 0 {
			out[w.pod] = int(s)
		}
	}
	return out
}

func (fs *fileSet) written() int64 {
	var n int64
	for _, w := range fs.writers {
		n += w.written.Load()
	}
	return n
}

// hostileWriter writes lines meant to break a parser into their own file:
// 1 MiB lines, longer ones, invalid UTF-8, binary garbage, malformed CRI
// and JSON. Each carries "hostile seq=N " and must arrive once like any
// other line.
type hostileWriter struct {
	fs   *fileSet
	pod  string
	path string
	f    *os.File
	rng  *mrand.Rand

	mu    sync.Mutex
	seq   int
	kinds map[string]int // kind → lines written
	big   int            // lines over max_line_bytes (cut, flagged)
}

const maxLineBytes = 1 << 20 // the agent's default max_line_bytes

func (fs *fileSet) addHostile(seed uint64) error {
	pod := "hostile-" + randHex(10)
	h := &hostileWriter{fs: fs, pod: pod, path: kubeletPath(fs.dir, pod, nsHostile, "evil"),
		rng: mrand.New(mrand.NewPCG(seed, 0x686f7374)), kinds: map[string]int{}}
	f, _, err := fs.createLog(h.path)
	if err != nil {
		return err
	}
	h.f = f
	fs.hostile = h
	return nil
}

var hostileKinds = []string{"1MiB line", "over max_line_bytes", "invalid UTF-8", "binary garbage",
	"malformed CRI", "malformed JSON", "deep JSON", "key clash JSON", "endless partials", "bad stream"}

// write appends one hostile line of the given kind.
func (h *hostileWriter) write(kind string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	seq := h.seq
	h.seq++
	h.kinds[kind]++
	mark := fmt.Sprintf("hostile seq=%d ", seq)
	ts := time.Now().UTC().Format(time.RFC3339Nano)
	cri := func(tag, s string) []byte { return fmt.Appendf(nil, "%s stdout %s %s\n", ts, tag, s) }
	var out []byte
	switch kind {
	case "1MiB line":
		out = cri("F", mark+strings.Repeat("x", maxLineBytes-len(mark)-64))
	case "over max_line_bytes":
		h.big++
		out = cri("F", mark+strings.Repeat("y", maxLineBytes+64<<10))
	case "invalid UTF-8":
		out = cri("F", mark+"bad \xff\xfe\xc3\x28 bytes \xed\xa0\x80 end")
	case "binary garbage":
		g := make([]byte, 512)
		for i := range g {
			g[i] = byte(h.rng.IntN(256))
			if g[i] == '\n' {
				g[i] = 0
			}
		}
		out = cri("F", mark+string(g))
	case "malformed CRI":
		out = []byte("garbage-without-time " + mark + "no stream no tag\n")
	case "malformed JSON":
		out = cri("F", `{"hmark":"`+mark+`","broken": [1, 2,`)
	case "deep JSON":
		depth := 5000
		out = cri("F", `{"hmark":"`+mark+`","deep":`+strings.Repeat("[", depth)+strings.Repeat("]", depth)+"}")
	case "key clash JSON":
		out = cri("F", `{"@timestamp":"not a time","kubernetes":"x","log":5,"stream":[],"sluice":{},"hmark":"`+mark+`"}`)
	case "endless partials":
		// 2 MiB in 64 KiB partials: joined, then cut at max_line_bytes.
		h.big++
		part := strings.Repeat("p", 64<<10)
		out = cri("P", mark+part)
		for range 31 {
			out = append(out, cri("P", part)...)
		}
		out = append(out, cri("F", "end")...)
	case "bad stream":
		out = []byte(ts + " stdnothing F " + mark + "unknown stream\n")
	default:
		panic("BUG: unknown hostile kind " + kind)
	}
	if _, err := h.f.Write(out); err != nil {
		return fmt.Errorf("write hostile line: %w", err)
	}
	return nil
}

// run writes a hostile line every period, round robin over the kinds, the
// 1 MiB ones at most every bigEvery.
func (h *hostileWriter) run(ctx context.Context, period, bigEvery time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	lastBig := map[string]time.Time{} // per kind, so each big kind gets its turns
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		k := hostileKinds[i%len(hostileKinds)]
		switch k {
		case "1MiB line", "over max_line_bytes", "endless partials":
			if time.Since(lastBig[k]) < bigEvery {
				k = "invalid UTF-8"
			} else {
				lastBig[k] = time.Now()
			}
		}
		if err := h.write(k); err != nil {
			h.fs.logf("%v", err)
			return
		}
	}
}
