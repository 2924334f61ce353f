package e2e

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/agenttest"
)

// finalCopytruncates ends the torture with the copytruncate that loses
// lines in other agents: the last rotation of every file is a
// copytruncate while the agent is behind. Half the files are copied and
// truncated while the agent is down after a SIGKILL (their checkpoints
// short of the lines written since), the other half just after the
// restart, while the agent catches up: it holds them open but is stopped
// (SIGSTOP: a starved agent) with their latest lines unread. Each copy goes
// where logrotate puts it (x.log.1, the previous one moved on to x.log.2),
// and half of them are compressed a moment later (x.log.1.gz). The
// writers refill the truncated files, some past the old size. Nothing may
// be lost: the unread lines are in the copies.
func (tt *torture) finalCopytruncates() {
	t := tt.t
	c := tt.e.corpus
	tt.mu.Lock()
	defer tt.mu.Unlock()
	tt.waitDrained(20 * time.Second) // a kill loses moved files not read yet, in any agent
	files := append([]*tortureFile(nil), tt.files...)
	tt.chaos.Shuffle(len(files), func(i, j int) { files[i], files[j] = files[j], files[i] })
	down, live := files[:len(files)/2], files[len(files)/2:]
	burst := func() int { return 200 + tt.chaos.IntN(400) }

	for _, f := range files {
		c.appendLines(t, f.lf, burst())
	}
	a := tt.agent
	a.Kill(t)
	tt.sigkills++
	tt.note("SIGKILL %s behind, before the final copytruncates", a.Name)
	for _, f := range down {
		c.appendLines(t, f.lf, burst())
		tt.copytruncateBehind(f, "agent down")
		c.appendLines(t, f.lf, tt.chaos.IntN(2*burst()))
	}

	tt.agents++
	a = agenttest.Start(t, tt.e.config, agenttest.Options{Name: fmt.Sprintf("agent#%d", tt.agents)})
	tt.agent = a
	tt.pid.Store(int64(a.Pid()))
	tt.waitStarted(a)
	pid := a.Pid()
	// A hang bound, not a speed bound: the restarted agent reads the
	// down files' copies first, and under -race at load 40 it opened the
	// files 1-2 s apart (2 of 20 tallies ran out of 10 s here).
	tt.waitHeld(pid, live, time.Minute)
	require.NoError(t, syscall.Kill(pid, syscall.SIGSTOP))
	stopped := true
	defer func() {
		if stopped {
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
	}()
	var unread int64
	for _, f := range live {
		c.appendLines(t, f.lf, burst())
		n, err := unreadBytes(pid, f)
		require.NoError(t, err, "read position of %s", f.lf.path)
		unread += n
		tt.copytruncateBehind(f, fmt.Sprintf("agent catching up, %d bytes unread", n))
		c.appendLines(t, f.lf, tt.chaos.IntN(2*burst()))
	}
	require.NoError(t, syscall.Kill(pid, syscall.SIGCONT))
	stopped = false
	tt.note("SIGCONT %s", a.Name)
	require.Positive(t, unread, "the agent had read every file to its end: the copytruncates did not happen behind it")
	t.Logf("torture: final copytruncates: %d while the agent was down, %d while it caught up with %d bytes unread", len(down), len(live), unread)
}

// copytruncateBehind copies f to f.1 (an older f.1 moves on to f.2) and
// truncates f, without waiting for the agent; half of the copies are
// compressed a moment later. Caller holds tt.mu.
func (tt *torture) copytruncateBehind(f *tortureFile, why string) {
	t := tt.t
	lf := f.lf
	lf.mu.Lock()
	defer lf.mu.Unlock()
	copyPath := lf.path + ".1"
	if _, err := os.Stat(copyPath); err == nil {
		require.NoError(t, os.Rename(copyPath, lf.path+".2"))
	}
	require.NoError(t, copyFile(lf.path, copyPath))
	require.NoError(t, os.Truncate(lf.path, 0))
	tt.rotations[rotCopyTruncate]++
	zip := tt.chaos.IntN(2) == 0
	tt.note("%s copytruncate at seq %d (%s)%s", lf.tag, lf.nextSeq, why, map[bool]string{true: ", copy compressed later"}[zip])
	if zip {
		delay := time.Duration(tt.chaos.IntN(500)) * time.Millisecond
		tt.gz.Add(1)
		go func() {
			defer tt.gz.Done()
			time.Sleep(delay) // logrotate compresses a moment later; not a sync
			if err := gzipAndRemove(copyPath); err != nil {
				t.Errorf("gzip %s: %v", copyPath, err)
			}
		}()
	}
}

// waitHeld waits until process pid holds every file of files open. Caller
// holds tt.mu.
func (tt *torture) waitHeld(pid int, files []*tortureFile, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for {
		open, _, err := openFiles(pid, tt.e.logs)
		missing := 0
		for _, f := range files {
			if _, ok := open[f.id]; !ok {
				missing++
			}
		}
		if err == nil && missing == 0 {
			return
		}
		if time.Now().After(deadline) {
			tt.t.Fatalf("the restarted agent does not hold %d of %d files open after %v (%v)", missing, len(files), timeout, err)
		}
		time.Sleep(20 * time.Millisecond) // poll interval
	}
}

// unreadBytes is how much of f the process has not read: the file's size
// less the read position of the process's descriptor of it
// (/proc/<pid>/fdinfo).
func unreadBytes(pid int, f *tortureFile) (int64, error) {
	_, size, err := fdID(f.lf.f)
	if err != nil {
		return 0, err
	}
	fdDir := "/proc/" + strconv.Itoa(pid) + "/fd"
	ents, err := os.ReadDir(fdDir)
	if err != nil {
		return 0, err
	}
	for _, e := range ents {
		fi, err := os.Stat(filepath.Join(fdDir, e.Name()))
		if err != nil || idOf(fi) != f.id {
			continue
		}
		pos, err := fdPos(pid, e.Name())
		if err != nil {
			return 0, err
		}
		return max(size-pos, 0), nil
	}
	return 0, fmt.Errorf("process %d does not hold %s open", pid, f.lf.path)
}

// fdPos reads the "pos:" line of /proc/<pid>/fdinfo/<fd>.
func fdPos(pid int, fd string) (int64, error) {
	info, err := os.Open("/proc/" + strconv.Itoa(pid) + "/fdinfo/" + fd)
	if err != nil {
		return 0, err
	}
	defer info.Close()
	sc := bufio.NewScanner(info)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "pos:"); ok {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, fmt.Errorf("no pos in fdinfo %s of %d", fd, pid)
}
