package regex

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMorePresets(t *testing.T) {
	f := func(preset, line string, want map[string]any) {
		t.Helper()
		p, err := Preset(preset)
		require.NoError(t, err)
		m, ok := members(t, p, line)
		require.Equal(t, want != nil, ok, "line %q", line)
		require.Equal(t, want, m, "line %q", line)
	}
	f("nginx_error", `2024/01/15 10:20:30 [error] 29#29: *345 open() "/usr/share/nginx/html/favicon.ico" failed (2: No such file or directory), client: 10.244.0.1, server: localhost, request: "GET /favicon.ico HTTP/1.1", host: "shop.example.com", referrer: "https://shop.example.com/cart"`, map[string]any{
		"time": "2024/01/15 10:20:30", "level": "error", "pid": 29.0, "tid": 29.0, "connection": 345.0,
		"message": `open() "/usr/share/nginx/html/favicon.ico" failed (2: No such file or directory)`,
		"client":  "10.244.0.1", "server": "localhost", "request": "GET /favicon.ico HTTP/1.1",
		"host": "shop.example.com", "referrer": "https://shop.example.com/cart",
	})
	f("nginx_error", `2024/01/15 10:20:31 [error] 29#29: *346 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 10.244.0.1, server: _, request: "POST /api/v1/orders HTTP/2.0", upstream: "http://10.96.12.7:8080/api/v1/orders", host: "api.example.com"`, map[string]any{
		"time": "2024/01/15 10:20:31", "level": "error", "pid": 29.0, "tid": 29.0, "connection": 346.0,
		"message": "upstream timed out (110: Connection timed out) while reading response header from upstream",
		"client":  "10.244.0.1", "server": "_", "request": "POST /api/v1/orders HTTP/2.0",
		"upstream": "http://10.96.12.7:8080/api/v1/orders", "host": "api.example.com",
	})
	f("nginx_error", `2024/01/15 10:00:00 [notice] 1#1: start worker processes`, map[string]any{
		"time": "2024/01/15 10:00:00", "level": "notice", "pid": 1.0, "tid": 1.0, "message": "start worker processes",
	})
	f("nginx_error", `nginx: [emerg] unknown directive "proxy_passs" in /etc/nginx/conf.d/default.conf:12`, nil)

	f("apache_error", `[Thu Jan 11 12:00:00.123456 2024] [mpm_event:notice] [pid 1:tid 140245] AH00489: Apache/2.4.58 (Unix) configured -- resuming normal operations`, map[string]any{
		"time": "Thu Jan 11 12:00:00.123456 2024", "module": "mpm_event", "level": "notice", "pid": 1.0, "tid": 140245.0,
		"code": "AH00489", "message": "Apache/2.4.58 (Unix) configured -- resuming normal operations",
	})
	f("apache_error", `[Wed Oct 11 14:32:52.765432 2000] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187:51234] AH00037: Symbolic link not allowed or link target not accessible: /usr/local/apache2/htdocs/favicon.ico`, map[string]any{
		"time": "Wed Oct 11 14:32:52.765432 2000", "module": "core", "level": "error", "pid": 35708.0, "tid": 4328636416.0,
		"client": "72.15.99.187:51234", "code": "AH00037",
		"message": "Symbolic link not allowed or link target not accessible: /usr/local/apache2/htdocs/favicon.ico",
	})
	f("apache_error", `[Wed Oct 11 14:32:52 2000] [error] [client 127.0.0.1] client denied by server configuration: /export/home/live/ap/htdocs/test`, map[string]any{
		"time": "Wed Oct 11 14:32:52 2000", "level": "error", "client": "127.0.0.1",
		"message": "client denied by server configuration: /export/home/live/ap/htdocs/test",
	})

	f("syslog", `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] An application event log entry...`, map[string]any{
		"pri": 165.0, "time": "2003-10-11T22:14:15.003Z", "host": "mymachine.example.com", "app": "evntslog", "pid": "-",
		"msgid": "ID47", "sd": `[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"]`,
		"message": "An application event log entry...",
	})
	f("syslog", `<29>1 2016-02-21T04:32:57+00:00 web1 someservice 2341 2 [origin][meta sequence="14125553" service="some]service"] "GET /v1/ok HTTP/1.1" 200 145`, map[string]any{
		"pri": 29.0, "time": "2016-02-21T04:32:57+00:00", "host": "web1", "app": "someservice", "pid": "2341",
		"msgid": "2", "sd": `[origin][meta sequence="14125553" service="some]service"]`, "message": `"GET /v1/ok HTTP/1.1" 200 145`,
	})
	f("syslog", `<13>1 - - - - - -`, map[string]any{"pri": 13.0, "time": "-", "host": "-", "app": "-", "pid": "-", "msgid": "-", "sd": "-"})
	f("syslog", `<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8`, map[string]any{
		"pri": 34.0, "time": "Oct 11 22:14:15", "host": "mymachine", "app": "su", "message": "'su root' failed for lonvick on /dev/pts/8",
	})
	f("syslog", `Nov  3 09:23:38 veridian automount[7998]: lookup(file): lookup for foobar failed`, map[string]any{
		"time": "Nov  3 09:23:38", "host": "veridian", "app": "automount", "pid": "7998", "message": "lookup(file): lookup for foobar failed",
	})
	f("syslog", `just text`, nil)
}

// TestSyslogCorpus: lnav's /var/log/messages files are RFC 3164 without
// PRI; every line with a header matches.
func TestSyslogCorpus(t *testing.T) {
	p, err := Preset("syslog")
	require.NoError(t, err)
	ok := 0
	lines := readLines(t, "syslog/lnav/logfile_syslog.0")
	for _, l := range lines {
		if m, matched := members(t, p, l); matched {
			ok++
			require.Contains(t, m, "app", l)
		}
	}
	require.Equal(t, len(lines), ok)
}

func TestPresetTime(t *testing.T) {
	field, layout, ok := PresetTime("nginx")
	require.True(t, ok)
	require.Equal(t, []string{"time", "%d/%b/%Y:%H:%M:%S %z"}, []string{field, layout})
	_, _, ok = PresetTime("nginx_error")
	require.False(t, ok, "local time without a zone: no default")
}
