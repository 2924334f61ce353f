package runtime

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/elasticsearch"
	"github.com/sluicelog/sluice/agent/transform"
)

// Check builds, without starting them, the parts of the agent that New
// builds from the config alone (the outputs, the transforms, the routes)
// and returns what New would refuse, and the config's warnings with the
// memory split's. It binds nothing, opens no data_dir and contacts no
// server: it is what sluice -validate runs after config.Load, so that
// -validate refuses what the start would.
func Check(cfg *config.Config) (warnings []string, err error) {
	quiet := slog.New(slog.DiscardHandler)
	a := &Agent{cfg: cfg, logger: quiet}
	var errs []error
	for _, oc := range cfg.Outputs {
		if oc.Type != "elasticsearch" {
			continue
		}
		o, err := elasticsearch.New(oc, quiet, elasticsearch.WithInputs(cfg.Inputs))
		if err != nil {
			errs = append(errs, fmt.Errorf("output %s: %w", oc.Name, err))
			continue
		}
		a.outputs = append(a.outputs, o)
	}
	if _, err := transform.New(cfg.Transforms, transform.Options{}); err != nil {
		errs = append(errs, err)
	}
	for _, oc := range cfg.Outputs {
		if _, err := transform.NewMatch(oc.Match); err != nil {
			errs = append(errs, fmt.Errorf("output %s: %w", oc.Name, err))
		}
	}
	warnings = append(warnings, cfg.Warnings...)
	if len(errs) == 0 {
		if s := a.memorySplit(); s.Tight || s.Soft > s.Limit {
			warnings = append(warnings, fmt.Sprintf("memory_limit: %v is below what the agent needs with these outputs "+
				"(about %v: its binary and working set, the outputs' bulk bodies and the batches they refer to, "+
				"with %d workers), so it will use more; raise memory_limit or lower bulk.max_bytes",
				config.ByteSize(s.Limit), a.neededLimit().Round(), max(cfg.Workers, 1)))
		}
	}
	return warnings, errors.Join(errs...)
}

// neededLimit is the smallest memory_limit, to a MiB, whose split is not
// tight for a's outputs (the split only gets roomier as the limit grows).
func (a *Agent) neededLimit() config.ByteSize {
	cfg := *a.cfg
	b := &Agent{cfg: &cfg, logger: a.logger, outputs: a.outputs}
	fits := func(limit int64) bool {
		cfg.MemoryLimit = config.ByteSize(limit)
		s := b.memorySplit()
		return !s.Tight && s.Soft <= s.Limit
	}
	lo, hi := int64(a.cfg.MemoryLimit)>>20, int64(a.cfg.MemoryLimit)>>20+1
	for !fits(hi<<20) && hi < 1<<20 {
		lo, hi = hi, hi*2
	}
	for lo+1 < hi {
		if mid := (lo + hi) / 2; fits(mid << 20) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return config.ByteSize(hi << 20)
}
