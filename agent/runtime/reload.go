package runtime

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/metrics"
)

// Supervise runs the agent that build makes from cfg until ctx ends, and
// replaces it on every value from reload (SIGHUP):
//
//   - load reads the config again; if it fails (a bad file), the error is
//     logged and the running agent carries on untouched;
//   - otherwise the running agent stops as on SIGTERM (inputs first,
//     outputs flushed, checkpoints saved, data_dir released) and one
//     built from the new config starts. If that one cannot start (a taken
//     port), the previous config is started again.
//
// Supervise returns when ctx ends and the agent has stopped, or when an
// agent stops on its own (its error), or when not even the previous config
// can be started again after a failed reload.
func Supervise(ctx context.Context, cfg *config.Config, reload <-chan struct{}, load func() (*config.Config, error),
	build func(*config.Config) (*Agent, error), logger *slog.Logger,
) error {
	logger = logger.With("component", "supervisor")
	a, err := build(cfg)
	if err != nil {
		return err
	}
	for {
		actx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- a.Run(actx) }()
		var next *config.Config
		for next == nil {
			select {
			case err := <-done:
				cancel()
				return err
			case <-reload:
				c, err := load()
				if err != nil {
					a.lasting.Reloaded(metrics.ReloadInvalid)
					logger.Error("reload refused: the new config is invalid; the running agent keeps the old one", "err", err)
					continue
				}
				next = c
			}
		}
		logger.Info("reloading: stopping the running agent")
		cancel()
		if err := <-done; err != nil {
			logger.Error("the old agent stopped with errors", "err", err)
		}
		if ctx.Err() != nil {
			return nil
		}
		na, err := build(next)
		if err != nil {
			a.lasting.Reloaded(metrics.ReloadFailed)
			logger.Error("reload failed: the new config does not start; starting the old one again", "err", err)
			if na, err = build(cfg); err != nil {
				return fmt.Errorf("restart with the previous config after a failed reload: %w", err)
			}
		} else {
			cfg = next
			na.lasting.Reloaded(metrics.ReloadSuccess)
			logger.Info("config reloaded")
		}
		a = na
	}
}
