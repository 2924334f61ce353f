// Package kube enriches records from container log files with their pod's
// Kubernetes metadata (DESIGN.md, record schema), read from a watch on this
// node's pods (client-go informer, spec.nodeName field selector) or from
// the local kubelet's /pods. Each pod's "kubernetes" object is serialised
// once per container when the pod changes; a worker splices those bytes
// into every document of a batch after one atomic load and a map lookup.
package kube

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/record"
)

// ErrUnavailable: no kubeconfig is set and the agent does not run in a
// cluster. The agent then runs without enrichment (names from file paths).
var ErrUnavailable = errors.New("not running in a Kubernetes cluster and no kubernetes.kubeconfig set")

// missTTL is how long a pod found neither in the cache nor by a direct
// GET is taken as unknown before its records wait for it again.
const missTTL = 30 * time.Second

// source delivers this node's pods to a handler and fetches one on demand.
type source interface {
	run(ctx context.Context, h handler) error
	get(ctx context.Context, namespace, name string) (*corev1.Pod, error)
}

// handler is what a source tells the enricher.
type handler interface {
	upsert(p *corev1.Pod)
	remove(p *corev1.Pod)
	replace(pods []*corev1.Pod)
	synced()
	namespaceLabels(ns string, labels map[string]string)
}

// Options build an Enricher.
type Options struct {
	Config   config.Kubernetes
	NodeName string
	// KnownParser says whether a sluice.io/parser annotation names a parser
	// the pipeline has (document.Encoder.HasParser).
	KnownParser func(string) bool
	UserAgent   string
	Logger      *slog.Logger
}

// Enricher sets each batch's Kubernetes object and parser from the pod
// cache. It is safe for concurrent use by every worker.
type Enricher struct {
	cfg     config.Kubernetes
	node    string
	src     source
	cache   *cache
	builder builder
	logger  *slog.Logger
	now     func() time.Time

	ctx      context.Context // Run's, for fetches started by a lookup
	ctxReady chan struct{}
	isSynced atomic.Bool
	syncCh   chan struct{}
	syncOnce sync.Once
	// syncBy is when records stop waiting for the first sync: sync_timeout
	// after the enricher was built (the agent's start). release ends the
	// wait early, at shutdown.
	syncBy      time.Time
	release     chan struct{}
	releaseOnce sync.Once

	nsMu     sync.Mutex                   // see lockNS
	nsLabels map[string]map[string]string // nil unless namespace_labels

	pending sync.Map // podKey → *fetch in progress
	missed  sync.Map // podKey → int64 unix nanos until which the pod is taken as unknown
	limiter *rate.Limiter

	stats stats
}

// fetch is a lookup in progress: done closes when the pod arrives (by
// the watch or the GET) or the wait is over.
type fetch struct {
	done chan struct{}
	once sync.Once
}

func (f *fetch) finish() { f.once.Do(func() { close(f.done) }) }

// New builds an enricher for opts.Config.Source. It does not contact the
// cluster yet; Run does. A missing in-cluster environment without a
// kubeconfig returns ErrUnavailable.
func New(opts Options) (*Enricher, error) {
	e, err := newEnricher(opts)
	if err != nil {
		return nil, err
	}
	switch opts.Config.Source {
	case "kubelet":
		e.src, err = newKubeletSource(opts.Config.Kubelet, e.logger)
	default:
		e.src, err = newAPIServerSource(opts.Config, opts.NodeName, opts.UserAgent, e.logger)
	}
	if err != nil {
		return nil, err
	}
	return e, nil
}

func newEnricher(opts Options) (*Enricher, error) {
	if opts.NodeName == "" && opts.Config.Source != "kubelet" {
		return nil, errors.New("kubernetes: node_name is empty (set it from the downward API: NODE_NAME from spec.nodeName); the watch is limited to this node's pods")
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "kubernetes")
	k := opts.Config
	e := &Enricher{
		cfg:      k,
		node:     opts.NodeName,
		cache:    newCache(),
		logger:   logger,
		now:      time.Now,
		ctxReady: make(chan struct{}),
		syncCh:   make(chan struct{}),
		syncBy:   time.Now().Add(k.SyncTimeout.Duration()),
		release:  make(chan struct{}),
		// Direct GETs for pods the watch has not delivered yet: a burst for
		// a node's start, then a trickle, so a storm of unknown files
		// cannot load the API server.
		limiter: rate.NewLimiter(5, 20),
		builder: builder{
			labels: k.Labels, annotations: k.Annotations,
			inclL: k.IncludeLabels, exclL: k.ExcludeLabels,
			inclA: k.IncludeAnnotations, exclA: k.ExcludeAnnotations,
			knownParser: opts.KnownParser,
		},
	}
	e.builder.warn = func(msg string, args ...any) { e.logger.Warn(msg, args...) }
	if k.NamespaceLabels {
		e.nsLabels = map[string]map[string]string{}
	}
	return e, nil
}

// Run keeps the cache up to date until ctx ends: it watches (or polls)
// pods, relisting with backoff after errors, and forgets deleted pods
// after deleted_pod_ttl.
func (e *Enricher) Run(ctx context.Context) error {
	e.ctx = ctx
	close(e.ctxReady)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		e.expireLoop(ctx)
	}()
	go func() {
		defer wg.Done()
		e.WaitSynced(ctx) // says so when sync_timeout runs out
	}()
	err := e.src.run(ctx, e)
	wg.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

func (e *Enricher) expireLoop(ctx context.Context) {
	ttl := e.cfg.DeletedPodTTL.Duration()
	every := min(max(ttl/4, 100*time.Millisecond), 30*time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			e.cache.expire(e.now().UnixNano(), int64(ttl))
		}
	}
}

// WaitSynced waits until the first full list is in the cache, ctx ends or
// sync_timeout from the start passes; it reports whether the cache synced.
func (e *Enricher) WaitSynced(ctx context.Context) bool {
	t := time.NewTimer(time.Until(e.syncBy))
	defer t.Stop()
	select {
	case <-e.syncCh:
		return true
	case <-ctx.Done():
	case <-t.C:
		e.logger.Warn("pod cache not synced yet; records ship with the names from their file paths until it is", "after", e.cfg.SyncTimeout.Duration().String())
	}
	return false
}

// awaitSync waits for the cache's first sync until syncBy and reports
// whether it has synced. The agent reads its files from the start, so a
// slow API server delays no read; records read before the first sync
// wait for it here, as they would otherwise ship without their pod.
// Past syncBy they pass at once, with the names from the file path, until
// the cache syncs: one bounded wait for all, not lookup_wait per pod.
func (e *Enricher) awaitSync() bool {
	if e.isSynced.Load() {
		return true
	}
	d := time.Until(e.syncBy)
	if d <= 0 {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-e.syncCh:
		return true
	case <-t.C:
	case <-e.release:
	}
	return false
}

// Release ends every wait for the first sync (the agent is shutting
// down): what was read ships with the names from the file path.
func (e *Enricher) Release() { e.releaseOnce.Do(func() { close(e.release) }) }

// Ready is the /readyz check: nil once the cache has synced.
func (e *Enricher) Ready() error {
	if e.isSynced.Load() {
		return nil
	}
	return errors.New("pod cache not synced")
}

// Enrich sets b.Meta and b.Parser from the cache. It returns false when
// the pod asks for its logs to be dropped (sluice.io/exclude); the caller
// then acks the batch without writing it. Records of a pod that is not in
// the cache wait for the cache's first sync (up to sync_timeout from the
// start), then up to lookup_wait for it; after that they ship with the
// names from the file path.
func (e *Enricher) Enrich(b *record.Batch) bool {
	src := b.Source
	if src == nil || src.Pod == "" || src.Namespace == "" {
		return true
	}
	n := int64(len(b.Records))
	k := podKey{src.Namespace, src.Pod}
	list := e.cache.get(k)
	if list == nil && e.awaitSync() {
		if list = e.cache.get(k); list == nil {
			list = e.await(k)
		}
	}
	_, c := lookup(list, src.Container, src.ContainerID)
	if c == nil {
		e.stats.unknown.Add(n)
		return true
	}
	if c.exclude {
		e.stats.excluded.Add(n)
		return false
	}
	e.stats.enriched.Add(n)
	b.Meta, b.Parser, b.Labels = c.meta, c.parser, c.labels
	return true
}

// await waits for a pod missing from the cache: the watch usually brings
// it within milliseconds of its first log line, and one rate-limited GET
// (shared by every worker asking for the same pod) covers a slow watch.
func (e *Enricher) await(k podKey) []*podInfo {
	now := e.now().UnixNano()
	if until, ok := e.missed.Load(k); ok && now < until.(int64) {
		return nil
	}
	wait := e.cfg.LookupWait.Duration()
	if wait <= 0 {
		return nil
	}
	f := &fetch{done: make(chan struct{})}
	if v, loaded := e.pending.LoadOrStore(k, f); loaded {
		f = v.(*fetch)
	} else {
		go e.fetch(k, f, wait)
	}
	t := time.NewTimer(wait)
	select {
	case <-f.done:
	case <-t.C:
	}
	t.Stop()
	list := e.cache.get(k)
	if list == nil {
		e.missed.Store(k, e.now().Add(missTTL).UnixNano())
	}
	return list
}

// fetch waits for the cache to sync, GETs the pod if it is still missing,
// and, if the API server does not know it yet either, waits for the watch
// to bring it until the wait is over.
func (e *Enricher) fetch(k podKey, f *fetch, wait time.Duration) {
	defer func() {
		e.pending.Delete(k)
		f.finish()
	}()
	select {
	case <-e.ctxReady:
	case <-time.After(wait):
		return
	}
	ctx, cancel := context.WithTimeout(e.ctx, wait)
	defer cancel()
	select {
	case <-e.syncCh:
	case <-ctx.Done():
		return
	}
	if e.cache.get(k) != nil {
		return
	}
	if err := e.limiter.Wait(ctx); err != nil {
		e.stats.fetchLimited.Add(1)
		return
	}
	p, err := e.src.get(ctx, k.namespace, k.name)
	switch {
	case err != nil:
		e.stats.fetchErrors.Add(1)
		e.logger.Debug("pod lookup failed", "namespace", k.namespace, "pod", k.name, "err", err)
	case p == nil:
		e.stats.fetchNotFound.Add(1)
	default:
		e.stats.fetchFound.Add(1)
		e.upsert(p)
		return
	}
	select {
	case <-f.done: // the watch brought it
	case <-ctx.Done():
	}
}

// The handler side: sources call these from their own goroutine.

// build serialises a pod with its namespace's labels; the caller holds
// nsMu when namespace labels are on.
func (e *Enricher) build(p *corev1.Pod) *podInfo {
	var ns map[string]string
	if e.nsLabels != nil {
		ns = e.nsLabels[p.Namespace]
		if ns == nil {
			ns = map[string]string{}
		}
	}
	return e.builder.build(p, ns)
}

// lockNS holds nsMu when namespace labels are on. A pod is built and
// stored under it, so a namespace change that lands between the two
// cannot be overwritten by a pod built with the old labels.
func (e *Enricher) lockNS() func() {
	if e.nsLabels == nil {
		return func() {}
	}
	e.nsMu.Lock()
	return e.nsMu.Unlock
}

func (e *Enricher) upsert(p *corev1.Pod) {
	unlock := e.lockNS()
	e.cache.upsert(e.build(p), e.now().UnixNano())
	unlock()
	e.arrived(podKey{p.Namespace, p.Name})
}

// arrived ends any wait for a pod that is now in the cache.
func (e *Enricher) arrived(k podKey) {
	e.missed.Delete(k)
	if f, ok := e.pending.Load(k); ok {
		f.(*fetch).finish()
	}
}

func (e *Enricher) remove(p *corev1.Pod) {
	e.cache.remove(p.Namespace, p.Name, string(p.UID), e.now().UnixNano())
}

func (e *Enricher) replace(pods []*corev1.Pod) {
	unlock := e.lockNS()
	infos := make([]*podInfo, len(pods))
	for i, p := range pods {
		infos[i] = e.build(p)
	}
	e.cache.replace(infos, e.now().UnixNano())
	unlock()
	for _, p := range pods {
		e.arrived(podKey{p.Namespace, p.Name})
	}
}

func (e *Enricher) synced() {
	e.syncOnce.Do(func() {
		e.isSynced.Store(true)
		close(e.syncCh)
		live, _ := e.cache.counts()
		e.logger.Info("pod cache synced", "pods", live)
	})
}

// namespaceLabels records a namespace's labels and rebuilds its pods.
func (e *Enricher) namespaceLabels(ns string, labels map[string]string) {
	if e.nsLabels == nil {
		return
	}
	e.nsMu.Lock()
	defer e.nsMu.Unlock()
	e.nsLabels[ns] = labels
	now := e.now().UnixNano()
	for _, info := range e.cache.namespace(ns) {
		e.cache.upsert(e.build(info.pod), now)
	}
}

// Describe is for logs: where pods come from.
func (e *Enricher) Describe() string {
	if e.cfg.Source == "kubelet" {
		return fmt.Sprintf("kubelet %s every %s", e.cfg.Kubelet.URL, e.cfg.Kubelet.Interval.Duration())
	}
	return "api server watch on node " + e.node
}

// Status is the cache's state for /api/v1/status.
type Status struct {
	PodsFrom    string `json:"pods_from"`
	Synced      bool   `json:"synced"`
	Pods        int    `json:"pods"`
	DeletedPods int    `json:"deleted_pods"` // kept for deleted_pod_ttl
}

// Status reads the cache's state now.
func (e *Enricher) Status() Status {
	live, deleted := e.cache.counts()
	return Status{PodsFrom: e.Describe(), Synced: e.isSynced.Load(), Pods: live, DeletedPods: deleted}
}

// PodMeta returns the labels and annotations of pod namespace/name as
// the cache has them now (the live pod, else the newest deleted one),
// without waiting; ok is false while it is not cached. The maps are the
// cache's: read-only. fair_share reads a pod's weight from them.
func (e *Enricher) PodMeta(namespace, name string) (labels, annotations map[string]string, ok bool) {
	list := e.cache.get(podKey{namespace, name})
	if len(list) == 0 || list[0].pod == nil {
		return nil, nil, false
	}
	return list[0].pod.Labels, list[0].pod.Annotations, true
}
