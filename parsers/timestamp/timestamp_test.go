package timestamp

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// goNano formats ns the way AppendRFC3339Nano must.
const goNano = "2006-01-02T15:04:05.000000000Z07:00"

func TestParseRFC3339_Success(t *testing.T) {
	f := func(in string, want int64) {
		t.Helper()
		got, ok := ParseRFC3339([]byte(in))
		require.True(t, ok, "input %q", in)
		require.Equal(t, want, got, "input %q", in)
	}
	at := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339Nano, s)
		require.NoError(t, err)
		return tm.UnixNano()
	}
	f("1970-01-01T00:00:00Z", 0)
	f("1970-01-01T00:00:00.000000001Z", 1)
	f("1969-12-31T23:59:59.999999999Z", -1)
	f("2026-11-25T10:00:00.123456789Z", at("2026-11-25T10:00:00.123456789Z"))
	f("2026-11-25T10:00:00Z", 1795600800000000000)
	// every fraction length from 1 to 9 (containerd trims trailing zeros)
	f("2026-11-25T10:00:00.1Z", 1795600800100000000)
	f("2026-11-25T10:00:00.12Z", 1795600800120000000)
	f("2026-11-25T10:00:00.123Z", 1795600800123000000)
	f("2026-11-25T10:00:00.1234Z", 1795600800123400000)
	f("2026-11-25T10:00:00.12345Z", 1795600800123450000)
	f("2026-11-25T10:00:00.123456Z", 1795600800123456000)
	f("2026-11-25T10:00:00.1234567Z", 1795600800123456700)
	f("2026-11-25T10:00:00.12345678Z", 1795600800123456780)
	f("2026-11-25T10:00:00.123456789Z", 1795600800123456789)
	// more than nine digits are truncated, like time.Parse
	f("2026-11-25T10:00:00.1234567891Z", 1795600800123456789)
	f("2026-11-25T10:00:00.000000000999Z", 1795600800000000000)
	// offsets
	f("2026-11-25T12:00:00+02:00", 1795600800000000000)
	f("2026-11-25T05:30:00-04:30", 1795600800000000000)
	f("2026-11-25T10:00:00-00:00", 1795600800000000000)
	f("2026-11-25T10:00:00+00:00", 1795600800000000000)
	f("2026-11-26T09:59:00+23:59", at("2026-11-26T09:59:00+23:59"))
	f("2026-11-25T12:00:00.5+02:00", 1795600800500000000)
	// lower-case t and z are allowed by RFC 3339 section 5.6
	f("2026-11-25t10:00:00z", 1795600800000000000)
	// leap days
	f("2024-02-29T00:00:00Z", at("2024-02-29T00:00:00Z"))
	f("2000-02-29T00:00:00Z", at("2000-02-29T00:00:00Z"))
}

func TestParseRFC3339_LeapSecond(t *testing.T) {
	// 23:59:60 is the same Unix instant as 00:00:00 of the next day.
	a, ok := ParseRFC3339([]byte("2016-12-31T23:59:60.5Z"))
	require.True(t, ok)
	b, ok := ParseRFC3339([]byte("2017-01-01T00:00:00.5Z"))
	require.True(t, ok)
	require.Equal(t, b, a)
}

func TestParseRFC3339_Limits(t *testing.T) {
	f := func(in string, want int64, wantOK bool) {
		t.Helper()
		got, ok := ParseRFC3339([]byte(in))
		require.Equal(t, wantOK, ok, "input %q", in)
		require.Equal(t, want, got, "input %q", in)
	}
	f("2262-04-11T23:47:16.854775807Z", math.MaxInt64, true)
	f("2262-04-11T23:47:16.854775808Z", 0, false)
	f("2262-04-11T23:47:17Z", 0, false)
	f("1677-09-21T00:12:43.145224192Z", math.MinInt64, true)
	f("1677-09-21T00:12:43.145224191Z", 0, false)
	f("1677-09-21T00:12:43Z", 0, false)
	f("0000-01-01T00:00:00Z", 0, false)
	f("9999-12-31T23:59:59Z", 0, false)
	// the offset moves a time back into range
	f("2262-04-12T00:47:16.854775807+01:00", math.MaxInt64, true)
}

func TestParseRFC3339_Failure(t *testing.T) {
	f := func(in string) {
		t.Helper()
		got, ok := ParseRFC3339([]byte(in))
		require.False(t, ok, "input %q", in)
		require.Zero(t, got)
	}
	f("")
	f("2026")
	f("2026-11-25")
	f("2026-11-25T10:00:00")                 // no zone
	f("2026-11-25T10:00:00.123")             // no zone
	f("2026-11-25T10:00:00.Z")               // no fraction digits
	f("2026-11-25T10:00:00,5Z")              // comma is not RFC 3339
	f("2026-11-25 10:00:00Z")                // space instead of T
	f("2026/11/25T10:00:00Z")                // wrong separators
	f("2026-11-25T10-00-00Z")                // wrong separators
	f("2026-11-25T10:00:00ZZ")               // trailing garbage
	f("2026-11-25T10:00:00Z ")               // trailing space
	f(" 2026-11-25T10:00:00Z")               // leading space
	f("2026-11-25T10:00:00+0100")            // offset without colon
	f("2026-11-25T10:00:00+01")              // short offset
	f("2026-11-25T10:00:00+01:00:00")        // long offset
	f("2026-11-25T10:00:00+24:00")           // offset hour
	f("2026-11-25T10:00:00+01:60")           // offset minute
	f("2026-11-25T10:00:00+-1:00")           // sign in offset digits
	f("2026-00-25T10:00:00Z")                // month 0
	f("2026-13-25T10:00:00Z")                // month 13
	f("2026-11-00T10:00:00Z")                // day 0
	f("2026-11-31T10:00:00Z")                // November has 30 days
	f("2026-02-29T10:00:00Z")                // not a leap year
	f("2100-02-29T10:00:00Z")                // century, not a leap year
	f("2026-01-32T10:00:00Z")                // day 32
	f("2026-11-25T24:00:00Z")                // hour 24
	f("2026-11-25T10:60:00Z")                // minute 60
	f("2026-11-25T10:00:61Z")                // second 61
	f("2026-11-25T1a:00:00Z")                // letter
	f("-026-11-25T10:00:00Z")                // sign in year
	f("+2026-11-25T10:00:00Z")               // extended year
	f("2026-1-25T10:00:00Z")                 // one-digit month
	f("2026-11-25T10:00:00.12345678901234x") // garbage fraction end
	f("2026-11-25T10:00:00\x00")
}

func TestParseRFC3339_CentennialLeapDays(t *testing.T) {
	// 1700, 1800, 1900, 2100 and 2200 are not leap years; 2000 is.
	for _, y := range []string{"1700", "1800", "1900", "2100", "2200"} {
		_, ok := ParseRFC3339([]byte(y + "-02-29T00:00:00Z"))
		require.False(t, ok, y)
	}
	for _, y := range []int{1680, 1704, 1904, 2000, 2024, 2260} {
		s := time.Date(y, 2, 29, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)
		got, ok := ParseRFC3339([]byte(s))
		require.True(t, ok, s)
		require.Equal(t, time.Date(y, 2, 29, 0, 0, 0, 0, time.UTC).UnixNano(), got)
	}
}

func TestAppendRFC3339Nano(t *testing.T) {
	f := func(ns int64, want string) {
		t.Helper()
		got := AppendRFC3339Nano([]byte("x"), ns)
		require.Equal(t, "x"+want, string(got))
		require.Equal(t, want, time.Unix(0, ns).UTC().Format(goNano))
	}
	f(0, "1970-01-01T00:00:00.000000000Z")
	f(1, "1970-01-01T00:00:00.000000001Z")
	f(-1, "1969-12-31T23:59:59.999999999Z")
	f(1795600800123456789, "2026-11-25T10:00:00.123456789Z")
	f(1795600800000000000, "2026-11-25T10:00:00.000000000Z")
	f(math.MaxInt64, "2262-04-11T23:47:16.854775807Z")
	f(math.MinInt64, "1677-09-21T00:12:43.145224192Z")
	f(951782400000000000, "2000-02-29T00:00:00.000000000Z")
	f(-86400e9, "1969-12-31T00:00:00.000000000Z")
	f(-86400e9-1, "1969-12-30T23:59:59.999999999Z")
}

func TestAppendRFC3339NanoSorts(t *testing.T) {
	prev := ""
	for _, ns := range []int64{math.MinInt64, -86400e9 - 1, -1, 0, 1, 1e9, 1795600800123456789, math.MaxInt64} {
		s := string(AppendRFC3339Nano(nil, ns))
		require.Len(t, s, 30)
		require.Less(t, prev, s)
		prev = s
	}
}

func TestDate(t *testing.T) {
	f := func(ns int64, y, m, d int) {
		t.Helper()
		gy, gm, gd := Date(ns)
		require.Equal(t, [3]int{y, m, d}, [3]int{gy, gm, gd}, "ns %d", ns)
	}
	f(0, 1970, 1, 1)
	f(-1, 1969, 12, 31)
	f(86400e9-1, 1970, 1, 1)
	f(86400e9, 1970, 1, 2)
	f(1795600800123456789, 2026, 11, 25)
	f(951782400000000000, 2000, 2, 29)
	f(math.MaxInt64, 2262, 4, 11)
	f(math.MinInt64, 1677, 9, 21)
}

// TestDaysRoundTrip walks every day that int64 nanoseconds can hold.
func TestDaysRoundTrip(t *testing.T) {
	first, _ := split(math.MinInt64)
	last, _ := split(math.MaxInt64)
	tm := time.Unix(0, math.MinInt64).UTC()
	for days := first; days <= last; days++ {
		y, m, d := civilFromDays(days)
		ty, tmo, td := tm.Date()
		if y != ty || m != int(tmo) || d != td {
			t.Fatalf("day %d: got %04d-%02d-%02d, want %s", days, y, m, d, tm.Format(time.DateOnly))
		}
		if got := daysFromCivil(y, m, d); got != days {
			t.Fatalf("daysFromCivil(%d, %d, %d) = %d, want %d", y, m, d, got, days)
		}
		tm = tm.AddDate(0, 0, 1)
	}
}

func TestFuncsAllocatesNothing(t *testing.T) {
	in := []byte("2026-11-25T10:00:00.123456789+02:00")
	buf := make([]byte, 0, 64)
	n := testing.AllocsPerRun(100, func() {
		ns, ok := ParseRFC3339(in)
		if !ok {
			t.Fatal("parse failed")
		}
		buf = AppendRFC3339Nano(buf[:0], ns)
		if y, _, _ := Date(ns); y != 2026 {
			t.Fatal("bad year")
		}
	})
	require.Zero(t, n)
}
