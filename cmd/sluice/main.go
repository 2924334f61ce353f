// Command sluice is the log-shipping agent.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	goruntime "runtime"
	"runtime/pprof"
	"syscall"

	"github.com/sluicelog/sluice/agent/budget"
	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/metrics"
	"github.com/sluicelog/sluice/agent/runtime"
	"github.com/sluicelog/sluice/internal/klogroute"
	"github.com/sluicelog/sluice/internal/redact"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "redrive":
			os.Exit(redriveMain(os.Args[2:])) // redrive.go
		case "test":
			os.Exit(testMain(os.Args[2:])) // test.go
		case "explain":
			os.Exit(explainMain(os.Args[2:])) // explain.go
		case "convert":
			os.Exit(convertMain(os.Args[2:])) // convert.go
		}
	}
	stop := profile()
	code := run()
	stop()
	os.Exit(code)
}

// profile starts a CPU profile into $SLUICE_CPUPROFILE and, at stop, writes
// the allocation profile to $SLUICE_MEMPROFILE (bench/ harness).
func profile() (stop func()) {
	var cpu *os.File
	if p := os.Getenv("SLUICE_CPUPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil && pprof.StartCPUProfile(f) == nil {
			cpu = f
		}
	}
	return func() {
		if cpu != nil {
			pprof.StopCPUProfile()
			cpu.Close()
		}
		if p := os.Getenv("SLUICE_MEMPROFILE"); p != "" {
			if f, err := os.Create(p); err == nil {
				pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}
	}
}

func run() int {
	// Catch signals before anything else, so a SIGTERM that comes while the
	// config loads is a clean shutdown, not a kill.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)

	cfgPath := flag.String("config", "/etc/sluice/sluice.yaml", "config file")
	validate := flag.Bool("validate", false, "check the config and exit")
	logLevel := flag.String("log-level", "info", "log level: debug, info, warn, error")
	logFormat := flag.String("log-format", "json", "log format on stderr: json or text")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()

	version, revision := buildVersion()
	if *showVersion {
		fmt.Printf("sluice %s (revision %s, %s)\n", version, revision, goruntime.Version())
		return 0
	}
	// Every message goes through one redactor: no URL userinfo, password,
	// API key or token on stderr (internal/redact).
	secrets := &redact.Redactor{}
	stderr := redact.NewWriter(os.Stderr, secrets)
	logger, err := newLogger(stderr, *logLevel, *logFormat)
	if err != nil {
		fmt.Fprintf(stderr, "sluice: %v\n", err)
		return 2
	}
	klogroute.To(logger.With("component", "client-go").Handler())

	cfg, err := config.Load(*cfgPath)
	if err != nil {
		if *validate || *logFormat != "json" {
			fmt.Fprintf(stderr, "sluice: invalid config:\n%v\n", err)
		} else {
			logConfigError(logger, "invalid config; not starting", *cfgPath, err)
		}
		return 1
	}
	secrets.Add(cfg.Secrets()...)
	if *validate {
		return validateConfig(stderr, *cfgPath, cfg)
	}
	for _, w := range cfg.Warnings {
		logger.Warn("config: " + w)
	}

	// The first SIGTERM or SIGINT shuts down cleanly; a second one exits now.
	ctx, stop := context.WithCancel(context.Background())
	go func() {
		<-sigs
		logger.Info("signal received; shutting down (send again to exit at once)")
		stop()
		<-sigs
		os.Exit(1)
	}()
	// SIGHUP reloads the config file.
	reload := make(chan struct{}, 1)
	go func() {
		for range hup {
			logger.Info("SIGHUP received; reloading the config", "config", *cfgPath)
			select {
			case reload <- struct{}{}:
			default: // a reload is already pending
			}
		}
	}()

	// The process's metrics outlive the agent instances that reloads
	// replace; each instance shows the hash of the file it was built from.
	lasting := metrics.NewLasting()
	lasting.Loaded()
	hashes := map[*config.Config]string{cfg: fileHash(*cfgPath)}
	load := func() (*config.Config, error) {
		h := fileHash(*cfgPath)
		c, err := config.Load(*cfgPath)
		if err == nil {
			secrets.Add(c.Secrets()...)
			hashes[c] = h
		}
		return c, err
	}
	build := func(c *config.Config) (*runtime.Agent, error) {
		a, err := runtime.New(c, os.Stdout, logger, runtime.WithVersion(version), runtime.WithRevision(revision),
			runtime.WithMetrics(lasting), runtime.WithConfigHash(hashes[c]))
		if err == nil {
			// memory_limit is the whole agent's: the collector keeps the
			// heap under it rather than at twice what is live.
			budget.SetSoftLimit(a.MemorySplit().Soft)
		}
		return a, err
	}
	logger.Info("starting", "version", version, "revision", revision, "config", *cfgPath)
	// The soft limit follows the binary's resident pages (agent/budget).
	guardCtx, stopGuard := context.WithCancel(context.Background())
	guarded := make(chan struct{})
	go func() {
		defer close(guarded)
		budget.GuardSoftLimit(guardCtx, logger)
	}()
	defer func() { stopGuard(); <-guarded }()
	err = runtime.Supervise(ctx, cfg, reload, load, build, logger)
	code := runtime.ExitCode(err)
	switch code {
	case runtime.ExitClean:
	case runtime.ExitCut:
		logger.Warn("stopped at shutdown_timeout with delivery cut", "exit_code", code, "err", err)
	default:
		logger.Error("run", "exit_code", code, "err", err)
	}
	return code
}

// validateConfig runs what the start would check beyond the config file
// itself (runtime.Check) and prints every problem and warning.
func validateConfig(stderr io.Writer, path string, cfg *config.Config) int {
	warnings, err := runtime.Check(cfg)
	for _, w := range warnings {
		fmt.Fprintf(stderr, "sluice: warning: %s\n", w)
	}
	if err != nil {
		fmt.Fprintf(stderr, "sluice: invalid config:\n%s: %v\n", path, err)
		return 1
	}
	fmt.Fprintf(stderr, "sluice: %s is valid\n", path)
	return 0
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("bad -log-level %q", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("bad -log-format %q (want json or text)", format)
	}
}
