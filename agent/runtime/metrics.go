package runtime

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicelog/sluice/agent/metrics"
	"github.com/sluicelog/sluice/collector/tail"
)

// collects is a part of the agent that reports its own metrics.
type collects interface {
	Collector() prometheus.Collector
}

// registerMetrics registers the agent's own collector and every input's
// and output's on this instance's registry (the Kubernetes cache and the
// filters register theirs as they are built).
func (a *Agent) registerMetrics() error {
	err := metrics.Register(a.registry, metrics.Sources{
		Version: a.version, Revision: a.revision, Pipeline: a.pipe,
		TimeFallbacks: a.enc.TimeFallbacks,
		MemoryLimit:   int64(a.cfg.MemoryLimit), Checkpoints: a.store,
	})
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	var tailers []*tail.Tailer
	for _, s := range a.sources {
		if c, ok := s.in.(collects); ok {
			if err := a.registry.Register(c.Collector()); err != nil {
				return fmt.Errorf("input %s metrics: %w", s.name, err)
			}
		}
		if t, ok := s.in.(*tail.Tailer); ok {
			tailers = append(tailers, t)
		}
	}
	if len(tailers) > 0 {
		if err := a.registry.Register(tail.UnreadCollector(tailers...)); err != nil {
			return fmt.Errorf("rotated unread metrics: %w", err)
		}
	}
	for i, o := range a.outputs {
		if c, ok := o.(collects); ok {
			if err := a.registry.Register(c.Collector()); err != nil {
				return fmt.Errorf("output %s metrics: %w", a.cfg.Outputs[i].Name, err)
			}
		}
	}
	return nil
}
