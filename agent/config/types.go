package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"gopkg.in/yaml.v3"
)

// ByteSize is a size in bytes, written as a Kubernetes quantity or with an
// IEC unit, each suffix with one meaning (README, Units):
//
//	Ki Mi Gi Ti, and KiB MiB GiB TiB: powers of 1024
//	k M G T, and kB KB MB GB TB:       powers of 1000 (as Kubernetes reads them)
//	B or none:                         bytes
//
// A bare K is refused rather than guessed at: it is 1024 to some and 1000
// to others.
type ByteSize int64

var sizeUnits = map[string]int64{
	"": 1, "B": 1,
	"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40,
	"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
	"k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
	"kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
}

// maxSize keeps every size far from int64 overflow.
const maxSize = 1 << 50

// ParseByteSize parses a size such as "256Mi", "256MiB" or "500M".
func ParseByteSize(s string) (ByteSize, error) {
	s = strings.TrimSpace(s)
	num := strings.TrimRightFunc(s, unicode.IsLetter)
	unit := strings.TrimSpace(s[len(num):])
	num = strings.TrimSpace(num)
	mult, ok := sizeUnits[unit]
	if unit == "K" {
		return 0, fmt.Errorf("%q is ambiguous: write %sKi for %s×1024 bytes or %sk for %s×1000", s, num, num, num, num)
	}
	n, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || num == "" || strings.ContainsAny(num, "eE") {
		return 0, fmt.Errorf("must be a size such as 512Ki, 256Mi, 1Gi or 500M, got %q", s)
	}
	v := n * float64(mult)
	if n < 0 || v > maxSize {
		return 0, fmt.Errorf("must be between 0 and 1Pi, got %q", s)
	}
	if v != math.Trunc(v) {
		return 0, fmt.Errorf("must be a whole number of bytes, got %q", s)
	}
	return ByteSize(v), nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseByteSize(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*b = v
	return nil
}

// Duration is a time.Duration written as 1s, 250ms, 5m.
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(strings.TrimSpace(n.Value))
	if err != nil {
		return fmt.Errorf("line %d: bad duration %q (want e.g. 250ms, 1s, 5m)", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as it is read: 1m30s.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// MarshalYAML writes the size as it is read: 5Mi.
func (b ByteSize) MarshalYAML() (any, error) { return b.String(), nil }

// Duration returns the value as a time.Duration.
func (d Duration) Duration() time.Duration { return time.Duration(d) }

// String writes the size in the largest binary unit that divides it.
func (b ByteSize) String() string {
	for _, u := range []struct {
		suffix string
		mult   ByteSize
	}{{"Ti", 1 << 40}, {"Gi", 1 << 30}, {"Mi", 1 << 20}, {"Ki", 1 << 10}} {
		if b != 0 && b%u.mult == 0 {
			return strconv.FormatInt(int64(b/u.mult), 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(b), 10) + "B"
}

// Round rounds the size up to a whole Mi, for messages.
func (b ByteSize) Round() ByteSize { return (b + 1<<20 - 1) &^ (1<<20 - 1) }
