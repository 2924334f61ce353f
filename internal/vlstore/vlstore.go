// Package vlstore starts a real VictoriaLogs server for tests: the
// Elasticsearch-compatible store that `make test` installs (README).
package vlstore

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Store is a running VictoriaLogs process.
type Store struct {
	// URL is the base URL that Elasticsearch clients use
	// (http://127.0.0.1:PORT/insert/elasticsearch).
	URL  string
	Root string // http://127.0.0.1:PORT
	cmd  *exec.Cmd
}

// Headers are the extra headers that tell VictoriaLogs which fields are the
// message, the time and the stream.
var Headers = map[string]string{
	"VL-Msg-Field":     "log",
	"VL-Time-Field":    "@timestamp",
	"VL-Stream-Fields": "kubernetes.namespace_name,kubernetes.pod_name",
}

// HeadersYAML renders Headers as the lines of an output's `headers:` map,
// each prefixed by indent, in a stable order so configs compare equal.
func HeadersYAML(indent string) string {
	keys := make([]string, 0, len(Headers))
	for k := range Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s%s: %q\n", indent, k, Headers[k])
	}
	return b.String()
}

// Binary finds the victoria-logs binary: $VICTORIA_LOGS_BIN, then bin/ at
// the module root (where `make test` installs it), then $PATH.
func Binary() (string, error) {
	if p := os.Getenv("VICTORIA_LOGS_BIN"); p != "" {
		return p, nil
	}
	_, file, _, _ := runtime.Caller(0)
	p := filepath.Join(filepath.Dir(file), "..", "..", "bin", "victoria-logs")
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	if p, err := exec.LookPath("victoria-logs"); err == nil {
		return p, nil
	}
	return "", errors.New("victoria-logs not found: run `make test` (it installs bin/victoria-logs) or set VICTORIA_LOGS_BIN")
}

// Start runs VictoriaLogs on a free loopback port with its data in a
// temporary directory, and stops it when the test ends.
func Start(t testing.TB) *Store {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	root := "http://127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(bin,
		"-httpListenAddr=127.0.0.1:"+strconv.Itoa(port),
		"-storageDataPath="+t.TempDir(),
		"-retentionPeriod=100y",
		"-loggerLevel=ERROR",
	)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start victoria-logs: %v", err)
	}
	s := &Store{URL: root + "/insert/elasticsearch", Root: root, cmd: cmd}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(root + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("victoria-logs did not become ready on %s: %v", root, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Flush makes freshly ingested data visible to queries.
func (s *Store) Flush(ctx context.Context) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.Root+"/internal/force_flush", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("force_flush: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("force_flush: status %d", resp.StatusCode)
	}
	return nil
}

// Query runs a LogsQL query and returns every row; nested fields come back
// flattened (kubernetes.pod_name).
func (s *Store) Query(ctx context.Context, query string) ([]map[string]string, error) {
	if err := s.Flush(ctx); err != nil {
		return nil, err
	}
	u := s.Root + "/select/logsql/query?query=" + url.QueryEscape(query)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("query %q: %w", query, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return nil, fmt.Errorf("query %q: status %d: %s", query, resp.StatusCode, bytes.TrimSpace(body))
	}
	var rows []map[string]string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		row := map[string]string{}
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			if ctx.Err() != nil {
				// The scanner hands out the row cut short by the
				// ended read; what ended it is the error to report.
				return nil, fmt.Errorf("query %q: %w", query, ctx.Err())
			}
			return nil, fmt.Errorf("query %q: decode row %.200q: %w", query, sc.Bytes(), err)
		}
		rows = append(rows, row)
	}
	return rows, sc.Err()
}

// Count returns the number of rows matching query.
func (s *Store) Count(ctx context.Context, query string) (int, error) {
	rows, err := s.Query(ctx, query+" | stats count() as n")
	if err != nil {
		return 0, err
	}
	if len(rows) != 1 {
		return 0, fmt.Errorf("count %q: %d rows", query, len(rows))
	}
	return strconv.Atoi(rows[0]["n"])
}
