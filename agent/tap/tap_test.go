package tap

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/sluicelog/sluice/agent/budget"
	"github.com/sluicelog/sluice/agent/record"
)

// batch builds an encoded batch of src whose documents are the lines
// wrapped as {"log":"…"}.
func batch(src *record.Source, lines ...string) *record.Batch {
	b := record.NewBatch(src, nil)
	for _, l := range lines {
		b.Add(record.Record{}, []byte(l))
		b.Docs = append(b.Docs, `{"log":"`+l+`"}`...)
		b.DocEnds = append(b.DocEnds, int32(len(b.Docs)))
	}
	return b
}

var (
	apiSrc = &record.Source{Input: "containers", Namespace: "payments", Pod: "api-7d9f-x2x9q", Container: "api"}
	webSrc = &record.Source{Input: "containers", Namespace: "web", Pod: "frontend-1", Container: "nginx"}
	sysSrc = &record.Source{Input: "syslog"}
)

func drain(s *Subscriber) string {
	var out strings.Builder
	for {
		select {
		case c, ok := <-s.C():
			if !ok {
				return out.String()
			}
			_, _ = s.WriteMatching(&out, c)
		default:
			return out.String()
		}
	}
}

// next is the matching documents of s's next chunk.
func next(s *Subscriber) string {
	var out strings.Builder
	_, _ = s.WriteMatching(&out, <-s.C())
	return out.String()
}

func TestFilter(t *testing.T) {
	f := func(query, want string) {
		t.Helper()
		q, err := url.ParseQuery(query)
		require.NoError(t, err)
		flt, err := ParseFilter(q)
		require.NoError(t, err)
		h := NewHub(0, 0)
		s, err := h.Subscribe(flt)
		require.NoError(t, err)
		defer s.Unsubscribe()
		api := batch(apiSrc, "GET /pay 200", "GET /pay 500 error")
		api.Labels = map[string]string{"app": "api", "tier": "backend"}
		web := batch(webSrc, "GET / 200", "upstream error")
		web.Labels = map[string]string{"app": "web", "canary": "true"}
		h.Publish(api)
		h.Publish(web)
		h.Publish(batch(sysSrc, "sshd: error"))
		require.Equal(t, want, drain(s), "query %q", query)
	}
	all := `{"log":"GET /pay 200"}` + "\n" + `{"log":"GET /pay 500 error"}` + "\n" +
		`{"log":"GET / 200"}` + "\n" + `{"log":"upstream error"}` + "\n" + `{"log":"sshd: error"}` + "\n"
	f("", all)
	f("namespace=web", `{"log":"GET / 200"}`+"\n"+`{"log":"upstream error"}`+"\n")
	f("pod=^api-", `{"log":"GET /pay 200"}`+"\n"+`{"log":"GET /pay 500 error"}`+"\n")
	f("pod=^x2x9q", "")
	f("container=nginx&grep=error", `{"log":"upstream error"}`+"\n")
	f("grep=err(or)?$", `{"log":"GET /pay 500 error"}`+"\n"+`{"log":"upstream error"}`+"\n"+`{"log":"sshd: error"}`+"\n")
	f("input=syslog", `{"log":"sshd: error"}`+"\n")
	// The pods' own labels, as the agent's pod cache has them; a syslog
	// record has none, so only negative requirements match it.
	apiDocs := `{"log":"GET /pay 200"}` + "\n" + `{"log":"GET /pay 500 error"}` + "\n"
	webDocs := `{"log":"GET / 200"}` + "\n" + `{"log":"upstream error"}` + "\n"
	sysDocs := `{"log":"sshd: error"}` + "\n"
	f("labels=app=api", apiDocs)
	f("labels=app==web", webDocs)
	f("labels=app", apiDocs+webDocs)
	f("labels=app!=api", webDocs+sysDocs)
	f("labels=!canary", apiDocs+sysDocs)
	f("labels="+url.QueryEscape("app in (api,web),tier notin (db)"), apiDocs+webDocs)
	f("labels="+url.QueryEscape("app in (web), !canary"), "")
	f("labels="+url.QueryEscape("tier notin (backend)"), webDocs+sysDocs)
}

func TestParseFilter_Failure(t *testing.T) {
	f := func(query, wantErr string) {
		t.Helper()
		q, err := url.ParseQuery(query)
		require.NoError(t, err)
		_, err = ParseFilter(q)
		require.ErrorContains(t, err, wantErr)
	}
	f("pod=(", "pod: error parsing regexp")
	f("grep=[a", "grep: error parsing regexp")
	f("labels=a=b,,c", "labels: found ',', expected: identifier")
	f("labels=a b=c", "labels: unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt")
	f("labels=a=b=c", "labels: found '=', expected: ',' or 'end of string'")
	f("labels="+url.QueryEscape("app in (a"), "labels: unable to parse requirement: found '', expected: ',' or ')'")
	f("namespaces=x", `unknown parameter "namespaces"`)
}

func TestSelector(t *testing.T) {
	sel, err := ParseSelector("app = api, tier!=db,env==prod,team,!canary")
	require.NoError(t, err)
	require.True(t, sel.Matches(labels.Set{"app": "api", "tier": "web", "env": "prod", "team": "x"}))
	require.False(t, sel.Matches(labels.Set{"app": "api", "tier": "db", "env": "prod", "team": "x"}))
	require.False(t, sel.Matches(labels.Set{"app": "api", "env": "prod", "team": "x", "canary": "1"}))
	require.False(t, sel.Matches(labels.Set{"app": "api", "env": "prod"}))
	set, err := ParseSelector("app in (a, b), tier notin (x)")
	require.NoError(t, err)
	require.True(t, set.Matches(labels.Set{"app": "b"}))
	require.False(t, set.Matches(labels.Set{"app": "b", "tier": "x"}))
	require.False(t, set.Matches(labels.Set{"app": "c"}))
	empty, err := ParseSelector(" ")
	require.NoError(t, err)
	require.Nil(t, empty)
}

func TestSlowSubscriberDropped(t *testing.T) {
	h := NewHub(2, 0)
	slow, err := h.Subscribe(Filter{})
	require.NoError(t, err)
	fast, err := h.Subscribe(Filter{})
	require.NoError(t, err)
	require.True(t, h.Active())
	for i := range 5 {
		h.Publish(batch(apiSrc, "line"))
		if i < 4 {
			require.Equal(t, `{"log":"line"}`+"\n", next(fast))
		}
	}
	// slow never read: the third chunk found its buffer full.
	require.True(t, slow.Dropped())
	require.False(t, fast.Dropped())
	require.Equal(t, int64(1), h.Dropped())
	require.Equal(t, 1, h.Subscribers(), "its slot freed at once")
	_, ok := <-slow.C()
	require.False(t, ok, "closed, its queued chunks released")
	slow.Unsubscribe()
	require.Equal(t, 1, h.Subscribers())
	require.Positive(t, h.MemoryUsed(), "fast's last chunk is queued")
	fast.Unsubscribe()
	fast.Unsubscribe()
	require.False(t, h.Active())
	_, ok = <-fast.C()
	require.False(t, ok)
	require.Zero(t, h.MemoryUsed(), "every chunk released")
}

func TestTooManySubscribers(t *testing.T) {
	h := NewHub(1, 2)
	a, err := h.Subscribe(Filter{})
	require.NoError(t, err)
	_, err = h.Subscribe(Filter{})
	require.NoError(t, err)
	_, err = h.Subscribe(Filter{})
	require.ErrorIs(t, err, ErrTooMany)
	a.Unsubscribe()
	_, err = h.Subscribe(Filter{})
	require.NoError(t, err)
}

func TestPublishCopies(t *testing.T) {
	h := NewHub(4, 0)
	s, err := h.Subscribe(Filter{})
	require.NoError(t, err)
	b := batch(apiSrc, "abc")
	h.Publish(b)
	b.Docs[8] = 'X' // the batch is recycled and reused
	require.Equal(t, `{"log":"abc"}`+"\n", next(s))
	require.Zero(t, h.MemoryUsed())
}

// TestPublishEvaluatesNoPattern: Publish queues a batch for every
// subscriber whose exact names match, without running pod or grep
// patterns; the subscriber's own WriteMatching does, and drops what they
// reject.
func TestPublishEvaluatesNoPattern(t *testing.T) {
	h := NewHub(4, 0)
	q, err := url.ParseQuery("namespace=payments&pod=^nomatch$&grep=nomatch")
	require.NoError(t, err)
	flt, err := ParseFilter(q)
	require.NoError(t, err)
	s, err := h.Subscribe(flt)
	require.NoError(t, err)
	h.Publish(batch(webSrc, "other namespace"))
	require.Empty(t, s.C(), "exact names are compared on publish")
	h.Publish(batch(apiSrc, "line"))
	require.Len(t, s.C(), 1, "queued: the patterns were not evaluated")
	require.Positive(t, h.MemoryUsed())
	require.Empty(t, next(s), "the subscriber's goroutine rejects it")
	require.Zero(t, h.MemoryUsed())
	s.Unsubscribe()
}

// TestMemoryBoundsWhatSubscribersHold: subscribers that do not read hold
// at most the hub's budget (plus the chunk that finds it full); they are
// dropped, and a new one that reads gets everything.
func TestMemoryBoundsWhatSubscribersHold(t *testing.T) {
	const limit = 1 << 20
	h := NewHub(0, 0)
	h.SetMemory(budget.New(limit))
	var stalled []*Subscriber
	for range 8 {
		s, err := h.Subscribe(Filter{})
		require.NoError(t, err)
		stalled = append(stalled, s)
	}
	line := strings.Repeat("x", 1000)
	lines := make([]string, 64)
	for i := range lines {
		lines[i] = line
	}
	var peak int64
	for range 200 {
		h.Publish(batch(apiSrc, lines...))
		peak = max(peak, h.MemoryUsed())
	}
	require.LessOrEqual(t, peak, int64(limit), "never over the budget")
	for i, s := range stalled {
		require.True(t, s.Dropped(), "stalled subscriber %d dropped", i)
		s.Unsubscribe()
	}
	require.Zero(t, h.MemoryUsed())
	require.Equal(t, int64(len(stalled)), h.Dropped())

	reader, err := h.Subscribe(Filter{})
	require.NoError(t, err)
	for range 50 {
		h.Publish(batch(apiSrc, lines...))
		require.Len(t, next(reader), 64*(len(`{"log":""}`)+1+len(line)))
	}
	require.False(t, reader.Dropped())
	reader.Unsubscribe()
	require.Zero(t, h.MemoryUsed())
}

func TestFilterLimits(t *testing.T) {
	f := func(query, wantErr string) {
		t.Helper()
		q, err := url.ParseQuery(query)
		require.NoError(t, err)
		_, err = ParseFilter(q)
		require.ErrorContains(t, err, wantErr)
	}
	f("grep="+strings.Repeat("a", MaxValueBytes+1), "grep: 1025 bytes, over the limit of 1024")
	f("namespace="+strings.Repeat("a", MaxValueBytes+1), "namespace: 1025 bytes")
	f("grep=a{1001}", "grep: error parsing regexp")
	f("grep=(a|b|c|d|e|f){1000}", "grep: pattern compiles to 3002 instructions, over the limit of 2000")
	f("grep=(ab|cd){500}x", "grep: pattern compiles to")
	f("pod=[a-z]{999}[0-9]{999}x{50}", "pod: pattern compiles to")
	f("grep=a&grep=b", "grep: given 2 times")
	// Within the limits: a literal of the largest size, an alternation of
	// 80 words.
	q := url.Values{"grep": {strings.Repeat("a", MaxValueBytes)}}
	_, err := ParseFilter(q)
	require.NoError(t, err)
	words := make([]string, 80)
	for i := range words {
		words[i] = "word" + strings.Repeat("x", i%7)
	}
	_, err = ParseFilter(url.Values{"grep": {strings.Join(words, "|")}})
	require.NoError(t, err)
}
