package tap

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

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
			out.Write(c)
		default:
			return out.String()
		}
	}
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
		h.Publish(batch(apiSrc, "GET /pay 200", "GET /pay 500 error"))
		h.Publish(batch(webSrc, "GET / 200", "upstream error"))
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
	// No record has labels yet: negative requirements match, positive ones do not.
	f("labels=app!=api,!tier", all)
	f("labels=app=api", "")
	f("labels=app", "")
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
	f("labels=a=b,,c", "labels: empty requirement")
	f("labels=a b=c", `labels: bad label key "a b"`)
	f("labels=a=b=c", `bad label value "b=c"`)
	f("namespaces=x", `unknown parameter "namespaces"`)
}

func TestSelector(t *testing.T) {
	sel, err := ParseSelector("app = api, tier!=db,env==prod,team,!canary")
	require.NoError(t, err)
	require.Equal(t, Selector{
		{Key: "app", Op: "=", Value: "api"}, {Key: "tier", Op: "!=", Value: "db"},
		{Key: "env", Op: "=", Value: "prod"}, {Key: "team", Op: "exists"}, {Key: "canary", Op: "!exists"},
	}, sel)
	require.True(t, sel.Matches(map[string]string{"app": "api", "tier": "web", "env": "prod", "team": "x"}))
	require.False(t, sel.Matches(map[string]string{"app": "api", "tier": "db", "env": "prod", "team": "x"}))
	require.False(t, sel.Matches(map[string]string{"app": "api", "env": "prod", "team": "x", "canary": "1"}))
	require.False(t, sel.Matches(map[string]string{"app": "api", "env": "prod"}))
	empty, err := ParseSelector(" ")
	require.NoError(t, err)
	require.True(t, empty.Matches(nil))
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
			require.Equal(t, `{"log":"line"}`+"\n", string(<-fast.C()))
		}
	}
	// slow never read: the third chunk found its buffer full.
	require.True(t, slow.Dropped())
	require.False(t, fast.Dropped())
	require.Equal(t, int64(1), h.Dropped())
	require.Equal(t, 1, h.Subscribers())
	n := 0
	for range slow.C() { // the buffered chunks, then closed
		n++
	}
	require.Equal(t, 2, n)
	fast.Unsubscribe()
	fast.Unsubscribe()
	require.False(t, h.Active())
	require.Equal(t, `{"log":"line"}`+"\n", string(<-fast.C()), "what was buffered is still delivered")
	_, ok := <-fast.C()
	require.False(t, ok)
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
	require.Equal(t, `{"log":"abc"}`+"\n", string(<-s.C()))
}
