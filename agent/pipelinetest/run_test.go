package pipelinetest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// write puts a config and a test file into a folder of the test's own and
// loads them.
func write(t *testing.T, cfg, test string) (*File, *Result, []string) {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{"sluice.yaml": cfg, "x.test.yaml": test} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := Load(filepath.Join(dir, "x.test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.Run(c, &f.Cases[0])
	if err != nil {
		t.Fatal(err)
	}
	return f, r, Check(&f.Cases[0], r)
}

const excludeConfig = `node_name: n1
inputs:
  - { name: c, type: container_logs, paths: [/var/log/containers/*.log], exclude: ["*_kube-system_*"] }
kubernetes: { enabled: false }
outputs:
  - { name: out, type: console }
`

// A file the input's globs do not take is not read: its lines are
// counted as not_read and reach no output.
func TestFilesTheInputDoesNotRead(t *testing.T) {
	_, r, diffs := write(t, excludeConfig, `config: sluice.yaml
cases:
  - name: excluded and elsewhere
    inputs:
      - file: /var/log/containers/dns-1_kube-system_coredns-0123456789abcdef.log
        lines: ['2026-11-25T10:00:00Z stdout F a', '2026-11-25T10:00:00Z stdout F b']
      - file: /tmp/other.log
        lines: ['2026-11-25T10:00:00Z stdout F c']
      - file: /var/log/containers/web-1_shop_nginx-0123456789abcdef.log
        lines: ['2026-11-25T10:00:00Z stdout F d']
    outputs: { out: 1 }
    counts: { not_read: 3 }
`)
	if len(diffs) > 0 {
		t.Fatalf("%s", strings.Join(diffs, "\n"))
	}
	if r.Docs[0].Output != "out" || !strings.Contains(string(r.Docs[0].Body), `"log":"d"`) {
		t.Fatalf("got %s", r.Docs[0].Body)
	}
}

// Throttle with the fixed clock: the burst passes, the rest is counted;
// a drop transform counts its own.
func TestFilterCounts(t *testing.T) {
	cfg := `node_name: n1
inputs:
  - { name: c, type: container_logs, paths: [/var/log/containers/*.log] }
kubernetes: { enabled: false }
transforms:
  - { type: drop, field: log, pattern: "^debug" }
  - { type: throttle, rate: 1, burst: 2 }
outputs:
  - { name: out, type: console }
`
	_, _, diffs := write(t, cfg, `config: sluice.yaml
cases:
  - name: five lines
    inputs:
      - file: /var/log/containers/web-1_shop_nginx-0123456789abcdef.log
        lines: ['2026-11-25T10:00:00Z stdout F debug x', '2026-11-25T10:00:00Z stdout F a', '2026-11-25T10:00:00Z stdout F b', '2026-11-25T10:00:00Z stdout F c', '2026-11-25T10:00:00Z stdout F d']
    outputs: { out: 2 }
    counts: { dropped: 1, throttled: 2 }
`)
	if len(diffs) > 0 {
		t.Fatalf("%s", strings.Join(diffs, "\n"))
	}
}
