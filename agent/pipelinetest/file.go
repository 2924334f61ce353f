// Package pipelinetest runs sluice test files: cases of input lines and
// the documents each output should receive, checked against the real
// pipeline (collector/tail's reading and joining, agent/kube's
// enrichment from a static pod cache, agent/document's parsers, the
// filter transforms, the routes, and the Elasticsearch output's index,
// _id and schema) with the outputs replaced by collectors: nothing
// listens and nothing is sent.
package pipelinetest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"
)

// File is a test file: a config and its cases.
type File struct {
	// Config is the agent config, relative to the test file.
	Config string `yaml:"config"`
	// Env resolves the config's ${VAR} references; the process's
	// environment is not read, so a test means the same everywhere.
	Env map[string]string `yaml:"env"`
	// DataStreams is the answer an Elasticsearch output with neither
	// index nor data_stream gets from the server: data streams (the
	// default, Elasticsearch 7.9 and later) or classic indices.
	DataStreams *bool `yaml:"data_streams"`
	// Clock is the time of records that carry none and of the throttle's
	// buckets (default 2026-01-01T00:00:00Z).
	Clock time.Time `yaml:"clock"`
	Cases []Case    `yaml:"cases"`

	path string
	node yaml.Node // the file as read, for -update
}

// Case is one test: inputs and what the outputs should receive.
type Case struct {
	Name   string   `yaml:"name"`
	Pods   []Pod    `yaml:"pods"`
	Inputs []Input  `yaml:"inputs"`
	Expect []Expect `yaml:"expect"`
	// Outputs, when set, is how many documents each named output gets.
	Outputs map[string]int `yaml:"outputs"`
	// Counts, when set, are the records dropped by drop/keep
	// transforms, throttled, excluded by sluice.io/exclude, and taken by
	// no output's match.
	Counts *Counts `yaml:"counts"`
}

// Counts are records that reach no output, by why.
type Counts struct {
	Dropped   int64 `yaml:"dropped"`
	Throttled int64 `yaml:"throttled"`
	Excluded  int64 `yaml:"excluded"`
	Unrouted  int64 `yaml:"unrouted"`
	// NotRead are lines of files that no glob of the input's paths
	// matches, or that an exclude does: the agent never reads them.
	NotRead int64 `yaml:"not_read"`
}

// Pod stands in for one pod of the Kubernetes cache.
type Pod struct {
	Namespace   string            `yaml:"namespace"`
	Name        string            `yaml:"name"`
	UID         string            `yaml:"uid"`
	Node        string            `yaml:"node"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
	Owner       *Owner            `yaml:"owner"`
	Containers  []Container       `yaml:"containers"`
	// NamespaceLabels are the labels of the pod's namespace
	// (kubernetes.namespace_labels).
	NamespaceLabels map[string]string `yaml:"namespace_labels"`
}

// Owner is the pod's controller.
type Owner struct {
	Kind string `yaml:"kind"`
	Name string `yaml:"name"`
}

// Container is one container of a pod; ID is the runtime's id, without
// its containerd:// prefix.
type Container struct {
	Name    string `yaml:"name"`
	Image   string `yaml:"image"`
	ImageID string `yaml:"image_id"`
	ID      string `yaml:"id"`
}

// Input is what one input receives: container log lines of one file, or
// syslog frames.
type Input struct {
	// Input is the input's name; default: the config's first input of
	// the kind the entry holds (lines: container_logs, frames: syslog).
	Input string `yaml:"input"`
	// File is the log file's path; default: the kubelet's
	// /var/log/containers name for Pod and Container.
	File      string `yaml:"file"`
	Pod       string `yaml:"pod"`       // namespace/name, for File's default
	Container string `yaml:"container"` // for File's default
	// Lines are the file's lines, in the runtime's CRI or docker
	// json-file form.
	Lines []string `yaml:"lines"`
	// Frames are syslog messages, one each, received over Transport
	// (tcp or udp; default tcp) from Source (default 127.0.0.1).
	Frames    []string `yaml:"frames"`
	Transport string   `yaml:"transport"`
	Source    string   `yaml:"source"`
}

// Expect is one document an output should receive, in order.
type Expect struct {
	Output string `yaml:"output"`
	// Index is the index or data stream of its bulk action.
	Index string `yaml:"index"`
	// ID is its _id.
	ID string `yaml:"id"`
	// Doc is the whole document, exactly.
	Doc map[string]any `yaml:"doc"`
	// Fields are assertions on single fields, by dotted path.
	Fields map[string]Assert `yaml:"fields"`
}

// Assert is what one field should be.
type Assert struct {
	Equals  any    `yaml:"equals"`
	Matches string `yaml:"matches"`
	Absent  bool   `yaml:"absent"`
	// Type is string, number, bool, object, array or null.
	Type string `yaml:"type"`

	hasEquals bool
}

// UnmarshalYAML notes whether equals was given, so equals: null means
// "is null" rather than "not checked".
func (a *Assert) UnmarshalYAML(n *yaml.Node) error {
	type plain Assert
	if err := n.Decode((*plain)(a)); err != nil {
		return err
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "equals" {
			a.hasEquals = true
		}
	}
	return nil
}

// Load reads a test file strictly: an unknown key is an error with its
// line.
func Load(path string) (*File, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read test file: %w", err)
	}
	f := &File{path: path}
	if err := yaml.Unmarshal(raw, &f.node); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if f.Config == "" {
		return nil, fmt.Errorf("%s: config: the agent config to test is not set", path)
	}
	if len(f.Cases) == 0 {
		return nil, fmt.Errorf("%s: no cases", path)
	}
	if f.Clock.IsZero() {
		f.Clock = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return f, nil
}

// Path is the file's path.
func (f *File) Path() string { return f.path }

// ConfigPath is the config's path, relative to the test file's folder.
func (f *File) ConfigPath() string {
	if filepath.IsAbs(f.Config) {
		return f.Config
	}
	return filepath.Join(filepath.Dir(f.path), f.Config)
}
