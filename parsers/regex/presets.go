package regex

import (
	"fmt"
	"sort"
)

// The presets' patterns. Fields that may be "-" and are typed (bytes) are
// left out when they are.
var presets = map[string]string{
	// nginx "combined": $remote_addr - $remote_user [$time_local] "$request"
	// $status $body_bytes_sent "$http_referer" "$http_user_agent", then
	// anything (often "$http_x_forwarded_for"). The client may be preceded
	// by an X-Forwarded-For chain, bare or quoted ("10.0.0.2, 10.0.0.1,
	// 127.0.0.1", `"10.5.1.1, 10.5.1.2" 10.2.1.185`); client holds it all.
	"nginx": `^(?P<client>(?:"[^"]*" )?[^ ,"]+(?:, [^ ,"]+)*(?: [^ ,"-]\S*)?) - (?P<user>\S+) \[(?P<time>[^\]]+)\] "` + request + `" (?P<status__int>\d{3}) (?P<bytes__int>\d+|-)(?: "(?P<referrer>(?:[^"\\]|\\.)*)" "(?P<agent>(?:[^"\\]|\\.)*)")?(?: (?P<extra>.*))?$`,
	// Apache "combined": %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i";
	// "common" (no referrer or agent) matches too.
	"apache": `^(?P<client>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<time>[^\]]+)\] "` + request + `" (?P<status__int>\d{3}) (?P<bytes__int>\d+|-)(?: "(?P<referrer>(?:[^"\\]|\\.)*)" "(?P<agent>(?:[^"\\]|\\.)*)")?(?: (?P<extra>.*))?$`,
	// klog/glog: Lmmdd hh:mm:ss.uuuuuu threadid file:line] msg (also the
	// 8-digit-date form Lyyyymmdd). The message may span lines.
	// nginx error_log: "2024/01/15 10:20:30 [error] 12#12: *345 message,
	// client: ..., server: ..., request: "...", upstream: "...", host:
	// "...", referrer: "..."" (each trailer optional; startup lines have
	// no connection number).
	"nginx_error": `^(?P<time>\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}) \[(?P<level>[a-z]+)\] (?P<pid__int>\d+)#(?P<tid__int>\d+): (?:\*(?P<connection__int>\d+) )?(?P<message>.*?)(?:, client: (?P<client>[^,]*))?(?:, server: (?P<server>[^,]*))?(?:, request: "(?P<request>(?:[^"\\]|\\.)*)")?(?:, subrequest: "(?P<subrequest>[^"]*)")?(?:, upstream: "(?P<upstream>[^"]*)")?(?:, host: "(?P<host>[^"]*)")?(?:, referrer: "(?P<referrer>[^"]*)")?$`,
	// Apache 2.4 error log "[Wed Oct 11 14:32:52.123456 2000] [core:error]
	// [pid 35708:tid 4328636416] [client 1.2.3.4:5678] AH00128: message";
	// the 2.2 form "[...] [error] [client 1.2.3.4] message" matches too.
	"apache_error": `^\[(?P<time>[^\]]+)\] \[(?:(?P<module>[^:\]]+):)?(?P<level>[^\]]+)\] (?:\[pid (?P<pid__int>\d+)(?::tid (?P<tid__int>\d+))?\] )?(?:\[client (?P<client>[^\]]+)\] )?(?:(?P<code>AH\d+): )?(?P<message>(?s:.*))$`,
	// syslog written to stdout: RFC 5424 ("<165>1 2003-10-11T22:14:15.003Z
	// host app 123 ID47 [sd] msg") or RFC 3164 ("<34>Oct 11 22:14:15 host
	// su[12]: msg"), the <PRI> optional in both; "-" is kept as written.
	"syslog": `^(?:<(?P<pri__int>\d{1,3})>)?(?:1 (?P<time>\S+) (?P<host>\S+) (?P<app>\S+) (?P<pid>\S+) (?P<msgid>\S+) (?P<sd>-|(?:\[(?:[^\]"\\]|"(?:[^"\\]|\\.)*"|\\.)*\])+)(?: (?P<message>(?s:.*)))?|(?P<time>[A-Z][a-z]{2} [ 0-9]\d \d{2}:\d{2}:\d{2}) (?P<host>[^\s:\[]+) (?P<app>[^\s:\[]+)(?:\[(?P<pid>[^\]]*)\])?: ?(?P<message>(?s:.*)))$`,
	"klog":   `^(?P<severity>[IWEF])(?P<date>\d{4}|\d{8}) (?P<time>\d{2}:\d{2}:\d{2}\.\d{6}) +(?P<thread__int>\d+) (?P<file>[^:\] ]+):(?P<line__int>\d+)\] ?(?P<message>(?s:.*))$`,
}

// request is "$request": method, path and protocol when it has that shape,
// else the whole text as request ("" for a request nginx could not read).
const request = `(?:(?P<method>[A-Z]+) (?P<path>[^ "]+)(?: (?P<protocol>HTTP/[0-9.]+))?|(?P<request>(?:[^"\\]|\\.)*))`

// Presets returns the names of the presets.
func Presets() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Preset returns the parser of a preset: nginx, nginx_error, apache,
// apache_error, klog or syslog.
func Preset(name string) (*Parser, error) {
	pattern, ok := presets[name]
	if !ok {
		return nil, fmt.Errorf("unknown preset %q (want one of %v)", name, Presets())
	}
	return New(pattern, nil)
}

// presetTimes are the presets' time fields with their layouts, for those
// whose time carries a zone.
var presetTimes = map[string][2]string{
	"nginx":  {"time", "%d/%b/%Y:%H:%M:%S %z"},
	"apache": {"time", "%d/%b/%Y:%H:%M:%S %z"},
}

// PresetTime returns the field that holds a preset's time and its layout
// (parsers/timelayout); ok is false for a preset without a usable one.
func PresetTime(name string) (field, layout string, ok bool) {
	t, ok := presetTimes[name]
	return t[0], t[1], ok
}
