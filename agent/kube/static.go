package kube

import (
	"context"
	"errors"

	corev1 "k8s.io/api/core/v1"
)

// NewStatic returns an enricher whose cache holds pods and nothing else,
// synced, and that never contacts a cluster: a record of any other pod
// ships at once with the names from its file path. sluice test and
// sluice explain run the real enrichment (serialisation, label and
// annotation filters, sluice.io/parser and sluice.io/exclude) with it.
// nsLabels are the namespaces' labels, used when namespace_labels is on.
func NewStatic(opts Options, pods []*corev1.Pod, nsLabels map[string]map[string]string) (*Enricher, error) {
	opts.Config.LookupWait = 0 // never wait for a pod that is not given
	if opts.NodeName == "" {
		opts.NodeName = "node"
	}
	e, err := newEnricher(opts)
	if err != nil {
		return nil, err
	}
	e.src = staticSource{}
	for ns, l := range nsLabels {
		e.namespaceLabels(ns, l)
	}
	e.replace(pods)
	e.synced()
	return e, nil
}

// Counts returns the records enriched, of unknown pods, and excluded by
// sluice.io/exclude so far.
func (e *Enricher) Counts() (enriched, unknown, excluded int64) {
	return e.stats.enriched.Load(), e.stats.unknown.Load(), e.stats.excluded.Load()
}

// staticSource is NewStatic's: everything is in the cache from the start.
type staticSource struct{}

func (staticSource) run(ctx context.Context, _ handler) error {
	<-ctx.Done()
	return ctx.Err()
}

func (staticSource) get(context.Context, string, string) (*corev1.Pod, error) {
	return nil, errors.New("static pod cache: no such pod")
}
