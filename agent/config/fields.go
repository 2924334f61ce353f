package config

import (
	"github.com/sluicelog/sluice/parsers/timelayout"
)

// TimeField takes a parsed record's @timestamp from one of its fields:
//
//	time: { field: time, layout: "%d/%b/%Y:%H:%M:%S %z" }
//
// Layout is rfc3339, epoch_s, epoch_ms, epoch_us, epoch_ns, a strftime
// pattern or a Go layout. A missing or unparseable field keeps the read
// time and flags the document sluice.time_fallback.
type TimeField struct {
	Field  string `yaml:"field"`
	Layout string `yaml:"layout"`

	// Parsed is the compiled layout, set by Parse.
	Parsed *timelayout.Layout `yaml:"-"`
}

// validateTransformFields checks a transform's time and normalize_level
// keys, and compiles the time layout.
func validateTransformFields(p *problems, t *Transform, at func(string) []any) {
	if t.Type == "level" {
		if t.Time != nil || t.Field != "" || t.Target != "" || t.KeepOriginal || t.NormalizeLevel {
			p.add("a level transform takes no other keys", at("type"))
		}
		return
	}
	if t.Time == nil {
		return
	}
	key := func(k string) []any { return append(at("time"), k) }
	if t.Time.Field == "" {
		p.add("must name the parsed field that holds the time", key("field"))
	}
	l, err := timelayout.New(t.Time.Layout)
	if err != nil {
		p.add("%v (want rfc3339, epoch_s, epoch_ms, epoch_us, epoch_ns, a strftime pattern or a Go layout)", key("layout"), err)
		return
	}
	t.Time.Parsed = l
}
