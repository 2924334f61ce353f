package syslog

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// structuredDataBytes is structuredData as it was before it read bytes
// through sdClass and told plain SDs apart: the reference for
// FuzzStructuredData.
func structuredDataBytes(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	if b[i] == '-' {
		return i + 1
	}
	for i < len(b) && b[i] == '[' {
		i++
		if i = sdNameBytes(b, i); i < 0 {
			return -1
		}
		for i < len(b) && b[i] == ' ' {
			i++
			if i = sdNameBytes(b, i); i < 0 || i+1 >= len(b) || b[i] != '=' || b[i+1] != '"' {
				return -1
			}
			if i = sdValueBytes(b, i+2); i < 0 {
				return -1
			}
		}
		if i >= len(b) || b[i] != ']' {
			return -1
		}
		i++
		if i < len(b) && b[i] == '[' {
			continue
		}
		return i
	}
	return -1
}

func sdNameBytes(b []byte, i int) int {
	start := i
	for i < len(b) {
		c := b[i]
		if c == '=' || c == ' ' || c == ']' || c == '"' {
			break
		}
		if c < 33 || c > 126 {
			return -1
		}
		i++
	}
	if n := i - start; n < 1 || n > maxSDName {
		return -1
	}
	return i
}

func sdValueBytes(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case '"':
			return i + 1
		case ']':
			return -1
		case '\\':
			if i+1 >= len(b) {
				return -1
			}
			switch b[i+1] {
			case '"', '\\':
			case ']':
				if i+2 < len(b) && b[i+2] == ' ' {
					return -1
				}
			default:
				return -1
			}
			i += 2
			continue
		}
		i++
	}
	return -1
}

// checkSD asserts that structuredData ends the SD at b[i:] where the
// byte-at-a-time reference does, and that a plain SD's member, written by
// plainSD, is the one member writes through jsonbytes.AppendString, with
// and without members before it.
func checkSD(t *testing.T, b []byte, i int) {
	t.Helper()
	if i > len(b) {
		i = len(b)
	}
	end, plain := structuredData(b, i)
	require.Equal(t, structuredDataBytes(b, i), end, "%q at %d", b, i)
	if !plain {
		return
	}
	sd := b[i:end]
	for _, prefix := range []string{`"syslog":{`, `"syslog":{"a":1`} {
		first := len(`"syslog":{`)
		want := member([]byte(prefix), first, `"structured_data":`, sd, false)
		got := plainSD([]byte(prefix), first, sd)
		require.Equal(t, string(want), string(got), "%q", sd)
	}
}

var sdSeeds = []string{
	`-`, `[a]`, `[a b="c"]`, `[req@32473 id="r123456"]`,
	`[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]`,
	`[a b="\"q\" \\ \]"]`, `[a b="x] y"]`, `[a b="x\] y"]`, `[a b="é\x01"]`, `[a\b c="d"]`,
	`[a b=""][c d="""]`, `[aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa b="c"]`, `[a b="c"`, `[a b=c]`, `[a  b="c"]`,
	`[a b="0123456789abcdef""]`, `[a b="0123456"]`, `[a b="01234567"]`, "[a b=\"\x7f\"]",
}

func TestStructuredData(t *testing.T) {
	for _, s := range sdSeeds {
		for _, tail := range []string{"", " msg", "x"} {
			checkSD(t, []byte(s+tail), 0)
			checkSD(t, []byte("12345 "+s+tail), 6)
		}
	}
	end, plain := structuredData([]byte(`[req@32473 id="r123456"] m`), 0)
	require.Equal(t, 24, end)
	require.True(t, plain, "the harness's SD is encoded by plainSD")
	for _, s := range []string{`-`, `[a b="\""]`, `[a b="é"]`, "[a b=\"\t\"]", `[a\b c="d"]`} {
		_, plain := structuredData([]byte(s), 0)
		require.False(t, plain, "%q", s)
	}
}

// FuzzStructuredData holds structuredData to the byte-at-a-time reference
// and plainSD to jsonbytes.AppendString.
//
//	go test -run '^$' -fuzz FuzzStructuredData -fuzztime 30s ./collector/syslog
func FuzzStructuredData(f *testing.F) {
	for _, s := range sdSeeds {
		f.Add([]byte(s), uint8(0))
	}
	f.Fuzz(func(t *testing.T, b []byte, at uint8) {
		checkSD(t, b, int(at))
	})
}
