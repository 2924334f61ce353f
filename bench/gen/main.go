// Command gen writes the tail workload (bench/workload): kubelet-named CRI files
// whose records carry (file, seq).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/sluicelog/sluice/bench/workload"
)

func main() {
	spec := workload.Default()
	dir := flag.String("dir", "bench-logs", "output directory")
	flag.IntVar(&spec.Files, "files", spec.Files, "files")
	flag.IntVar(&spec.Records, "records", spec.Records, "records per file")
	flag.Uint64Var(&spec.Seed, "seed", spec.Seed, "random seed")
	flag.Parse()
	if err := spec.Write(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
