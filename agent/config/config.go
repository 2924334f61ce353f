// Package config loads and checks the agent's YAML configuration
// (DESIGN.md, Configuration). Decoding is strict: unknown keys and bad
// values are errors that name the key and its line.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"time"

	"gopkg.in/yaml.v3"
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

	// Warnings are settings that are valid but likely wrong, set by Parse
	// for -validate and the start to print.
	Warnings []string `yaml:"-"`
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

// Load reads, expands and checks a config file.
func Load(path string) (*Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	cfg, err := parse(raw, nil, onNode)
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
	return parse(raw, lookup, readFiles)
}

// ParseOffline is Parse without reading the files the config names
// (tokens, passwords, certificates, templates): what sluice test and
// sluice explain load on a machine that is not the node.
func ParseOffline(raw []byte, lookup func(string) (string, bool)) (*Config, error) {
	return parse(raw, lookup, offline)
}

// mode is how much of the machine parse looks at.
type mode int

const (
	// readFiles (Parse): the files the config names are read.
	readFiles mode = iota
	// offline (ParseOffline): no file is read.
	offline
	// onNode (Load, for the agent and -validate): also, data_dir must be
	// a writable folder or one that can be created. Parse leaves it: a
	// config parsed in a test or a tool need not name a folder of this
	// machine.
	onNode
)

func parse(raw []byte, lookup func(string) (string, bool), m mode) (*Config, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	env := tokenize(raw)
	root, err := parseYAML(env.text)
	if err != nil {
		return nil, errors.New(env.restore(err.Error()))
	}
	var done []expansion
	cfg, err := decode(root, &env, lookup, &done, m)
	if err != nil {
		msg := hideValues(env.restore(err.Error()), done)
		return nil, errors.New(msg)
	}
	return cfg, nil
}

func decode(root *yaml.Node, env *envText, lookup func(string) (string, bool), done *[]expansion, m mode) (*Config, error) {
	if err := env.expandTree(root, lookup, done); err != nil {
		return nil, err
	}
	p := newProblems(root)
	p.offline = m == offline
	checkTree(root, reflect.TypeFor[Config](), nil, p)
	cfg := Default()
	if root.Kind != 0 {
		// checkTree stands in for the decoder's KnownFields, which a Node
		// does not offer, and has set every value it refused to null.
		if err := root.Decode(&cfg); err != nil {
			return nil, errors.Join(p.err(), err)
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
		cfg.Outputs[i].Bulk.Sized = cfg.Outputs[i].Bulk.MaxBytes == 0 && !p.seen[keyPath([]any{"outputs", i, "bulk", "max_bytes"})]
		if cfg.Outputs[i].Type == "otlp" && compressUnset(root, i) {
			cfg.Outputs[i].Bulk.Compress = true // otlp.go
		}
		DefaultOutput(&cfg.Outputs[i])
	}
	for i, t := range cfg.Transforms {
		defaultFilter(t, i)
	}
	cfg.validate(p)
	cfg.sizeMemory(p)
	if m == onNode {
		checkDataDir(p, cfg.DataDir)
	}
	if len(p.errs) > 0 {
		return nil, p.err()
	}
	cfg.Warnings = p.warnings
	cfg.protectAgentFiles()
	return &cfg, nil
}

// parseYAML reads the one YAML document of a config file. A second
// document (after ---) is an error: it would be silently ignored.
func parseYAML(text []byte) (*yaml.Node, error) {
	d := yaml.NewDecoder(bytes.NewReader(text))
	var root yaml.Node
	if err := d.Decode(&root); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("not valid YAML: %w", err)
	}
	var next yaml.Node
	if err := d.Decode(&next); err == nil {
		return nil, fmt.Errorf("line %d: a second YAML document (after ---); a config file holds one, the rest would be ignored", next.Line)
	} else if !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("not valid YAML: %w", err)
	}
	return &root, nil
}
