// Package docs_test keeps the documentation true: every config key is in
// configuration.md and every example there is a config the agent accepts,
// every series in metrics.md is one the code declares, every link
// between the documents leads somewhere, and architecture.md's Packages
// block names every package.
package docs_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/internal/agenttest"
	"github.com/sluicelog/sluice/internal/promtest"
)

func TestMain(m *testing.M) { os.Exit(agenttest.Main(m)) }

func read(t *testing.T, name string) string {
	t.Helper()
	raw, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// yamlKeys is every key a config file may hold, by walking the config
// types the loader decodes into.
func yamlKeys(t reflect.Type, seen map[reflect.Type]bool, keys map[string]string) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] || t.PkgPath() != reflect.TypeFor[config.Config]().PkgPath() {
		return
	}
	seen[t] = true
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name != "-" && name != "" {
			keys[name] = t.Name()
		}
		if name != "-" && (name != "" || opts == "inline") {
			yamlKeys(f.Type, seen, keys)
		}
	}
}

func TestEveryConfigKeyIsDocumented(t *testing.T) {
	doc := read(t, "configuration.md")
	keys := map[string]string{}
	yamlKeys(reflect.TypeFor[config.Config](), map[reflect.Type]bool{}, keys)
	if len(keys) < 50 {
		t.Fatalf("found only %d config keys; the walk of the config types is broken", len(keys))
	}
	for k, owner := range keys {
		if !strings.Contains(doc, k+":") && !strings.Contains(doc, "`"+k+"`") {
			t.Errorf("config key %s (%s) is not in docs/configuration.md", k, owner)
		}
	}
}

// yamlBlocks returns the ```yaml blocks of a Markdown text.
func yamlBlocks(doc string) []string {
	var out []string
	for _, part := range strings.Split(doc, "```yaml\n")[1:] {
		block, _, _ := strings.Cut(part, "```")
		out = append(out, block)
	}
	return out
}

// The examples are configs the loader accepts: a block that is a whole
// section (inputs:, outputs:, transforms:, ...) is checked inside a
// minimal config that has the sections it lacks.
func TestConfigurationExamplesAreValid(t *testing.T) {
	env := map[string]string{"NODE_NAME": "node-1"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	checked := 0
	for i, block := range yamlBlocks(read(t, "configuration.md")) {
		top := regexp.MustCompile(`(?m)^([a-z_]+):`).FindAllStringSubmatch(block, -1)
		if len(top) == 0 {
			continue // a fragment of a section, shown inside its text
		}
		has := map[string]bool{}
		for _, m := range top {
			has[m[1]] = true
		}
		if !topLevel(has) {
			continue // keys of one section (multiline: of an input), shown alone
		}
		cfg := block
		if !has["data_dir"] {
			cfg += "\ndata_dir: " + t.TempDir() + "\n"
		}
		if !has["inputs"] {
			cfg += "inputs:\n  - { name: containers, type: container_logs, paths: [/var/log/containers/*.log] }\n" +
				"  - { name: syslog, type: syslog, tcp: 127.0.0.1:5140 }\n"
		}
		if !has["outputs"] {
			cfg += "outputs: [{ name: stdout, type: console }]\n"
		}
		if _, err := config.Parse([]byte(cfg), lookup); err != nil {
			t.Errorf("example %d of docs/configuration.md is refused:\n%v\n---\n%s", i+1, err, block)
		}
		checked++
	}
	if checked < 3 {
		t.Fatalf("checked %d examples; docs/configuration.md has lost its examples", checked)
	}
}

// topLevel says whether every key is one of a config file's top level.
func topLevel(keys map[string]bool) bool {
	t := reflect.TypeFor[config.Config]()
	for k := range keys {
		found := false
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			found = found || name == k
		}
		if !found {
			return false
		}
	}
	return true
}

// Every series in metrics.md is declared by name in the code; a live
// agent's series are held to the table by e2e TestPromtoolCheckMetrics.
func TestDocumentedMetricsExist(t *testing.T) {
	documented := promtest.Documented(t)
	if len(documented) < 30 {
		t.Fatalf("found %d series in docs/metrics.md; its table is not where promtest looks", len(documented))
	}
	var code strings.Builder
	for _, dir := range []string{"../agent", "../collector", "../cmd"} {
		err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			raw, err := os.ReadFile(p)
			code.Write(raw)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for name := range documented {
		if !strings.Contains(code.String(), `"`+name+`"`) {
			t.Errorf("docs/metrics.md lists %s, which no code declares", name)
		}
	}
}

var link = regexp.MustCompile(`\]\(([^)#\s]*)(#[^)\s]*)?\)`)

// anchors are the GitHub anchors of a Markdown file's headings.
func anchors(doc string) map[string]bool {
	out, fence := map[string]bool{}, false
	for _, l := range strings.Split(doc, "\n") {
		if strings.HasPrefix(l, "```") {
			fence = !fence
		}
		if fence || !strings.HasPrefix(l, "#") {
			continue
		}
		h := strings.ToLower(strings.TrimSpace(strings.TrimLeft(l, "#")))
		h = regexp.MustCompile(`[^\w\- ]`).ReplaceAllString(h, "")
		out[strings.ReplaceAll(h, " ", "-")] = true
	}
	return out
}

func TestLinksLeadSomewhere(t *testing.T) {
	files, _ := filepath.Glob("*.md")
	files = append(files, "../README.md", "../CHANGELOG.md")
	for _, f := range files {
		doc := read(t, f)
		for _, m := range link.FindAllStringSubmatch(doc, -1) {
			target, frag := m[1], strings.TrimPrefix(m[2], "#")
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path := f
			if target != "" {
				path = filepath.Join(filepath.Dir(f), target)
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s links to %s, which does not exist", f, target)
				continue
			}
			if frag != "" && strings.HasSuffix(path, ".md") && !anchors(read(t, path))[frag] {
				t.Errorf("%s links to %s#%s: no such heading", f, target, frag)
			}
		}
	}
}

// validateCmd is a command in a shell block that validates a config of
// the repository: `sluice -config deploy/base/sluice.yaml -validate`.
var validateCmd = regexp.MustCompile(`(?m)^(?:bin/)?sluice\s+-config\s+((?:deploy|bench)/\S+)\s+-validate\b`)

// The -validate commands the README and docs show run, against the built
// agent, and exit 0 on the configs they name.
func TestShownValidateCommandsPass(t *testing.T) {
	bin := agenttest.Binary(t)
	files, _ := filepath.Glob("*.md")
	files = append(files, "../README.md")
	ran := 0
	for _, f := range files {
		for _, m := range validateCmd.FindAllStringSubmatch(read(t, f), -1) {
			cmd := exec.Command(bin, "-config", m[1], "-validate")
			cmd.Dir = ".."
			cmd.Env = append(os.Environ(), "NODE_NAME=node-1", "NODE_IP=10.0.0.1", "ES_URL=http://127.0.0.1:9200")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s shows `sluice -config %s -validate`; it fails: %v\n%s", f, m[1], err, out)
			}
			ran++
		}
	}
	if ran == 0 {
		t.Fatal("no -validate command found in README.md or docs/: the quick tour lost it")
	}
}
