package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicelog/sluice/internal/agenttest"
)

// runSluice runs the built binary in dir and returns its output and exit
// code.
func runSluice(t *testing.T, dir string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(agenttest.Binary(t), args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &exit):
		return out.String(), exit.ExitCode()
	default:
		t.Fatalf("run sluice %v: %v", args, err)
		return "", -1
	}
}

// The shipped configs are under test: sluice test deploy/ passes, and
// runs every test file there.
func TestShippedConfigsPass(t *testing.T) {
	root := agenttest.ModuleRoot()
	out, code := runSluice(t, root, "test", "deploy/")
	if code != 0 {
		t.Fatalf("sluice test deploy/ exited %d:\n%s", code, out)
	}
	for _, f := range []string{"deploy/base/sluice.test.yaml", "deploy/examples/local.test.yaml", "deploy/examples/local-es.test.yaml", "deploy/examples/es-apikey-tls/sluice.test.yaml"} {
		if !strings.Contains(out, "ok  \t"+f+"\t") {
			t.Errorf("no ok line for %s in:\n%s", f, out)
		}
	}
}

// scratchBase copies deploy/base's config and test file into a folder of
// the test's own, with the config changed by edit.
func scratchBase(t *testing.T, edit func(string) string) string {
	t.Helper()
	dir := t.TempDir()
	base := filepath.Join(agenttest.ModuleRoot(), "deploy", "base")
	for name, f := range map[string]func(string) string{"sluice.yaml": edit, "sluice.test.yaml": nil} {
		raw, err := os.ReadFile(filepath.Join(base, name))
		if err != nil {
			t.Fatal(err)
		}
		s := string(raw)
		if f != nil {
			s = f(s)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// A broken transform in a scratch copy fails the test with exit 1 and a
// diff that names the fields it moved.
func TestBrokenTransformNamesTheField(t *testing.T) {
	const good = `{ type: json, field: log, target: "", keep_original: false }`
	dir := scratchBase(t, func(s string) string {
		if !strings.Contains(s, good) {
			t.Fatalf("deploy/base/sluice.yaml no longer has %s", good)
		}
		return strings.Replace(s, good, `{ type: json, field: log, target: "app", keep_original: false }`, 1)
	})
	out, code := runSluice(t, dir, "test", "sluice.test.yaml")
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	for _, want := range []string{
		"--- FAIL: sluice.test.yaml/a JSON line is merged at the top level, with the pod's metadata",
		`output es, document 1: msg: absent, want "order placed"`,
		`output es, document 1: app: got {"level":"info","msg":"order placed","order":81723}, not expected`,
		"FAIL\tsluice.test.yaml",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// The cases the change does not touch still pass.
	if strings.Contains(out, "syslog over TCP goes to its own data stream") {
		t.Errorf("the syslog case failed too:\n%s", out)
	}
}

// -update writes the actual documents as the expectation; the file then
// passes, and still fails on the broken config's behaviour.
func TestUpdateWritesGolden(t *testing.T) {
	dir := scratchBase(t, func(s string) string {
		return strings.Replace(s, `target: ""`, `target: "app"`, 1)
	})
	if out, code := runSluice(t, dir, "test", "-update", "sluice.test.yaml"); code != 0 {
		t.Fatalf("-update exited %d:\n%s", code, out)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "sluice.test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "# sluice test deploy/base") || !strings.Contains(string(raw), "        app:\n") {
		t.Fatalf("updated file lost its comment or lacks the new field:\n%s", raw)
	}
	if out, code := runSluice(t, dir, "test", "sluice.test.yaml"); code != 0 {
		t.Fatalf("after -update: exit %d:\n%s", code, out)
	}
}

// Bad input: a missing file, and a test file with an unknown key, exit
// non-zero with a message that names the problem.
func TestBadTestFiles(t *testing.T) {
	dir := t.TempDir()
	if out, code := runSluice(t, dir, "test", "missing.test.yaml"); code != 2 || !strings.Contains(out, "missing.test.yaml") {
		t.Errorf("missing file: exit %d:\n%s", code, out)
	}
	bad := filepath.Join(dir, "bad.test.yaml")
	if err := os.WriteFile(bad, []byte("config: x.yaml\ncases:\n  - name: a\n    expekt: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := runSluice(t, dir, "test", "bad.test.yaml"); code != 1 || !strings.Contains(out, "expekt") {
		t.Errorf("unknown key: exit %d:\n%s", code, out)
	}
}

// docs/testing.md's example test file passes against a config of the shape it
// describes; -run picks one of its cases.
func TestReadmeExample(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(agenttest.ModuleRoot(), "docs", "testing.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	at := strings.Index(s, "# Testing your pipeline")
	if at < 0 {
		t.Fatal("docs/testing.md has no Testing your pipeline title")
	}
	s = s[at:]
	start := strings.Index(s, "```yaml\n")
	end := strings.Index(s[start+8:], "```")
	if start < 0 || end < 0 {
		t.Fatal("no yaml example in the section")
	}
	example := s[start+8 : start+8+end]
	dir := t.TempDir()
	cfg := `node_name: ${NODE_NAME}
data_dir: /var/lib/sluice
inputs:
  - { name: containers, type: container_logs, paths: [/var/log/containers/*.log] }
  - { name: syslog, type: syslog, udp: 0.0.0.0:5140 }
kubernetes: { enabled: true }
transforms:
  - { type: json, field: log }
outputs:
  - { name: es, type: elasticsearch, urls: ["${ES_URL}"], password_file: /nonexistent/on/this/machine }
`
	for name, body := range map[string]string{"sluice.yaml": cfg, "readme.test.yaml": example} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, code := runSluice(t, dir, "test", "-v", ".")
	if code != 0 || strings.Count(out, "--- PASS") != 2 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	out, code = runSluice(t, dir, "test", "-v", "-run", "syslog", "readme.test.yaml")
	if code != 0 || strings.Count(out, "--- PASS") != 1 || !strings.Contains(out, "readme.test.yaml/syslog") {
		t.Fatalf("-run syslog: exit %d:\n%s", code, out)
	}
}
