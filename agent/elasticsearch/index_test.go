package elasticsearch

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/agent/record/stream"
)

func TestIndexTemplate(t *testing.T) {
	src := &record.Source{Input: "containers", Namespace: "Payments", Pod: "api-7d9f", Container: "api", ContainerID: "containerd://abc"}
	at := time.Date(2026, 3, 7, 9, 59, 59, 999999999, time.UTC).UnixNano()
	f := func(tmpl string, src *record.Source, st stream.Stream, ns int64, want string) {
		t.Helper()
		it, err := compileIndex(tmpl)
		require.NoError(t, err)
		require.Equal(t, want, string(it.appendIndex([]byte("prefix:"), src, st, ns))[len("prefix:"):])
	}
	f("logs-{kubernetes.namespace_name}-%Y.%m.%d", src, stream.Stdout, at, "logs-payments-2026.03.07")
	f("logs-%Y.%m.%d.%H", src, stream.Stdout, at, "logs-2026.03.07.09")
	f("{kubernetes.pod_name}_{kubernetes.container_name}", src, stream.Stdout, at, "api-7d9f_api")
	f("c-{kubernetes.container_id}", src, stream.Stdout, at, "c-containerd___abc")
	f("{input}-{stream}", src, stream.Stderr, at, "containers-stderr")
	// Empty values become "unknown".
	f("{input}-{stream}-{kubernetes.namespace_name}", &record.Source{}, stream.Unknown, at, "unknown-unknown-unknown")
	// Upper case is lowered; characters ES forbids become '_'.
	f(`Logs-A\B/C*D?E"F<G>H|I,J#K:L M`, src, 0, at, "logs-a_b_c_d_e_f_g_h_i_j_k_l_m")
	f("ns-{kubernetes.namespace_name}", &record.Source{Namespace: "A B\tC\x00"}, 0, at, "ns-a_b_c_")
	f("100%%-%Y", src, 0, at, "100%-2026")
	// Before 1970 and far ahead.
	f("%Y.%m.%d.%H", src, 0, time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC).UnixNano(), "1969.12.31.23")
	f("%Y.%m.%d", src, 0, time.Date(2262, 4, 11, 0, 0, 0, 0, time.UTC).UnixNano(), "2262.04.11")
	// Names are cut at 255 bytes, never inside a UTF-8 sequence.
	f("{kubernetes.pod_name}", &record.Source{Pod: strings.Repeat("a", 300)}, 0, at, strings.Repeat("a", 255))
	f("{kubernetes.pod_name}", &record.Source{Pod: strings.Repeat("a", 254) + "é"}, 0, at, strings.Repeat("a", 254))
}

func TestIndexTemplateErrors(t *testing.T) {
	f := func(tmpl, want string) {
		t.Helper()
		_, err := compileIndex(tmpl)
		require.EqualError(t, err, want)
	}
	f("", "index: must not be empty")
	f("logs-{pod}", `index "logs-{pod}": unknown field {pod} (known: kubernetes.namespace_name, kubernetes.pod_name, kubernetes.container_name, kubernetes.container_id, stream, input)`)
	f("logs-{kubernetes.pod_name", `index "logs-{kubernetes.pod_name": unterminated { at byte 5`)
	f("logs-%y", `index "logs-%y": unknown date verb %y (known: %Y %m %d %H)`)
	f("logs-%", `index "logs-%": lone % at the end (write %% for a literal %)`)
}

func TestIndexCache(t *testing.T) {
	it, err := compileIndex("logs-{kubernetes.namespace_name}-{stream}-%Y.%m.%d")
	require.NoError(t, err)
	a := &record.Source{Namespace: "a"}
	b := &record.Source{Namespace: "b"}
	day := time.Date(2026, 11, 25, 23, 59, 59, 0, time.UTC).UnixNano()
	next := day + int64(time.Second)
	var c indexCache
	f := func(src *record.Source, st stream.Stream, ns int64, want string) {
		t.Helper()
		require.Equal(t, want, string(c.lookup(it, src, st, ns)))
	}
	f(a, stream.Stdout, day, "logs-a-stdout-2026.11.25")
	f(a, stream.Stdout, day-int64(time.Hour), "logs-a-stdout-2026.11.25")
	f(a, stream.Stderr, day, "logs-a-stderr-2026.11.25")
	f(a, stream.Stderr, next, "logs-a-stderr-2026.11.26")
	f(b, stream.Stderr, next, "logs-b-stderr-2026.11.26")
	f(a, stream.Stderr, next, "logs-a-stderr-2026.11.26")
	// Without {stream}, records of both streams share a name.
	it2, err := compileIndex("x-%Y")
	require.NoError(t, err)
	var c2 indexCache
	require.Equal(t, "x-2026", string(c2.lookup(it2, a, stream.Stdout, day)))
	require.Equal(t, "x-2026", string(c2.lookup(it2, a, stream.Stderr, day)))
	require.Equal(t, "x-1969", string(c2.lookup(it2, a, stream.Stderr, -1)))
}
