package tap

import (
	"net/url"
	"regexp/syntax"
	"testing"
)

// FuzzParseFilter: any query either fails with an error or gives a filter
// within the limits, and never panics.
func FuzzParseFilter(f *testing.F) {
	for _, seed := range []string{
		"", "namespace=payments&pod=^api-&grep=err(or)?%20[0-9]*[05]$", "labels=app!=api,!tier",
		"grep=(a|b|c|d|e|f){1000}", "grep=a{1001}", "pod=[a-z]{999}[0-9]{999}x{50}", "grep=a&grep=b",
		"grep=(%5Cw%2B%5Cs%3F){300}$", "grep=%28%3Fi%29error", "pod=((((((a))))))*",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, query string) {
		q, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		flt, err := ParseFilter(q)
		if err != nil {
			return
		}
		for name, vs := range q {
			if len(vs) != 1 || len(vs[0]) > MaxValueBytes {
				t.Fatalf("%s accepted with %d values", name, len(vs))
			}
		}
		for _, re := range []string{q.Get("pod"), q.Get("grep")} {
			if re == "" {
				continue
			}
			parsed, err := syntax.Parse(re, syntax.Perl)
			if err != nil {
				t.Fatalf("accepted %q: %v", re, err)
			}
			prog, err := syntax.Compile(parsed.Simplify())
			if err != nil || len(prog.Inst) > MaxPatternInsts {
				t.Fatalf("accepted %q of %d instructions", re, len(prog.Inst))
			}
		}
		_ = flt
	})
}
