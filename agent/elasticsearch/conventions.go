package elasticsearch

import (
	"bytes"
	"context"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/document"
)

// Option adjusts an Output in New.
type Option func(*options)

type options struct {
	inputs []config.Input
}

// WithInputs tells the output the inputs' types, so that each goes to its
// own dataset (container logs to sluice.container_logs, syslog to
// sluice.syslog). Without it every input counts as container logs.
func WithInputs(in []config.Input) Option { return func(o *options) { o.inputs = in } }

// conventions is how an output names and shapes what it writes.
type conventions struct {
	// auto: neither index nor data_stream is set, so Run asks the server
	// whether it takes data streams (streams) or classic indices
	// (config.DefaultIndex).
	auto    bool
	streams *DataStreams

	schema       document.Schema
	maxLabels    int
	install      bool
	failureStore bool
}

func newConventions(cfg config.Output, opt options) (conventions, error) {
	c := conventions{
		auto:         cfg.Index == "" && cfg.DataStream == "" && cfg.Compatibility != "opensearch",
		maxLabels:    max(cfg.MaxLabels, 0),
		install:      cfg.InstallTemplates == nil || *cfg.InstallTemplates,
		failureStore: cfg.FailureStore,
	}
	if cfg.MaxLabels == 0 {
		c.maxLabels = 64
	}
	var err error
	if c.schema, err = document.ParseSchema(cfg.Schema); err != nil {
		return c, err
	}
	if !c.auto {
		return c, nil
	}
	ds := cfg.DataStreams
	d := &DataStreams{Type: ds.Type, Dataset: ds.Dataset, Datasets: map[string]string{}}
	if d.Type == "" {
		d.Type = "logs"
	}
	suffix := ""
	if c.schema == document.SchemaOTel {
		// Elasticsearch's OTel conventions: logs-<dataset>.otel-<namespace>.
		suffix = ".otel"
	}
	if d.Dataset == "" {
		d.Dataset = datasetContainers + suffix
		for _, in := range opt.inputs {
			if in.Type == "syslog" {
				d.Datasets[in.Name] = datasetSyslog + suffix
			}
		}
	}
	ns := ds.Namespace
	if ns == "" {
		ns = "default"
	}
	if err := d.ParseNamespace(ns); err != nil {
		return c, err
	}
	if err := d.Check(); err != nil {
		return c, err
	}
	c.streams = d
	return c, nil
}

// shaping reports whether documents are rewritten at all: another schema,
// or the label budget.
func (c *conventions) shaping() bool {
	return c.schema != document.SchemaFluentd || c.maxLabels > 0
}

// settle decides, once Run has asked the server, between data streams and
// classic indices, installs the managed templates for data streams, and
// lets the writers go on.
func (o *Output) settle(ctx context.Context) bool {
	info, ok := o.detectServer(ctx)
	if !ok {
		return false
	}
	o.server = info
	if info.dataStreams() {
		o.useStreams = true
		o.log.Info("writing to data streams", "server", info.number, "names", o.conv.streams.Type+"-"+o.conv.streams.Dataset+"-…", "schema", o.conv.schema.String())
		if o.template == nil && o.conv.install {
			o.managed = buildTemplates(o.conv.streams, o.conv.schema, info, o.conv.failureStore)
			o.installManaged(ctx)
		}
	} else {
		o.log.Info("writing to classic indices (no data streams before Elasticsearch 7.9, on OpenSearch, or on a server of unknown version)",
			"server", info.number, "index", config.DefaultIndex)
	}
	close(o.ready)
	return true
}

// shapeCache holds one pod's Kubernetes object in the output's schema.
type shapeCache struct {
	shaper document.Shaper
	metas  document.MetaCache
	meta   []byte // the batch's Kubernetes object it was made from
	done   bool
	m      document.Meta
	doc    []byte // scratch for one shaped document
}

// shape returns doc in the output's schema within the label budget (or
// doc itself when it needs no change), counting the labels left out.
// name is the document's data stream or index.
func (o *Output) shape(c *shapeCache, meta, doc, name []byte, ds bool) []byte {
	o.shapeMeta(c, meta)
	if c.m.Dropped > 0 {
		o.stats.labelsDropped.Add(int64(c.m.Dropped))
	} else if o.conv.schema == document.SchemaFluentd {
		return doc
	}
	var parts document.DataStream
	if ds {
		parts = dataStreamParts(name)
	}
	c.doc = c.shaper.Append(c.doc[:0], doc, &c.m, parts)
	return c.doc
}

// shapeMeta makes c hold meta in the output's schema, within the label
// budget.
func (o *Output) shapeMeta(c *shapeCache, meta []byte) {
	if !c.done || !sameBytes(c.meta, meta) {
		c.shaper.Schema, c.shaper.MaxLabels = o.conv.schema, o.conv.maxLabels
		c.m = c.metas.Get(&c.shaper, meta)
		c.meta, c.done = meta, true
	}
}

// keepsDocs reports whether shape leaves the documents of a batch with
// Kubernetes object meta as they are: the fluentd schema, and no label
// over the budget.
func (o *Output) keepsDocs(c *shapeCache, meta []byte) bool {
	if !o.conv.shaping() {
		return true
	}
	if o.conv.schema != document.SchemaFluentd {
		return false
	}
	o.shapeMeta(c, meta)
	return c.m.Dropped == 0
}

// dataStreamParts splits <type>-<dataset>-<namespace>; none has a '-'.
func dataStreamParts(name []byte) document.DataStream {
	typ, rest, ok := bytes.Cut(name, []byte{'-'})
	if !ok {
		return document.DataStream{}
	}
	dataset, ns, ok := bytes.Cut(rest, []byte{'-'})
	if !ok {
		return document.DataStream{}
	}
	return document.DataStream{Type: typ, Dataset: dataset, Namespace: ns}
}
