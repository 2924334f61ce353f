package config

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

func TestParseGood(t *testing.T) {
	raw, err := os.ReadFile("testdata/good.yaml")
	require.NoError(t, err)
	cfg, err := Parse(raw, env(map[string]string{"NODE_NAME": "node-1"}))
	require.NoError(t, err)
	require.Equal(t, "node-1", cfg.NodeName)
	require.Equal(t, ByteSize(256<<20), cfg.MemoryLimit)
	require.Len(t, cfg.Inputs, 1)
	in := cfg.Inputs[0]
	require.Equal(t, []string{"/var/log/containers/*.log"}, in.Paths)
	require.Equal(t, "end", in.StartAt)
	require.Equal(t, ByteSize(1<<20), in.MaxLineBytes, "default")
	require.Len(t, cfg.Outputs, 2)
	es := cfg.Outputs[0]
	require.Equal(t, []string{"http://127.0.0.1:9200"}, es.URLs, "default from ${ES_URL:-…}")
	require.Equal(t, ByteSize(5<<20), es.Bulk.MaxBytes)
	require.Equal(t, time.Second, es.Bulk.FlushInterval.Duration())
	require.True(t, *es.IDs)
	require.Equal(t, "json", cfg.Transforms[0].Type)
}

func TestParseBad(t *testing.T) {
	base := "data_dir: /tmp/x\ninputs:\n  - { name: c, type: container_logs, paths: [/x/*.log] }\noutputs:\n  - { name: o, type: console }\n"
	f := func(raw string, wantErr ...string) {
		t.Helper()
		_, err := Parse([]byte(raw), env(nil))
		require.Error(t, err)
		for _, w := range wantErr {
			require.ErrorContains(t, err, w)
		}
	}
	// Unknown keys name the key and the line.
	f(base+"outputs2: []\n", "outputs2 (line 6): unknown key; did you mean `outputs`?")
	f(base+"colour: red\n", "colour (line 6): unknown key (known: checkpoint_interval, data_dir")
	f("data_dir: /tmp/x\ninputs:\n  - { name: c, type: container_logs, paths: [/x/*.log], pathz: [] }\noutputs: [{name: o, type: console}]\n", "inputs[0].pathz (line 3): unknown key")
	f("data_dir: /tmp/x\ninputs: [{ name: c, type: container_logs, paths: [/x] }]\noutputs:\n  - name: es\n    type: elasticsearch\n    urls: [http://x]\n    bulk: { max_byte: 5MiB }\n", "outputs[0].bulk.max_byte (line 7): unknown key; did you mean `max_bytes`?")
	// Bad values name the key path and line.
	f("data_dir: /tmp/x\ninputs: [{ name: c, type: container_logs, paths: [/x] }]\noutputs:\n  - name: es\n    type: elasticsearch\n    urls: [http://x]\n    bulk: { max_bytes: 10 }\n",
		"outputs[0].bulk.max_bytes (line 7): must be between 1Ki and 1Gi, got 10B")
	f(base+"memory_limit: lots\n", `memory_limit (line 6): must be a size such as 512Ki, 256Mi, 1Gi or 500M, got "lots"`)
	f("data_dir: /tmp/x\ninputs:\n  - { name: c, type: container_logs, paths: [/x/*.log], start_at: middle }\noutputs: [{name: o, type: console}]\n",
		"inputs[0].start_at (line 3)", `"middle"`)
	f("data_dir: /tmp/x\ninputs:\n  - { name: c, type: files, paths: [/x/*.log] }\noutputs: [{name: o, type: fluentd}]\n",
		`unknown input type "files"`, `unknown output type "fluentd"`)
	f("data_dir: /tmp/x\ninputs:\n  - { name: c, type: container_logs, paths: [/x] }\n  - { name: c, type: container_logs, paths: [/y] }\noutputs: [{name: o, type: console}]\n",
		`inputs[1].name (line 4): duplicate input name "c"`)
	f("data_dir: /tmp/x\ninputs: [{ name: c, type: container_logs, paths: [/x] }]\noutputs:\n  - { name: es, type: elasticsearch, urls: [127.0.0.1:9200] }\n",
		"outputs[0].urls[0] (line 4)", "http://")
	f(base+"transforms: [{ type: lua }]\n", `unknown transform type "lua"`)
	f(base+"transforms:\n  - { type: logfmt, field: message }\n", `transforms[0].field (line 7): must be log`)
	f(base+"transforms:\n  - { type: logfmt, preset: nginx }\n", `transforms[0].preset (line 7): not a key of a logfmt transform (only for regex)`)
	f(base+"transforms:\n  - { type: regex, field: log }\n", `transforms[0].type (line 7): exactly one of pattern and preset`)
	f(base+"transforms:\n  - { type: regex, preset: nginx, pattern: \"(?P<a>x)\" }\n", `exactly one of pattern and preset`)
	f(base+"transforms:\n  - { type: regex, preset: iis }\n", `transforms[0].preset (line 7): unknown preset "iis"`)
	f(base+"transforms:\n  - { type: regex, preset: klog, types: { a: int } }\n", `transforms[0].types (line 7): only with pattern`)
	f(base+"transforms:\n  - type: json\n  - type: regex\n    pattern: \"(?P<a>x\"\n", `transforms[1].pattern (line 9): error parsing regexp: missing closing )`)
	f(base+"transforms:\n  - type: regex\n    pattern: \"(?P<a>x)\"\n    types: { b: int }\n", `transforms[0].pattern (line 8): types["b"]: no such group`)
	f("inputs: []\noutputs: []\n", "at least one input", "at least one output")
	// Environment.
	f(base+"node_name: ${NODE_NAME}\n", "line 6", "NODE_NAME is not set")
	f(base+"node_name: ${NODE NAME}\n", "bad variable name")
	f(base+"node_name: ${NODE_NAME\n", "unterminated")
}

func TestParserTransforms(t *testing.T) {
	cfg, err := Parse([]byte("data_dir: /tmp/x\ninputs: [{ name: c, type: container_logs, paths: [/x] }]\noutputs: [{ name: o, type: console }]\n"+
		"transforms:\n  - { type: json }\n  - { type: logfmt, field: log }\n  - { type: regex, field: log, preset: klog }\n"+
		"  - { type: regex, pattern: \"^(?P<code>\\\\d+)\", types: { code: int } }\n"), env(nil))
	require.NoError(t, err)
	require.Len(t, cfg.Transforms, 4)
	require.IsType(t, &Logfmt{}, cfg.Transforms[1].Spec)
	require.Equal(t, "log", cfg.Transforms[1].Spec.(*Logfmt).Field)
	require.NotNil(t, cfg.Transforms[2].Spec.(*Regex).Compiled)
	require.Equal(t, []string{"code"}, cfg.Transforms[3].Spec.(*Regex).Compiled.Names())
}

func TestByteSize(t *testing.T) {
	f := func(in string, want int64) {
		t.Helper()
		got, err := ParseByteSize(in)
		require.NoError(t, err)
		require.Equal(t, ByteSize(want), got)
	}
	f("5MiB", 5<<20)
	f("64KiB", 64<<10)
	f("1GB", 1e9)
	f("1024", 1024)
	f("1.5MiB", 3<<19)
	_, err := ParseByteSize("-1")
	require.Error(t, err)
}
