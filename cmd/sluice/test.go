package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/sluicelog/sluice/agent/pipelinetest"
)

// testMain runs `sluice test FILE|FOLDER…`: pipeline unit tests
// (agent/pipelinetest). Exit 0 when every case passes, 1 when one fails,
// 2 on bad flags.
func testMain(args []string) int {
	fs := flag.NewFlagSet("sluice test", flag.ContinueOnError)
	update := fs.Bool("update", false, "write each case's actual documents as its expectation (review the diff)")
	verbose := fs.Bool("v", false, "print every case, not only failures")
	run := fs.String("run", "", "run only the cases whose name contains this")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: sluice test [-v] [-update] [-run NAME] FILE|FOLDER…\n\nA folder stands for every *%s under it.\n\n", pipelinetest.Suffix)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	paths, err := pipelinetest.Expand(fs.Args())
	if err != nil {
		fmt.Fprintf(os.Stderr, "sluice test: %v\n", err)
		return 2
	}
	if !pipelinetest.RunFiles(os.Stdout, paths, pipelinetest.Options{Update: *update, Verbose: *verbose, Run: *run}) {
		return 1
	}
	return 0
}
