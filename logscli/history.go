package logscli

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/sluicelog/sluice/logscli/entry"
	"github.com/sluicelog/sluice/logscli/kubelogs"
	"github.com/sluicelog/sluice/logscli/live"
	"github.com/sluicelog/sluice/logscli/store"
)

// historySource is where history comes from: the log store, or the
// Kubernetes API when none is configured.
type historySource interface {
	// read calls fn with the records up to to, oldest first.
	read(ctx context.Context, to time.Time, fn func(*entry.Entry) error) error
	// byTime: its records lack what the agents add (stream, the merged
	// JSON), so the seam recognises a record by time and source.
	byTime() bool
	// settle is how long to let the agents deliver before reading, with -f.
	settle(seamDelay time.Duration) time.Duration
}

func newHistory(ctx context.Context, o *Options, f *entry.Filter, kube *live.Kube, owner *kubelogs.Owner, getenv func(string) string) (historySource, error) {
	if o.ES == "" {
		if kube == nil {
			return nil, errors.New("history needs a log store (--es URL or $SLUICE_ES_URL) or a kubeconfig to read it from the Kubernetes API")
		}
		return &apiHistory{o: o, f: f, kube: kube, owner: owner}, nil
	}
	st, err := store.New(ctx, store.Options{
		URL: o.ES, Kind: o.Store, Index: o.Index, IDField: o.IDField,
		Username: getenv("SLUICE_ES_USERNAME"), Password: getenv("SLUICE_ES_PASSWORD"),
		APIKey: getenv("SLUICE_ES_API_KEY"),
	})
	if err != nil {
		return nil, err
	}
	h := &storeHistory{o: o, f: f, st: st}
	if o.Previous {
		// A store keeps every instance: the previous ones are those whose
		// container id the pods' statuses name as last terminated.
		pods, err := kubelogs.Pods(ctx, kube.Client(), kubelogs.Query{Namespace: f.Namespace, Selector: f.Labels, Node: f.Node, Owner: owner, Filter: f})
		if err != nil {
			return nil, err
		}
		h.previous = kubelogs.PreviousIDs(pods)
	}
	return h, nil
}

// storeHistory reads Elasticsearch or VictoriaLogs.
type storeHistory struct {
	o        *Options
	f        *entry.Filter
	st       store.Store
	previous map[string]bool // --previous: the container ids wanted
}

func (h *storeHistory) byTime() bool                         { return false }
func (h *storeHistory) settle(d time.Duration) time.Duration { return d }

func (h *storeHistory) read(ctx context.Context, to time.Time, fn func(*entry.Entry) error) error {
	q := store.Query{Filter: h.f, From: h.o.historyFrom(time.Now()), To: to, PageSize: h.o.PageSize}
	wanted := func(e *entry.Entry) bool {
		return h.previous == nil || h.previous[e.Kubernetes("container_id")]
	}
	if h.o.Tail < 0 {
		return h.st.Search(ctx, q, func(e *entry.Entry) error {
			if !wanted(e) {
				return nil
			}
			return fn(e)
		})
	}
	t := newTailKeeper(h.o.Tail)
	err := h.st.Search(ctx, q, func(e *entry.Entry) error {
		if wanted(e) {
			t.keep(e)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return t.flush(fn)
}

// apiHistory reads pods/log through the API server.
type apiHistory struct {
	o     *Options
	f     *entry.Filter
	kube  *live.Kube
	owner *kubelogs.Owner
}

func (h *apiHistory) byTime() bool                       { return true }
func (h *apiHistory) settle(time.Duration) time.Duration { return 0 }

func (h *apiHistory) read(ctx context.Context, to time.Time, fn func(*entry.Entry) error) error {
	q := kubelogs.Query{
		Namespace: h.f.Namespace, Selector: h.f.Labels, Node: h.f.Node, Owner: h.owner, Filter: h.f,
		Tail: int64(h.o.Tail), Previous: h.o.Previous,
	}
	if since, ok := h.o.apiSince(time.Now()); ok {
		q.Since = &since
	}
	return kubelogs.History(ctx, h.kube.Client(), q, func(e *entry.Entry) error {
		if t, ok := e.Time(); ok && !t.Before(to) {
			return nil
		}
		if !h.f.Match(e, h.o.IDField) {
			return nil
		}
		return fn(e)
	})
}

// tailKeeper keeps the last n records of each source (--tail with a
// store, which is read oldest first): memory is n records per container.
type tailKeeper struct {
	n    int
	last map[string][]*entry.Entry
}

func newTailKeeper(n int) *tailKeeper { return &tailKeeper{n: n, last: map[string][]*entry.Entry{}} }

// keep notes e, dropping its source's oldest beyond n.
func (t *tailKeeper) keep(e *entry.Entry) {
	if t.n == 0 {
		return
	}
	src := e.Source()
	l := append(t.last[src], e)
	if len(l) > t.n {
		l[0] = nil
		l = l[1:]
	}
	t.last[src] = l
}

// flush passes the kept records to fn, oldest first across sources.
func (t *tailKeeper) flush(fn func(*entry.Entry) error) error {
	var all []*entry.Entry
	for _, l := range t.last {
		all = append(all, l...)
	}
	sort.SliceStable(all, func(i, j int) bool {
		ti, _ := all[i].Time()
		tj, _ := all[j].Time()
		if !ti.Equal(tj) {
			return ti.Before(tj)
		}
		return all[i].Source() < all[j].Source()
	})
	for _, e := range all {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}
