package logscli

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseSince(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"30s": 30 * time.Second, "2h30m": 150 * time.Minute, "1d": 24 * time.Hour,
		"1w2d": 9 * 24 * time.Hour, "1d12h": 36 * time.Hour, "1.5h": 90 * time.Minute,
	} {
		got, err := parseSince(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "d", "1x", "-1h", "0s", "1d-2d", "99999999999d", "10001w", "2562047h", "10000w10000d"} {
		_, err := parseSince(in)
		require.Error(t, err, in)
	}
}

func TestParseTarget(t *testing.T) {
	f := func(arg, wantRegex string, want Target, wantErr string) {
		t.Helper()
		re, tg, err := parseTarget(arg)
		if wantErr != "" {
			require.EqualError(t, err, wantErr)
			return
		}
		require.NoError(t, err)
		require.Equal(t, wantRegex, re)
		require.Equal(t, want, tg)
	}
	f("api-", "api-", Target{}, "")
	f("deploy/api", "", Target{Kind: "Deployment", Name: "api"}, "")
	f("sts/db", "", Target{Kind: "StatefulSet", Name: "db"}, "")
	f("DaemonSet/agent", "", Target{Kind: "DaemonSet", Name: "agent"}, "")
	f("job/migrate", "", Target{Kind: "Job", Name: "migrate"}, "")
	f("pod/api-1.x", `^api-1\.x$`, Target{}, "")
	f("a/b", "a/b", Target{}, "") // not a kind: a regexp with a slash
	f("deploy/", "", Target{}, `"deploy/": want TYPE/NAME, e.g. deploy/api`)
	f("deploy/a/b", "", Target{}, `"deploy/a/b": want TYPE/NAME, e.g. deploy/api`)
}

// FuzzParseSince: an accepted duration is positive; nothing panics.
func FuzzParseSince(f *testing.F) {
	for _, s := range []string{"1d", "2h30m", "1w2d3h", "0", "9223372036854775807ns", "1d-1h", "99999w", "1.5d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseSince(s)
		if err == nil && (d <= 0 || d > 20000*24*time.Hour) {
			t.Fatalf("%q accepted as %v", s, d)
		}
	})
}

// FuzzParseTarget: a workload has a known kind and a name without a
// slash; anything else is a pod regexp (or an error), and nothing panics.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"deploy/api", "pod/x", "a/b", "sts/", "job/a/b", "(", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		re, tg, err := parseTarget(s)
		if err != nil {
			return
		}
		if tg.Kind != "" && (tg.Name == "" || strings.Contains(tg.Name, "/") || re != "") {
			t.Fatalf("%q: %q %+v", s, re, tg)
		}
	})
}
