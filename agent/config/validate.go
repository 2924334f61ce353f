package config

import (
	"errors"

	"gopkg.in/yaml.v3"
)

// validate checks the decoded and defaulted config, section by section,
// and returns every problem found at once.
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
	validateInputs(p, c)
	validateTransforms(p, c)
	validateFilterLabels(p, c)
	validateOutputMatches(p, c)
	validateOutputs(p, c)
	return errors.Join(p.errs...)
}
