package convert

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
)

// Formats convert reads.
const (
	FluentBit     = "fluentbit"
	FluentBitYAML = "fluentbit-yaml"
	Fluentd       = "fluentd"
)

// Detect guesses a config's format from its name and content.
func Detect(name string, raw []byte) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml":
		return FluentBitYAML
	}
	for _, tag := range []string{"<source>", "<match", "<filter"} {
		if bytes.Contains(raw, []byte(tag)) {
			return Fluentd
		}
	}
	return FluentBit
}

// Parse reads raw in format.
func Parse(format string, raw []byte) (*Source, error) {
	switch format {
	case FluentBit:
		return ParseFluentBit(raw)
	case FluentBitYAML:
		return ParseFluentBitYAML(raw)
	case Fluentd:
		return ParseFluentd(raw)
	}
	return nil, fmt.Errorf("unknown format %q (want %s, %s or %s)", format, FluentBit, FluentBitYAML, Fluentd)
}
