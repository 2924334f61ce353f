package transform

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/record"
)

func TestDropKeep(t *testing.T) {
	lines := []string{
		`{"level":"debug","msg":"d1"}`,
		`{"level":"info","msg":"i1","http":{"path":"/healthz"}}`,
		`{"level":"ERROR","msg":"e1"}`,
		`plain text with token=abc`,
		`{"level":"info","msg":"i2","http":{"path":"/api/orders"}}`,
	}
	syslogSrc := &record.Source{Input: "syslog"}
	for _, tc := range []struct {
		name, transforms string
		src              *record.Source
		want             []string
		dropped          int64
	}{
		{"drop by level", `  - { type: drop, name: t, field: level, pattern: "^debug$" }`, apiSource,
			[]string{"i1", "e1", "plain text with token=abc", "i2"}, 1},
		{"drop by dotted path", `  - { type: drop, name: t, field: http.path, pattern: "^/healthz$" }`, apiSource,
			[]string{"d1", "e1", "plain text with token=abc", "i2"}, 1},
		{"drop by log", `  - { type: drop, name: t, field: log, pattern: "token=" }`, apiSource,
			[]string{"d1", "i1", "e1", "i2"}, 1},
		{"keep by level: a missing field does not match", `  - { type: keep, name: t, field: level, pattern: "(?i)^(error|warn)" }`, apiSource,
			[]string{"e1"}, 4},
		{"drop namespace", `  - { type: drop, name: t, namespaces: [kube-system, "pay*"] }`, apiSource, nil, 5},
		{"drop namespace, other namespace", `  - { type: drop, name: t, namespaces: [kube-system] }`, apiSource,
			[]string{"d1", "i1", "e1", "plain text with token=abc", "i2"}, 0},
		{"keep namespaces drops records without one", `  - { type: keep, name: t, namespaces: [payments] }`, syslogSrc, nil, 5},
		{"drop by label selector", `  - { type: drop, name: t, labels: "app=api,tier in (web)" }`, apiSource, nil, 5},
		{"drop by label selector, no match", `  - { type: drop, name: t, labels: "app.kubernetes.io/name=web" }`, apiSource,
			[]string{"d1", "i1", "e1", "plain text with token=abc", "i2"}, 0},
		{"keep by label and field", `  - { type: keep, name: t, labels: "app", field: msg, pattern: "^i" }`, apiSource,
			[]string{"i1", "i2"}, 3},
		{"match limits the scope", `  - { type: drop, name: t, match: { namespaces: [web] }, field: level, pattern: "." }`, apiSource,
			[]string{"d1", "i1", "e1", "plain text with token=abc", "i2"}, 0},
		{"match by input", `  - { type: drop, name: t, match: { inputs: [containers], containers: [api] }, field: level, pattern: "debug" }`, apiSource,
			[]string{"i1", "e1", "plain text with token=abc", "i2"}, 1},
		{"drop all of a match", `  - { type: drop, name: t, match: { inputs: [syslog] } }`, syslogSrc, nil, 5},
		{"two in a row", "  - { type: drop, name: t, field: level, pattern: debug }\n  - { type: drop, name: u, field: msg, pattern: \"^i\" }", apiSource,
			[]string{"e1", "plain text with token=abc"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.transforms+"\n")
			require.Equal(t, tc.want, logs(f.run(tc.src, lines...)))
			require.Equal(t, tc.dropped, f.stats("t").Dropped)
		})
	}
}

func TestSelector(t *testing.T) {
	for _, tc := range []struct {
		sel  string
		want bool
	}{
		{"app=api", true}, {"app==api", true}, {"app!=api", false}, {"app=web", false},
		{"app in (web,api)", true}, {"app notin (web,api)", false}, {"missing notin (a)", true},
		{"app", true}, {"!app", false}, {"!missing", true}, {"missing", false},
		{"app.kubernetes.io/name=api", true}, {"replicas>2", true}, {"replicas<3", false},
		{"app=api,tier=db", false}, {"app=api,tier=web", true},
	} {
		s, err := NewSelector(tc.sel)
		require.NoError(t, err, tc.sel)
		require.Equal(t, tc.want, s.Matches([]byte(podMetaJSON)), tc.sel)
	}
	s, _ := NewSelector("app=api")
	require.False(t, s.Matches(nil), "no metadata: no labels")
	require.False(t, s.Matches([]byte(`{"namespace_name":"x"}`)))
	_, err := NewSelector("app in (")
	require.Error(t, err)
}

func TestMatch(t *testing.T) {
	src := &record.Source{Input: "containers", Namespace: "payments", Pod: "api-7d9f-x", Container: "istio-proxy", Meta: []byte(podMetaJSON)}
	for _, tc := range []struct {
		match string
		want  bool
	}{
		{`{ inputs: [containers] }`, true}, {`{ inputs: [syslog] }`, false},
		{`{ namespaces: [web, payments] }`, true}, {`{ namespaces: ["pay*"] }`, true}, {`{ namespaces: ["*ments"] }`, true},
		{`{ namespaces: ["p*e*s"] }`, true}, {`{ namespaces: [pay] }`, false},
		{`{ pods: ["api-*"] }`, true}, {`{ containers: [api] }`, false}, {`{ containers: ["istio-*", api] }`, true},
		{`{ labels: "tier=web" }`, true}, {`{ namespaces: [payments], labels: "tier=db" }`, false},
	} {
		cfg := parse(t, "")
		_ = cfg
		m := mustMatch(t, tc.match)
		b := record.NewBatch(src, nil)
		require.Equal(t, tc.want, m.Match(b), tc.match)
	}
	// Syslog records have no namespace: no namespace pattern takes them.
	m := mustMatch(t, `{ namespaces: ["*"] }`)
	require.False(t, m.Match(record.NewBatch(&record.Source{Input: "syslog"}, nil)))
	var none *Match
	require.True(t, none.Match(record.NewBatch(nil, nil)))
}

func mustMatch(t *testing.T, m string) *Match {
	t.Helper()
	cfg := parse(t, "  - { type: drop, match: "+m+" }\n")
	mm, err := NewMatch(cfg.Transforms[1].Filter().Match)
	require.NoError(t, err)
	return mm
}

func TestFields(t *testing.T) {
	const meta = `"kubernetes":{"namespace_name":"payments","pod_name":"api-1","container_name":"api","host":"node-1","labels":{"app":"api","app.kubernetes.io/name":"api","tier":"web","replicas":"3"}}`
	const ts = `"@timestamp":"1970-01-01T00:00:00.000000001Z","stream":"stdout"`
	for _, tc := range []struct {
		name, fields, line, want string
	}{
		{"add static and env, nested",
			`add: { env: prod, "cluster.name": x }, add_env: { "cluster.region": CLUSTER }`,
			`{"msg":"hi"}`,
			`{` + ts + `,"msg":"hi",` + meta + `,"cluster":{"name":"x","region":"prod-eu"},"env":"prod"}`},
		{"add replaces and descends",
			`add: { "http.status": "200", msg: bye }`,
			`{"msg":"hi","http":{"method":"GET"}}`,
			`{` + ts + `,"msg":"bye","http":{"method":"GET","status":"200"},` + meta + `}`},
		{"add over a scalar makes an object",
			`add: { "user.id": u1 }`,
			`{"user":"bob"}`,
			`{` + ts + `,"user":{"id":"u1"},` + meta + `}`},
		{"remove top, nested, first member, missing",
			`remove: [stream, "http.method", nope, kubernetes.labels.app]`,
			`{"msg":"hi","http":{"method":"GET","status":200}}`,
			`{"@timestamp":"1970-01-01T00:00:00.000000001Z","msg":"hi","http":{"status":200},"kubernetes":{"namespace_name":"payments","pod_name":"api-1","container_name":"api","host":"node-1","labels":{"app.kubernetes.io/name":"api","tier":"web","replicas":"3"}}}`},
		{"remove the only member",
			`remove: [http.method]`,
			`{"http":{"method":"GET"}}`,
			`{` + ts + `,"http":{},` + meta + `}`},
		{"rename into a new object (renames in key order)",
			`rename: { msg: message, "http.status": "response.code" }`,
			`{"msg":"hi","http":{"status":200}}`,
			`{` + ts + `,"http":{},` + meta + `,"response":{"code":200},"message":"hi"}`},
		{"redact in log and in an escaped value",
			`redact: [{ field: log, pattern: "token=\\w+", replacement: "token=***" }, { field: card, pattern: "\\d{12}(\\d{4})", replacement: "************$1" }]`,
			`{"card":"4111111111111111","note":"a \"quoted\" token=zz"}`,
			`{` + ts + `,"card":"************1111","note":"a \"quoted\" token=zz",` + meta + `}`},
		{"redact a plain line",
			`redact: [{ field: log, pattern: "token=\\w+", replacement: "token=***" }]`,
			`GET /?token=s3cret&x=1 "quoted\ttab"`,
			`{` + ts + `,"log":"GET /?token=***&x=1 \"quoted\\ttab\"",` + meta + `}`},
		{"dedot labels",
			`dedot: [kubernetes.labels]`,
			`{"msg":"hi"}`,
			`{` + ts + `,"msg":"hi","kubernetes":{"namespace_name":"payments","pod_name":"api-1","container_name":"api","host":"node-1","labels":{"app":"api","app_kubernetes_io/name":"api","tier":"web","replicas":"3"}}}`},
		{"nothing to do",
			`remove: [nope], redact: [{ field: log, pattern: "token=" , replacement: x }]`,
			`{"msg":"hi"}`,
			`{` + ts + `,"msg":"hi",` + meta + `}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, "  - { type: fields, name: t, "+tc.fields+" }\n")
			docs := f.run(apiSource, tc.line, `{"msg":"second"}`)
			require.JSONEq(t, tc.want, docs[0])
			require.Equal(t, tc.want, docs[0], "member order and bytes")
			require.True(t, json.Valid([]byte(docs[1])), docs[1])
		})
	}
}

func TestFieldsWithDrops(t *testing.T) {
	// A drop before and after an edit that moves documents: the survivors
	// keep their own edited documents, in order.
	f := newFixture(t, `  - { type: drop, name: a, field: msg, pattern: "^x" }
  - { type: fields, name: f, add: { tag: t1 } }
  - { type: drop, name: b, field: msg, pattern: "^y" }
`)
	docs := f.run(apiSource, `{"msg":"x1"}`, `{"msg":"k1"}`, `{"msg":"y1"}`, `{"msg":"k2"}`, `{"msg":"x2"}`)
	require.Equal(t, []string{"k1", "k2"}, logs(docs))
	for _, d := range docs {
		require.Contains(t, d, `"tag":"t1"}`)
	}
	require.Equal(t, int64(2), f.stats("a").Dropped)
	require.Equal(t, int64(1), f.stats("b").Dropped)
	require.Equal(t, int64(3), f.stats("f").Edited)
}

func TestThrottlePerPod(t *testing.T) {
	f := newFixture(t, "  - { type: throttle, name: t, rate: 10, burst: 20, summary_interval: 1s }\n")
	lines := make([]string, 50)
	for i := range lines {
		lines[i] = `{"msg":"m` + string(rune('a'+i%26)) + `"}`
	}
	other := &record.Source{Input: "containers", Namespace: "web", Pod: "web-1", Container: "nginx"}

	require.Len(t, f.run(apiSource, lines...), 20, "the burst")
	require.Len(t, f.run(other, lines[:20]...), 20, "another pod has its own bucket")
	require.Empty(t, f.run(apiSource, lines[:5]...), "no token left")
	f.clock.advance(time.Second)
	require.Len(t, f.run(apiSource, lines...), 10, "rate 10/s")
	f.clock.advance(100 * time.Hour)
	require.Len(t, f.run(apiSource, lines...), 20, "refill stops at burst")

	st := f.stats("t")
	require.Equal(t, int64(30+5+40+30), st.Dropped)
	require.Equal(t, 2, st.Keys)
	require.Equal(t, []KeyDrops{{"payments/api-1", 105}}, st.Top)

	// One summary per key that lost records, routed like the pod's records.
	var s sink
	f.chain.throttles[0].report(context.Background(), &s)
	require.Len(t, s.docs, 1)
	require.JSONEq(t, `{"@timestamp":"2027-01-15T08:00:00.000000000Z",
		"log":"sluice throttle t dropped 105 records of pod payments/api-1 in the last 1s (limit 10/s, burst 20)",
		"level":"warn",
		"sluice":{"throttle":{"transform":"t","key_type":"pod","key":"payments/api-1","dropped":105,"interval_seconds":1,"rate":10,"burst":20}},
		"kubernetes":`+podMetaJSON+`}`, s.docs[0])
	require.Equal(t, "payments", s.srcs[0].Namespace)
	require.Equal(t, "api-1", s.srcs[0].Pod)
	require.True(t, IsSummary(s.srcs[0]))
	f.chain.throttles[0].report(context.Background(), &s)
	require.Len(t, s.docs, 1, "nothing new dropped: no summary")

	// Summaries pass the filters, even the throttle itself.
	sb := record.NewBatch(s.srcs[0], nil)
	sb.Add(record.Record{Offset: -1}, []byte("x"))
	sb.Docs, sb.DocEnds = append(sb.Docs, s.docs[0]...), append(sb.DocEnds, int32(len(s.docs[0])))
	f.w.Transform(sb)
	require.Len(t, sb.Records, 1)
}

func TestThrottleKeys(t *testing.T) {
	a := &record.Source{Input: "containers", Namespace: "payments", Pod: "api-1", Container: "api"}
	b := &record.Source{Input: "containers", Namespace: "payments", Pod: "api-2", Container: "api"}
	lines := []string{`{"user":"u1"}`, `{"user":"u2"}`, `{"user":"u1"}`, `{"user":"u1"}`, `{"other":1}`, `{"other":2}`}

	f := newFixture(t, "  - { type: throttle, name: t, key: namespace, rate: 1, burst: 3 }\n")
	require.Len(t, f.run(a, lines[:2]...), 2)
	require.Len(t, f.run(b, lines[:2]...), 1, "same namespace, same bucket")
	require.Len(t, f.run(&record.Source{Input: "syslog"}, lines...), 3, "syslog: a bucket per input")

	f = newFixture(t, "  - { type: throttle, name: t, key: field, field: user, rate: 1, burst: 2 }\n")
	docs := f.run(a, lines...)
	// u1: 2 of 3; u2: 1; the two without the field share the "" key: 2.
	require.Len(t, docs, 5)
	top := f.stats("t").Top
	require.Equal(t, []KeyDrops{{"u1", 1}}, top)

	// Past max_keys the rest share one bucket.
	f = newFixture(t, "  - { type: throttle, name: t, key: field, field: user, rate: 1, burst: 1, max_keys: 2 }\n")
	docs = f.run(a, `{"user":"a"}`, `{"user":"b"}`, `{"user":"c"}`, `{"user":"d"}`, `{"user":"e"}`)
	require.Len(t, docs, 3, "a, b and the first of the overflow")
	st := f.stats("t")
	require.Equal(t, 2, st.Keys)
	require.Equal(t, []KeyDrops{{"_other", 2}}, st.Top)
}

func TestThrottleRetire(t *testing.T) {
	f := newFixture(t, "  - { type: throttle, name: t, rate: 1, burst: 1, max_keys: 4, summary_interval: 1s }\n")
	for _, pod := range []string{"a", "b", "c", "d"} {
		f.run(&record.Source{Namespace: "ns", Pod: pod}, `{"m":1}`, `{"m":2}`)
	}
	f.clock.advance(10 * time.Second)
	f.run(&record.Source{Namespace: "ns", Pod: "a"}, `{"m":1}`)
	var s sink
	f.chain.throttles[0].report(context.Background(), &s)
	require.Len(t, s.docs, 4, "every key's drops reported before it is retired")
	require.Equal(t, 1, f.stats("t").Keys, "only the active key is kept")
	f.run(&record.Source{Namespace: "ns", Pod: "e"}, `{"m":1}`)
	require.Equal(t, 2, f.stats("t").Keys)
}

func TestReporterFlushesOnStop(t *testing.T) {
	f := newFixture(t, "  - { type: throttle, name: t, rate: 1, burst: 1, summary_interval: 1h }\n")
	f.run(apiSource, `{"m":1}`, `{"m":2}`, `{"m":3}`)
	var s sink
	r := f.chain.Reporter(&s)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	cancel()
	require.NoError(t, <-done)
	require.Len(t, s.docs, 1)
	require.Contains(t, s.docs[0], `"dropped":2`)
}

func TestNoChain(t *testing.T) {
	c, err := New(parse(t, "").Transforms, Options{})
	require.NoError(t, err)
	require.Nil(t, c)
	require.Nil(t, c.Reporter(&sink{}))
	require.Nil(t, c.Stats())
	w := c.NewWorker()
	b := record.NewBatch(apiSource, nil)
	b.Add(record.Record{}, []byte("x"))
	w.Transform(b) // no-op
	require.Len(t, b.Records, 1)
}

func TestAddEnvUnset(t *testing.T) {
	cfg := parse(t, "  - { type: fields, add_env: { region: NOPE_NOT_SET } }\n")
	_, err := New(cfg.Transforms, Options{LookupEnv: func(string) (string, bool) { return "", false }})
	require.ErrorContains(t, err, "transform fields_1: add_env region: environment variable NOPE_NOT_SET is not set")
}

// Workers share buckets through atomics only: whatever the interleaving,
// a key lets exactly its burst through while the clock stands still, and
// keys added concurrently each get one bucket.
func TestThrottleConcurrent(t *testing.T) {
	f := newFixture(t, "  - { type: throttle, name: t, rate: 1, burst: 300 }\n")
	var passed atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := f.chain.NewWorker()
			for i := range 50 {
				src := &record.Source{Namespace: "ns", Pod: "pod-" + strconv.Itoa(i%5)}
				b := f.batch(src, `{"m":1}`, `{"m":2}`, `{"m":3}`, `{"m":4}`, `{"m":5}`, `{"m":6}`, `{"m":7}`, `{"m":8}`, `{"m":9}`, `{"m":10}`)
				w.Transform(b)
				passed.Add(int64(len(b.Records)))
			}
		}()
	}
	wg.Wait()
	require.Equal(t, int64(4*50*10), passed.Load()+f.stats("t").Dropped)
	require.Equal(t, int64(5*300), passed.Load(), "each of 5 pods sent 400 and its burst of 300 passed")
	require.Equal(t, 5, f.stats("t").Keys)
}
