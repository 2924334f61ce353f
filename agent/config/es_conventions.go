package config

import (
	"fmt"
	"strings"
)

// ESConventions are the keys of an elasticsearch output that follow
// Elasticsearch 8/9's conventions: data streams, field schemas, the
// templates the output installs, the label budget and the failure store.
// They sit inline in Output.
type ESConventions struct {
	// Schema names the document fields: fluentd (default), fluentbit,
	// ecs or otel.
	Schema string `yaml:"schema"`
	// DataStreams names the data streams written when index is not set
	// and the server is Elasticsearch 7.9 or later.
	DataStreams DataStreams `yaml:"data_streams"`
	// InstallTemplates installs the component and index templates of the
	// data streams at start (default true); template.file replaces them.
	InstallTemplates *bool `yaml:"install_templates"`
	// FailureStore turns the failure store on in the installed template
	// (Elasticsearch 8.19 / 9.1 and later).
	FailureStore bool `yaml:"failure_store"`
	// MaxLabels caps the labels, namespace labels and annotations kept
	// per document together (default 64; -1 = no cap). Each one left out
	// is counted.
	MaxLabels int `yaml:"max_labels"`
}

// DataStreams are the parts of the names <type>-<dataset>-<namespace>.
type DataStreams struct {
	Type string `yaml:"type"` // default logs
	// Dataset, when set, is the dataset of every input; by default
	// container logs go to sluice.container_logs, syslog to sluice.syslog.
	Dataset string `yaml:"dataset"`
	// Namespace is a fixed name (default "default") or one of
	// {kubernetes.namespace_name}, {kubernetes.labels.<key>},
	// {kubernetes.annotations.<key>}, made valid at run time.
	Namespace string `yaml:"namespace"`
}

// DefaultIndex is the classic date-based index name: used when index is
// not set and the server has no data streams (OpenSearch, Elasticsearch
// before 7.9, a server that does not say its version).
const DefaultIndex = "logs-{kubernetes.namespace_name}-%Y.%m.%d"

// Schemas are the names schema takes.
var Schemas = []string{"fluentd", "fluentbit", "ecs", "otel"}

func defaultESConventions(c *ESConventions) {
	if c.Schema == "" {
		c.Schema = "fluentd"
	}
	if c.DataStreams.Type == "" {
		c.DataStreams.Type = "logs"
	}
	if c.DataStreams.Namespace == "" {
		c.DataStreams.Namespace = "default"
	}
	if c.InstallTemplates == nil {
		t := true
		c.InstallTemplates = &t
	}
	if c.MaxLabels == 0 {
		c.MaxLabels = 64
	}
}

// CheckDataStreamPart reports what makes s unfit as the type, dataset or
// namespace of a data stream name <type>-<dataset>-<namespace>, or nil.
// Elastic's naming scheme
// (https://www.elastic.co/docs/reference/fleet/data-streams#data-streams-naming-scheme):
// lower case, no '-' inside a part, dataset and namespace at most 100
// bytes; the create data stream API's name rules
// (https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-indices-create-data-stream):
// none of \ / * ? " < > | , # : or a space.
func CheckDataStreamPart(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("must not be empty")
	case len(s) > 100:
		return fmt.Errorf("must be at most 100 bytes, got %d", len(s))
	case s != strings.ToLower(s):
		return fmt.Errorf("must be lower case, got %q", s)
	case strings.Contains(s, "-"):
		return fmt.Errorf("must not contain '-' (it separates <type>-<dataset>-<namespace>), got %q", s)
	case strings.ContainsAny(s, `\/*?"<>|,#: `):
		return fmt.Errorf(`must not contain any of \ / * ? " < > | , # : or a space, got %q`, s)
	case s == "." || s == ".." || s[0] == '_' || s[0] == '+':
		return fmt.Errorf("must not be . or .. or start with _ or +, got %q", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return fmt.Errorf("must not contain control characters, got %q", s)
		}
	}
	return nil
}

// NamespaceFields are the {field} forms data_streams.namespace takes.
var NamespaceFields = []string{"{kubernetes.namespace_name}", "{kubernetes.labels.<key>}", "{kubernetes.annotations.<key>}"}

// CheckNamespaceRoute checks data_streams.namespace: a valid static part,
// or one of NamespaceFields.
func CheckNamespaceRoute(s string) error {
	if !strings.HasPrefix(s, "{") {
		return CheckDataStreamPart(s)
	}
	inner, ok := strings.CutSuffix(s[1:], "}")
	switch {
	case !ok:
		return fmt.Errorf("unterminated { in %q", s)
	case inner == "kubernetes.namespace_name":
	case strings.HasPrefix(inner, "kubernetes.labels.") && len(inner) > len("kubernetes.labels."):
	case strings.HasPrefix(inner, "kubernetes.annotations.") && len(inner) > len("kubernetes.annotations."):
	default:
		return fmt.Errorf("unknown field %s (known: %s)", s, strings.Join(NamespaceFields, ", "))
	}
	return nil
}

// validateESConventions checks the keys of ESConventions.
func validateESConventions(p *problems, o Output, at func(k ...any) []any) {
	c := o.ESConventions
	known := false
	for _, s := range Schemas {
		known = known || c.Schema == s
	}
	if !known {
		p.add("must be one of %s, got %q", at("schema"), strings.Join(Schemas, ", "), c.Schema)
	}
	if err := CheckDataStreamPart(c.DataStreams.Type); err != nil {
		p.add("%v", at("data_streams", "type"), err)
	}
	if c.DataStreams.Dataset != "" {
		if err := CheckDataStreamPart(c.DataStreams.Dataset); err != nil {
			p.add("%v", at("data_streams", "dataset"), err)
		}
	}
	if err := CheckNamespaceRoute(c.DataStreams.Namespace); err != nil {
		p.add("%v", at("data_streams", "namespace"), err)
	}
	if c.MaxLabels < -1 {
		p.add("must be -1 (no cap) or more, got %d", at("max_labels"), c.MaxLabels)
	}
}
