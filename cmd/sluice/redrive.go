package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/document"
	"github.com/sluicelog/sluice/agent/elasticsearch"
	"github.com/sluicelog/sluice/internal/redact"
)

// Exit codes of sluice redrive.
const (
	redriveDone  = 0 // every dead letter read went back (or a dry run)
	redriveLeft  = 1 // some stay in the dead-letter index
	redriveError = 2 // bad flags or config, or the server failed the run
)

// redriveMain runs `sluice redrive`: dead letters back through today's
// parsers into the index or data stream each was meant for
// (elasticsearch.Output.Redrive).
func redriveMain(args []string) int {
	fs := flag.NewFlagSet("sluice redrive", flag.ContinueOnError)
	cfgPath := fs.String("config", "/etc/sluice/sluice.yaml", "config file")
	output := fs.String("output", "", "elasticsearch output to redrive (default: the first)")
	since := fs.String("since", "", "only dead letters from this long ago (24h) or this time (RFC 3339) on")
	dry := fs.Bool("dry-run", false, "read and encode the dead letters; send and delete nothing")
	page := fs.Int("page-size", 500, "dead letters per search page and bulk request")
	secrets := &redact.Redactor{}
	stderr := redact.NewWriter(os.Stderr, secrets)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return redriveError
	}
	from, err := parseSince(*since, time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "sluice redrive: -since: %v\n", err)
		return redriveError
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "sluice redrive: invalid config:\n%v\n", err)
		return redriveError
	}
	secrets.Add(cfg.Secrets()...)
	oc, err := pickOutput(cfg, *output)
	if err != nil {
		fmt.Fprintf(stderr, "sluice redrive: %v\n", err)
		return redriveError
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	o, err := elasticsearch.New(oc, logger, elasticsearch.WithInputs(cfg.Inputs))
	if err != nil {
		fmt.Fprintf(stderr, "sluice redrive: %v\n", err)
		return redriveError
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	enc := document.New(cfg.Transforms, func() int64 { return time.Now().UnixNano() })
	opts := elasticsearch.RedriveOptions{Since: from, DryRun: *dry, PageSize: *page}
	sum, err := o.Redrive(ctx, enc, opts, progressBar(stderr))
	summary(stderr, oc, sum, *dry)
	if err != nil {
		fmt.Fprintf(stderr, "sluice redrive: %v\n", err)
		return redriveError
	}
	if !*dry && sum.Left(false) > 0 {
		return redriveLeft
	}
	return redriveDone
}

// parseSince reads -since: a duration before now, or an RFC 3339 time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("want a duration (24h) or an RFC 3339 time, got %q", s)
	}
	return t, nil
}

func pickOutput(cfg *config.Config, name string) (config.Output, error) {
	for _, o := range cfg.Outputs {
		if o.Type == "elasticsearch" && (name == "" || o.Name == name) {
			return o, nil
		}
	}
	if name != "" {
		return config.Output{}, fmt.Errorf("no elasticsearch output named %q in the config", name)
	}
	return config.Output{}, fmt.Errorf("the config has no elasticsearch output")
}

// progressBar redraws one line on a terminal; elsewhere it stays quiet.
func progressBar(w io.Writer) func(done, total int64) {
	fi, err := os.Stderr.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return func(done, total int64) {
		const width = 30
		n := width
		if total > 0 && done < total {
			n = int(done * width / total)
		}
		bar := make([]byte, width)
		for i := range bar {
			bar[i] = '.'
			if i < n {
				bar[i] = '#'
			}
		}
		fmt.Fprintf(w, "\r[%s] %d/%d dead letters", bar, done, total)
	}
}

func summary(w io.Writer, oc config.Output, s elasticsearch.RedriveSummary, dry bool) {
	dl := oc.DeadLetterIndex
	if dl == "" {
		dl = "sluice-dead-letter"
	}
	if dry {
		fmt.Fprintf(w, "\rsluice redrive (dry run): %d dead letters in %s would be sent back, %d unusable (no line or target)\n",
			s.Read-s.Unusable, dl, s.Unusable)
		return
	}
	fmt.Fprintf(w, "\rsluice redrive: read %d of %d dead letters in %s: %d stored, %d already there, %d refused again, %d unusable; %d deleted, %d left\n",
		s.Read, s.Total, dl, s.Stored, s.Duplicate, s.Failing, s.Unusable, s.Deleted, s.Left(false))
}
