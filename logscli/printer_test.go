package logscli

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/logscli/entry"
)

func mustEntry(t *testing.T, s string) *entry.Entry {
	t.Helper()
	e, err := entry.Parse([]byte(s))
	require.NoError(t, err)
	return e
}

func TestPrinterFormats(t *testing.T) {
	k8s := mustEntry(t, `{"@timestamp":"2026-11-25T10:00:00.5Z","log":"hello","kubernetes":{"namespace_name":"ns","pod_name":"p-1","container_name":"c"}}`)
	sys := mustEntry(t, `{"@timestamp":"2026-11-25T10:00:01Z","log":"su: failed","syslog":{"hostname":"db1","app_name":"su"}}`)
	for _, tc := range []struct {
		format string
		color  bool
		ts     string
		want   string
	}{
		{"text", false, "", "ns/p-1 c │ hello\nsyslog/db1 su │ su: failed\n"},
		{"text", false, "default", "2026-11-25T10:00:00.500000000Z ns/p-1 c │ hello\n2026-11-25T10:00:01.000000000Z syslog/db1 su │ su: failed\n"},
		{"text", true, "", "\x1b[" + colorOf("ns/p-1 c") + "mns/p-1 c\x1b[0m │ hello\n\x1b[" + colorOf("syslog/db1 su") + "msyslog/db1 su\x1b[0m │ su: failed\n"},
		{"raw", false, "", "hello\nsu: failed\n"},
		{"json", false, "", string(k8s.Raw) + "\n" + string(sys.Raw) + "\n"},
	} {
		var b bytes.Buffer
		p := newPrinter(&b, tc.format, tc.color, tc.ts, time.UTC, "sluice_id")
		require.NoError(t, p.print(k8s))
		require.NoError(t, p.print(sys))
		require.NoError(t, p.flush())
		require.Equal(t, tc.want, b.String(), "%+v", tc)
	}
	require.Equal(t, colorOf("ns/p-1 c"), colorOf("ns/p-1 sidecar"), "a pod's containers share its colour")
}
