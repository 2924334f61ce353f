package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// opBase is a valid config; each row of TestOperatorMessages changes it.
// Lines: 1 data_dir, 2 http, 3 inputs, 4 the container_logs input,
// 5 the syslog input, 6 outputs, 7 name, 8 type, 9 urls, 10 bulk.
const opBase = `data_dir: /tmp/x
http: { listen: "127.0.0.1:2020" }
inputs:
  - { name: c, type: container_logs, paths: [/x/*.log] }
  - { name: s, type: syslog, tcp: "127.0.0.1:5140" }
outputs:
  - name: es
    type: elasticsearch
    urls: [http://127.0.0.1:9200]
    bulk: { max_bytes: 5Mi }
`

// TestOperatorMessages holds, for each config an operator may write by
// mistake, every message Parse gives, exactly: key path, line, what is
// wrong and what is expected, all problems at once, no Go type names.
func TestOperatorMessages(t *testing.T) {
	f := func(name, raw string, want ...string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(raw), env(nil))
			require.Error(t, err)
			require.Equal(t, strings.Join(want, "\n"), err.Error())
		})
	}
	r := strings.NewReplacer
	f("bulk over the output's cap", r("max_bytes: 5Mi", "max_bytes: 2GiB").Replace(opBase),
		"outputs[0].bulk.max_bytes (line 10): must be between 1Ki and 1Gi, got 2Gi")
	f("missing password_file", opBase+"    password_file: /nonexistent/pw\n",
		"outputs[0].password_file (line 11): file /nonexistent/pw does not exist")
	f("missing template file", opBase+"    template: { file: /nonexistent/t.json }\n",
		"outputs[0].template.file (line 11): file /nonexistent/t.json does not exist")
	f("ports out of range", r(`"127.0.0.1:5140"`, "127.0.0.1:99999", `"127.0.0.1:2020"`, "127.0.0.1:99999").Replace(opBase),
		`http.listen (line 2): the port must be a number from 0 to 65535, got "99999"`,
		`inputs[1].tcp (line 5): the port must be a number from 0 to 65535, got "99999"`)
	f("bad glob", r("/x/*.log", `"/x/[.log"`).Replace(opBase),
		`inputs[0].paths[0] (line 4): bad glob "/x/[.log": unclosed [ or a trailing \ (write [[] for a literal [)`)
	f("syslog keys on a container_logs input", r("paths: [/x/*.log]", "paths: [/x/*.log], tcp: 127.0.0.1:1, udp_readers: 2").Replace(opBase),
		"inputs[0].tcp (line 4): not a key of a container_logs input (only for syslog)",
		"inputs[0].udp_readers (line 4): not a key of a container_logs input (only for syslog)")
	f("index name syntax", r("urls: [http://127.0.0.1:9200]", "urls: [http://127.0.0.1:9200]\n    index: logs-{pod}-%y").Replace(opBase),
		"outputs[0].index (line 10): unknown field {pod} (known: kubernetes.namespace_name, kubernetes.pod_name, kubernetes.container_name, kubernetes.container_id, stream, input)")
	f("index name date verb", r("urls: [http://127.0.0.1:9200]", "urls: [http://127.0.0.1:9200]\n    index: logs-%y").Replace(opBase),
		"outputs[0].index (line 10): unknown date verb %y (known: %Y %m %d %H)")
	f("index name unterminated", r("urls: [http://127.0.0.1:9200]", "urls: [http://127.0.0.1:9200]\n    index: \"logs-{stream\"").Replace(opBase),
		"outputs[0].index (line 10): unterminated { at byte 5")
	f("two documents", opBase+"---\ndata_dir: /tmp/y\n",
		"line 11: a second YAML document (after ---); a config file holds one, the rest would be ignored")
	f("four mistakes at once", r("data_dir: /tmp/x", "data_dir: /tmp/x\nworkers: two", "paths:", "path:",
		"max_bytes: 5Mi", "max_bytes: lots", "type: elasticsearch", "type: elasticsearch\n    timeout: soon").Replace(opBase),
		`workers (line 2): must be a whole number, got "two"`,
		"inputs[0].path (line 5): unknown key; did you mean `paths`?",
		`outputs[0].timeout (line 10): must be a duration such as 250ms, 1s or 5m, got "soon"`,
		`outputs[0].bulk.max_bytes (line 12): must be a size such as 512Ki, 256Mi, 1Gi or 500M, got "lots"`)
	f("typo suggests from the section's own keys", r("tcp:", "tpc:").Replace(opBase),
		"inputs[1].tpc (line 5): unknown key; did you mean `tcp`?")
	f("no close key lists the type's keys", r("tcp:", "colour: red, tcp:").Replace(opBase),
		"inputs[1].colour (line 5): unknown key (keys of a syslog input: batch_bytes, format, handshake_timeout, idle_timeout, "+
			"max_connections, max_message_bytes, name, spool, tcp, tls, type, udp, udp_readers, udp_receive_buffer)")
	f("bare K is ambiguous", r("max_bytes: 5Mi", "max_bytes: 64K").Replace(opBase),
		`outputs[0].bulk.max_bytes (line 10): "64K" is ambiguous: write 64Ki for 64×1024 bytes or 64k for 64×1000`)
	f("a list where a value goes", r("data_dir: /tmp/x", "data_dir: [/a, /b]").Replace(opBase),
		"data_dir (line 1): must be a single value, got a list")
	f("a value where a list goes", r("paths: [/x/*.log]", "paths: /x/*.log").Replace(opBase),
		`inputs[0].paths (line 4): must be a list, got "/x/*.log"`)
	f("not a bool", r("max_bytes: 5Mi", "max_bytes: 5Mi, compress: maybe").Replace(opBase),
		`outputs[0].bulk.compress (line 10): must be true or false, got "maybe"`)
	f("transforms out of order", opBase+"transforms:\n  - { type: drop, field: log, pattern: x }\n  - { type: json }\n  - { type: level }\n  - { type: logfmt }\n  - { type: logfmt }\n",
		"transforms[1].type (line 13): a json transform must come before the drop, keep, throttle and fields transforms: it runs on the raw line, before them (move it above transforms[0])",
		"transforms[2].type (line 14): a level transform must come before the drop, keep, throttle and fields transforms: it runs on the raw line, before them (move it above transforms[0])",
		"transforms[2].type (line 14): a level transform must come after the parser transforms: it normalises what they parsed (move it below transforms[4])",
		"transforms[3].type (line 15): a logfmt transform must come before the drop, keep, throttle and fields transforms: it runs on the raw line, before them (move it above transforms[0])",
		"transforms[4].type (line 16): a second logfmt transform never runs: transforms[3] parses every line this one could",
		"transforms[4].type (line 16): a logfmt transform must come before the drop, keep, throttle and fields transforms: it runs on the raw line, before them (move it above transforms[0])")
	f("elasticsearch keys on a console output", opBase+"  - { name: out, type: console, urls: [http://x] }\n",
		"outputs[1].urls (line 11): not a key of a console output (only for elasticsearch)")
}

// TestSizes: Kubernetes quantities and IEC units, each with one meaning.
func TestSizes(t *testing.T) {
	for in, want := range map[string]int64{
		"256Mi": 256 << 20, "256MiB": 256 << 20, "1Gi": 1 << 30, "1GiB": 1 << 30, "64Ki": 64 << 10, "64KiB": 64 << 10,
		"500M": 500e6, "500MB": 500e6, "1G": 1e9, "1GB": 1e9, "64k": 64e3, "64kB": 64e3, "64KB": 64e3,
		"1024": 1024, "1024B": 1024, "1.5Mi": 3 << 19, " 5Mi ": 5 << 20,
	} {
		got, err := ParseByteSize(in)
		require.NoError(t, err, in)
		require.Equal(t, ByteSize(want), got, in)
	}
	for _, in := range []string{"64K", "lots", "-1", "1.5", "5MiBs", "1e6", "", "Mi", "5 Mb", "2Pi"} {
		_, err := ParseByteSize(in)
		require.Error(t, err, in)
	}
}

// TestWarnings: valid settings that are likely wrong are warnings, not
// errors. start_at: head on the node's logs is none: it is the shipped
// setting (docs/configuration.md, start_at).
func TestWarnings(t *testing.T) {
	raw := strings.NewReplacer(`"127.0.0.1:2020"`, "0.0.0.0:2020", "paths: [/x/*.log]", "paths: [/var/log/containers/*.log], start_at: head").Replace(opBase)
	cfg, err := Parse([]byte(raw), env(nil))
	require.NoError(t, err)
	require.Equal(t, []string{
		"http.listen (line 2): 0.0.0.0:2020 is reachable from other hosts and there is no http.token_file: /api/v1 (the logs CLI's tail and status) answers 403; /metrics and the probes stay open",
	}, cfg.Warnings)
	cfg, err = Parse([]byte(opBase), env(nil))
	require.NoError(t, err)
	require.Empty(t, cfg.Warnings)
}
