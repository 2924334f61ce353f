package config

import (
	"slices"

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

// Compile compiles the layout into Parsed: Parse does it; a config built
// by hand calls it.
func (f *TimeField) Compile() error {
	l, err := timelayout.New(f.Layout)
	if err != nil {
		return err
	}
	f.Parsed = l
	return nil
}

// validateTime checks a parser's time key and compiles its layout.
func validateTime(p *problems, f *TimeField, at []any) {
	if f == nil {
		return
	}
	key := func(k string) []any { return append(slices.Clone(at), k) }
	if f.Field == "" {
		p.add("must name the parsed field that holds the time", key("field"))
	}
	if err := f.Compile(); err != nil {
		p.add("%v (want rfc3339, epoch_s, epoch_ms, epoch_us, epoch_ns, a strftime pattern or a Go layout)", key("layout"), err)
	}
}
