package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sluicelog/sluice/convert"
)

// convertMain runs `sluice convert`: a Fluent Bit or Fluentd config into
// a sluice config and a test file that pins what it does (convert).
func convertMain(args []string) int {
	fs := flag.NewFlagSet("sluice convert", flag.ContinueOnError)
	from := fs.String("from", "", "the source's format: fluentbit, fluentbit-yaml or fluentd (default: guessed)")
	outDir := fs.String("o", "", "write sluice.yaml and sluice.test.yaml into this folder (default: the config on stdout)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: sluice convert [-from FORMAT] [-o DIR] FILE\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	path := fs.Arg(0)
	raw, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sluice convert: %v\n", err)
		return 2
	}
	format := *from
	if format == "" {
		format = convert.Detect(path, raw)
	}
	src, err := convert.Parse(format, raw)
	if err == nil {
		var res *convert.Result
		if res, err = convert.Convert(src, filepath.Base(path)); err == nil {
			err = writeConverted(res, *outDir)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "sluice convert: %s: %v\n", path, err)
		return 1
	}
	return 0
}

func writeConverted(res *convert.Result, dir string) error {
	if dir == "" {
		_, err := os.Stdout.Write(res.Config)
		return err
	}
	test, err := res.TestFile("sluice.yaml")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "sluice.yaml"), res.Config, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "sluice.test.yaml"), test, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "sluice convert: wrote %s and %s (%d notes); run: sluice test %s\n",
		filepath.Join(dir, "sluice.yaml"), filepath.Join(dir, "sluice.test.yaml"), len(res.Notes), dir)
	return nil
}
