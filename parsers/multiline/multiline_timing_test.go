package multiline

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// benchLines is a realistic mix: single app lines with a Java trace, a
// Python traceback and a Go panic among them.
func benchLines() [][]byte {
	var ls [][]byte
	for i := 0; i < 20; i++ {
		ls = append(ls, []byte(`2026-11-25 10:00:00.200  INFO 1 --- [nio-8080-exec-2] c.e.users.UserController                 : GET /users 200`))
	}
	for _, s := range []string{javaCausedBy, pyChained, goPanic} {
		for _, l := range strings.Split(s, "\n") {
			ls = append(ls, []byte(l))
		}
	}
	return ls
}

// BenchmarkJoin measures each mode over the same lines, next to the
// floor of a plain regexp.Match per line (the cost of a start pattern
// alone, without joining).
//
//	go test -run '^$' -bench 'BenchmarkJoin' -count 6 -benchmem ./parsers/multiline | tee multiline.txt
func BenchmarkJoin(b *testing.B) {
	lines := benchLines()
	size := 0
	for _, l := range lines {
		size += len(l) + 1
	}
	run := func(name string, rule *Rule) {
		b.Run(name, func(b *testing.B) {
			j := NewJoiner(rule, 500, 1<<20)
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				for i, l := range lines {
					j.Add(l, Meta{Offset: int64(i)}, 0)
				}
				j.Flush()
			}
		})
	}
	for _, m := range []struct {
		name string
		mode Mode
	}{{"java", Java}, {"python", Python}, {"go", Go}} {
		r, _ := NewRule(m.mode, "", "")
		run(m.name, r)
	}
	r, _ := NewRule(Regex, `^\d{4}-\d{2}-\d{2} `, "")
	run("regex-start", r)
	re := regexp.MustCompile(`^\d{4}-\d{2}-\d{2} `)
	b.Run("regexp-baseline-match", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(size))
		for b.Loop() {
			for _, l := range lines {
				re.Match(l)
			}
		}
	})
}

// TestJoinAllocatesNothing runs in `make test-alloc`, without the race
// detector; under it the regex mode is skipped, saying so.
func TestJoinAllocatesNothing(t *testing.T) {
	lines := benchLines()
	for _, mode := range []Mode{Java, Python, Go, Regex} {
		t.Run(fmt.Sprintf("mode=%d", mode), func(t *testing.T) {
			start := ""
			if mode == Regex {
				if raceEnabled {
					t.Skip("the race detector makes regexp's sync.Pool allocate; `make test-alloc` runs this without it")
				}
				start = `^\d{4}-`
			}
			r, err := NewRule(mode, start, "")
			if err != nil {
				t.Fatal(err)
			}
			j := NewJoiner(r, 500, 1<<20)
			feed := func() {
				for i, l := range lines {
					j.Add(l, Meta{Offset: int64(i)}, 0)
				}
				j.Flush()
			}
			feed() // grow the buffers once
			if n := testing.AllocsPerRun(50, feed); n != 0 {
				t.Fatalf("%.1f allocations per %d lines", n, len(lines))
			}
		})
	}
}
