package elasticsearch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/record"
)

// Data stream names follow Elastic's naming scheme
// <type>-<dataset>-<namespace>; config.CheckDataStreamPart has the rules.
const maxNamespaceLen = 100

// DatasetPrefix starts every dataset sluice picks by itself, so that its
// data streams (logs-sluice.*-*) overlap only Elasticsearch's built-in
// logs-*-* template and never a Fleet integration's (logs-<integration>.*).
const DatasetPrefix = "sluice."

// Default datasets by input type.
const (
	datasetContainers = DatasetPrefix + "container_logs"
	datasetSyslog     = DatasetPrefix + "syslog"
)

// appendDataStreamPart appends a dynamic part (a Kubernetes namespace, a
// label value) made valid: lower case, '-' and the forbidden characters
// as '_', cut to limit bytes on a UTF-8 boundary; "default" when empty.
func appendDataStreamPart(dst []byte, s string, limit int) []byte {
	if s == "" || s == "." || s == ".." {
		return append(dst, "default"...)
	}
	start := len(dst)
	dst = appendIndexBytes(dst, s)
	for i := start; i < len(dst); i++ {
		if dst[i] == '-' {
			dst[i] = '_'
		}
	}
	if len(dst)-start > limit {
		end := start + limit
		for end > start && dst[end]&0xC0 == 0x80 {
			end--
		}
		dst = dst[:end]
	}
	return dst
}

// nsRoute says where the namespace part of a data stream name comes from.
type nsRoute uint8

const (
	nsStatic     nsRoute = iota // a fixed name
	nsKubernetes                // the record's Kubernetes namespace
	nsLabel                     // a pod label
	nsAnnotation                // a pod annotation
)

// DataStreams builds data stream names: <type>-<dataset>-<namespace>.
type DataStreams struct {
	Type string
	// Datasets maps input names to their dataset; Dataset is the one of
	// an input not in it (container logs).
	Datasets map[string]string
	Dataset  string

	route nsRoute
	ns    string // nsStatic: the name; nsLabel/nsAnnotation: the key
}

// ParseNamespace sets where the namespace part comes from: a fixed name,
// {kubernetes.namespace_name}, {kubernetes.labels.<key>} or
// {kubernetes.annotations.<key>}.
func (d *DataStreams) ParseNamespace(s string) error {
	if err := config.CheckNamespaceRoute(s); err != nil {
		return err
	}
	if !strings.HasPrefix(s, "{") {
		d.route, d.ns = nsStatic, s
		return nil
	}
	inner := s[1 : len(s)-1]
	switch {
	case inner == "kubernetes.namespace_name":
		d.route = nsKubernetes
	case strings.HasPrefix(inner, "kubernetes.labels.") && len(inner) > len("kubernetes.labels."):
		d.route, d.ns = nsLabel, inner[len("kubernetes.labels."):]
	case strings.HasPrefix(inner, "kubernetes.annotations.") && len(inner) > len("kubernetes.annotations."):
		d.route, d.ns = nsAnnotation, inner[len("kubernetes.annotations."):]
	default:
		return fmt.Errorf("unknown field %s (known: {kubernetes.namespace_name}, {kubernetes.labels.<key>}, {kubernetes.annotations.<key>})", s)
	}
	return nil
}

// Check validates the static parts.
func (d *DataStreams) Check() error {
	if err := config.CheckDataStreamPart(d.Type); err != nil {
		return fmt.Errorf("type: %w", err)
	}
	if err := config.CheckDataStreamPart(d.Dataset); err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	for in, ds := range d.Datasets {
		if err := config.CheckDataStreamPart(ds); err != nil {
			return fmt.Errorf("dataset of input %s: %w", in, err)
		}
	}
	return nil
}

// datasetOf returns the dataset of a record from src.
func (d *DataStreams) datasetOf(src *record.Source) string {
	if ds, ok := d.Datasets[src.Input]; ok {
		return ds
	}
	return d.Dataset
}

// Datasets lists every dataset the names can have, for the template's
// index patterns.
func (d *DataStreams) allDatasets() []string {
	seen := map[string]bool{d.Dataset: true}
	out := []string{d.Dataset}
	for _, ds := range d.Datasets {
		if !seen[ds] {
			seen[ds] = true
			out = append(out, ds)
		}
	}
	return out
}

// appendName appends the data stream name of a record from src whose
// Kubernetes object is meta.
func (d *DataStreams) appendName(dst []byte, src *record.Source, meta []byte) []byte {
	dst = append(dst, d.Type...)
	dst = append(dst, '-')
	dst = append(dst, d.datasetOf(src)...)
	dst = append(dst, '-')
	return appendDataStreamPart(dst, d.namespaceOf(src, meta), maxNamespaceLen)
}

// namespaceOf returns the raw namespace part (not yet sanitised).
func (d *DataStreams) namespaceOf(src *record.Source, meta []byte) string {
	switch d.route {
	case nsKubernetes:
		return src.Namespace
	case nsLabel:
		return metaMapValue(meta, "labels", d.ns)
	case nsAnnotation:
		return metaMapValue(meta, "annotations", d.ns)
	}
	return d.ns
}

// metaMapValue reads kubernetes.<obj>.<key> from a serialised
// Kubernetes object; "" when it is not there. It decodes: it runs once
// per source, not per record (dsCache).
func metaMapValue(meta []byte, obj, key string) string {
	if !bytes.Contains(meta, []byte(key)) {
		return ""
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(meta, &m) != nil {
		return ""
	}
	var kv map[string]string
	if json.Unmarshal(m[obj], &kv) != nil {
		return ""
	}
	return kv[key]
}

// dsCache remembers the last data stream name a writer built: a batch
// shares one source and one Kubernetes object.
type dsCache struct {
	src  *record.Source
	meta []byte
	name []byte
}

func (c *dsCache) lookup(d *DataStreams, src *record.Source, meta []byte) []byte {
	if c.src == src && len(c.name) > 0 && sameBytes(c.meta, meta) {
		return c.name
	}
	c.src, c.meta = src, meta
	c.name = d.appendName(c.name[:0], src, meta)
	return c.name
}

// sameBytes reports whether a and b are the same slice (not only equal):
// a pod's Kubernetes object is built once and shared.
func sameBytes(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	return len(a) == 0 || &a[0] == &b[0]
}
