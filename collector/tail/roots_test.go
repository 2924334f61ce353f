package tail

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/agenttest"
)

// captureLogs makes the tailer of e log into the returned buffer.
func (e *env) captureLogs() *agenttest.Buffer {
	b := &agenttest.Buffer{}
	e.tune = func(t *Tailer) { t.logger = slog.New(slog.NewTextHandler(b, nil)) }
	return b
}

func (e *env) refused(why Refusal) int64 { return e.tailer.Stats().Refused[why].Load() }

// barrier waits until a scan that started after the call has finished:
// two new files found one after the other (the second needs a scan that
// began after the one that found the first had ended).
func (e *env) barrier(name string, have int) int {
	e.t.Helper()
	for i := range 2 {
		e.write(e.path(name+string(rune('a'+i)), "barrier"), criLine("stdout", "F", name))
		have++
		e.waitLines(have)
	}
	return have
}

// TestLinksResolveUnderAllowedRoots: links to system files, to files
// outside the allowed roots and to the agent's own secrets are refused,
// logged once and counted once by reason, however many scans pass; links
// into an allowed root and plain files are read.
func TestLinksResolveUnderAllowedRoots(t *testing.T) {
	e := newEnv(t)
	root := filepath.Dir(e.dir)
	pods := filepath.Join(root, "pods")
	outside := filepath.Join(root, "elsewhere")
	for _, d := range []string{pods, outside} {
		require.NoError(t, os.MkdirAll(d, 0o755))
	}
	// A Secret volume as the kubelet lays it out: keys are links through
	// ..data into a timestamped folder. The config names one key.
	vol := filepath.Join(root, "es-secret")
	stamp := filepath.Join(vol, "..2026_12_06_10_00_00.1")
	require.NoError(t, os.MkdirAll(stamp, 0o755))
	require.NoError(t, os.Symlink(filepath.Base(stamp), filepath.Join(vol, "..data")))
	for _, k := range []string{"password", "username"} {
		require.NoError(t, os.WriteFile(filepath.Join(stamp, k), []byte("s3cret-"+k+"\n"), 0o600))
		require.NoError(t, os.Symlink(filepath.Join("..data", k), filepath.Join(vol, k)))
	}
	token := filepath.Join(root, "token")
	require.NoError(t, os.WriteFile(token, []byte("tap-token\n"), 0o600))
	e.cfg.AllowedRoots = []string{pods}
	e.cfg.AgentFiles = []string{e.data, token, filepath.Join(vol, "password")}

	stranger := filepath.Join(outside, "x.log")
	e.write(stranger, criLine("stdout", "F", "not under a root"))
	inPods := filepath.Join(pods, "0.log")
	e.write(inPods, criLine("stdout", "F", "through a link into pods"))
	e.write(e.path("plain", "ns"), criLine("stdout", "F", "a plain file"))
	require.NoError(t, os.MkdirAll(e.data, 0o755))

	links := map[string]string{
		"limits":   "/proc/self/limits",
		"environ":  "/proc/self/environ",
		"zero":     "/dev/zero",
		"passwd":   "/etc/passwd",
		"stranger": stranger,
		"token":    token,
		"password": filepath.Join(vol, "password"),
		"username": filepath.Join(vol, "username"), // not in the config, same volume
		"data":     e.data,                         // the checkpoints' folder
		"pods":     inPods,
	}
	for name, target := range links {
		require.NoError(t, os.Symlink(target, e.path(name, "ns")))
	}
	logs := e.captureLogs()
	e.start()
	e.waitLines(2)
	require.ElementsMatch(t, []string{"through a link into pods", "a plain file"}, e.sink.lines())
	want := map[Refusal]int64{RefusedSystem: 3, RefusedOutsideRoots: 2, RefusedAgentFile: 4, RefusedSizeUnreliable: 0}
	check := func(c require.TestingT) {
		for why, n := range want {
			require.Equal(c, n, e.refused(why), "%v", why)
		}
		require.Equal(c, 9, logs.Count("log file refused"))
	}
	require.EventuallyWithT(t, func(c *assert.CollectT) { check(c) }, 10*time.Second, 5*time.Millisecond)
	// More scans: nothing read, nothing counted or logged again.
	have := e.barrier("later", 2)
	check(t)
	require.Zero(t, e.tailer.Stats().OpenErrors.Load())
	require.Zero(t, logs.Count("s3cret"), "secrets never in a message")

	// A link removed and made again is a new refusal; one re-pointed into
	// a root is read.
	require.NoError(t, os.Remove(e.path("passwd", "ns")))
	e.barrier("gone", have)
	require.NoError(t, os.Symlink("/etc/passwd", e.path("passwd", "ns")))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, int64(3), e.refused(RefusedOutsideRoots))
	}, 10*time.Second, 5*time.Millisecond)
	moved := filepath.Join(pods, "1.log")
	e.write(moved, criLine("stdout", "F", "re-pointed"))
	require.NoError(t, os.Remove(e.path("stranger", "ns")))
	require.NoError(t, os.Symlink(moved, e.path("stranger", "ns")))
	e.waitLines(have + 3)
	require.Contains(t, e.sink.lines(), "re-pointed")
}

// TestSizeLiesRefusedAtOpen: a file whose size says less than it holds
// (procfs: size 0) is refused before anything is read, even under an
// allowed root. Before, each pass over /proc/self/limits was taken as a
// truncation: 200,000 records a second from a 17-line file.
func TestSizeLiesRefusedAtOpen(t *testing.T) {
	e := newEnv(t)
	e.cfg.AllowedRoots = []string{"/proc"}
	e.tune = func(tl *Tailer) { tl.guard.system = nil }
	require.NoError(t, os.Symlink("/proc/self/limits", e.path("limits", "ns")))
	e.write(e.path("plain", "ns"), criLine("stdout", "F", "a plain file"))
	e.start()
	e.waitLines(1)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, int64(1), e.refused(RefusedSizeUnreliable))
	}, 10*time.Second, 5*time.Millisecond)
	e.barrier("later", 1)
	require.Equal(t, int64(1), e.refused(RefusedSizeUnreliable))
	require.Zero(t, e.tailer.Stats().Truncations.Load())
	require.Equal(t, int64(3), e.tailer.Stats().FilesOpened.Load(), "only the plain and barrier files")
}

// TestSizeLiesSeenWhileReading: without the check at open, the first
// "truncation" of a procfs file shows its size lies: it is read once,
// then released and refused, never read again in a loop.
func TestSizeLiesSeenWhileReading(t *testing.T) {
	e := newEnv(t)
	e.cfg.AllowedRoots = []string{"/proc"}
	e.tune = func(tl *Tailer) { tl.guard.system, tl.probeSize = nil, false }
	content, err := os.ReadFile("/proc/self/limits") // the tailer runs in this process
	require.NoError(t, err)
	lines := bytes.Count(content, []byte("\n"))
	require.Greater(t, lines, 5)
	require.NoError(t, os.Symlink("/proc/self/limits", e.path("limits", "ns")))
	e.start()
	e.waitLines(lines)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, int64(1), e.refused(RefusedSizeUnreliable))
		require.Equal(c, int64(1), e.tailer.Stats().FilesClosed.Load())
	}, 10*time.Second, 5*time.Millisecond)
	e.barrier("later", lines)
	require.Zero(t, e.tailer.Stats().Truncations.Load())
	require.Equal(t, int64(lines+2), e.tailer.Stats().Records.Load(), "one pass, then the barrier files")
}

func TestGuard(t *testing.T) {
	g := &guard{
		allow:  []string{"/var/log/pods", "/logs"},
		system: []string{"/proc", "/sys", "/dev"},
		agent:  []string{"/var/log/pods/sluice-data", "/run/secrets"},
	}
	for path, want := range map[string]string{
		"/var/log/pods/ns_p_u/c/0.log": "",
		"/var/log/podsx/0.log":         "outside_roots",
		"/logs/a.log":                  "",
		"/etc/shadow":                  "outside_roots",
		"/proc/self/environ":           "system",
		"/dev/zero":                    "system",
		"/var/log/pods/sluice-data/c":  "agent_file",
		"/run/secrets/token":           "agent_file",
	} {
		why, bad := g.check(path)
		got := ""
		if bad {
			got = why.String()
		}
		require.Equal(t, want, got, path)
	}
	require.Equal(t, []string{"/var/log/pods", "/var/log/containers", "/x"},
		globRoots([]string{"/var/log/pods/*/*/*.log", "/var/log/containers/*.log", "/x/app.log"}))
	root := &guard{allow: []string{"/"}, system: []string{"/proc"}}
	_, bad := root.check("/etc/shadow")
	require.False(t, bad, "allowed_roots: [/] allows all but the always-refused")
	_, bad = root.check("/proc/1/environ")
	require.True(t, bad)
}

func TestOpenedPath(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	require.NoError(t, os.WriteFile(target, []byte("x"), 0o600))
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(target, link))
	f, err := os.Open(link)
	require.NoError(t, err)
	defer f.Close()
	got, ok := openedPath(f)
	require.True(t, ok)
	want, err := filepath.EvalSymlinks(target)
	require.NoError(t, err)
	require.Equal(t, want, got)
}
