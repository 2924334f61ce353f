package pipelinetest

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Suffix names test files when a folder is given: sluice.test.yaml next
// to sluice.yaml.
const Suffix = ".test.yaml"

// Options change how files run.
type Options struct {
	// Update writes each case's actual documents as its expectation.
	Update bool
	// Verbose prints every case, not only failures.
	Verbose bool
	// Run, when set, runs only the cases whose name contains it.
	Run string
}

// Expand turns the arguments of sluice test into test files: a folder
// stands for every *.test.yaml under it.
func Expand(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		fi, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			out = append(out, a)
			continue
		}
		var found []string
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(p, Suffix) {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no *%s files", a, Suffix)
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, nil
}

// RunFiles runs test files and prints, as go test does, a line for each
// case that fails (each with its differences) or, verbose, passes, and a
// line for each file. It returns false when anything failed.
func RunFiles(w io.Writer, paths []string, opts Options) bool {
	ok := true
	for _, p := range paths {
		if !runFile(w, p, opts) {
			ok = false
		}
	}
	return ok
}

func runFile(w io.Writer, path string, opts Options) bool {
	start := time.Now()
	fail := func(err error) bool {
		fmt.Fprintf(w, "--- FAIL: %s\n    %v\nFAIL\t%s\n", path, err, path)
		return false
	}
	f, err := Load(path)
	if err != nil {
		return fail(err)
	}
	cfg, err := f.LoadConfig()
	if err != nil {
		return fail(err)
	}
	ok := true
	updated := 0
	for i := range f.Cases {
		c := &f.Cases[i]
		if opts.Run != "" && !strings.Contains(c.Name, opts.Run) {
			continue
		}
		t0 := time.Now()
		name := path + "/" + c.Name
		res, err := f.Run(cfg, c)
		var diffs []string
		if err != nil {
			diffs = []string{err.Error()}
		} else if opts.Update {
			f.setExpect(i, res)
			updated++
		} else {
			diffs = Check(c, res)
		}
		took := time.Since(t0).Seconds()
		if len(diffs) > 0 {
			ok = false
			fmt.Fprintf(w, "--- FAIL: %s (%.2fs)\n", name, took)
			for _, d := range diffs {
				fmt.Fprintf(w, "    %s\n", d)
			}
			continue
		}
		if opts.Verbose || opts.Update {
			verb := "PASS"
			if opts.Update {
				verb = "UPDATED"
			}
			fmt.Fprintf(w, "--- %s: %s (%.2fs)\n", verb, name, took)
		}
	}
	if updated > 0 {
		if err := f.write(); err != nil {
			return fail(err)
		}
	}
	if !ok {
		fmt.Fprintf(w, "FAIL\t%s\t%.3fs\n", path, time.Since(start).Seconds())
		return false
	}
	fmt.Fprintf(w, "ok  \t%s\t%.3fs\n", path, time.Since(start).Seconds())
	return true
}
