package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sluice explain shows every stage, in order, for a CRI P/F pair
// carrying a JSON line that a fields transform renames, and a Java stack
// trace joined by multiline.
func TestExplainShowsEveryStage(t *testing.T) {
	dir := t.TempDir()
	cfg := `node_name: node-1
data_dir: ` + filepath.Join(dir, "data") + `
http: { listen: "" }
kubernetes: { enabled: false }
inputs:
  - name: containers
    type: container_logs
    paths: [/var/log/containers/*.log]
    multiline: { mode: java }
transforms:
  - { type: json, field: log }
  - { type: fields, name: rename-msg, rename: { msg: message } }
outputs:
  - { name: es, type: elasticsearch, urls: ["http://127.0.0.1:9200"], index: "logs-{kubernetes.namespace_name}-%Y.%m.%d" }
`
	path := filepath.Join(dir, "sluice.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := runSluice(t, dir, "explain", "-config", path,
		"-file", "/var/log/containers/api-1_shop_api-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.log",
		`2026-11-25T10:00:01.000000000Z stdout P {"level":"error",`,
		`2026-11-25T10:00:01.000000100Z stdout F "msg":"payment declined"}`)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	// Each stage, in the agent's order, with what it shows.
	stages := []struct{ head, body string }{
		{"== input", `stdout P {"level":"error",`},
		{"== after CRI/docker parsing", `cri 2026-11-25T10:00:01Z stdout partial: "{\"level\":\"error\","`},
		{"== after joining partial lines", `stdout offset 0: "{\"level\":\"error\",\"msg\":\"payment declined\"}"`},
		{"== after multiline", `offset 0: "{\"level\":\"error\",\"msg\":\"payment declined\"}"`},
		{"== kubernetes", `"namespace_name":"shop","pod_name":"api-1"`},
		{"== document (no transform)", `"log":"{\"level\":\"error\",\"msg\":\"payment declined\"}"`},
		{"== after transform json (field log)", `"msg":"payment declined"`},
		{"== after transform fields rename-msg", `"message":"payment declined"`},
		{"== routing", "es: takes everything"},
		{"== sent", "output es, index logs-shop-2026.11.25, _id "},
	}
	rest := out
	for _, s := range stages {
		i := strings.Index(rest, s.head+"\n")
		if i < 0 {
			t.Fatalf("no stage %q after the previous one in:\n%s", s.head, out)
		}
		rest = rest[i+len(s.head)+1:]
		end := strings.Index(rest, "\n== ")
		if end < 0 {
			end = len(rest)
		}
		if !strings.Contains(rest[:end], s.body) {
			t.Errorf("stage %q lacks %q:\n%s", s.head, s.body, rest[:end])
		}
	}
	sent := out[strings.Index(out, "== sent"):]
	if !strings.Contains(sent, `"message":"payment declined"`) || strings.Contains(sent, `"msg"`) {
		t.Errorf("the sent document is not the renamed one:\n%s", sent)
	}
}
