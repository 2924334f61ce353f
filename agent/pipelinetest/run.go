package pipelinetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/console"
	"github.com/sluicelog/sluice/agent/document"
	"github.com/sluicelog/sluice/agent/elasticsearch"
	"github.com/sluicelog/sluice/agent/kube"
	"github.com/sluicelog/sluice/agent/pipeline"
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/agent/transform"
	"github.com/sluicelog/sluice/collector/syslog"
	"github.com/sluicelog/sluice/collector/tail"
)

// runTimeout bounds one case: the pipeline drains in milliseconds.
const runTimeout = 30 * time.Second

// Doc is one document an output received.
type Doc struct {
	Output string
	Index  string // "" for a console output
	ID     string // "" without ids
	// StableID is false when the id differs from run to run (syslog
	// records are numbered under a key of their connection's own).
	StableID bool
	Body     []byte
}

// Result is what a case's inputs became.
type Result struct {
	Docs   []Doc
	Counts Counts
}

// PerOutput returns the documents of output name, in order.
func (r *Result) PerOutput(name string) []Doc {
	var out []Doc
	for _, d := range r.Docs {
		if d.Output == name {
			out = append(out, d)
		}
	}
	return out
}

// LoadConfig reads the file's agent config as the agent would, with the
// file's env for ${VAR}, without reading the files it names (tokens,
// passwords, certificates), which belong to the node.
func (f *File) LoadConfig() (*config.Config, error) {
	raw, err := os.ReadFile(f.ConfigPath())
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	lookup := func(k string) (string, bool) { v, ok := f.Env[k]; return v, ok }
	cfg, err := config.ParseOffline(raw, lookup)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.ConfigPath(), err)
	}
	return cfg, nil
}

// Run feeds a case's inputs through the pipeline built from cfg.
func (f *File) Run(cfg *config.Config, c *Case) (*Result, error) {
	h := &harness{cfg: cfg, clock: f.Clock.UnixNano(), dataStreams: f.DataStreams == nil || *f.DataStreams}
	batches, err := h.read(c)
	if err != nil {
		return nil, err
	}
	return h.run(c, batches, cfg.Transforms)
}

// harness builds the pipeline of one config for one run.
type harness struct {
	cfg         *config.Config
	clock       int64
	dataStreams bool

	notRead int64 // lines of files the input does not read

	mu   sync.Mutex
	docs []Doc
}

func (h *harness) now() int64 { return h.clock }

// read turns a case's inputs into the batches the inputs would push.
func (h *harness) read(c *Case) ([]*record.Batch, error) {
	var out []*record.Batch
	for i, in := range c.Inputs {
		b, err := h.readInput(c, in)
		if err != nil {
			return nil, fmt.Errorf("inputs[%d]: %w", i, err)
		}
		out = append(out, b)
	}
	return out, nil
}

func (h *harness) readInput(c *Case, in Input) (*record.Batch, error) {
	switch {
	case len(in.Lines) > 0 && len(in.Frames) > 0:
		return nil, errors.New("give lines (a container log file) or frames (syslog), not both")
	case len(in.Frames) > 0:
		ic, err := h.input(in.Input, "syslog")
		if err != nil {
			return nil, err
		}
		src := netip.MustParseAddr("127.0.0.1")
		if in.Source != "" {
			if src, err = netip.ParseAddr(in.Source); err != nil {
				return nil, fmt.Errorf("source: %w", err)
			}
		}
		transport := in.Transport
		if transport == "" {
			transport = "tcp"
		}
		frames := make([][]byte, len(in.Frames))
		for i, fr := range in.Frames {
			frames[i] = []byte(fr)
		}
		return syslog.ReadFrames(ic, transport, frames, src, h.clock)
	default:
		ic, err := h.input(in.Input, "container_logs")
		if err != nil {
			return nil, err
		}
		path, err := filePath(c, in)
		if err != nil {
			return nil, err
		}
		if !tail.Takes(ic, path) {
			h.notRead += int64(len(in.Lines))
			return record.NewBatch(&record.Source{Input: ic.Name, Path: path}, nil), nil
		}
		b, _ := tail.ReadAll(ic, h.cfg.NodeName, path, joinLines(in.Lines), h.now)
		return b, nil
	}
}

// joinLines is a file's content: each line ends with a newline.
func joinLines(lines []string) []byte {
	var buf bytes.Buffer
	for _, l := range lines {
		buf.WriteString(l)
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// input finds the named input, or the first of kind.
func (h *harness) input(name, kind string) (config.Input, error) {
	for _, in := range h.cfg.Inputs {
		if (name == "" || in.Name == name) && in.Type == kind {
			return in, nil
		}
	}
	if name != "" {
		return config.Input{}, fmt.Errorf("no %s input named %q in the config", kind, name)
	}
	return config.Input{}, fmt.Errorf("the config has no %s input", kind)
}

// filePath is the log file of an input entry: its file, or the kubelet's
// name for its pod and container.
func filePath(c *Case, in Input) (string, error) {
	if in.File != "" {
		return in.File, nil
	}
	if in.Pod == "" {
		if len(c.Pods) != 1 {
			return "", errors.New("file is not set, and neither is pod (namespace/name) to name it from")
		}
		in.Pod = c.Pods[0].Namespace + "/" + c.Pods[0].Name
	}
	ns, name, ok := strings.Cut(in.Pod, "/")
	if !ok {
		return "", fmt.Errorf("pod %q: want namespace/name", in.Pod)
	}
	for _, p := range c.Pods {
		if p.Namespace != ns || p.Name != name {
			continue
		}
		for _, ct := range p.Containers {
			if in.Container == "" || ct.Name == in.Container {
				id := ct.ID
				if id == "" {
					id = strings.Repeat("0", 64)
				}
				return fmt.Sprintf("/var/log/containers/%s_%s_%s-%s.log", name, ns, ct.Name, id), nil
			}
		}
		return "", fmt.Errorf("pod %s has no container %q", in.Pod, in.Container)
	}
	return "", fmt.Errorf("pod %s is not among the case's pods", in.Pod)
}

// run pushes batches through a pipeline with transforms ts and collects
// what each output receives.
func (h *harness) run(c *Case, batches []*record.Batch, ts []config.Transform) (*Result, error) {
	logger := slog.New(slog.DiscardHandler)
	outputs, consoles, err := h.outputs()
	if err != nil {
		return nil, err
	}
	enc := document.New(ts, h.now)
	pipe := pipeline.New(enc, outputs, 1, 64<<20, logger)
	var enricher *kube.Enricher
	if h.cfg.Kubernetes.Enabled {
		enricher, err = kube.NewStatic(kube.Options{Config: h.cfg.Kubernetes, NodeName: h.cfg.NodeName, KnownParser: enc.HasParser}, pods(c), nsLabels(c))
		if err != nil {
			return nil, fmt.Errorf("kubernetes: %w", err)
		}
		pipe.SetEnricher(enricher)
	}
	chain, err := h.filters(pipe, ts)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- pipe.Run(runCtx, ctx) }()
	for _, b := range batches {
		if err := pipe.Push(ctx, b); err != nil {
			stop()
			<-done
			return nil, fmt.Errorf("push: %w", err)
		}
	}
	drained := pipe.Drain(ctx)
	stop()
	if err := errors.Join(<-done, drained); err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	for name, buf := range consoles {
		for _, line := range bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n")) {
			if len(line) > 0 {
				h.docs = append(h.docs, Doc{Output: name, Body: line, StableID: true})
			}
		}
	}
	res := &Result{Docs: h.docs}
	res.Counts.Unrouted = pipe.Unrouted()
	res.Counts.NotRead = h.notRead
	if enricher != nil {
		_, _, res.Counts.Excluded = enricher.Counts()
	}
	if chain != nil {
		for _, s := range chain.Stats() {
			if s.Type == "throttle" {
				res.Counts.Throttled += s.Dropped
			} else {
				res.Counts.Dropped += s.Dropped
			}
		}
	}
	return res, nil
}

// filters installs the filter transforms and the routes as the runtime
// does (runtime.newFilters).
func (h *harness) filters(pipe *pipeline.Pipeline, ts []config.Transform) (*transform.Chain, error) {
	mono := func() int64 { return h.clock }
	chain, err := transform.New(ts, transform.Options{Now: mono, WallNow: func() time.Time { return time.Unix(0, h.clock) }, LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		return nil, err
	}
	pipe.SetTransforms(chain)
	routes := make([]*transform.Match, len(h.cfg.Outputs))
	routed := false
	for i, oc := range h.cfg.Outputs {
		if routes[i], err = transform.NewMatch(oc.Match); err != nil {
			return nil, fmt.Errorf("output %s: %w", oc.Name, err)
		}
		routed = routed || routes[i] != nil
	}
	if routed {
		pipe.SetRoutes(routes)
	}
	return chain, nil
}

// outputs builds a collector for every output of the config: console
// outputs write into a buffer; Elasticsearch outputs encode each batch
// as their writers would (elasticsearch.Output.Preview).
func (h *harness) outputs() ([]pipeline.Output, map[string]*bytes.Buffer, error) {
	var outs []pipeline.Output
	consoles := map[string]*bytes.Buffer{}
	quiet := slog.New(slog.DiscardHandler)
	for _, oc := range h.cfg.Outputs {
		switch oc.Type {
		case "console":
			buf := &bytes.Buffer{}
			consoles[oc.Name] = buf
			outs = append(outs, console.New(oc.Name, buf))
		case "elasticsearch":
			// The node's files (secrets, certificates) are not needed to
			// encode documents, and are not on this machine.
			oc.PasswordFile, oc.APIKeyFile, oc.BearerTokenFile = "", "", ""
			oc.TLS = config.ClientTLS{}
			o, err := elasticsearch.New(oc, quiet, elasticsearch.WithInputs(h.cfg.Inputs))
			if err != nil {
				return nil, nil, fmt.Errorf("output %s: %w", oc.Name, err)
			}
			outs = append(outs, &esCollector{h: h, o: o})
		default:
			return nil, nil, fmt.Errorf("output %s: unknown type %q", oc.Name, oc.Type)
		}
	}
	return outs, consoles, nil
}

// esCollector keeps what an Elasticsearch output would send.
type esCollector struct {
	h *harness
	o *elasticsearch.Output
}

func (c *esCollector) Name() string                  { return c.o.Name() }
func (c *esCollector) NewWriter() pipeline.Writer    { return c }
func (c *esCollector) Run(ctx context.Context) error { <-ctx.Done(); return nil }
func (c *esCollector) Flush(context.Context, bool) error {
	return nil
}

func (c *esCollector) Write(_ context.Context, b *record.Batch) error {
	stable := b.Source == nil || b.Source.IDKey == nil
	placed := c.o.Preview(b, c.h.dataStreams)
	c.h.mu.Lock()
	defer c.h.mu.Unlock()
	for _, p := range placed {
		c.h.docs = append(c.h.docs, Doc{Output: c.o.Name(), Index: p.Index, ID: p.ID, StableID: stable, Body: p.Doc})
	}
	return nil
}

// pods builds the cache's pods from a case.
func pods(c *Case) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range c.Pods {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				Namespace: p.Namespace, Name: p.Name, UID: types.UID(p.UID),
				Labels: p.Labels, Annotations: p.Annotations,
			},
			Spec: corev1.PodSpec{NodeName: p.Node},
		}
		if p.Owner != nil {
			yes := true
			pod.OwnerReferences = []metav1.OwnerReference{{Kind: p.Owner.Kind, Name: p.Owner.Name, Controller: &yes, APIVersion: "apps/v1"}}
		}
		for _, ct := range p.Containers {
			pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: ct.Name, Image: ct.Image})
			st := corev1.ContainerStatus{Name: ct.Name, Image: ct.Image, ImageID: ct.ImageID}
			if ct.ID != "" {
				st.ContainerID = "containerd://" + ct.ID
			}
			pod.Status.ContainerStatuses = append(pod.Status.ContainerStatuses, st)
		}
		out = append(out, pod)
	}
	return out
}

func nsLabels(c *Case) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, p := range c.Pods {
		if p.NamespaceLabels != nil {
			out[p.Namespace] = p.NamespaceLabels
		}
	}
	return out
}
