package vlstore

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"time"
)

// StartProcess runs VictoriaLogs like Start, for programs that are not
// tests (bench/chaos): its data goes to dataDir, its output to logOut, and
// the caller stops it with Stop. extraArgs are added to the command line
// (e.g. -insert.maxLineSizeBytes).
func StartProcess(dataDir string, logOut io.Writer, extraArgs ...string) (*Store, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("pick a port for victoria-logs: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	root := "http://127.0.0.1:" + strconv.Itoa(port)
	args := append([]string{
		"-httpListenAddr=127.0.0.1:" + strconv.Itoa(port),
		"-storageDataPath=" + dataDir,
		"-retentionPeriod=100y",
		"-loggerLevel=ERROR",
	}, extraArgs...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logOut, logOut
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start victoria-logs: %w", err)
	}
	s := &Store{URL: root + "/insert/elasticsearch", Root: root, cmd: cmd}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(root + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("victoria-logs did not become ready on %s: %w", root, errors.Join(err, errors.New("timeout")))
		}
		time.Sleep(20 * time.Millisecond) // readiness poll
	}
}

// Stop kills a store started by StartProcess and waits for it to exit.
func (s *Store) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

// PID is the process id of the store.
func (s *Store) PID() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}
