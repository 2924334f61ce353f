package transform

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/sluicelog/sluice/agent/config"
)

// fieldsStep edits documents by dotted path, in a fixed order: rename,
// remove, redact, add (add and add_env), dedot.
type fieldsStep struct {
	stepBase
	ops []fieldOp
}

type opKind uint8

const (
	opRename opKind = iota
	opRemove
	opRedact
	opAdd
	opDedot
)

type fieldOp struct {
	kind     opKind
	path, to string
	raw      []byte // add: the JSON value
	re       *regexp.Regexp
	repl     []byte
	sep      byte
}

func newFields(t *config.Fields, opts Options) (*fieldsStep, error) {
	s := &fieldsStep{}
	for _, from := range sortedKeys(t.Rename) {
		s.ops = append(s.ops, fieldOp{kind: opRename, path: from, to: t.Rename[from]})
	}
	for _, p := range t.Remove {
		s.ops = append(s.ops, fieldOp{kind: opRemove, path: p})
	}
	for _, r := range t.Redact {
		re, err := compile(r.Pattern)
		if err != nil {
			return nil, fmt.Errorf("redact %s: %w", r.Field, err)
		}
		s.ops = append(s.ops, fieldOp{kind: opRedact, path: r.Field, re: re, repl: []byte(r.Replacement)})
	}
	for _, k := range sortedKeys(t.Add) {
		s.ops = append(s.ops, fieldOp{kind: opAdd, path: k, raw: appendJSONString(nil, t.Add[k])})
	}
	for _, k := range sortedKeys(t.AddEnv) {
		v, ok := opts.LookupEnv(t.AddEnv[k])
		if !ok {
			return nil, fmt.Errorf("add_env %s: environment variable %s is not set", k, t.AddEnv[k])
		}
		s.ops = append(s.ops, fieldOp{kind: opAdd, path: k, raw: appendJSONString(nil, v)})
	}
	sep := byte('_')
	if t.DedotSeparator != "" {
		sep = t.DedotSeparator[0]
	}
	for _, p := range t.Dedot {
		s.ops = append(s.ops, fieldOp{kind: opDedot, path: p, sep: sep})
	}
	return s, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// apply edits every live document. Documents are rewritten into the
// worker's buffer from the first one that changes length; until then (and
// for good when none does) they stay where the encoder put them.
func (s *fieldsStep) apply(w *Worker) {
	b := w.b
	copying := false
	var edited int64
	out, ends := w.out[:0], w.ends[:0]
	for i := range b.Records {
		if w.dead[i] {
			if copying {
				ends = append(ends, int32(len(out))) // dead: no bytes
			}
			continue
		}
		doc, moved, changed := s.edit(w, b.Doc(i))
		if changed {
			edited++
		}
		if moved && !copying {
			copying = true
			var start int32
			if i > 0 {
				start = b.DocEnds[i-1]
			}
			out = append(out, b.Docs[:start]...)
			ends = append(ends, b.DocEnds[:i]...)
		}
		if copying {
			out = append(out, doc...)
			ends = append(ends, int32(len(out)))
		}
	}
	if copying {
		// Swap buffers: the batch takes the rewritten documents, the
		// worker keeps the old array for the next batch.
		b.Docs, w.out = out, b.Docs[:0]
		b.DocEnds, w.ends = ends, b.DocEnds[:0]
	} else {
		w.out, w.ends = out, ends
	}
	if edited > 0 {
		s.edited.Add(edited)
	}
}

// edit runs the ops over one document. moved: the result is in a scratch
// buffer (its length may differ); changed: anything changed, in place or
// not.
func (s *fieldsStep) edit(w *Worker, doc []byte) (cur []byte, moved, changed bool) {
	cur = doc
	k := 0
	for i := range s.ops {
		o := &s.ops[i]
		if o.kind == opDedot {
			if m, ok := find(cur, 0, o.path); ok && cur[m.ValStart] == '{' && dedotKeys(cur, m.ValStart, o.sep) {
				changed = true
			}
			continue
		}
		res, ok := o.apply(w, w.bufs[k][:0], cur)
		if !ok {
			continue
		}
		w.bufs[k] = res
		cur = res
		k ^= 1
		moved, changed = true, true
	}
	return cur, moved, changed
}

// apply appends the edited document to dst; ok is false, and dst unused,
// when the op changes nothing.
func (o *fieldOp) apply(w *Worker, dst, doc []byte) ([]byte, bool) {
	switch o.kind {
	case opAdd:
		return set(dst, doc, o.path, o.raw, &w.ins), true
	case opRemove:
		m, ok := find(doc, 0, o.path)
		if !ok {
			return dst, false
		}
		from, to := memberRange(doc, m)
		return splice(dst, doc, from, to, nil), true
	case opRename:
		m, ok := find(doc, 0, o.path)
		if !ok {
			return dst, false
		}
		w.val = append(w.val[:0], doc[m.ValStart:m.ValEnd]...)
		from, to := memberRange(doc, m)
		w.mid = splice(w.mid[:0], doc, from, to, nil)
		return set(dst, w.mid, o.to, w.val, &w.ins), true
	case opRedact:
		m, ok := find(doc, 0, o.path)
		if !ok || doc[m.ValStart] == '{' || doc[m.ValStart] == '[' {
			return dst, false
		}
		v := stringValue(doc, m, &w.unes)
		if !o.re.Match(v) {
			return dst, false
		}
		// Allocates, but only for a value that holds a secret.
		w.val = appendJSONBytes(w.val[:0], o.re.ReplaceAll(v, o.repl))
		return splice(dst, doc, m.ValStart, m.ValEnd, w.val), true
	}
	return dst, false
}
