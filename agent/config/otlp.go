package config

import (
	"net/url"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sluicelog/sluice/internal/redact"
)

// OTLP holds the keys only an otlp output has (agent/otlp); headers, tls,
// bulk, retry, timeout and idle_timeout are shared with elasticsearch.
// bulk.compress gzips the bodies, by default for otlp (compressUnset).
type OTLP struct {
	// Endpoint is the full OTLP/HTTP logs URL, .../v1/logs.
	Endpoint string `yaml:"endpoint"`
}

// DefaultOTLPMaxBytes is an otlp output's bulk.max_bytes when unset: well
// under the OpenTelemetry Collector's default request limit (20 MiB).
const DefaultOTLPMaxBytes = 1 << 20

// MinSizedOTLPMaxBytes is the smallest bulk.max_bytes sized from
// memory_limit: still hundreds of records a request.
const MinSizedOTLPMaxBytes = 64 << 10

// compressUnset says whether the file leaves outputs[i].bulk.compress out
// (or null). An otlp output then gzips, as the OpenTelemetry Collector's
// otlphttp exporter does by default: OTLP protobuf of log lines shrinks
// several times. The key is a bool shared with elasticsearch, whose
// default stays false, so for otlp its absence is read from the file; a
// config built in Go (DefaultOutput) says what it wants.
func compressUnset(root *yaml.Node, i int) bool {
	n := nodeAt(root, []any{"outputs", i, "bulk", "compress"})
	return n == nil || isNull(n)
}

func defaultOTLP(o *Output) {
	if o.Bulk.MaxBytes == 0 {
		o.Bulk.MaxBytes = DefaultOTLPMaxBytes
	}
	if o.Timeout == 0 {
		o.Timeout = Duration(30 * time.Second)
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = Duration(90 * time.Second)
	}
}

// validateOTLP checks an otlp output. The endpoint is never quoted whole:
// it may carry userinfo.
func validateOTLP(p *problems, o Output, at func(k ...any) []any) {
	switch u, err := url.Parse(o.Endpoint); {
	case o.Endpoint == "":
		p.add("must be set: the OTLP/HTTP logs URL, like http://otel-collector:4318/v1/logs", at("endpoint"))
	case err != nil || !httpURL(o.Endpoint) || u.Host == "":
		p.add("must be an http:// or https:// URL with a host, got %q", at("endpoint"), redact.URL(o.Endpoint))
	case u.User != nil:
		p.add("must not carry a user or password (%q); send credentials in headers", at("endpoint"), redact.URL(o.Endpoint))
	case !strings.HasSuffix(u.Path, "/v1/logs"):
		p.add("must be the full logs URL ending in /v1/logs (OTLP/HTTP sends logs there), got %q", at("endpoint"), redact.URL(o.Endpoint))
	}
	for k := range o.Headers {
		if k == "" || strings.ContainsAny(k, " :\r\n\t") {
			p.add("header name %q is not a valid HTTP header name", at("headers"), k)
		}
	}
	checkClientTLS(p, o.TLS, at)
	if o.Timeout.Duration() < time.Millisecond {
		p.add("must be at least 1ms", at("timeout"))
	}
	if o.IdleTimeout.Duration() < time.Millisecond {
		p.add("must be at least 1ms", at("idle_timeout"))
	}
}

// nodeAt is the value at path in the document, or nil; it follows
// aliases as decoding does (merge keys are refused, keys.go).
func nodeAt(root *yaml.Node, path []any) *yaml.Node {
	n := root
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, k := range path {
		if n = deref(n); n == nil {
			return nil
		}
		var next *yaml.Node
		switch k := k.(type) {
		case int:
			if n.Kind == yaml.SequenceNode && k < len(n.Content) {
				next = n.Content[k]
			}
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content) && next == nil; i += 2 {
					if n.Content[i].Value == k {
						next = n.Content[i+1]
					}
				}
			}
		}
		n = next
	}
	return deref(n)
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}
