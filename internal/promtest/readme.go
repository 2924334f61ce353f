package promtest

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// MetricName matches a sluice series name, in PromQL, JSON or Markdown.
var MetricName = regexp.MustCompile(`\bsluice_[a-z0-9_]+`)

// Documented returns the series docs/metrics.md's table lists: the names
// in the first cell of each row that starts "| `sluice_".
func Documented(tb testing.TB) map[string]bool {
	tb.Helper()
	root, err := moduleRoot()
	if err != nil {
		tb.Fatalf("docs/metrics.md: %v", err)
	}
	f, err := os.Open(filepath.Join(root, "docs", "metrics.md"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	names := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "| `sluice_") {
			continue
		}
		first, _, _ := strings.Cut(line[1:], "|")
		for _, n := range MetricName.FindAllString(first, -1) {
			names[n] = true
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	if len(names) < 10 {
		tb.Fatalf("only %d metrics found in docs/metrics.md's table", len(names))
	}
	return names
}
