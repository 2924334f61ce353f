// Package corpus finds the shared corpus of real log samples the parser and
// output tests read in place. The corpus lives beside the checkout
// (../shared/corpus from the module root), which CI provides and a plain
// clone does not have, so a clone must still pass: outside CI a test whose
// corpus is absent skips with one line naming where it looked, and inside
// CI (CI set, as CI systems do) the absence is a failure.
//
// $SLUICE_CORPUS names another corpus folder. When $SLUICE_CORPUS_SKIPS
// names a file, each skip appends a line to it, so `make test` can list
// what a run did not check.
package corpus

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Dir returns the corpus folder: $SLUICE_CORPUS, or shared/corpus beside
// the module root. It does not check that the folder exists.
func Dir() (string, error) {
	if dir := os.Getenv("SLUICE_CORPUS"); dir != "" {
		return filepath.Abs(dir)
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(root), "shared", "corpus"), nil
}

// Lookup returns the corpus path of elem (a folder or file under the
// corpus, e.g. "esbulk"). If it is absent the test is skipped outside CI
// and fails in CI, naming the path either way.
func Lookup(tb testing.TB, elem ...string) string {
	tb.Helper()
	path, ok := find(tb, elem, "skipped")
	if !ok {
		tb.SkipNow()
	}
	return path
}

// Optional is Lookup for a test that still has a point without the corpus
// (a fuzz target that also has kept seeds in testdata): outside CI an
// absent corpus is noted like a skip and ok is false; in CI it fails.
func Optional(tb testing.TB, elem ...string) (path string, ok bool) {
	tb.Helper()
	return find(tb, elem, "ran without it")
}

// find reports whether the corpus path of elem exists; when it does not
// it fails tb in CI, and otherwise logs and records the skip.
func find(tb testing.TB, elem []string, outcome string) (string, bool) {
	tb.Helper()
	dir, err := Dir()
	if err != nil {
		tb.Fatalf("corpus: %v", err)
	}
	path := filepath.Join(append([]string{dir}, elem...)...)
	_, err = os.Stat(path)
	if err == nil {
		return path, true
	}
	if !errors.Is(err, os.ErrNotExist) {
		tb.Fatalf("corpus: %v", err)
	}
	msg := fmt.Sprintf("corpus absent: %s (put the shared corpus there or set SLUICE_CORPUS)", path)
	if inCI() {
		tb.Fatal(msg)
	}
	tb.Log(msg)
	record(tb, path, outcome)
	return path, false
}

// inCI reports whether CI is set to something other than false: the
// variable CI systems set, and what .ci/run inherits.
func inCI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v != "" && v != "false" && v != "0"
}

// record appends "package test: outcome, corpus absent at path" to
// $SLUICE_CORPUS_SKIPS. Packages
// run as parallel processes; one short O_APPEND write per line keeps
// their lines whole.
func record(tb testing.TB, path, outcome string) {
	tb.Helper()
	file := os.Getenv("SLUICE_CORPUS_SKIPS")
	if file == "" {
		return
	}
	pkg := "."
	if wd, err := os.Getwd(); err == nil {
		if root, err := moduleRoot(); err == nil {
			if rel, err := filepath.Rel(root, wd); err == nil {
				pkg = rel
			}
		}
	}
	line := fmt.Sprintf("%s %s: %s, corpus absent at %s\n", pkg, tb.Name(), outcome, path)
	fh, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		tb.Fatalf("corpus: recording a skip: %v", err)
	}
	_, err = fh.WriteString(line)
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		tb.Fatalf("corpus: recording a skip: %v", err)
	}
}

// moduleRoot is the nearest folder at or above the working directory (a
// test's package folder) that holds a go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("finding the module root: no go.mod above the working directory")
		}
		dir = parent
	}
}
