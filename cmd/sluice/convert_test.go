package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicelog/sluice/internal/agenttest"
)

// sluice convert writes a config and a test file that sluice test passes,
// for each kind of source; a source it cannot read exits 1 naming the
// line.
func TestConvertThenTest(t *testing.T) {
	configs := filepath.Join(agenttest.ModuleRoot(), "convert", "testdata", "configs")
	for _, name := range []string{"fluent-bit-daemonset.conf", "fluent-bit-pipeline.yaml", "fluentd-daemonset-elasticsearch.conf", "fluentd-syslog.conf"} {
		dir := filepath.Join(t.TempDir(), "out")
		out, code := runSluice(t, t.TempDir(), "convert", "-o", dir, filepath.Join(configs, name))
		if code != 0 || !strings.Contains(out, "run: sluice test "+dir) {
			t.Fatalf("convert %s: exit %d:\n%s", name, code, out)
		}
		out, code = runSluice(t, dir, "test", "-v", ".")
		if code != 0 || !strings.Contains(out, "--- PASS: sluice.test.yaml/a JSON line of a container") {
			t.Errorf("sluice test of converted %s: exit %d:\n%s", name, code, out)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.conf")
	if err := os.WriteFile(bad, []byte("[INPUT]\n  Name tail\n[OOPS]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := runSluice(t, t.TempDir(), "convert", bad); code != 1 || !strings.Contains(out, "line 3: unknown section [OOPS]") {
		t.Errorf("bad source: exit %d:\n%s", code, out)
	}
}
