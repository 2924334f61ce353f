package tail

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/checkpoint"
	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/agent/record/stream"
)

const cid = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// got is a record as the sink saw it, copied out of its batch.
type got struct {
	Line      string
	Offset    int64
	Stream    stream.Stream
	Flags     record.Flags
	Namespace string
	Pod       string
	Gen       uint64
	Seed      string // the source's id seed
}

// sink records every batch; it acks at once unless held. While gate is
// open (non-nil and not closed), Push waits, as a full pipeline makes it.
type sink struct {
	mu      sync.Mutex
	records []got
	held    []*record.Batch
	hold    bool
	gate    chan struct{}
	waits   int // Push calls that found the gate shut
}

func (s *sink) Push(ctx context.Context, b *record.Batch) error {
	s.mu.Lock()
	if gate := s.gate; gate != nil {
		s.waits++
		s.mu.Unlock()
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
		s.mu.Lock()
	}
	for _, r := range b.Records {
		s.records = append(s.records, got{
			Line: string(r.Line), Offset: r.Offset, Stream: r.Stream, Flags: r.Flags,
			Namespace: b.Source.Namespace, Pod: b.Source.Pod, Gen: b.Source.Generation,
			Seed: string(b.Source.IDSeed),
		})
	}
	hold := s.hold
	if hold {
		s.held = append(s.held, b)
	}
	s.mu.Unlock()
	if !hold {
		b.Done()
	}
	return nil
}

func (s *sink) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.records))
	for i, r := range s.records {
		out[i] = r.Line
	}
	return out
}

func (s *sink) snapshot() []got {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]got(nil), s.records...)
}

func (s *sink) release() {
	s.mu.Lock()
	held := s.held
	s.held, s.hold = nil, false
	s.mu.Unlock()
	for _, b := range held {
		b.Done()
	}
}

// env is one tailer over a temp dir, with its checkpoint store.
type env struct {
	t      *testing.T
	dir    string
	data   string
	cfg    config.Input
	store  *checkpoint.Store
	sink   *sink
	tailer *Tailer
	cancel context.CancelFunc
	done   chan struct{}
	tune   func(*Tailer) // adjusts the tailer before it runs
	// memoryLimit, when set, is what the sink says it holds at most
	// (read slots, slots.go).
	memoryLimit int64
}

// limitedSink is a sink that says how much it holds (memoryLimited).
type limitedSink struct {
	*sink
	limit int64
}

func (s limitedSink) MemoryLimit() int64 { return s.limit }

func newEnv(t *testing.T) *env {
	t.Helper()
	root := t.TempDir()
	e := &env{t: t, dir: filepath.Join(root, "logs"), data: filepath.Join(root, "data"), sink: &sink{}}
	require.NoError(t, os.MkdirAll(e.dir, 0o755))
	e.cfg = config.Input{
		Name: "containers", Type: "container_logs",
		Paths:         []string{filepath.Join(e.dir, "*.log")},
		StartAt:       "head",
		PollInterval:  config.Duration(10 * time.Millisecond),
		MaxLineBytes:  4096,
		BatchBytes:    1024,
		CloseInactive: config.Duration(time.Minute),
		MaxOpenFiles:  100,
	}
	return e
}

func (e *env) start() {
	e.t.Helper()
	store, err := checkpoint.Open(e.data)
	require.NoError(e.t, err)
	e.store = store
	var to Sink = e.sink
	if e.memoryLimit > 0 {
		to = limitedSink{e.sink, e.memoryLimit}
	}
	e.tailer = New(e.cfg, "node-1", to, store, slog.New(slog.DiscardHandler))
	if e.tune != nil {
		e.tune(e.tailer)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.done = cancel, make(chan struct{})
	go func() {
		defer close(e.done)
		_ = e.tailer.Run(ctx)
	}()
	e.t.Cleanup(e.stop)
}

func (e *env) stop() {
	if e.cancel == nil {
		return
	}
	e.cancel()
	<-e.done
	require.NoError(e.t, e.store.Close())
	e.cancel = nil
}

func (e *env) path(pod, ns string) string {
	return filepath.Join(e.dir, fmt.Sprintf("%s_%s_app-%s.log", pod, ns, cid))
}

func (e *env) write(path string, lines ...string) {
	e.t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	require.NoError(e.t, err)
	for _, l := range lines {
		_, err = f.WriteString(l + "\n")
		require.NoError(e.t, err)
	}
	require.NoError(e.t, f.Close())
}

func (e *env) waitLines(n int) {
	e.t.Helper()
	require.EventuallyWithT(e.t, func(c *assert.CollectT) {
		require.GreaterOrEqual(c, len(e.sink.lines()), n)
	}, 10*time.Second, 5*time.Millisecond)
	e.quiet()
	require.Len(e.t, e.sink.lines(), n, "records: %q", e.sink.lines())
}

// quiet waits until nothing more can arrive unless a file changes or a
// record held for joining falls due: every reader waits at the end of its
// file, with what it read handed over.
func (e *env) quiet() {
	e.t.Helper()
	require.EventuallyWithT(e.t, func(c *assert.CollectT) {
		t := e.tailer
		t.mu.Lock()
		readers := make([]*fileReader, 0, len(t.readers))
		for _, r := range t.readers {
			readers = append(readers, r)
		}
		t.mu.Unlock()
		for _, r := range readers {
			require.True(c, r.idle.Load(), "%s: reading", r.path)
			pos, err := r.f.Seek(0, io.SeekCurrent)
			require.NoError(c, err)
			fi, err := r.f.Stat()
			require.NoError(c, err)
			require.Equal(c, fi.Size(), pos, "%s: read to its end", r.path)
			require.True(c, r.idle.Load(), "%s: reading", r.path)
		}
	}, 10*time.Second, 5*time.Millisecond)
}

func (e *env) checkpointOf(path string) (checkpoint.Entry, bool) {
	fi, err := os.Stat(path)
	require.NoError(e.t, err)
	dev, ino := statIDs(fi)
	return e.store.Get(fileKey(e.cfg.Name, dev, ino))
}

func criLine(stream, tag, msg string) string {
	return "2026-11-25T10:00:00.123456789Z " + stream + " " + tag + " " + msg
}

func TestCRIWithPartialsAndNames(t *testing.T) {
	e := newEnv(t)
	p := e.path("api-7d9f", "payments")
	e.write(p,
		criLine("stdout", "F", `{"a":1}`),
		criLine("stdout", "P", "first half "),
		criLine("stderr", "F", "an error between the halves"),
		criLine("stdout", "F", "second half"),
		criLine("stdout", "F", ""),
	)
	e.start()
	e.waitLines(4)
	recs := e.sink.snapshot()
	require.Equal(t, `{"a":1}`, recs[0].Line)
	require.Equal(t, "an error between the halves", recs[1].Line)
	require.Equal(t, stream.Stderr, recs[1].Stream)
	require.Equal(t, "first half second half", recs[2].Line)
	require.Equal(t, stream.Stdout, recs[2].Stream)
	require.Equal(t, "", recs[3].Line)
	first := int64(len(criLine("stdout", "F", `{"a":1}`)) + 1)
	require.Equal(t, first, recs[2].Offset, "a joined record starts at its first partial line")
	require.Equal(t, int64(5), e.tailer.Stats().Lines.Load(), "physical lines, partials each")
	for _, r := range recs {
		require.Equal(t, "payments", r.Namespace)
		require.Equal(t, "api-7d9f", r.Pod)
		require.Zero(t, r.Flags)
	}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		cp, ok := e.checkpointOf(p)
		require.True(c, ok)
		fi, _ := os.Stat(p)
		require.Equal(c, fi.Size(), cp.Offset)
	}, 5*time.Second, 5*time.Millisecond)
}

func TestDockerSplitLinesJoined(t *testing.T) {
	e := newEnv(t)
	e.cfg.MaxLineBytes = 64 << 10
	p := e.path("web", "default")
	long := strings.Repeat("x", 16384)
	e.write(p,
		`{"log":"`+long+`","stream":"stdout","time":"2026-11-25T10:00:00.1Z"}`,
		`{"log":"`+long+`","stream":"stdout","time":"2026-11-25T10:00:00.1Z"}`,
		`{"log":"tail\n","stream":"stdout","time":"2026-11-25T10:00:00.1Z"}`,
		`{"log":"caf\u00e9 \"quoted\"\n","stream":"stderr","time":"2026-11-25T10:00:01Z"}`,
	)
	e.start()
	e.waitLines(2)
	recs := e.sink.snapshot()
	require.Equal(t, long+long+"tail", recs[0].Line)
	require.Equal(t, `café "quoted"`, recs[1].Line)
	require.Equal(t, stream.Stderr, recs[1].Stream)
}

// The checkpoint moves only after the outputs ack; a restart resumes there.
func TestCheckpointAfterAckAndResume(t *testing.T) {
	e := newEnv(t)
	p := e.path("p", "ns")
	e.sink.hold = true
	e.write(p, criLine("stdout", "F", "one"), criLine("stdout", "F", "two"))
	e.start()
	e.waitLines(2) // and the reader waits at the end: the batch is out, unacknowledged
	_, ok := e.checkpointOf(p)
	require.False(t, ok, "no checkpoint before the ack")
	e.sink.release()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		cp, ok := e.checkpointOf(p)
		require.True(c, ok)
		require.Equal(c, int64(2*len(criLine("stdout", "F", "one"))+2), cp.Offset)
	}, 5*time.Second, 5*time.Millisecond)
	e.stop()

	// Restart on the same data_dir: only the new line is read.
	e.write(p, criLine("stdout", "F", "three"))
	e.sink = &sink{}
	e.start()
	e.waitLines(1)
	require.Equal(t, []string{"three"}, e.sink.lines())
}

// Unacked batches are read again after a restart: at least once.
func TestUnackedLinesReplayed(t *testing.T) {
	e := newEnv(t)
	p := e.path("p", "ns")
	e.sink.hold = true
	e.write(p, criLine("stdout", "F", "one"), criLine("stdout", "F", "two"))
	e.start()
	e.waitLines(2)
	e.stop() // never acked
	e.sink = &sink{}
	e.start()
	e.waitLines(2)
	require.Equal(t, []string{"one", "two"}, e.sink.lines())
}

func TestBadInputIsKeptAndCounted(t *testing.T) {
	e := newEnv(t)
	good := e.path("good", "ns")
	bad := e.path("bad", "ns")
	e.write(good, criLine("stdout", "F", "fine"))
	e.write(bad,
		criLine("stdout", "F", "ok before"),
		"garbage without a timestamp",
		"2026-13-45T99:00:00Z stdout F bad time",
		criLine("stdout", "F", "bad utf8 \xff\xfe end"),
		criLine("stdout", "F", "ok after"),
	)
	// Unreadable inputs: a dangling symlink and a directory named like a log.
	require.NoError(t, os.Symlink(filepath.Join(e.dir, "missing"), e.path("dangling", "ns")))
	require.NoError(t, os.Mkdir(e.path("adir", "ns"), 0o755))
	e.start()
	e.waitLines(6)
	byLine := map[string]got{}
	for _, r := range e.sink.snapshot() {
		byLine[r.Line] = r
	}
	require.Contains(t, byLine, "fine")
	require.Contains(t, byLine, "ok before")
	require.Contains(t, byLine, "ok after")
	require.Equal(t, record.Malformed, byLine["garbage without a timestamp"].Flags)
	require.Equal(t, record.Malformed, byLine["2026-13-45T99:00:00Z stdout F bad time"].Flags)
	require.Contains(t, byLine, "bad utf8 \xff\xfe end", "invalid UTF-8 is kept; the encoder replaces it")
	require.Equal(t, int64(2), e.tailer.Stats().Malformed.Load())
	require.GreaterOrEqual(t, e.tailer.Stats().OpenErrors.Load(), int64(2))
}

func TestLongLineCut(t *testing.T) {
	e := newEnv(t)
	e.cfg.MaxLineBytes = 1024
	p := e.path("p", "ns")
	e.write(p, criLine("stdout", "F", strings.Repeat("y", 5000)), criLine("stdout", "F", "next"))
	e.start()
	e.waitLines(2)
	recs := e.sink.snapshot()
	require.Equal(t, record.Truncated, recs[0].Flags, "cut and flagged")
	require.Equal(t, strings.Repeat("y", 1024-len(criLine("stdout", "F", ""))), recs[0].Line)
	require.Equal(t, "next", recs[1].Line)
	require.Equal(t, int64(1), e.tailer.Stats().Truncated.Load())
	require.Equal(t, int64(2), e.tailer.Stats().Lines.Load(), "the cut line once, its dropped rest not at all")
}

func TestDeletedWhileReadAndNewFilesPickedUp(t *testing.T) {
	e := newEnv(t)
	p := e.path("gone", "ns")
	e.write(p, criLine("stdout", "F", "before delete"))
	e.start()
	e.waitLines(1)
	require.NoError(t, os.Remove(p))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Zero(c, e.tailer.Stats().FilesOpen.Load(), "the handle of a deleted file is released")
		require.Zero(c, e.store.Len(), "and its checkpoint dropped")
	}, 5*time.Second, 5*time.Millisecond)

	later := e.path("later", "ns")
	e.write(later, criLine("stdout", "F", "new file"))
	e.waitLines(2)
	require.Equal(t, "new file", e.sink.lines()[1])
}

func TestStartAtEndOnFirstStart(t *testing.T) {
	e := newEnv(t)
	e.cfg.StartAt = "end"
	p := e.path("p", "ns")
	e.write(p, criLine("stdout", "F", "old"))
	e.start()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, int64(1), e.tailer.Stats().FilesOpen.Load())
	}, 5*time.Second, 5*time.Millisecond)
	e.write(p, criLine("stdout", "F", "new"))
	e.waitLines(1)
	require.Equal(t, []string{"new"}, e.sink.lines())
}

func TestTruncationStartsNewGeneration(t *testing.T) {
	e := newEnv(t)
	p := e.path("p", "ns")
	e.write(p, criLine("stdout", "F", "a long first line before the truncate"), criLine("stdout", "F", "second"))
	e.start()
	e.waitLines(2)
	require.NoError(t, os.Truncate(p, 0))
	e.write(p, criLine("stdout", "F", "after"))
	e.waitLines(3)
	recs := e.sink.snapshot()
	require.Equal(t, "after", recs[2].Line)
	require.Equal(t, int64(0), recs[2].Offset)
	require.Equal(t, uint64(1), recs[2].Gen)
	require.Equal(t, int64(1), e.tailer.Stats().Truncations.Load())
}
