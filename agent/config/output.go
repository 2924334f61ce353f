package config

import (
	"strings"
	"time"

	"github.com/sluicelog/sluice/agent/config/indexname"
	"github.com/sluicelog/sluice/internal/redact"
)

// MaxBulkBytes caps bulk.max_bytes so that item offsets fit in int32.
const MaxBulkBytes = 1 << 30

// Output is one destination.
type Output struct {
	Name string `yaml:"name"`
	Type string `yaml:"type"`

	// elasticsearch
	URLs     []string          `yaml:"urls"`
	Index    string            `yaml:"index"`
	Bulk     Bulk              `yaml:"bulk" for:"elasticsearch otlp"`
	Headers  map[string]string `yaml:"headers" for:"elasticsearch otlp"`
	Username string            `yaml:"username"`
	Password string            `yaml:"password"`
	APIKey   string            `yaml:"api_key"`
	// IDs turns deterministic _id with op_type create on or off.
	IDs *bool `yaml:"ids"`
	// IDField also writes each document's _id into this field, for stores
	// that ignore _id (VictoriaLogs) so replays can still be recognised.
	IDField string   `yaml:"id_field"`
	Retry   Retry    `yaml:"retry" for:"elasticsearch kafka otlp"`
	Timeout Duration `yaml:"timeout" for:"elasticsearch otlp"`
	// IdleTimeout closes keep-alive connections unused this long.
	IdleTimeout Duration `yaml:"idle_timeout" for:"elasticsearch otlp"`
	// DeadLetterIndex takes documents refused for good whose rescue copy
	// was refused too.
	DeadLetterIndex string `yaml:"dead_letter_index"`
	// DataStream, when set, replaces index: every document is created in
	// this data stream.
	DataStream string   `yaml:"data_stream"`
	Template   Template `yaml:"template"`
	// Secrets from files (mounted Kubernetes Secrets); each excludes the
	// inline key of the same name.
	PasswordFile    string    `yaml:"password_file"`
	APIKeyFile      string    `yaml:"api_key_file"`
	BearerToken     string    `yaml:"bearer_token"`
	BearerTokenFile string    `yaml:"bearer_token_file"`
	TLS             ClientTLS `yaml:"tls" for:"elasticsearch kafka otlp"`
	// Compatibility is elasticsearch (default: the output checks the
	// X-Elastic-Product header) or opensearch (no product check).
	Compatibility string `yaml:"compatibility"`

	OTLP `yaml:",inline" for:"otlp"` // otlp.go

	// Match limits the output to some batches (filters.go); nil = all.
	Match *Match `yaml:"match"`

	ESConventions `yaml:",inline"` // es_conventions.go

	Kafka `yaml:",inline" for:"kafka"` // kafka.go
}

// Template is an index template installed at startup.
type Template struct {
	File string `yaml:"file"`
	Name string `yaml:"name"`
}

// ClientTLS configures HTTPS connections to the servers.
type ClientTLS struct {
	// Enabled turns TLS on for a kafka output (elasticsearch: https:// URLs).
	Enabled            bool   `yaml:"enabled"`
	CAFile             string `yaml:"ca_file"`
	CertFile           string `yaml:"cert_file"`
	KeyFile            string `yaml:"key_file"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// Bulk sizes the bulk requests of an Elasticsearch output.
type Bulk struct {
	// MaxBytes: unset, Parse sizes it from memory_limit (memory.go) and
	// sets Sized.
	MaxBytes      ByteSize `yaml:"max_bytes"`
	FlushInterval Duration `yaml:"flush_interval"`
	Workers       int      `yaml:"workers"`
	// Compress gzips bodies: off by default for elasticsearch, on for
	// otlp when the file leaves it out (otlp.go, compressUnset).
	Compress bool `yaml:"compress"`
	Sized    bool `yaml:"-"` // MaxBytes came from memory_limit
}

// Retry is the backoff for retried requests and items.
type Retry struct {
	Initial Duration `yaml:"initial"`
	Max     Duration `yaml:"max"`
}

// DefaultOutput fills the defaults of an output's unset keys, as Parse
// does; components built from an Output trust them.
func DefaultOutput(o *Output) {
	if o.Type == "otlp" {
		defaultOTLP(o)
	}
	if o.Type == "elasticsearch" {
		// index stays empty unless set: data streams or DefaultIndex,
		// by the server's version (es_conventions.go).
		defaultESConventions(&o.ESConventions)
		if o.IDs == nil {
			t := true
			o.IDs = &t
		}
		if o.Timeout == 0 {
			o.Timeout = Duration(30 * time.Second)
		}
		if o.IdleTimeout == 0 {
			o.IdleTimeout = Duration(90 * time.Second)
		}
		if o.DeadLetterIndex == "" {
			o.DeadLetterIndex = "sluice-dead-letter"
		}
		if o.Compatibility == "" {
			o.Compatibility = "elasticsearch"
		}
		if o.Template.File != "" && o.Template.Name == "" {
			o.Template.Name = "sluice-logs"
		}
	}
	if o.Type == "kafka" {
		defaultKafka(o)
	}
	if o.Bulk.MaxBytes == 0 {
		o.Bulk.MaxBytes = 5 << 20
	}
	if o.Bulk.FlushInterval == 0 {
		o.Bulk.FlushInterval = Duration(time.Second)
	}
	if o.Bulk.Workers == 0 {
		o.Bulk.Workers = 2
	}
	if o.Retry.Initial == 0 {
		o.Retry.Initial = Duration(100 * time.Millisecond)
	}
	if o.Retry.Max == 0 {
		o.Retry.Max = Duration(30 * time.Second)
	}
}

// validateOutputs checks each output by its type.
func validateOutputs(p *problems, c *Config) {
	names := map[string]bool{}
	for i, o := range c.Outputs {
		at := func(k ...any) []any { return append([]any{"outputs", i}, k...) }
		if o.Name == "" {
			p.add("must not be empty", at("name"))
		} else if names[o.Name] {
			p.add("duplicate output name %q", at("name"), o.Name)
		}
		names[o.Name] = true
		switch o.Type {
		case "elasticsearch":
			if len(o.URLs) == 0 {
				p.add("at least one URL is needed", at("urls"))
			}
			for j, u := range o.URLs {
				if !httpURL(u) {
					p.add("must start with http:// or https://, got %q", at("urls", j), redact.URL(u))
				}
			}
			validateESOutput(p, o, at)
			validateESConventions(p, o, at)
		case "console":
		case "kafka":
			validateKafka(p, o, at)
		case "otlp":
			validateOTLP(p, o, at)
		case "":
			p.add("must be set (elasticsearch, kafka, otlp or console)", at("type"))
		default:
			p.add("unknown output type %q (want elasticsearch, kafka, otlp or console)", at("type"), o.Type)
		}
		if o.Bulk.MaxBytes < 1024 || o.Bulk.MaxBytes > MaxBulkBytes {
			p.add("must be between 1Ki and 1Gi, got %v", at("bulk", "max_bytes"), o.Bulk.MaxBytes)
		}
		if o.Bulk.FlushInterval.Duration() < time.Millisecond {
			p.add("must be at least 1ms", at("bulk", "flush_interval"))
		}
		if o.Bulk.Workers < 1 || o.Bulk.Workers > 64 {
			p.add("must be between 1 and 64, got %d", at("bulk", "workers"), o.Bulk.Workers)
		}
		if o.Retry.Max < o.Retry.Initial {
			p.add("must not be below retry.initial", at("retry", "max"))
		}
	}
}

// httpURL says whether u starts with http:// or https://, in any case
// (URL schemes are case-insensitive, RFC 3986 3.1).
func httpURL(u string) bool {
	scheme, _, ok := strings.Cut(u, "://")
	return ok && (strings.EqualFold(scheme, "http") || strings.EqualFold(scheme, "https"))
}

// validateESOutput checks the keys of an elasticsearch output added for
// production use. Messages never quote a secret's value.
func validateESOutput(p *problems, o Output, at func(k ...any) []any) {
	both := func(inline, file string, a, b string) {
		if inline != "" && file != "" {
			p.add("set only one of "+a+" and "+b, at(b))
		}
	}
	both(o.Password, o.PasswordFile, "password", "password_file")
	both(o.APIKey, o.APIKeyFile, "api_key", "api_key_file")
	both(o.BearerToken, o.BearerTokenFile, "bearer_token", "bearer_token_file")
	if (o.Username != "" || o.Password != "" || o.PasswordFile != "") && (o.APIKey != "" || o.APIKeyFile != "") {
		p.add("set either username/password or api_key, not both", at("api_key"))
	}
	if (o.BearerToken != "" || o.BearerTokenFile != "") && (o.APIKey != "" || o.APIKeyFile != "" || o.Username != "") {
		p.add("set either bearer_token or username/api_key, not both", at("bearer_token"))
	}
	if o.TLS.Enabled {
		p.add("is for kafka outputs; an elasticsearch output uses TLS for https:// URLs", at("tls", "enabled"))
	}
	if o.Timeout.Duration() < time.Millisecond {
		p.add("must be at least 1ms", at("timeout"))
	}
	if o.IdleTimeout.Duration() < time.Millisecond {
		p.add("must be at least 1ms", at("idle_timeout"))
	}
	if o.DeadLetterIndex != strings.ToLower(o.DeadLetterIndex) || strings.ContainsAny(o.DeadLetterIndex, `\/*?"<>| ,#:`) {
		p.add("must be a lower-case index name, got %q", at("dead_letter_index"), o.DeadLetterIndex)
	}
	if ds := o.DataStream; ds != "" && (ds != strings.ToLower(ds) || strings.ContainsAny(ds, `\/*?"<>| ,#:%{}`)) {
		p.add("must be a lower-case data stream name without placeholders, got %q", at("data_stream"), ds)
	}
	if o.Index != "" {
		if _, err := indexname.Parse(o.Index); err != nil {
			p.add("%v", at("index"), err)
		}
	}
	if o.Template.Name != "" && o.Template.File == "" {
		p.add("template.name needs template.file", at("template", "file"))
	}
	checkSecretFile(p, o.PasswordFile, at("password_file"))
	checkSecretFile(p, o.APIKeyFile, at("api_key_file"))
	checkSecretFile(p, o.BearerTokenFile, at("bearer_token_file"))
	checkTemplateFile(p, o.Template.File, at("template", "file"))
	checkClientTLS(p, o.TLS, at)
	switch o.Compatibility {
	case "elasticsearch", "opensearch":
	default:
		p.add("must be elasticsearch or opensearch, got %q", at("compatibility"), o.Compatibility)
	}
}
