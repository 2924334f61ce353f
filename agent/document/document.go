// Package document encodes records as the JSON documents that outputs ship
// (DESIGN.md, record schema): the worker encodes each record once and every
// output reuses the bytes.
package document

import (
	"slices"
	"sync/atomic"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/internal/jsonbytes"
	"github.com/sluicelog/sluice/parsers/logfmt"
	"github.com/sluicelog/sluice/parsers/regex"
	"github.com/sluicelog/sluice/parsers/timelayout"
	"github.com/sluicelog/sluice/parsers/timestamp"
)

// Encoder turns records into documents. It holds no per-call state, so one
// Encoder serves every worker.
type Encoder struct {
	parsers []parser // in config order: the first that parses a line wins
	now     func() int64

	// named are the parser chains a pod can ask for by name with the
	// sluice.io/parser annotation (Batch.Parser): "json", "logfmt",
	// "text" (none), "slog", and each regex preset.
	named map[string][]parser

	// timeFallbacks counts documents whose configured time field was
	// missing or did not parse, so @timestamp is the read time.
	timeFallbacks atomic.Int64
}

// TimeFallbacks returns how many documents kept the read time because
// their time field was missing or unparseable (flagged
// sluice.time_fallback in the document).
func (e *Encoder) TimeFallbacks() int64 { return e.timeFallbacks.Load() }

// parser is one parser transform.
type parser struct {
	kind         string // json, logfmt, regex
	target       string // "" merges at the top level
	keepOriginal bool
	regex        *regex.Parser
	// clash: a regex field is a reserved key, so its members always go
	// under the fallback target.
	clash bool

	// time, when set, takes @timestamp from the member timeKey; level
	// normalises the level member (fields.go).
	time    *timelayout.Layout
	timeKey string
	level   bool
}

// The fallback target (the parser's type: "json", "logfmt", "regex") holds
// a parsed line whose keys clash with the document's own (@timestamp,
// stream, log, kubernetes, sluice) or repeat: merging it at the top level
// would write duplicate keys, which Elasticsearch rejects.

// New builds an encoder from the config's transforms, which config.Parse
// checked and compiled (their order is the order they run in): the regex
// and the time layout are taken as compiled, never compiled again. A
// config built by hand compiles them first (config.Regex.Compile,
// config.TimeField.Compile); one that did not is a caller's bug, never a
// transform silently left out.
func New(transforms []config.Transform, now func() int64) *Encoder {
	e := &Encoder{now: now}
	levelAll := false
	for _, t := range transforms {
		switch s := t.Spec.(type) {
		case *config.Level:
			levelAll = true
		case *config.JSON:
			e.parsers = append(e.parsers, newParser("json", (*config.ParserOptions)(s)))
		case *config.Logfmt:
			e.parsers = append(e.parsers, newParser("logfmt", (*config.ParserOptions)(s)))
		case *config.Regex:
			if s.Compiled == nil {
				panic("document: a regex transform not compiled (config.Parse or Regex.Compile)")
			}
			p := newParser("regex", &s.ParserOptions)
			p.regex = s.Compiled
			if s.Time == nil && s.Preset != "" {
				p.timeKey, p.time = presetTime(s.Preset)
			}
			for _, name := range p.regex.Names() {
				p.clash = p.clash || reserved([]byte(name))
			}
			e.parsers = append(e.parsers, p)
		}
	}
	e.named = namedChains(e.parsers)
	if levelAll {
		for i := range e.parsers {
			e.parsers[i].level = true
		}
		for _, chain := range e.named {
			for i := range chain {
				chain[i].level = true
			}
		}
	}
	return e
}

// newParser is a parser transform's options, its time layout as compiled.
func newParser(kind string, o *config.ParserOptions) parser {
	p := parser{kind: kind, target: o.Target, keepOriginal: o.KeepOriginal, level: o.NormalizeLevel}
	if o.Time != nil {
		if o.Time.Parsed == nil {
			panic("document: a time layout not compiled (config.Parse or TimeField.Compile)")
		}
		p.timeKey, p.time = o.Time.Field, o.Time.Parsed
	}
	return p
}

// presetTime is a preset's time field and layout, when its lines carry a
// zone (nginx_error and apache_error write local time without one, so
// they keep the read time unless the config says otherwise).
func presetTime(name string) (string, *timelayout.Layout) {
	field, layout, ok := regex.PresetTime(name)
	if !ok {
		return "", nil
	}
	return field, timeOf(layout)
}

// namedChains builds the chains a pod may select. A name that the config
// also uses (a json transform with a target, say) keeps the config's
// settings.
func namedChains(configured []parser) map[string][]parser {
	named := map[string][]parser{
		"json":   {{kind: "json"}},
		"logfmt": {{kind: "logfmt"}},
		"text":   nil,
		// Go's log/slog TextHandler: logfmt with an RFC 3339 time.
		"slog": {{kind: "logfmt", timeKey: "time", time: timeOf("rfc3339")}},
	}
	for _, name := range regex.Presets() {
		rp, err := regex.Preset(name)
		if err != nil {
			continue
		}
		p := parser{kind: "regex", regex: rp}
		p.timeKey, p.time = presetTime(name)
		for _, n := range rp.Names() {
			p.clash = p.clash || reserved([]byte(n))
		}
		named[name] = []parser{p}
	}
	for _, p := range configured {
		if p.kind == "json" || p.kind == "logfmt" {
			named[p.kind] = []parser{p}
		}
	}
	// Each chain gets its own backing array: a level transform sets
	// options per chain.
	for name, c := range named {
		named[name] = slices.Clone(c)
	}
	return named
}

// HasParser reports whether name can be selected per pod.
func (e *Encoder) HasParser(name string) bool {
	_, ok := e.named[name]
	return ok
}

// ParserNames lists the names a pod can select, for error messages.
func (e *Encoder) ParserNames() []string {
	names := make([]string, 0, len(e.named))
	for n := range e.named {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// EncodeBatch fills b.Docs and b.DocEnds with one document per record,
// with the batch's Kubernetes object and, when the batch names one, the
// parser chosen for its pod (an unknown name falls back to the config's).
func (e *Encoder) EncodeBatch(b *record.Batch) {
	b.Docs = b.Docs[:0]
	b.DocEnds = b.DocEnds[:0]
	be := e.Batch(b)
	for i := range b.Records {
		b.Docs = be.Append(b.Docs, &b.Records[i])
		b.DocEnds = append(b.DocEnds, int32(len(b.Docs)))
	}
}

// BatchEncoder writes the documents of one batch one at a time, where the
// caller wants them (an output that encodes straight into its request
// body): Append of each record in turn gives the bytes EncodeBatch puts
// in Docs. It lives on the caller's stack, like the batch's stamps.
type BatchEncoder struct {
	e     *Encoder
	chain []parser
	meta  []byte
	st    stamps
}

// Batch returns the encoder of b's documents, with the batch's Kubernetes
// object and parser, as EncodeBatch has them.
//
// A batch's records come in time order, so their @timestamp values mostly
// share a second: its text is written once per batch and copied after
// that (stamps).
func (e *Encoder) Batch(b *record.Batch) BatchEncoder {
	chain := e.parsers
	if b.Parser != "" {
		if c, ok := e.named[b.Parser]; ok {
			chain = c
		}
	}
	return BatchEncoder{e: e, chain: chain, meta: b.Kubernetes()}
}

// Append appends the document of r, a record of the batch, to dst: a JSON
// object that starts with its @timestamp member.
func (be *BatchEncoder) Append(dst []byte, r *record.Record) []byte {
	return be.e.appendDoc(dst, be.chain, be.meta, r, &be.st)
}

// stamps formats the @timestamp values of one EncodeBatch call; the
// Encoder is shared by the workers, so it lives on the caller's stack.
// rec takes the records' own times and field those of a parsed time field,
// which may keep to other seconds: one Formatter for both would miss on
// every record when the two differ.
type stamps struct {
	rec, field timestamp.Formatter
}

// reservedKeys are the top-level keys the document writes itself: a
// parsed line's members that hold one of them go under its target.
var reservedKeys = jsonbytes.NewKeySet("@timestamp", "stream", "log", "kubernetes", "sluice", "syslog", "source_ip")

func reserved(key []byte) bool {
	return reservedKeys.Has(key)
}

// merge parses line and, if it parses, appends its members to dst: at the
// top level, or as an object under the target (or under the fallback target
// when a key clashes). ok is false, and dst unchanged, when line does not
// parse.
func (p *parser) merge(dst, line []byte, ref int64) (out []byte, ok bool, res fieldResult) {
	mark := len(dst)
	target := p.target
	if target == "" && p.clash {
		target = p.kind
	}
	if target != "" {
		dst = append(dst, ',')
		dst = jsonbytes.AppendStringString(dst, target)
		dst = append(dst, ":{"...)
	} else {
		dst = append(dst, ',')
	}
	start := len(dst)
	var conflict bool
	switch p.kind {
	case "json":
		var members []byte
		if members, conflict, ok = jsonbytes.MembersReserved(line, reservedKeys); ok {
			dst = append(dst, members...)
		}
	case "logfmt":
		dst, conflict, ok = logfmt.AppendMembersReserved(dst, line, reserved)
	case "regex":
		dst, ok = p.regex.AppendMembers(dst, line)
	}
	if !ok {
		return dst[:mark], false, res
	}
	if p.time != nil || p.level {
		dst, res = p.fields(dst, start, ref)
	}
	if target != "" {
		return append(dst, '}'), true, res
	}
	if conflict {
		// Put the members under the fallback target after all.
		var buf [16]byte
		prefix := append(jsonbytes.AppendStringString(buf[:0], p.kind), ':', '{')
		dst = slices.Insert(dst, start, prefix...)
		return append(dst, '}'), true, res
	}
	if len(dst) == start { // nothing to merge: drop the comma
		dst = dst[:mark]
	}
	return dst, true, res
}

// Append appends the document of r to dst and returns it, parsed by the
// config's parsers, with the source's Kubernetes object.
func (e *Encoder) Append(dst []byte, src *record.Source, r *record.Record) []byte {
	var st stamps
	return e.appendDoc(dst, e.parsers, src.Meta, r, &st)
}

func (e *Encoder) appendDoc(dst []byte, parsers []parser, meta []byte, r *record.Record, st *stamps) []byte {
	ts := r.Time
	if ts == 0 {
		ts = e.now()
	}
	dst = append(dst, `{"@timestamp":"`...)
	tsAt := len(dst) // rewritten in place when a time field parses
	dst = st.rec.AppendRFC3339Nano(dst, ts)
	dst = append(dst, '"')
	if s := r.Stream.String(); s != "" {
		dst = append(dst, `,"stream":"`...)
		dst = append(dst, s...)
		dst = append(dst, '"')
	}
	keepLog := true
	fallback := false
	if r.Flags&record.Malformed == 0 {
		for i := range parsers {
			var ok bool
			var res fieldResult
			if dst, ok, res = parsers[i].merge(dst, r.Line, ts); ok {
				keepLog = parsers[i].keepOriginal
				if res.timeOK {
					st.field.AppendRFC3339Nano(dst[:tsAt], res.time)
				} else if res.timeSet {
					fallback = true
					e.timeFallbacks.Add(1)
				}
				break
			}
		}
	}
	if keepLog {
		dst = append(dst, `,"log":`...)
		dst = jsonbytes.AppendString(dst, r.Line)
	}
	if len(r.Extra) > 0 {
		dst = append(dst, ',')
		dst = append(dst, r.Extra...)
	}
	if r.Flags != 0 || fallback {
		dst = append(dst, `,"sluice":{`...)
		sep := false
		for _, f := range [...]struct {
			on     bool
			member string
		}{
			{r.Flags&record.Truncated != 0, `"truncated":true`},
			{r.Flags&record.Malformed != 0, `"malformed":true`},
			{fallback, `"time_fallback":true`},
		} {
			if !f.on {
				continue
			}
			if sep {
				dst = append(dst, ',')
			}
			dst = append(dst, f.member...)
			sep = true
		}
		dst = append(dst, '}')
	}
	if len(meta) > 0 {
		dst = append(dst, `,"kubernetes":`...)
		dst = append(dst, meta...)
	}
	return append(dst, '}')
}
