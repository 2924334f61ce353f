package timelayout

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var ref = time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC).UnixNano()

func TestParse(t *testing.T) {
	f := func(layout, in, want string) {
		t.Helper()
		l, err := New(layout)
		require.NoError(t, err, layout)
		got, ok := l.Parse([]byte(in), ref)
		if want == "" {
			require.False(t, ok, "%s %q parsed as %s", layout, in, time.Unix(0, got).UTC())
			return
		}
		require.True(t, ok, "%s %q", layout, in)
		w, err := time.Parse(time.RFC3339Nano, want)
		require.NoError(t, err)
		require.Equal(t, w.UTC().Format(time.RFC3339Nano), time.Unix(0, got).UTC().Format(time.RFC3339Nano), "%s %q", layout, in)
	}
	// nginx and apache access logs, both ways of writing the layout.
	f("%d/%b/%Y:%H:%M:%S %z", "07/Dec/2016:11:05:07 +0100", "2016-12-07T10:05:07Z")
	f("02/Jan/2006:15:04:05 -0700", "10/Oct/2000:13:55:36 -0700", "2000-10-10T20:55:36Z")
	f("02/Jan/2006:15:04:05 -0700", "10/Oct/2000:13:55:36", "")
	// nginx error log: no zone means UTC.
	f("2006/01/02 15:04:05", "2024/01/15 10:20:30", "2024-01-15T10:20:30Z")
	// apache error log with and without microseconds.
	f("Mon Jan _2 15:04:05 2006", "Wed Oct 11 14:32:52.123456 2000", "2000-10-11T14:32:52.123456Z")
	f("Mon Jan _2 15:04:05 2006", "Thu Jan  4 09:00:00 2024", "2024-01-04T09:00:00Z")
	f("%a %b %e %H:%M:%S.%f %Y", "Wed Oct 11 14:32:52.123456 2000", "2000-10-11T14:32:52.123456Z")
	// syslog 3164 has no year: the read time's, or the year before.
	f("Jan _2 15:04:05", "Jan  9 22:14:15", "2026-01-09T22:14:15Z")
	f("Jan _2 15:04:05", "Dec 31 23:59:59", "2025-12-31T23:59:59Z")
	// Python's logging default, a comma before milliseconds.
	f("%Y-%m-%d %H:%M:%S,%f", "2025-09-26 21:12:39,384", "2025-09-26T21:12:39.384Z")
	f("2006-01-02 15:04:05", "2025-09-26 21:12:39,384", "2025-09-26T21:12:39.384Z")
	f("%F %T %Z", "2025-09-26 21:12:39 UTC", "2025-09-26T21:12:39Z")
	f("01/02/2006 03:04:05 PM", "12/31/2025 11:59:59 pm", "2025-12-31T23:59:59Z")
	f("01/02/2006 03:04:05 PM", "12/31/2025 12:00:00 AM", "2025-12-31T00:00:00Z")
	f("2006-01-02T15:04:05.000Z07:00", "2026-11-25T10:00:00.123+02:00", "2026-11-25T08:00:00.123Z")
	f("January 2, 2006 15:04", "february 29, 2024 10:00", "2024-02-29T10:00:00Z")
	f("January 2, 2006 15:04", "February 30, 2024 10:00", "")
	f("%d/%b/%Y:%H:%M:%S %z", "-", "")
	f("%d/%b/%Y:%H:%M:%S %z", "07/Foo/2016:11:05:07 +0100", "")
	f("%d/%b/%Y:%H:%M:%S %z", "07/Dec/2016:25:05:07 +0100", "")
	f("%d/%b/%Y:%H:%M:%S %z", "07/Dec/2016:11:05:07 +0100 trailing", "")

	f("rfc3339", "2026-11-25T10:00:00.123456789Z", "2026-11-25T10:00:00.123456789Z")
	f("rfc3339", "25/11/2026", "")
	f("epoch_s", "1700000000", "2023-11-14T22:13:20Z")
	f("epoch_s", "1700000000.123456", "2023-11-14T22:13:20.123456Z")
	f("epoch_ms", "1700000000123", "2023-11-14T22:13:20.123Z")
	f("epoch_us", "1700000000123456", "2023-11-14T22:13:20.123456Z")
	f("epoch_ns", "1700000000123456789", "2023-11-14T22:13:20.123456789Z")
	f("epoch_s", "17e8", "")
	f("epoch_s", "99999999999999999999", "")
	f("epoch_ms", "", "")
}

func TestNewErrors(t *testing.T) {
	_, err := New("%Q")
	require.ErrorContains(t, err, "%Q is not supported")
	_, err = New("hello")
	require.ErrorContains(t, err, `time layout "hello" needs at least a month, a day and an hour`)
	_, err = New("")
	require.Error(t, err)
}

func TestParseAllocatesNothing(t *testing.T) {
	l, err := New("%d/%b/%Y:%H:%M:%S %z")
	require.NoError(t, err)
	in := []byte("07/Dec/2016:11:05:07 +0100")
	require.Zero(t, testing.AllocsPerRun(100, func() { l.Parse(in, ref) }))
}

// FuzzParse checks that any input either fails or agrees with time.Parse
// where both accept it, for layouts whose meaning is the same in both.
//
//	go test -run '^$' -fuzz FuzzParse -fuzztime 30s ./parsers/timelayout
func FuzzParse(f *testing.F) {
	f.Add("07/Dec/2016:11:05:07 +0100")
	f.Add("2026-11-25T10:00:00.123+02:00")
	f.Add("Wed Oct 11 14:32:52.123456 2000")
	layouts := []string{"02/Jan/2006:15:04:05 -0700", "2006-01-02T15:04:05Z07:00", "Mon Jan 02 15:04:05 2006", "2006/01/02 15:04:05"}
	var compiled []*Layout
	for _, s := range layouts {
		l, err := New(s)
		if err != nil {
			f.Fatal(err)
		}
		compiled = append(compiled, l)
	}
	f.Fuzz(func(t *testing.T, in string) {
		for i, l := range compiled {
			got, ok := l.Parse([]byte(in), ref)
			want, err := time.Parse(layouts[i], in)
			if ok && err == nil && want.UnixNano() != got {
				t.Fatalf("%s %q: ours %s, time.Parse %s", layouts[i], in, time.Unix(0, got).UTC(), want.UTC())
			}
		}
	})
}
