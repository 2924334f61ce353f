package config

import (
	"time"

	"github.com/sluicelog/sluice/parsers/multiline"
)

// Multiline joins the continuation lines of a container_logs input's
// streams (a stack trace's frames) into the record that starts them:
//
//	multiline: { mode: java, flush_timeout: 1s, max_lines: 500, max_bytes: 1MiB }
//	multiline: { mode: regex, start: '^\d{4}-\d{2}-\d{2} ', continue: '^\s' }
type Multiline struct {
	// Mode is java, python, go or regex; start and continue are Go
	// regexps of mode regex (at least one of them).
	Mode     string `yaml:"mode"`
	Start    string `yaml:"start"`
	Continue string `yaml:"continue"`
	// FlushTimeout ships a held record after its stream has been quiet this
	// long, so the last record of a burst is not held back.
	FlushTimeout Duration `yaml:"flush_timeout"`
	// MaxLines and MaxBytes cut a joined record; the rest follows in the
	// next record, the cut one flagged sluice.truncated.
	MaxLines int      `yaml:"max_lines"`
	MaxBytes ByteSize `yaml:"max_bytes"`

	// Rule is the compiled rule, set by Parse.
	Rule *multiline.Rule `yaml:"-"`
}

// defaultMultiline fills the defaults of an input's multiline section.
func defaultMultiline(m *Multiline) {
	if m == nil {
		return
	}
	if m.FlushTimeout == 0 {
		m.FlushTimeout = Duration(time.Second)
	}
	if m.MaxLines == 0 {
		m.MaxLines = 500
	}
	if m.MaxBytes == 0 {
		m.MaxBytes = 1 << 20
	}
}

// validateMultiline checks an input's multiline section and compiles its
// rule.
func validateMultiline(p *problems, in Input, at func(string) []any) {
	m := in.Multiline
	if m == nil {
		return
	}
	key := func(k string) []any { return append(at("multiline"), k) }
	if in.Type != "container_logs" {
		p.add("only for container_logs inputs", at("multiline"))
		return
	}
	if d := m.FlushTimeout.Duration(); d < time.Millisecond || d > in.CloseInactive.Duration() {
		p.add("must be between 1ms and close_inactive (%s), got %s", key("flush_timeout"), in.CloseInactive.Duration(), d)
	}
	if m.MaxLines < 1 {
		p.add("must be at least 1, got %d", key("max_lines"), m.MaxLines)
	}
	if m.MaxBytes < 1024 {
		p.add("must be at least 1KiB, got %d bytes", key("max_bytes"), int64(m.MaxBytes))
	}
	mode, err := multiline.ParseMode(m.Mode)
	if err != nil {
		p.add("%v", key("mode"), err)
		return
	}
	if mode != multiline.Regex {
		for _, k := range []struct{ key, v string }{{"start", m.Start}, {"continue", m.Continue}} {
			if k.v != "" {
				p.add("only for mode regex", key(k.key))
			}
		}
		m.Rule, _ = multiline.NewRule(mode, "", "")
		return
	}
	if m.Start == "" && m.Continue == "" {
		p.add("mode regex needs start, continue or both", key("mode"))
		return
	}
	if m.Rule, err = multiline.NewRule(mode, m.Start, m.Continue); err != nil {
		k := "start"
		if _, serr := multiline.NewRule(mode, m.Start, ""); m.Start == "" || serr == nil {
			k = "continue"
		}
		p.add("%v", key(k), err)
	}
}
