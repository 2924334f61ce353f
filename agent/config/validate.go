package config

// validate checks the decoded and defaulted config, section by section,
// and notes every problem found on p.
func (c *Config) validate(p *problems) {
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
}
