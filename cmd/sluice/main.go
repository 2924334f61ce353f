// Command sluice is the log-shipping agent.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/runtime"
)

func main() {
	os.Exit(run())
}

func run() int {
	cfgPath := flag.String("config", "/etc/sluice/sluice.yaml", "config file")
	validate := flag.Bool("validate", false, "check the config and exit")
	logLevel := flag.String("log-level", "info", "log level: debug, info, warn, error")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "sluice: bad -log-level %q\n", *logLevel)
		return 2
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sluice: invalid config:\n%v\n", err)
		return 1
	}
	if *validate {
		fmt.Fprintf(os.Stderr, "sluice: %s is valid\n", *cfgPath)
		return 0
	}

	// The first SIGTERM or SIGINT shuts down cleanly; a second one exits now.
	ctx, stop := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigs
		logger.Info("signal received; shutting down (send again to exit at once)")
		stop()
		<-sigs
		os.Exit(1)
	}()

	agent, err := runtime.New(cfg, os.Stdout, logger)
	if err != nil {
		logger.Error("start", "err", err)
		return 1
	}
	if err := agent.Run(ctx); err != nil {
		logger.Error("run", "err", err)
		return 1
	}
	return 0
}
