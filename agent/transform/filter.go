package transform

import (
	"regexp"

	"github.com/sluicelog/sluice/agent/config"
)

// filterStep is drop or keep. Its condition holds when every part that is
// set holds: the batch's namespace is one of namespaces, its pod's labels
// satisfy the selector, and the record's field matches the pattern. drop
// drops the records where it holds; keep drops the others. A missing
// field does not match.
type filterStep struct {
	stepBase
	keep       bool
	field      string
	re         *regexp.Regexp
	namespaces []string
	sel        *Selector
}

func newFilter(t *config.Condition, keep bool) (*filterStep, error) {
	s := &filterStep{keep: keep, field: t.Field, namespaces: t.Namespaces}
	s.filter = true
	var err error
	if t.Pattern != "" {
		if s.re, err = compile(t.Pattern); err != nil {
			return nil, err
		}
	}
	if s.sel, err = NewSelector(t.Labels); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *filterStep) apply(w *Worker) {
	b := w.b
	cond := true
	if s.namespaces != nil {
		ns := ""
		if b.Source != nil {
			ns = b.Source.Namespace
		}
		cond = anyGlob(s.namespaces, ns)
	}
	if cond && s.sel != nil {
		cond = s.sel.Matches(b.Kubernetes())
	}
	var dropped int64
	if s.re == nil || !cond {
		// Decided for the whole batch.
		if cond != s.keep {
			dropped = w.killAll()
		}
	} else {
		for i := range b.Records {
			if w.dead[i] {
				continue
			}
			if s.matches(w, b.Doc(i)) != s.keep {
				w.kill(i)
				dropped++
			}
		}
	}
	if dropped > 0 {
		s.dropped.Add(dropped)
	}
}

func (s *filterStep) matches(w *Worker, doc []byte) bool {
	m, ok := find(doc, 0, s.field)
	if !ok {
		return false
	}
	return s.re.Match(stringValue(doc, m, &w.unes))
}
