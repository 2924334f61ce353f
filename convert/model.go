// Package convert turns Fluent Bit (classic .conf and YAML) and Fluentd
// configs of the common Kubernetes shape (tail + kubernetes metadata +
// Elasticsearch, syslog) into a sluice config, with a note for every
// setting that has no equivalent, and a sluice test file that pins what
// the converted config does (agent/pipelinetest).
package convert

import (
	"fmt"
	"strings"
)

// Plugin is one section of the source config: an input, filter, output,
// parser or the service settings.
type Plugin struct {
	Kind   string // input, filter, output, parser, service
	Name   string // the plugin: tail, kubernetes, es, elasticsearch, …
	Match  string // the tag pattern of a filter or output
	Line   int
	Params []Param
}

// Param is one setting; nested sections of Fluentd come as
// "section.key" (parse.@type, buffer.flush_interval).
type Param struct {
	Key   string
	Value string
	Line  int
}

// Get returns the value of key (case-insensitive) and whether it is set;
// the setting counts as used.
func (p *Plugin) Get(key string) (string, bool) {
	for i := range p.Params {
		if strings.EqualFold(p.Params[i].Key, key) {
			return p.Params[i].Value, true
		}
	}
	return "", false
}

// All returns every value of key, in order (Fluent Bit repeats keys).
func (p *Plugin) All(key string) []Param {
	var out []Param
	for _, q := range p.Params {
		if strings.EqualFold(q.Key, key) {
			out = append(out, q)
		}
	}
	return out
}

// Source is a parsed config.
type Source struct {
	Format  string // "Fluent Bit" or "Fluentd"
	Plugins []Plugin
}

// maxInput bounds what a parser reads: configs are small.
const maxInput = 4 << 20

func tooBig(b []byte) error {
	if len(b) > maxInput {
		return fmt.Errorf("config of %d bytes: over the %d that convert reads", len(b), maxInput)
	}
	return nil
}

// on reads a Fluent Bit / Fluentd boolean.
func on(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "on", "true", "yes", "1":
		return true
	}
	return false
}
