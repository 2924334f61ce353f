package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// envBase is a whole config with one elasticsearch output whose password
// and URL come from the environment; cases edit it.
const envBase = `data_dir: /tmp/x
inputs: [{ name: c, type: container_logs, paths: [/x/*.log] }]
outputs:
  - name: es
    type: elasticsearch
    urls: [${ES_URL}]
    username: elastic
    password: ${ES_PASSWORD}
`

// hostileValues are values that, pasted into YAML text, would change the
// document: an alias, a tag, a comment, an anchor, flow indicators, quotes,
// a newline that starts a new key, a YAML null.
var hostileValues = []string{
	"*abc123", "!abc123", "x #abc123", "&a b", "a, b]", "{x: y}", `"q'uo"te`, "'single",
	"pw\nnode_name: evil", "line1\n  line2", "~", "null", "true", "123", "- item", "? k",
	"key: value", "%TAG", "@at", "`tick", "|", ">", "  spaced  ", "tab\there", "\\n literal",
	"$HOME", "${NESTED}", "$$", "ünïcödé", "\x00nul\xff",
}

func TestExpandScalarValues(t *testing.T) {
	f := func(password string) {
		t.Helper()
		cfg, err := Parse([]byte(envBase), env(map[string]string{"ES_URL": "https://es:9200", "ES_PASSWORD": password}))
		require.NoError(t, err, "password %q", password)
		require.Equal(t, password, cfg.Outputs[0].Password, "every byte arrives as is")
		require.Equal(t, []string{"https://es:9200"}, cfg.Outputs[0].URLs)
		require.Equal(t, "/tmp/x", cfg.DataDir, "nothing else changed")
		require.NotEqual(t, "evil", cfg.NodeName)
	}
	for _, v := range hostileValues {
		f(v)
	}
}

func TestExpandPositions(t *testing.T) {
	get := func(doc string, vars map[string]string) *Config {
		t.Helper()
		cfg, err := Parse([]byte(doc), env(vars))
		require.NoError(t, err)
		return cfg
	}
	head := "data_dir: /tmp/x\ninputs: [{ name: c, type: container_logs, paths: [/x/*.log] }]\n"
	// A comma inside a flow sequence stays in its item.
	cfg := get(envBase, map[string]string{"ES_URL": "https://a:9200,https://b:9200", "ES_PASSWORD": "p"})
	require.Equal(t, []string{"https://a:9200,https://b:9200"}, cfg.Outputs[0].URLs)
	// Quoted, flow-mapped, inside a word, twice, with defaults.
	cfg = get(head+"outputs:\n  - { name: es, type: elasticsearch, urls: [\"${U}\", 'http://${H}:9200/x${H}'], password: ${P} }\n",
		map[string]string{"U": "http://u:9200", "H": "h,o#st", "P": "a, b: c}"})
	require.Equal(t, []string{"http://u:9200", "http://h,o#st:9200/xh,o#st"}, cfg.Outputs[0].URLs)
	require.Equal(t, "a, b: c}", cfg.Outputs[0].Password)
	cfg = get(head+"outputs: [{ name: o, type: console }]\nnode_name: ${N:-a, b}\n", nil)
	require.Equal(t, "a, b", cfg.NodeName, "a default is literal too")
	cfg = get(head+"outputs: [{ name: o, type: console }]\nnode_name: ${N:-def}\n", map[string]string{"N": ""})
	require.Equal(t, "def", cfg.NodeName)
	// $$ is a literal $, and $ alone stays.
	cfg = get(head+"outputs: [{ name: es, type: elasticsearch, urls: [http://x], password: \"$${P} $$ $5 $\" }]\n", map[string]string{"P": "no"})
	require.Equal(t, "${P} $ $5 $", cfg.Outputs[0].Password)
	// A plain value is typed again: numbers, booleans and sizes work.
	cfg = get(head+"outputs: [{ name: o, type: console }]\nworkers: ${W}\nmemory_limit: ${M}\n", map[string]string{"W": "3", "M": "64MiB"})
	require.Equal(t, 3, cfg.Workers)
	require.Equal(t, ByteSize(64<<20), cfg.MemoryLimit)
	// Block scalars keep their lines and the value's.
	cfg = get(head+"outputs:\n  - name: es\n    type: elasticsearch\n    urls: [http://x]\n    password: |-\n      a${P}\n      b\n", map[string]string{"P": "\n#x"})
	require.Equal(t, "a\n#x\nb", cfg.Outputs[0].Password)
	// References in comments are never looked up.
	get("# set ${UNSET} first\n"+head+"outputs: [{ name: o, type: console }] # or ${UNSET:\n", nil)
}

func TestExpandErrors(t *testing.T) {
	f := func(doc string, vars map[string]string, want ...string) {
		t.Helper()
		_, err := Parse([]byte(doc), env(vars))
		require.Error(t, err)
		for _, w := range want {
			require.ErrorContains(t, err, w)
		}
		for _, v := range vars {
			require.NotContains(t, err.Error(), v, "no message carries a value from the environment")
		}
	}
	head := "data_dir: /tmp/x\ninputs: [{ name: c, type: container_logs, paths: [/x/*.log] }]\noutputs: [{ name: o, type: console }]\n"
	f(head+"node_name: ${NODE_NAME}\n", nil, "line 4", "NODE_NAME is not set")
	f(head+"node_name: ${NODE NAME}\n", nil, "line 4", "bad variable name")
	f(head+"node_name: ${NODE_NAME\n", nil, "line 4", "unterminated ${")
	f(head+"node_name: x\n  ${A}\n", nil, "A is not set") // a folded plain scalar
	// A value that does not fit its key is reported by how it was written.
	f(head+"workers: ${SECRET_W}\n", map[string]string{"SECRET_W": "hunter2-long-secret"}, "line 4", "${SECRET_W}")
	f(head+"workers: ${SECRET_W}\n", map[string]string{"SECRET_W": "hunt"}, "line 4", "${SECRET_W}")
	f(head+"memory_limit: ${SECRET_M}\n", map[string]string{"SECRET_M": "hunter2"}, "${SECRET_M}")
	f(head+"shutdown_timeout: x${SECRET_D}\n", map[string]string{"SECRET_D": "hunter2"}, "x${SECRET_D}")
	f("data_dir: /tmp/x\ninputs: [{ name: c, type: syslog, tcp: \"${SECRET_A}\" }]\noutputs: [{ name: o, type: console }]\n",
		map[string]string{"SECRET_A": "hunter2"}, `got "${SECRET_A}"`)
	// A YAML syntax error shows references as written.
	f(head+"x: *${A}\n", map[string]string{"A": "hunter2"}, "${A}")
}

func FuzzExpand(f *testing.F) {
	for _, v := range hostileValues {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, password string) {
		cfg, err := Parse([]byte(envBase), env(map[string]string{"ES_URL": "https://es:9200", "ES_PASSWORD": password}))
		require.NoError(t, err)
		require.Equal(t, password, cfg.Outputs[0].Password)
		require.Equal(t, "/tmp/x", cfg.DataDir)
	})
}
