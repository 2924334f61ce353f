// Command logs tails the logs that sluice agents ship, across every pod of
// a cluster at once, and searches their history (see logscli).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/sluicelog/sluice/logscli"
)

// version is set at build time: -ldflags "-X main.version=1.2.3".
var version = "dev"

func main() {
	// Ctrl-C (or SIGTERM) ends the tail cleanly: streams closed, what is
	// buffered written.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := logscli.Main(ctx, version, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
