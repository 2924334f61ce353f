package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/pipelinetest"
)

// explainMain runs `sluice explain`: what each stage of the pipeline
// makes of some input lines (agent/pipelinetest.Explain). The lines come
// from the arguments, or stdin, or a case of a test file.
func explainMain(args []string) int {
	fs := flag.NewFlagSet("sluice explain", flag.ContinueOnError)
	cfgPath := fs.String("config", "/etc/sluice/sluice.yaml", "config file (${VAR} from the environment)")
	file := fs.String("file", "/var/log/containers/pod_namespace_container-0000000000000000000000000000000000000000000000000000000000000000.log", "the log file the lines are read from (its name gives the pod, namespace and container)")
	input := fs.String("input", "", "the input that reads them (default: the first container_logs input, or syslog input with -syslog)")
	sysl := fs.Bool("syslog", false, "the lines are syslog messages")
	testFile := fs.String("test", "", "explain a case of this test file instead (its config, pods and first input)")
	run := fs.String("run", "", "with -test: the case whose name contains this (default: the first)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: sluice explain -config FILE [-file PATH | -syslog] [LINE…]   (lines from stdin when none)\n       sluice explain -test FILE [-run NAME]\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	f, c, cfg, err := explainCase(*testFile, *run, *cfgPath)
	if err == nil && c == nil {
		c, err = linesCase(fs.Args(), *file, *input, *sysl)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "sluice explain: %v\n", err)
		return 2
	}
	if err := f.Explain(os.Stdout, cfg, c); err != nil {
		fmt.Fprintf(os.Stderr, "sluice explain: %v\n", err)
		return 1
	}
	return 0
}

// explainCase loads a test file's case, or, without one, the config.
func explainCase(testFile, run, cfgPath string) (*pipelinetest.File, *pipelinetest.Case, *config.Config, error) {
	if testFile == "" {
		raw, err := os.ReadFile(cfgPath)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("read config: %w", err)
		}
		cfg, err := config.ParseOffline(raw, nil)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %w", cfgPath, err)
		}
		return &pipelinetest.File{Clock: time.Now().UTC()}, nil, cfg, nil
	}
	f, err := pipelinetest.Load(testFile)
	if err != nil {
		return nil, nil, nil, err
	}
	cfg, err := f.LoadConfig()
	if err != nil {
		return nil, nil, nil, err
	}
	for i := range f.Cases {
		if run == "" || contains(f.Cases[i].Name, run) {
			return f, &f.Cases[i], cfg, nil
		}
	}
	return nil, nil, nil, fmt.Errorf("%s: no case named like %q", testFile, run)
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// linesCase makes a case of lines from the arguments or stdin.
func linesCase(args []string, file, input string, sysl bool) (*pipelinetest.Case, error) {
	lines := args
	if len(lines) == 0 {
		sc := bufio.NewScanner(os.Stdin)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("read stdin: %w", err)
		}
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("no lines to explain")
	}
	in := pipelinetest.Input{Input: input, File: file, Lines: lines}
	if sysl {
		in = pipelinetest.Input{Input: input, Frames: lines}
	}
	return &pipelinetest.Case{Inputs: []pipelinetest.Input{in}}, nil
}
