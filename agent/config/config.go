// Package config loads and checks the agent's YAML configuration
// (DESIGN.md, Configuration). Decoding is strict: unknown keys and bad
// values are errors that name the key and its line.
package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sluicelog/sluice/internal/redact"
	"github.com/sluicelog/sluice/parsers/regex"
)

// Config is the whole agent configuration.
type Config struct {
	NodeName           string      `yaml:"node_name"`
	DataDir            string      `yaml:"data_dir"`
	MemoryLimit        ByteSize    `yaml:"memory_limit"`
	Workers            int         `yaml:"workers"` // 0 = one per CPU
	ShutdownTimeout    Duration    `yaml:"shutdown_timeout"`
	CheckpointInterval Duration    `yaml:"checkpoint_interval"`
	HTTP               HTTP        `yaml:"http"`
	Inputs             []Input     `yaml:"inputs"`
	Kubernetes         Kubernetes  `yaml:"kubernetes"`
	Transforms         []Transform `yaml:"transforms"`
	Outputs            []Output    `yaml:"outputs"`
}

// HTTP is the agent's HTTP API.
type HTTP struct {
	// Listen is the address of /metrics, the probes and /api/v1; "" turns
	// the HTTP API off.
	Listen string `yaml:"listen"`
	// TokenFile holds a bearer token (surrounding whitespace ignored) that
	// /api/v1/* then requires; /metrics and the probes stay open. "" = no
	// token. Mount it from a Kubernetes Secret; SIGHUP reads it again.
	TokenFile string `yaml:"token_file"`
	// AllowUnauthenticatedAPI serves /api/v1/* without a token on a
	// listen address that is not loopback. Off, such an address without
	// token_file answers 403 there: the tap shows every log of the node
	// to every pod that can reach the port.
	AllowUnauthenticatedAPI bool `yaml:"allow_unauthenticated_api"`
}

// Input is one source of records.
type Input struct {
	Name string `yaml:"name"`
	Type string `yaml:"type"`

	// container_logs
	Paths        []string `yaml:"paths"`
	Exclude      []string `yaml:"exclude"`
	StartAt      string   `yaml:"start_at"` // head | end
	PollInterval Duration `yaml:"poll_interval"`
	MaxLineBytes ByteSize `yaml:"max_line_bytes"`
	BatchBytes   ByteSize `yaml:"batch_bytes"`
	// CloseInactive closes a file that has not grown for this long; it is
	// reopened when it changes. MaxOpenFiles bounds the handles held.
	CloseInactive Duration `yaml:"close_inactive"`
	MaxOpenFiles  int      `yaml:"max_open_files"`
	// Watch turns inotify on for prompt pickup; polling always runs too.
	Watch *bool `yaml:"watch"`
	// Multiline joins stack traces per stream; nil = off (multiline.go).
	Multiline *Multiline `yaml:"multiline"`
	// AllowedRoots are the folders a matched file (a link's target) must
	// resolve under, besides the globs' own folders; nil = the defaults
	// (files.go). AgentFiles, set by Parse and Load, are never read.
	AllowedRoots []string `yaml:"allowed_roots"`
	AgentFiles   []string `yaml:"-"`

	// syslog
	TCP             string   `yaml:"tcp"`    // listen address, "" = no TCP listener
	UDP             string   `yaml:"udp"`    // listen address, "" = no UDP listener
	Format          string   `yaml:"format"` // auto | rfc3164 | rfc5424
	MaxMessageBytes ByteSize `yaml:"max_message_bytes"`
	MaxConnections  int      `yaml:"max_connections"`
	IdleTimeout     Duration `yaml:"idle_timeout"` // 0 = none
	UDPReaders      int      `yaml:"udp_readers"`
	TLS             TLS      `yaml:"tls"`
	// HandshakeTimeout bounds a TLS handshake, apart from idle_timeout.
	HandshakeTimeout Duration `yaml:"handshake_timeout"`
	// UDPReceiveBuffer is each UDP socket's SO_RCVBUF (the kernel caps
	// it at net.core.rmem_max).
	UDPReceiveBuffer ByteSize `yaml:"udp_receive_buffer"`
}

// TLS turns TLS on for a TCP listener when both files are set.
type TLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Transform is one step applied to every record. json, logfmt and regex
// are parsers: the first that succeeds on a line merges its fields.
type Transform struct {
	Type         string `yaml:"type"`
	Field        string `yaml:"field"`
	Target       string `yaml:"target"`
	KeepOriginal bool   `yaml:"keep_original"`

	// regex: exactly one of Pattern (Go regexp, named groups become
	// fields) and Preset (nginx, apache, klog); Types maps group names to
	// int, float or bool.
	Pattern string            `yaml:"pattern"`
	Preset  string            `yaml:"preset"`
	Types   map[string]string `yaml:"types"`

	// Regex is the compiled pattern or preset, set by Parse.
	Regex *regex.Parser `yaml:"-"`

	// Time takes @timestamp from a parsed field; NormalizeLevel turns the
	// level keys into one lower-case level field (fields.go). A transform
	// of type level normalises levels for every parser.
	Time           *TimeField `yaml:"time"`
	NormalizeLevel bool       `yaml:"normalize_level"`

	// drop, keep, throttle and fields work on the encoded documents, after
	// the parsers (filters.go). Name labels their counters (default
	// <type>_<index>); Match limits them to some batches. drop and keep
	// test field+pattern, namespaces and labels (all that are set).
	Name       string   `yaml:"name"`
	Match      *Match   `yaml:"match"`
	Namespaces []string `yaml:"namespaces"`
	Labels     string   `yaml:"labels"`
	// throttle: a token bucket of rate records/s and burst per key.
	Rate            float64  `yaml:"rate"`
	Burst           int      `yaml:"burst"`
	Key             string   `yaml:"key"`
	SummaryInterval Duration `yaml:"summary_interval"`
	MaxKeys         int      `yaml:"max_keys"`
	// fields: edits by dotted path.
	Add            map[string]string `yaml:"add"`
	AddEnv         map[string]string `yaml:"add_env"`
	Rename         map[string]string `yaml:"rename"`
	Remove         []string          `yaml:"remove"`
	Redact         []Redact          `yaml:"redact"`
	Dedot          []string          `yaml:"dedot"`
	DedotSeparator string            `yaml:"dedot_separator"`
}

// Output is one destination.
type Output struct {
	Name string `yaml:"name"`
	Type string `yaml:"type"`

	// elasticsearch
	URLs     []string          `yaml:"urls"`
	Index    string            `yaml:"index"`
	Bulk     Bulk              `yaml:"bulk"`
	Headers  map[string]string `yaml:"headers"`
	Username string            `yaml:"username"`
	Password string            `yaml:"password"`
	APIKey   string            `yaml:"api_key"`
	// IDs turns deterministic _id with op_type create on or off.
	IDs *bool `yaml:"ids"`
	// IDField also writes each document's _id into this field, for stores
	// that ignore _id (VictoriaLogs) so replays can still be recognised.
	IDField string   `yaml:"id_field"`
	Retry   Retry    `yaml:"retry"`
	Timeout Duration `yaml:"timeout"`
	// IdleTimeout closes keep-alive connections unused this long.
	IdleTimeout Duration `yaml:"idle_timeout"`
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
	TLS             ClientTLS `yaml:"tls"`
	// Compatibility is elasticsearch (default: the output checks the
	// X-Elastic-Product header) or opensearch (no product check).
	Compatibility string `yaml:"compatibility"`

	// Match limits the output to some batches (filters.go); nil = all.
	Match *Match `yaml:"match"`
}

// Template is an index template installed at startup.
type Template struct {
	File string `yaml:"file"`
	Name string `yaml:"name"`
}

// ClientTLS configures HTTPS connections to the servers.
type ClientTLS struct {
	CAFile             string `yaml:"ca_file"`
	CertFile           string `yaml:"cert_file"`
	KeyFile            string `yaml:"key_file"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// Bulk sizes the bulk requests of an Elasticsearch output.
type Bulk struct {
	MaxBytes      ByteSize `yaml:"max_bytes"`
	FlushInterval Duration `yaml:"flush_interval"`
	Workers       int      `yaml:"workers"`
	Compress      bool     `yaml:"compress"`
}

// Retry is the backoff for retried requests and items.
type Retry struct {
	Initial Duration `yaml:"initial"`
	Max     Duration `yaml:"max"`
}

// Default returns a configuration with every default filled in; a file is
// decoded on top of it.
func Default() Config {
	return Config{
		DataDir:            "/var/lib/sluice",
		MemoryLimit:        256 << 20,
		ShutdownTimeout:    Duration(20 * time.Second),
		CheckpointInterval: Duration(time.Second),
		HTTP:               HTTP{Listen: "0.0.0.0:2020"},
		Kubernetes:         defaultKubernetes(),
	}
}

func defaultInput(in *Input) {
	if in.StartAt == "" {
		in.StartAt = "end"
	}
	if in.PollInterval == 0 {
		in.PollInterval = Duration(250 * time.Millisecond)
	}
	if in.MaxLineBytes == 0 {
		in.MaxLineBytes = 1 << 20
	}
	if in.BatchBytes == 0 {
		in.BatchBytes = 64 << 10
	}
	if in.CloseInactive == 0 {
		in.CloseInactive = Duration(5 * time.Minute)
	}
	if in.MaxOpenFiles == 0 {
		in.MaxOpenFiles = 1024
	}
	if in.Watch == nil {
		t := true
		in.Watch = &t
	}
	defaultAllowedRoots(in)
	if in.Type == "syslog" {
		if in.Format == "" {
			in.Format = "auto"
		}
		if in.MaxMessageBytes == 0 {
			in.MaxMessageBytes = 64 << 10
		}
		if in.MaxConnections == 0 {
			in.MaxConnections = 1024
		}
		if in.IdleTimeout == 0 {
			in.IdleTimeout = Duration(10 * time.Minute)
		}
		if in.UDPReaders == 0 {
			in.UDPReaders = min(runtime.GOMAXPROCS(0), 8)
		}
		if in.HandshakeTimeout == 0 {
			in.HandshakeTimeout = Duration(10 * time.Second)
		}
		if in.UDPReceiveBuffer == 0 {
			in.UDPReceiveBuffer = 8 << 20
		}
	}
}

func defaultOutput(o *Output) {
	if o.Type == "elasticsearch" {
		if o.Index == "" {
			o.Index = "logs-{kubernetes.namespace_name}-%Y.%m.%d"
		}
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

// Load reads, expands and checks a config file.
func Load(path string) (*Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	cfg, err := Parse(raw, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	cfg.protectAgentFiles(path)
	return cfg, nil
}

// Parse decodes strictly, expands ${VAR} references inside scalar values
// (looked up with lookup, or the process environment when nil; env.go),
// fills defaults and validates. Every problem found is reported, each with
// its key and line; no message carries a value that came from the
// environment.
func Parse(raw []byte, lookup func(string) (string, bool)) (*Config, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	env := tokenize(raw)
	var root yaml.Node
	if err := yaml.Unmarshal(env.text, &root); err != nil {
		return nil, errors.New(env.restore(err.Error()))
	}
	var done []expansion
	cfg, err := decode(&root, &env, lookup, &done)
	if err != nil {
		msg := hideValues(env.restore(err.Error()), done)
		return nil, errors.New(msg)
	}
	return cfg, nil
}

func decode(root *yaml.Node, env *envText, lookup func(string) (string, bool), done *[]expansion) (*Config, error) {
	if err := env.expandTree(root, lookup, done); err != nil {
		return nil, err
	}
	keys := &problems{root: root}
	unknownKeys(root, reflect.TypeFor[Config](), "", keys)
	if len(keys.errs) > 0 {
		return nil, errors.Join(keys.errs...)
	}
	cfg := Default()
	if root.Kind != 0 {
		// unknownKeys stands in for the decoder's KnownFields, which a
		// Node does not offer.
		if err := root.Decode(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.NodeName == "" {
		cfg.NodeName, _ = os.Hostname()
	}
	if cfg.Workers == 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	for i := range cfg.Inputs {
		defaultInput(&cfg.Inputs[i])
	}
	for i := range cfg.Outputs {
		defaultOutput(&cfg.Outputs[i])
	}
	if err := cfg.validate(root); err != nil {
		return nil, err
	}
	cfg.protectAgentFiles()
	return &cfg, nil
}

// problems collects validation errors, each located by its key path.
type problems struct {
	root *yaml.Node
	errs []error
}

func (p *problems) add(format string, path []any, args ...any) {
	parts := make([]string, 0, len(path))
	for _, k := range path {
		switch k := k.(type) {
		case int:
			if len(parts) == 0 {
				parts = append(parts, "["+strconv.Itoa(k)+"]")
			} else {
				parts[len(parts)-1] += "[" + strconv.Itoa(k) + "]"
			}
		default:
			parts = append(parts, fmt.Sprint(k))
		}
	}
	p.errs = append(p.errs, lineError(strings.Join(parts, "."), lineOf(p.root, path), fmt.Sprintf(format, args...)))
}

func lineError(key string, line int, msg string) error {
	if line > 0 {
		return fmt.Errorf("%s (line %d): %s", key, line, msg)
	}
	return fmt.Errorf("%s: %s", key, msg)
}

// lineOf finds the line of the deepest node of path that exists in the
// document, so a missing key points at its parent.
func lineOf(root *yaml.Node, path []any) int {
	n := root
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, k := range path {
		if n == nil {
			break
		}
		line = n.Line
		var next *yaml.Node
		switch k := k.(type) {
		case int:
			if n.Kind == yaml.SequenceNode && k < len(n.Content) {
				next = n.Content[k]
			}
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == k {
						line = n.Content[i].Line
						next = n.Content[i+1]
						break
					}
				}
			}
		}
		n = next
	}
	if n != nil {
		line = n.Line
	}
	return line
}

func validateSyslog(p *problems, in Input, at func(string) []any) {
	if in.TCP == "" && in.UDP == "" {
		p.add("a syslog input needs tcp, udp or both", at("tcp"))
	}
	for _, k := range []struct{ key, addr string }{{"tcp", in.TCP}, {"udp", in.UDP}} {
		if k.addr == "" {
			continue
		}
		if _, port, err := net.SplitHostPort(k.addr); err != nil || port == "" {
			p.add("must be host:port (e.g. 0.0.0.0:5140), got %q", at(k.key), k.addr)
		}
	}
	switch in.Format {
	case "auto", "rfc3164", "rfc5424":
	default:
		p.add("must be auto, rfc3164 or rfc5424, got %q", at("format"), in.Format)
	}
	// RFC 5424 6.1: receivers must take 480 bytes; 16MiB is far past any sender.
	if in.MaxMessageBytes < 480 || in.MaxMessageBytes > 16<<20 {
		p.add("must be between 480B and 16MiB, got %d bytes", at("max_message_bytes"), int64(in.MaxMessageBytes))
	}
	if in.MaxConnections < 1 {
		p.add("must be at least 1, got %d", at("max_connections"), in.MaxConnections)
	}
	if in.IdleTimeout < 0 {
		p.add("must not be negative", at("idle_timeout"))
	}
	if in.UDPReaders < 1 || in.UDPReaders > 256 {
		p.add("must be between 1 and 256, got %d", at("udp_readers"), in.UDPReaders)
	}
	if (in.TLS.CertFile == "") != (in.TLS.KeyFile == "") {
		p.add("cert_file and key_file must be set together", at("tls"))
	}
	if in.TLS.CertFile != "" && in.TCP == "" {
		p.add("tls needs a tcp listener", at("tls"))
	}
	validateSyslogLimits(p, in, at)
}

func validateHTTP(p *problems, h HTTP) {
	if h.Listen != "" {
		if _, port, err := net.SplitHostPort(h.Listen); err != nil || port == "" {
			p.add("must be host:port (e.g. 0.0.0.0:2020) or empty, got %q", []any{"http", "listen"}, h.Listen)
		}
	}
	if h.TokenFile == "" {
		return
	}
	if h.Listen == "" {
		p.add("needs http.listen: the HTTP API is off", []any{"http", "token_file"})
	}
	if _, err := ReadToken(h.TokenFile); err != nil {
		p.add("%v", []any{"http", "token_file"}, err)
	}
}

// ReadToken reads a bearer token file: its content without surrounding
// whitespace, which must not be empty.
func ReadToken(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read token: %w", err)
	}
	tok := strings.TrimSpace(string(raw))
	if tok == "" {
		return "", fmt.Errorf("token file %s is empty", path)
	}
	if strings.ContainsAny(tok, " \t\r\n") {
		return "", fmt.Errorf("token file %s holds more than one word", path)
	}
	return tok, nil
}

func (c *Config) validate(root *yaml.Node) error {
	p := &problems{root: root}
	if c.DataDir == "" {
		p.add("must not be empty", []any{"data_dir"})
	}
	if c.MemoryLimit < 1<<20 {
		p.add("must be at least 1MiB, got %d bytes", []any{"memory_limit"}, int64(c.MemoryLimit))
	}
	if c.Workers < 0 {
		p.add("must be >= 0", []any{"workers"})
	}
	validateHTTP(p, c.HTTP)
	validateKubernetes(p, c.Kubernetes)
	if len(c.Inputs) == 0 {
		p.add("at least one input is needed", []any{"inputs"})
	}
	if len(c.Outputs) == 0 {
		p.add("at least one output is needed", []any{"outputs"})
	}
	names := map[string]bool{}
	for i, in := range c.Inputs {
		at := func(k string) []any { return []any{"inputs", i, k} }
		if in.Name == "" {
			p.add("must not be empty (checkpoints are keyed by it)", at("name"))
		} else if names[in.Name] {
			p.add("duplicate input name %q", at("name"), in.Name)
		}
		names[in.Name] = true
		validateMultiline(p, in, at)
		validateAllowedRoots(p, in, at)
		switch in.Type {
		case "container_logs":
			if len(in.Paths) == 0 {
				p.add("at least one glob is needed", at("paths"))
			}
			if in.StartAt != "head" && in.StartAt != "end" {
				p.add("must be head or end, got %q", at("start_at"), in.StartAt)
			}
			if in.MaxLineBytes < 1024 {
				p.add("must be at least 1KiB", at("max_line_bytes"))
			}
			if in.PollInterval.D() < time.Millisecond {
				p.add("must be at least 1ms", at("poll_interval"))
			}
			if in.CloseInactive.D() < time.Millisecond {
				p.add("must be at least 1ms", at("close_inactive"))
			}
			if in.MaxOpenFiles < 1 {
				p.add("must be at least 1, got %d", at("max_open_files"), in.MaxOpenFiles)
			}
		case "syslog":
			validateSyslog(p, in, at)
		case "":
			p.add("must be set (container_logs or syslog)", at("type"))
		default:
			p.add("unknown input type %q (want container_logs or syslog)", at("type"), in.Type)
		}
	}
	for i, t := range c.Transforms {
		at := func(k string) []any { return []any{"transforms", i, k} }
		if isFilter(t.Type) {
			validateFilter(p, c, i)
			continue
		}
		switch t.Type {
		case "json", "logfmt", "regex":
			if t.Field != "" && t.Field != "log" {
				p.add("only the log field can be parsed for now, got %q", at("field"), t.Field)
			}
		case "level":
		default:
			p.add("unknown transform type %q (want json, logfmt, regex or level; or drop, keep, throttle or fields)", at("type"), t.Type)
		}
		validateTransformFields(p, &c.Transforms[i], at)
		if t.Type != "regex" {
			for _, k := range []struct {
				key string
				set bool
			}{{"pattern", t.Pattern != ""}, {"preset", t.Preset != ""}, {"types", t.Types != nil}} {
				if k.set {
					p.add("only for type regex", at(k.key))
				}
			}
			continue
		}
		var err error
		switch {
		case (t.Pattern == "") == (t.Preset == ""):
			p.add("exactly one of pattern and preset must be set", at("type"))
		case t.Preset != "":
			if t.Types != nil {
				p.add("only with pattern", at("types"))
			} else if c.Transforms[i].Regex, err = regex.Preset(t.Preset); err != nil {
				p.add("%v", at("preset"), err)
			}
		default:
			if c.Transforms[i].Regex, err = regex.New(t.Pattern, t.Types); err != nil {
				p.add("%v", at("pattern"), err)
			}
		}
	}
	validateFilterLabels(p, c)
	validateOutputMatches(p, c)
	names = map[string]bool{}
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
			if o.Index == "" {
				p.add("must not be empty", at("index"))
			}
			validateESOutput(p, o, at)
		case "console":
		case "":
			p.add("must be set (elasticsearch or console)", at("type"))
		default:
			p.add("unknown output type %q (want elasticsearch or console)", at("type"), o.Type)
		}
		if o.Bulk.MaxBytes < 1024 {
			p.add("must be at least 1KiB, got %d", at("bulk", "max_bytes"), int64(o.Bulk.MaxBytes))
		}
		if o.Bulk.FlushInterval.D() < time.Millisecond {
			p.add("must be at least 1ms", at("bulk", "flush_interval"))
		}
		if o.Bulk.Workers < 1 || o.Bulk.Workers > 64 {
			p.add("must be between 1 and 64, got %d", at("bulk", "workers"), o.Bulk.Workers)
		}
		if o.Retry.Max < o.Retry.Initial {
			p.add("must not be below retry.initial", at("retry", "max"))
		}
	}
	return errors.Join(p.errs...)
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
	if (o.TLS.CertFile == "") != (o.TLS.KeyFile == "") {
		p.add("cert_file and key_file go together", at("tls", "cert_file"))
	}
	if o.Timeout.D() < time.Millisecond {
		p.add("must be at least 1ms", at("timeout"))
	}
	if o.IdleTimeout.D() < time.Millisecond {
		p.add("must be at least 1ms", at("idle_timeout"))
	}
	if o.DeadLetterIndex != strings.ToLower(o.DeadLetterIndex) || strings.ContainsAny(o.DeadLetterIndex, `\/*?"<>| ,#:`) {
		p.add("must be a lower-case index name, got %q", at("dead_letter_index"), o.DeadLetterIndex)
	}
	if ds := o.DataStream; ds != "" && (ds != strings.ToLower(ds) || strings.ContainsAny(ds, `\/*?"<>| ,#:%{}`)) {
		p.add("must be a lower-case data stream name without placeholders, got %q", at("data_stream"), ds)
	}
	if o.Template.Name != "" && o.Template.File == "" {
		p.add("template.name needs template.file", at("template", "file"))
	}
	switch o.Compatibility {
	case "elasticsearch", "opensearch":
	default:
		p.add("must be elasticsearch or opensearch, got %q", at("compatibility"), o.Compatibility)
	}
}
