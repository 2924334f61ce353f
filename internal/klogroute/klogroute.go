// Package klogroute sends what client-go logs through klog into the
// program's slog handler. Left alone, klog writes its own text lines to
// stderr: in the agent they break the JSON log stream, and in the logs
// CLI they land among what a person reads ("Unexpected error when
// reading response body ... context canceled" each time a stream the CLI
// itself closed was being read).
package klogroute

import (
	"context"
	"log/slog"

	"k8s.io/klog/v2"
)

// To makes klog log through h from now on; klog's own verbosity flags
// still decide which V(n) lines are made at all.
func To(h slog.Handler) {
	klog.SetSlogLogger(slog.New(h))
}

// Demoted wraps h so that every record it is given is logged at Debug:
// for a program whose user acts on what its own code reports, not on
// client-go's view of the same events.
func Demoted(h slog.Handler) slog.Handler { return demoted{h} }

type demoted struct{ slog.Handler }

func (d demoted) Enabled(ctx context.Context, _ slog.Level) bool {
	return d.Handler.Enabled(ctx, slog.LevelDebug)
}

// Handle checks Enabled itself: logr hands klog's errors over without
// asking, as errors are not subject to verbosity.
func (d demoted) Handle(ctx context.Context, r slog.Record) error {
	if !d.Handler.Enabled(ctx, slog.LevelDebug) {
		return nil
	}
	r.Level = slog.LevelDebug
	return d.Handler.Handle(ctx, r)
}

func (d demoted) WithAttrs(as []slog.Attr) slog.Handler {
	return demoted{d.Handler.WithAttrs(as)}
}

func (d demoted) WithGroup(name string) slog.Handler {
	return demoted{d.Handler.WithGroup(name)}
}
