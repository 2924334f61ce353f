package e2e

import (
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
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// format is the container log format of a file.
type format int

const (
	formatCRI    format = iota // containerd / CRI-O: "TIME STREAM P|F MESSAGE"
	formatDocker               // docker json-file: {"log":…,"stream":…,"time":…}
)

func (f format) String() string {
	if f == formatDocker {
		return "docker"
	}
	return "cri"
}

// dockerSplit is where docker's json-file driver cuts a long line.
const dockerSplit = 16 << 10

// lineKey identifies one logical line: the tag of its file and its number.
type lineKey struct {
	file string
	seq  int
}

func (k lineKey) String() string { return k.file + "#" + strconv.Itoa(k.seq) }

// lineKind says how a line is expected to look in the store.
type lineKind int

const (
	kindJSON lineKind = iota // a JSON object merged at the top level
	kindText                 // a plain line kept as log
)

// expectedLine is what the store must hold for one line.
type expectedLine struct {
	key  lineKey
	file *logFile
	kind lineKind
	// stream is "stdout" or "stderr"; "" when not checked (broken framing).
	stream string
	// times are the acceptable @timestamp values (the times of the line's
	// parts); nil when not checked (a line without a usable time).
	times []time.Time
	// msgs are the acceptable values of the msg field (kindJSON) or of the
	// log field (kindText); usually one.
	msgs   []string
	level  string // kindJSON
	status int    // kindJSON: http.status when > 0
	parts  int    // physical entries the line was written as (> 1: joined)
	desc   string // what is special about it, for failure messages
}

// logFile is one kubelet-named log file and its writer.
type logFile struct {
	tag                               string // "f3": the file part of every marker
	namespace, pod, container, contID string
	format                            format
	path                              string

	mu      sync.Mutex // serialises appends
	f       *os.File
	nextSeq int
	rng     *mrand.Rand
}

// corpus is every file and line a test wrote, and what the store must hold.
type corpus struct {
	dir  string
	seed uint64

	mu    sync.Mutex
	clock time.Time // time of the next physical entry
	files []*logFile
	lines map[lineKey]*expectedLine
}

// newCorpus writes files under dir. Timestamps start an hour ago: the store
// drops documents more than two days in the future.
func newCorpus(t *testing.T, dir string) *corpus {
	t.Helper()
	seed := mrand.Uint64()
	if s := os.Getenv("SLUICE_E2E_SEED"); s != "" {
		var err error
		seed, err = strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "SLUICE_E2E_SEED")
	}
	t.Logf("generator seed %d (rerun with SLUICE_E2E_SEED=%d)", seed, seed)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return &corpus{
		dir:   dir,
		seed:  seed,
		clock: time.Now().UTC().Add(-time.Hour).Truncate(time.Second).Add(123456789),
		lines: map[lineKey]*expectedLine{},
	}
}

// nextTime returns a fresh timestamp; steps are not round so the fraction
// uses all nine digits.
func (c *corpus) nextTime() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ts := c.clock
	c.clock = c.clock.Add(1000003 * time.Nanosecond)
	return ts
}

func (c *corpus) expect(e *expectedLine) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines[e.key] = e
}

// summary says what was written, so a log shows the mix was exercised.
func (c *corpus) summary() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var jsonN, textN, parted int
	for _, e := range c.lines {
		if e.kind == kindJSON {
			jsonN++
		} else {
			textN++
		}
		if e.parts > 1 {
			parted++
		}
	}
	return fmt.Sprintf("%d lines in %d files (%d JSON, %d text, %d written in parts)",
		len(c.lines), len(c.files), jsonN, textN, parted)
}

// count is the number of distinct lines written.
func (c *corpus) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.lines)
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n/2)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

// addFile creates an empty kubelet-named file:
// <pod>_<namespace>_<container>-<64 hex>.log.
func (c *corpus) addFile(t *testing.T, ns, pod, container string, f format) *logFile {
	t.Helper()
	c.mu.Lock()
	idx := len(c.files)
	c.mu.Unlock()
	lf := &logFile{
		tag:       "f" + strconv.Itoa(idx),
		namespace: ns, pod: pod, container: container,
		contID: randomHex(t, 64),
		format: f,
		rng:    mrand.New(mrand.NewPCG(c.seed, uint64(idx))),
	}
	lf.path = filepath.Join(c.dir, pod+"_"+ns+"_"+container+"-"+lf.contID+".log")
	fh, err := os.OpenFile(lf.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND|os.O_EXCL, 0o644)
	require.NoError(t, err)
	lf.f = fh
	t.Cleanup(func() { _ = fh.Close() })
	c.mu.Lock()
	c.files = append(c.files, lf)
	c.mu.Unlock()
	return lf
}

// snippets give the lines quotes, backslashes, tabs, HTML and non-ASCII
// text, which every layer must carry unchanged.
var snippets = []string{
	"GET /api/v1/orders?id=42&full=1 200 12ms",
	`quoted "value" and a back\slash`,
	"unicode: héllo wörld 日本語 ✓",
	"tab\tseparated\tfields",
	"<b>html</b> & entities",
	"user=alice action=login ok",
	"",
}

var levels = []string{"debug", "info", "info", "info", "warn", "error"}

// jsonLine is the shape of a generated JSON log line; field order is the
// order of the struct.
type jsonLine struct {
	Level string    `json:"level"`
	File  string    `json:"file"`
	Seq   int       `json:"seq"`
	Msg   string    `json:"msg"`
	HTTP  *httpInfo `json:"http,omitempty"`
}

type httpInfo struct {
	Method string `json:"method"`
	Status int    `json:"status"`
}

// longFill returns n ASCII bytes of a pattern that shows where a part went
// missing or was repeated.
func longFill(seq, n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "<%d.%d>", seq, i)
	}
	return b.String()[:n]
}

// appendLines writes n new lines to lf. The bytes go out in up to three
// writes cut at random places, so the agent sees half-written lines.
func (c *corpus) appendLines(t *testing.T, lf *logFile, n int) {
	t.Helper()
	lf.mu.Lock()
	defer lf.mu.Unlock()
	var buf []byte
	for range n {
		buf = c.genLine(lf, buf)
	}
	c.writeTorn(t, lf, buf)
}

// writeTorn writes buf in one to three pieces.
func (c *corpus) writeTorn(t *testing.T, lf *logFile, buf []byte) {
	t.Helper()
	pieces := 1 + lf.rng.IntN(3)
	for i := pieces; i > 0 && len(buf) > 0; i-- {
		cut := len(buf)
		if i > 1 {
			cut = 1 + lf.rng.IntN(len(buf))
		}
		if _, err := lf.f.Write(buf[:cut]); err != nil {
			t.Errorf("append to %s: %v", lf.path, err) // may run on a writer goroutine: no FailNow
			return
		}
		buf = buf[cut:]
		if len(buf) > 0 {
			time.Sleep(time.Duration(1+lf.rng.IntN(3)) * time.Millisecond) // a slow writer, not a sync
		}
	}
}

// genLine appends the entries of one new line of lf to buf and records what
// the store must hold for it. Caller holds lf.mu.
func (c *corpus) genLine(lf *logFile, buf []byte) []byte {
	seq := lf.nextSeq
	lf.nextSeq++
	r := lf.rng
	e := &expectedLine{key: lineKey{lf.tag, seq}, file: lf, stream: "stdout", parts: 1}
	if r.IntN(5) == 0 {
		e.stream = "stderr"
	}

	// Roughly 2% of the lines are written in parts: CRI partial lines
	// (short or kubelet-sized), or docker's 16 KiB split.
	split := r.IntN(50) == 0
	long := split && (lf.format == formatDocker || r.IntN(2) == 0)
	snippet := snippets[r.IntN(len(snippets))]

	var content string
	if r.IntN(10) < 7 {
		e.kind = kindJSON
		jl := jsonLine{Level: levels[r.IntN(len(levels))], File: lf.tag, Seq: seq}
		jl.Msg = fmt.Sprintf("%s handled request %d %s", lf.tag, seq, snippet)
		if long {
			jl.Msg += " " + longFill(seq, dockerSplit+1+r.IntN(2*dockerSplit))
		}
		if r.IntN(4) == 0 {
			jl.HTTP = &httpInfo{Method: "GET", Status: 200 + r.IntN(4)*100}
			e.status = jl.HTTP.Status
		}
		b, err := json.Marshal(jl)
		if err != nil {
			panic("BUG: marshal a generated line: " + err.Error())
		}
		content = string(b)
		e.level, e.msgs = jl.Level, []string{jl.Msg}
	} else {
		e.kind = kindText
		content = fmt.Sprintf("%s seq=%d plain text %s", lf.tag, seq, snippet)
		if long {
			content += " " + longFill(seq, dockerSplit+1+r.IntN(2*dockerSplit))
		}
		content = strings.TrimRight(content, " ")
		e.msgs = []string{content}
	}

	var parts []string
	switch {
	case long:
		for s := content; len(s) > 0; {
			n := min(len(s), dockerSplit)
			parts = append(parts, s[:n])
			s = s[n:]
		}
		e.desc = fmt.Sprintf("%d-byte line split into %d %s entries", len(content), len(parts), lf.format)
	case split:
		k := 2 + r.IntN(3)
		rest := content
		for i := k; i > 1 && len(rest) > 1; i-- {
			n := 1 + r.IntN(len(rest)-1)
			parts = append(parts, rest[:n])
			rest = rest[n:]
		}
		parts = append(parts, rest)
		e.desc = fmt.Sprintf("line split into %d CRI partials", len(parts))
	default:
		parts = []string{content}
	}
	e.parts = len(parts)

	for i, p := range parts {
		ts := c.nextTime()
		e.times = append(e.times, ts)
		last := i == len(parts)-1
		if lf.format == formatDocker {
			if last {
				p += "\n"
			}
			buf = appendDockerEntry(buf, p, e.stream, ts.Format(time.RFC3339Nano))
			continue
		}
		stamp := ts.Format(time.RFC3339Nano)
		if r.IntN(30) == 0 {
			// containerd writes local time; some nodes are not on UTC.
			stamp = ts.In(time.FixedZone("", 2*3600)).Format(time.RFC3339Nano)
		}
		tag := "P"
		if last {
			tag = "F"
		}
		buf = appendCRIEntry(buf, stamp, e.stream, tag, p)
	}
	c.expect(e)
	return buf
}

func appendCRIEntry(buf []byte, stamp, stream, tag, msg string) []byte {
	buf = append(buf, stamp...)
	buf = append(buf, ' ')
	buf = append(buf, stream...)
	buf = append(buf, ' ')
	buf = append(buf, tag...)
	buf = append(buf, ' ')
	buf = append(buf, msg...)
	return append(buf, '\n')
}

type dockerEntry struct {
	Log    string `json:"log"`
	Stream string `json:"stream"`
	Time   string `json:"time"`
}

func appendDockerEntry(buf []byte, log, stream, stamp string) []byte {
	b, err := json.Marshal(dockerEntry{Log: log, Stream: stream, Time: stamp})
	if err != nil {
		panic("BUG: marshal a docker entry: " + err.Error())
	}
	buf = append(buf, b...)
	return append(buf, '\n')
}

// writeRaw appends bytes exactly as given (for malformed input) and records
// the expectation, if any, for the line it carries.
func (c *corpus) writeRaw(t *testing.T, lf *logFile, raw []byte, e *expectedLine) {
	t.Helper()
	lf.mu.Lock()
	defer lf.mu.Unlock()
	if e != nil {
		e.file = lf
		c.expect(e)
	}
	_, err := lf.f.Write(raw)
	require.NoError(t, err)
}

// takeSeq reserves the next sequence number of lf for a hand-made line.
func (lf *logFile) takeSeq() int {
	lf.mu.Lock()
	defer lf.mu.Unlock()
	s := lf.nextSeq
	lf.nextSeq++
	return s
}

// writer appends rounds of lines to one file until stop is closed.
func (c *corpus) writer(t *testing.T, lf *logFile, perRound int, pause time.Duration, stop <-chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	for {
		select {
		case <-stop:
			return
		default:
		}
		c.appendLines(t, lf, perRound)
		select {
		case <-stop:
			return
		case <-time.After(pause):
		}
	}
}
