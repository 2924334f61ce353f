package syslog

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var recv = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC).UnixNano()

func ns(s string) int64 {
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return ts.UnixNano()
}

func TestParse_Success(t *testing.T) {
	f := func(format, frame string, want got) {
		t.Helper()
		want.SourceIP, want.Source = "10.0.0.1", "test"
		require.Equal(t, want, parseOne(t, format, frame, recv), "frame %q", frame)
	}
	// RFC 5424, every field.
	f("auto", `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 1234 ID47 [exampleSDID@32473 iut="3" eventSource="Application"] An application event`, got{
		Log: "An application event", Time: ns("2003-10-11T22:14:15.003Z"),
		Syslog: map[string]any{"facility": "local4", "severity": "notice", "hostname": "mymachine.example.com", "app_name": "evntslog",
			"proc_id": "1234", "msg_id": "ID47", "structured_data": `[exampleSDID@32473 iut="3" eventSource="Application"]`},
	})
	// Same under format rfc5424; a numeric offset; a BOM before the message.
	f("rfc5424", "<34>1 2003-10-11T22:14:15.000003-07:00 host su - ID47 - \xEF\xBB\xBF'su root' failed", got{
		Log: "'su root' failed", Time: ns("2003-10-12T05:14:15.000003Z"),
		Syslog: map[string]any{"facility": "auth", "severity": "crit", "hostname": "host", "app_name": "su", "msg_id": "ID47"},
	})
	// Nil values are left out, not shipped as "-"; a nil timestamp means receive time, flagged.
	f("auto", `<13>1 - - - - - - hello`, got{
		Log: "hello", Time: recv,
		Syslog: map[string]any{"facility": "user", "severity": "notice", "no_timestamp": true},
	})
	// No MSG at all.
	f("auto", `<0>1 2026-01-02T03:04:05Z h a p m [x@1 a="b"]`, got{
		Log: "", Time: ns("2026-01-02T03:04:05Z"),
		Syslog: map[string]any{"facility": "kern", "severity": "emerg", "hostname": "h", "app_name": "a", "proc_id": "p", "msg_id": "m", "structured_data": `[x@1 a="b"]`},
	})
	// A JSON body stays the log line (the json transform merges it later).
	f("auto", `<14>1 2026-01-02T03:04:05Z h app - - - {"level":"info","msg":"hi"}`, got{
		Log: `{"level":"info","msg":"hi"}`, Time: ns("2026-01-02T03:04:05Z"),
		Syslog: map[string]any{"facility": "user", "severity": "info", "hostname": "h", "app_name": "app"},
	})

	// RFC 3164 with hostname and tag[pid]; the year is the receive year.
	f("auto", `<13>Mar  1 20:51:40 myhostname myprogram[42]: ciao  `, got{
		Log: "ciao", Time: ns("2026-03-01T20:51:40Z"),
		Syslog: map[string]any{"facility": "user", "severity": "notice", "hostname": "myhostname", "app_name": "myprogram", "proc_id": "42"},
	})
	f("rfc3164", `<86>Mar 10 11:53:46 doas: catap ran command ls / as root`, got{
		// No hostname (GNU syslog()): left out, not the receiver's host name.
		Log: "catap ran command ls / as root", Time: ns("2026-03-10T11:53:46Z"),
		Syslog: map[string]any{"facility": "authpriv", "severity": "info", "app_name": "doas"},
	})
	f("auto", `<78>Mar  1 20:51:02 myprog[153]: blah`, got{
		Log: "blah", Time: ns("2026-03-01T20:51:02Z"),
		Syslog: map[string]any{"facility": "cron", "severity": "info", "app_name": "myprog", "proc_id": "153"},
	})
	// A December message received in March is last year's, not a future one.
	f("auto", `<13>Dec 31 23:59:59 h app: late`, got{
		Log: "late", Time: ns("2025-12-31T23:59:59Z"),
		Syslog: map[string]any{"facility": "user", "severity": "notice", "hostname": "h", "app_name": "app"},
	})
	// RFC 3339 timestamp with an offset in an RFC 3164 frame.
	f("auto", `<13>2026-01-02T03:04:05+01:00 h app: x`, got{
		Log: "x", Time: ns("2026-01-02T02:04:05Z"),
		Syslog: map[string]any{"facility": "user", "severity": "notice", "hostname": "h", "app_name": "app"},
	})
	// A PRI and no header: a message, with receive time, flagged, nothing invented.
	f("auto", `<13>hello world`, got{
		Log: "hello world", Time: recv,
		Syslog: map[string]any{"facility": "user", "severity": "notice", "no_timestamp": true},
	})
	// Feb 30 is not a date: the library cannot read it, so it is not a timestamp.
	f("auto", `<13>Feb 30 10:00:00 h app: x`, got{
		Log: "Feb 30 10:00:00 h app: x", Time: recv,
		Syslog: map[string]any{"facility": "user", "severity": "notice", "no_timestamp": true},
	})
	// "<13>" alone (the library's RFC 3164 parser panics on it).
	f("auto", `<13>`, got{Log: "", Time: recv, Syslog: map[string]any{"facility": "user", "severity": "notice", "no_timestamp": true}})
}

// Frames that are not syslog are shipped whole, flagged malformed, with
// the PRI's fields when it had a valid one and the receive time.
func TestParse_Malformed(t *testing.T) {
	f := func(format, frame string, syslog map[string]any) {
		t.Helper()
		want := got{Log: frame, Time: recv, Malformed: true, Syslog: syslog, SourceIP: "10.0.0.1", Source: "test"}
		require.Equal(t, want, parseOne(t, format, frame, recv), "frame %q", frame)
	}
	noTS := map[string]any{"no_timestamp": true}
	f("auto", "hello world", noTS)                          // no PRI: not given priority 13
	f("auto", "\x00\x01\x02\xff\xfe binary", noTS)          // binary
	f("auto", "\xc3\x28 invalid utf-8", noTS)               // invalid UTF-8 (the encoder replaces it)
	f("auto", "<>1 - - - - - -", noTS)                      // empty PRI
	f("auto", "<192>1 - - - - - - x", noTS)                 // PRI out of range
	f("auto", "<1234>x", noTS)                              // PRI too long
	f("auto", "<13 no end", noTS)                           // unterminated PRI
	f("auto", "Dec 17 12:23:16 Dream-Router CEF:0|x", noTS) // CEF without PRI
	userNotice := map[string]any{"facility": "user", "severity": "notice", "no_timestamp": true}
	// RFC 5424 with a bad header.
	f("auto", "<13>1 2026-13-01T00:00:00Z h a p m - x", userNotice)
	f("auto", "<13>1 2026-01-01T00:00:00.1234567Z h a p m - x", userNotice)                      // 7 fraction digits
	f("auto", "<13>1 - h 0123456789012345678901234567890123456789012345678 p m - x", userNotice) // app-name > 48
	f("auto", "<13>1 - h a p m [unterminated x", userNotice)
	// RFC 3164 frame when rfc5424 is required.
	f("rfc5424", "<13>Mar  1 20:51:40 host app: x", userNotice)
	// A timestamp and nothing else.
	f("rfc3164", "<13>Mar  1 20:51:40", userNotice)
}

func TestStamp3164(t *testing.T) {
	f := func(s string, n int, withYear bool) {
		t.Helper()
		gn, gy := stamp3164([]byte(s))
		require.Equal(t, n, gn, s)
		require.Equal(t, withYear, gy, s)
	}
	f("Mar  1 20:51:40 h", 15, false)
	f("Mar 01 20:51:40", 15, false)
	f("Feb 29 00:00:00", 15, false) // year 0 is a leap year for time.Parse
	f("Feb 30 00:00:00", 0, false)
	f("Mar  1 24:00:00", 0, false)
	f("Mar 1 20:51:40 h", 0, false)
	f("mar  1 20:51:40", 15, false) // time.Parse, and so the library, ignores the case
	f("2026-01-02T03:04:05+01:00", 25, true)
	f("2026-01-02T03:04:05Z h app", 0, false) // the library reads 25 bytes: "Z" does not fit
	f("2025-02-29T03:04:05+01:00", 0, false)
	f("", 0, false)
}

func TestFacilityNames(t *testing.T) {
	for pri := 0; pri <= maxPRI; pri++ {
		g := parseOne(t, "auto", "<"+itoa(pri)+">1 - - - - - - x", recv)
		require.Equal(t, facilities[pri/8], g.Syslog["facility"])
		require.Equal(t, severities[pri%8], g.Syslog["severity"])
	}
	require.Equal(t, "local7", facilities[23])
	require.Equal(t, "debug", severities[7])
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// The library's RFC 3164 parser puts os.Hostname() in a message without
// one; sluice must not, even when the two would match.
func TestParse_NoHostnameIsNotOurs(t *testing.T) {
	host, err := os.Hostname()
	require.NoError(t, err)
	g := parseOne(t, "rfc3164", "<13>Mar  1 20:51:40 app: x", recv)
	require.NotContains(t, g.Syslog, "hostname")
	g = parseOne(t, "rfc3164", "<13>Mar  1 20:51:40 "+host+" app: x", recv)
	require.Equal(t, host, g.Syslog["hostname"])
}
