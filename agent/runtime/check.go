package runtime

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/elasticsearch"
	"github.com/sluicelog/sluice/agent/kafka"
	"github.com/sluicelog/sluice/agent/otlp"
	"github.com/sluicelog/sluice/agent/transform"
)

// Check builds, without starting them, the parts of the agent that New
// builds from the config alone (the outputs, the transforms, the routes)
// and returns what New would refuse, and the config's warnings (a
// memory_limit that cannot hold the config is config.Load's error). It binds nothing, opens no data_dir and contacts no
// server: it is what sluice -validate runs after config.Load, so that
// -validate refuses what the start would.
func Check(cfg *config.Config) (warnings []string, err error) {
	quiet := slog.New(slog.DiscardHandler)
	var errs []error
	for _, oc := range cfg.Outputs {
		var err error
		switch oc.Type {
		case "elasticsearch":
			_, err = elasticsearch.New(oc, quiet, elasticsearch.WithInputs(cfg.Inputs))
		case "kafka":
			_, err = kafka.New(oc, quiet)
		case "otlp":
			_, err = otlp.New(oc, quiet)
		default:
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("output %s: %w", oc.Name, err))
		}
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
	return warnings, errors.Join(errs...)
}
