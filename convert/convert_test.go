package convert

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/sluicelog/sluice/agent/pipelinetest"
	"github.com/sluicelog/sluice/internal/corpus"
)

// convertFile converts a testdata config into dir and returns the result.
func convertFile(t *testing.T, name, dir string) *Result {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "configs", name))
	if err != nil {
		t.Fatal(err)
	}
	src, err := Parse(Detect(name, raw), raw)
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	res, err := Convert(src, name)
	if err != nil {
		t.Fatalf("convert %s: %v", name, err)
	}
	test, err := res.TestFile("sluice.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for f, b := range map[string][]byte{"sluice.yaml": res.Config, "sluice.test.yaml": test} {
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return res
}

// Each config converts to one the agent loads, and the generated test
// cases pass against the real pipeline; each conversion keeps what
// matters of its source and notes what it drops.
func TestConvertedConfigsPassTheirTests(t *testing.T) {
	for name, want := range map[string][]string{
		"fluent-bit-daemonset.conf": {
			"index: kube-%Y.%m.%d", "- /var/log/containers/*_kube-system_*.log", "https://${FLUENT_ELASTICSEARCH_HOST}:${FLUENT_ELASTICSEARCH_PORT}",
			"listen: 0.0.0.0:2020", "annotations: false", `# NOTE input tail (line 20): Mem_Buf_Limit = "5MB"`,
			"kubernetes.docker_id is kubernetes.container_id", "sluice.io/parser and sluice.io/exclude",
		},
		"fluent-bit-pipeline.yaml": {
			"target: app", "start_at: head", "tcp: 0.0.0.0:5140", "format: rfc5424", "type: drop", "pattern: ^GET /healthz",
			"cluster: prod-eu-1", "stream: source_stream", "index: k8s-logs", "type: console",
		},
		"fluentd-daemonset-elasticsearch.conf": {
			"${FLUENT_ELASTICSEARCH_SCHEME:-http}://${FLUENT_ELASTICSEARCH_HOST}:${FLUENT_ELASTICSEARCH_PORT}",
			"username: ${FLUENT_ELASTICSEARCH_USER:-}", "password: ${FLUENT_ELASTICSEARCH_PASSWORD:-}",
			"index: ${FLUENT_ELASTICSEARCH_LOGSTASH_PREFIX:-logstash}-%Y.%m.%d", "- /var/log/containers/fluentd*",
			`buffer.flush_thread_count = "8"`, "kubernetes.master_url",
		},
		"fluentd-syslog.conf": {
			"tcp: 0.0.0.0:5140", "format: rfc5424", "annotations: true", "field: level", "pattern: debug",
			"env: production", "type: console", "index: fluentd-logs",
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			res := convertFile(t, name, dir)
			for _, w := range want {
				if !strings.Contains(string(res.Config), w) {
					t.Errorf("converted config lacks %q:\n%s", w, res.Config)
				}
			}
			f, err := pipelinetest.Load(filepath.Join(dir, "sluice.test.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := f.LoadConfig()
			if err != nil {
				t.Fatalf("the converted config does not load: %v\n%s", err, res.Config)
			}
			for i := range f.Cases {
				c := &f.Cases[i]
				r, err := f.Run(cfg, c)
				if err != nil {
					t.Fatalf("%s: %v", c.Name, err)
				}
				if len(c.Expect) == 0 && c.Outputs == nil {
					t.Fatalf("%s: the generated case expects nothing", c.Name)
				}
				if d := pipelinetest.Check(c, r); len(d) > 0 {
					t.Errorf("%s:\n%s", c.Name, strings.Join(d, "\n"))
				}
			}
		})
	}
}

// The generated case can fail: the same test file against a config whose
// JSON merge is off names the fields that moved.
func TestGeneratedCaseCatchesAChange(t *testing.T) {
	dir := t.TempDir()
	res := convertFile(t, "fluent-bit-daemonset.conf", dir)
	broken := strings.Replace(string(res.Config), "  - type: json\n    field: log\n", "  - type: logfmt\n    field: log\n", 1)
	if broken == string(res.Config) {
		t.Fatal("no json transform to break")
	}
	if err := os.WriteFile(filepath.Join(dir, "sluice.yaml"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := pipelinetest.Load(filepath.Join(dir, "sluice.test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := f.LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.Run(cfg, &f.Cases[0])
	if err != nil {
		t.Fatal(err)
	}
	d := strings.Join(pipelinetest.Check(&f.Cases[0], r), "\n")
	if !strings.Contains(d, "msg: absent, want \"converted by sluice\"") {
		t.Fatalf("diff does not name msg:\n%s", d)
	}
}

// A password written in the source is never copied.
func TestPasswordsAreNotCopied(t *testing.T) {
	src, err := ParseFluentBit([]byte("[INPUT]\n  Name tail\n  Path /x/*.log\n[OUTPUT]\n  Name es\n  HTTP_Passwd s3cr3t-value\n"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Convert(src, "x.conf")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(res.Config), "s3cr3t") {
		t.Fatalf("password copied:\n%s", res.Config)
	}
	if !strings.Contains(string(res.Config), "password: ${ES_PASSWORD}") {
		t.Fatalf("no env reference:\n%s", res.Config)
	}
}

func TestParseErrorsNameTheLine(t *testing.T) {
	for _, c := range []struct {
		format, in, want string
	}{
		{FluentBit, "[INPUT]\n  Name tail\n[BOGUS]\n", "line 3: unknown section [BOGUS]"},
		{FluentBit, "Name tail\n", "line 1: setting outside a section"},
		{FluentBit, "[INPUT\n", "line 1: section header without ]"},
		{Fluentd, "<source>\n  @type tail\n</match>\n", "line 3: </match> closes nothing open"},
		{Fluentd, "<source>\n  @type tail\n", "<source> is not closed"},
		{Fluentd, "<source>\n <parse>\n </buffer>\n</source>\n", "line 3: </buffer> closes <parse>"},
		{FluentBitYAML, "pipeline: [1]\n", "pipeline is not a map"},
	} {
		_, err := Parse(c.format, []byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %q: got %v, want %q", c.format, c.in, err, c.want)
		}
	}
	if _, err := Parse(FluentBit, make([]byte, maxInput+1)); err == nil {
		t.Error("an oversized config was read")
	}
}

// Real Fluent Bit parser files (the corpus): every section is read, and
// converting one on its own says what is missing.
func TestFluentBitCorpusParsers(t *testing.T) {
	for _, p := range [][]string{
		{"docker", "fluent-bit", "parsers.conf"},
		{"multiline", "fluent-bit", "regex-001_parsers_multiline.conf"},
		{"multiline", "fluent-bit", "parsers_multiline_json.conf"},
		{"multiline", "fluent-bit", "filter_multiline_parsers.conf"},
	} {
		path := corpus.Lookup(t, p...)
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		src, err := ParseFluentBit(raw)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		sections := strings.Count(string(raw), "\n[") + map[bool]int{true: 1}[strings.HasPrefix(string(raw), "[")]
		if len(src.Plugins) != sections {
			t.Errorf("%s: %d sections read, want %d", path, len(src.Plugins), sections)
		}
		if _, err := Convert(src, filepath.Base(path)); err == nil || !strings.Contains(err.Error(), "no tail or syslog input") {
			t.Errorf("%s: convert: %v", path, err)
		}
	}
}

// fuzzConvert runs a parse and, when it succeeds, the conversion, whose
// config must be YAML.
func fuzzConvert(t *testing.T, format string, raw []byte) {
	src, err := Parse(format, raw)
	if err != nil {
		return
	}
	res, err := Convert(src, "fuzz")
	if err != nil {
		return
	}
	var v any
	if err := yaml.Unmarshal(res.Config, &v); err != nil {
		t.Fatalf("converted config is not YAML: %v\n%s", err, res.Config)
	}
	if _, err := res.TestFile("sluice.yaml"); err != nil {
		t.Fatalf("test file: %v", err)
	}
}

func seeds(f *testing.F, ext ...string) {
	entries, err := os.ReadDir(filepath.Join("testdata", "configs"))
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		for _, x := range ext {
			if strings.HasSuffix(e.Name(), x) {
				raw, err := os.ReadFile(filepath.Join("testdata", "configs", e.Name()))
				if err != nil {
					f.Fatal(err)
				}
				f.Add(raw)
			}
		}
	}
}

func FuzzParseFluentBit(f *testing.F) {
	seeds(f, ".conf")
	f.Add([]byte("[INPUT]\n Name syslog\n Mode tcp\n Port 1\n[OUTPUT]\n Name stdout\n"))
	f.Fuzz(func(t *testing.T, raw []byte) { fuzzConvert(t, FluentBit, raw) })
}

func FuzzParseFluentBitYAML(f *testing.F) {
	seeds(f, ".yaml")
	f.Fuzz(func(t *testing.T, raw []byte) { fuzzConvert(t, FluentBitYAML, raw) })
}

func FuzzParseFluentd(f *testing.F) {
	seeds(f, ".conf")
	f.Add([]byte("<source>\n @type syslog\n <transport udp>\n </transport>\n</source>\n<match **>\n @type copy\n <store>\n @type stdout\n </store>\n</match>\n"))
	f.Fuzz(func(t *testing.T, raw []byte) { fuzzConvert(t, Fluentd, raw) })
}
