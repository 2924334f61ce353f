package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const syslogBase = "data_dir: /tmp/x\noutputs: [{ name: o, type: console }]\ninputs:\n"

func TestParseSyslogGood(t *testing.T) {
	// The DESIGN.md line, with every default filled in.
	cfg, err := Parse([]byte(syslogBase+"  - { name: syslog, type: syslog, tcp: 0.0.0.0:5140, udp: 0.0.0.0:5140, format: auto }\n"), env(nil))
	require.NoError(t, err)
	in := cfg.Inputs[0]
	require.Equal(t, "0.0.0.0:5140", in.TCP)
	require.Equal(t, "0.0.0.0:5140", in.UDP)
	require.Equal(t, "auto", in.Format)
	require.Equal(t, ByteSize(64<<10), in.MaxMessageBytes)
	require.Equal(t, 1024, in.MaxConnections)
	require.Equal(t, 10*time.Minute, in.IdleTimeout.Duration())
	require.GreaterOrEqual(t, in.UDPReaders, 1)
	require.Equal(t, 10*time.Second, in.HandshakeTimeout.Duration())
	require.Equal(t, ByteSize(8<<20), in.UDPReceiveBuffer)

	raw, f := withFiles(t, syslogBase+`  - name: s
    type: syslog
    tcp: "[::1]:6514"
    format: rfc5424
    max_message_bytes: 1MiB
    max_connections: 10
    idle_timeout: 30s
    udp_readers: 2
    batch_bytes: 8KiB
    tls: { cert_file: /etc/tls.crt, key_file: /etc/tls.key }
    handshake_timeout: 2s
    udp_receive_buffer: 256KiB
`, "/etc/tls.crt", "/etc/tls.key")
	cfg, err = Parse([]byte(raw), env(nil))
	require.NoError(t, err)
	in = cfg.Inputs[0]
	require.Empty(t, in.UDP)
	require.Equal(t, "rfc5424", in.Format)
	require.Equal(t, ByteSize(1<<20), in.MaxMessageBytes)
	require.Equal(t, 10, in.MaxConnections)
	require.Equal(t, 30*time.Second, in.IdleTimeout.Duration())
	require.Equal(t, 2, in.UDPReaders)
	require.Equal(t, TLS{CertFile: f["/etc/tls.crt"], KeyFile: f["/etc/tls.key"]}, in.TLS)
	require.Equal(t, 2*time.Second, in.HandshakeTimeout.Duration())
	require.Equal(t, ByteSize(256<<10), in.UDPReceiveBuffer)
	require.Equal(t, ByteSize(8<<10), in.BatchBytes, "a syslog key too (docs/configuration.md, collector/syslog)")
}

func TestParseSyslogBad(t *testing.T) {
	f := func(input string, wantErr ...string) {
		t.Helper()
		_, err := Parse([]byte(syslogBase+input), env(nil))
		require.Error(t, err)
		for _, w := range wantErr {
			require.ErrorContains(t, err, w)
		}
	}
	f("  - { name: s, type: syslog }\n", "inputs[0].tcp (line 4): a syslog input needs tcp, udp or both")
	f("  - { name: s, type: syslog, tcp: 5140 }\n", "inputs[0].tcp (line 4): must be host:port", `"5140"`)
	f("  - { name: s, type: syslog, udp: \"host:\" }\n", "inputs[0].udp (line 4): must be host:port")
	f("  - { name: s, type: syslog, tcp: \":5140\", format: rfc6587 }\n", `inputs[0].format (line 4): must be auto, rfc3164 or rfc5424, got "rfc6587"`)
	f("  - { name: s, type: syslog, tcp: \":5140\", max_message_bytes: 100 }\n", "inputs[0].max_message_bytes (line 4): must be between 480B and 16MiB, got 100 bytes")
	f("  - { name: s, type: syslog, tcp: \":5140\", max_message_bytes: 1GiB }\n", "inputs[0].max_message_bytes (line 4)")
	f("  - { name: s, type: syslog, tcp: \":5140\", handshake_timeout: -1s }\n", "inputs[0].handshake_timeout (line 4): must be at least 1ms")
	f("  - { name: s, type: syslog, udp: \":5140\", udp_receive_buffer: 100 }\n", "inputs[0].udp_receive_buffer (line 4): must be between 4KiB and 1GiB, got 100 bytes")
	f("  - { name: s, type: syslog, tcp: \":5140\", max_connections: -1 }\n", "inputs[0].max_connections (line 4): must be at least 1, got -1")
	f("  - { name: s, type: syslog, tcp: \":5140\", idle_timeout: -1s }\n", "inputs[0].idle_timeout (line 4): must not be negative")
	f("  - { name: s, type: syslog, udp: \":5140\", udp_readers: 1000 }\n", "inputs[0].udp_readers (line 4): must be between 1 and 256, got 1000")
	f("  - { name: s, type: syslog, tcp: \":5140\", tls: { cert_file: /x } }\n", "inputs[0].tls (line 4): cert_file and key_file must be set together")
	f("  - { name: s, type: syslog, udp: \":5140\", tls: { cert_file: /x, key_file: /y } }\n", "inputs[0].tls (line 4): tls needs a tcp listener")
	f("  - { name: s, type: syslog, tcp: \":5140\", tls: { cert: /x } }\n", "inputs[0].tls.cert (line 4): unknown key (known: cert_file, key_file)")
}

func TestSpoolDefaultsAndProblems(t *testing.T) {
	cfg, err := Parse([]byte("data_dir: /tmp/x\ninputs:\n  - { name: s, type: syslog, tcp: 127.0.0.1:5140, spool: {} }\noutputs: [{ name: o, type: console }]\n"), env(nil))
	require.NoError(t, err)
	require.Equal(t, &Spool{MaxBytes: 1 << 30, Sync: "interval", SyncInterval: Duration(time.Second), WhenFull: "block"}, cfg.Inputs[0].Spool)

	_, err = Parse([]byte("data_dir: /tmp/x\ninputs:\n  - name: s\n    type: syslog\n    tcp: 127.0.0.1:5140\n    spool:\n      max_bytes: 1KiB\n      sync: sometimes\n      when_full: panic\n  - { name: c, type: container_logs, paths: [/x/*.log], spool: {} }\noutputs: [{ name: o, type: console }]\n"), env(nil))
	require.ErrorContains(t, err, "inputs[0].spool.max_bytes (line 7): must be at least 1MiB")
	require.ErrorContains(t, err, "inputs[0].spool.sync (line 8): must be interval or batch")
	require.ErrorContains(t, err, "inputs[0].spool.when_full (line 9): must be block, drop_newest or drop_oldest")
	require.ErrorContains(t, err, "inputs[1].spool (line 10): not a key of a container_logs input")
}
