package syslog

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/internal/corpus"
)

// The corpus's syslog folder holds real samples from other projects, read
// in place (see its README.md for what each folder expects).

// runFrames turns a captured stream into records: TCP streams through the
// framer, UDP payloads as one datagram.
func runFrames(t testing.TB, input []byte, tcp bool, format string, max int) []got {
	t.Helper()
	p := newParser(format)
	src := &record.Source{Input: "t", Path: "corpus"}
	b := record.NewBatch(src, nil)
	defer b.Discard()
	var out outcome
	if tcp {
		fr := newFramer(max, nil)
		r := strings.NewReader(string(input))
		for {
			_, _, err := fr.fill(r)
			for {
				f, trunc, ok := fr.next()
				if !ok {
					break
				}
				p.add(b, f, trunc, false, recv, nil, &out)
			}
			if err != nil {
				if f, inc := fr.rest(); f != nil {
					p.add(b, f, false, inc, recv, nil, &out)
				}
				break
			}
		}
	} else {
		msg, trunc := input, len(input) > max
		if trunc {
			msg = msg[:max]
		} else {
			msg = trimEOL(msg)
		}
		p.add(b, msg, trunc, false, recv, nil, &out)
	}
	recs := make([]got, len(b.Records))
	for i := range b.Records {
		recs[i] = decodeRecord(t, src, &b.Records[i])
	}
	return recs
}

// lineProtocol reads one InfluxDB line: tags and fields by key, strings
// unquoted.
func lineProtocol(t *testing.T, line string) map[string]string {
	t.Helper()
	kv := map[string]string{}
	i := strings.IndexByte(line, ' ')
	require.Positive(t, i)
	for _, tag := range strings.Split(line[:i], ",")[1:] {
		k, v, _ := strings.Cut(tag, "=")
		kv[k] = v
	}
	rest := line[i+1:]
	for len(rest) > 0 && rest[0] != ' ' {
		eq := strings.IndexByte(rest, '=')
		k := rest[:eq]
		rest = rest[eq+1:]
		var v string
		if rest[0] == '"' {
			var sb strings.Builder
			j := 1
			for ; rest[j] != '"'; j++ {
				if rest[j] == '\\' {
					j++
					if rest[j] == 'n' {
						sb.WriteByte('\n')
						continue
					}
				}
				sb.WriteByte(rest[j])
			}
			v, rest = sb.String(), rest[j+1:]
		} else {
			end := strings.IndexAny(rest, ", ")
			if end < 0 {
				end = len(rest)
			}
			v, rest = rest[:end], rest[end:]
		}
		kv[k] = v
		rest = strings.TrimPrefix(rest, ",")
	}
	return kv
}

// TestCorpus_Telegraf checks every telegraf case against its expected
// output: the same facility, severity, hostname, app name, proc id, msg id,
// message and timestamp. Cases telegraf rejects (expected.err) must come
// out flagged malformed, never lost.
func TestCorpus_Telegraf(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(corpus.Lookup(t, "syslog", "telegraf"), "*"))
	require.NoError(t, err)
	require.NotEmpty(t, dirs)
	// Where sluice differs from telegraf on purpose.
	deviations := map[string]string{
		// The library reads a one-digit VERSION (only 1 exists): frames
		// with VERSION 2, 11, 217 or 999 are not RFC 5424 to it, so they are
		// shipped as RFC 3164 bodies with the receive time, flagged.
		"non_transparent_strict_tcp_1st_min_ok_2nd_min_ok":         "version 11",
		"octet_counting_strict_tcp_1st_min_ok_2nd_min_ok":          "version 11",
		"octet_counting_best_effort_tcp_1st_underflow_malfunction": "version 217",
		"octet_counting_maxlength_ok":                              "version 999",
		"octet_counting_strict_tcp_1st_max_ok":                     "version 999",
		"rfc5424_strict_udp_max":                                   "version 999",
		// One datagram with "<1>3 - - - - - - A<1>4 - - - - - - B": one message.
		"rfc5424_strict_udp_one_per_packet": "version 3",
	}
	for _, dir := range dirs {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			input, err := os.ReadFile(filepath.Join(dir, "input.txt"))
			require.NoError(t, err)
			conf, err := os.ReadFile(filepath.Join(dir, "telegraf.conf"))
			require.NoError(t, err)
			tcp := strings.Contains(string(conf), `"tcp://`)
			format := "auto"
			if strings.Contains(string(conf), `"RFC3164"`) {
				format = "rfc3164"
			}
			max := 64 << 10
			if i := strings.Index(string(conf), "max_message_length = "); i >= 0 {
				max, _ = strconv.Atoi(strings.Trim(strings.Fields(string(conf)[i+len("max_message_length = "):])[0], `"`))
			}
			recs := runFrames(t, input, tcp, format, max)
			require.NotEmpty(t, recs, "nothing is lost")
			flagged := func(r got) bool { return r.Malformed || r.Syslog["no_timestamp"] == true }
			if why, ok := deviations[name]; ok {
				t.Logf("deviates from telegraf (%s)", why)
				for _, r := range recs {
					require.True(t, flagged(r), "%.200v", r)
				}
				return
			}
			want, err := os.ReadFile(filepath.Join(dir, "expected.out"))
			_, strictErr := os.Stat(filepath.Join(dir, "expected.err"))
			if strictErr == nil {
				// Telegraf rejects (strict) or half-parses (best effort):
				// sluice ships the frame, flagged (raw, or without a
				// timestamp), with its PRI.
				for _, r := range recs {
					require.True(t, flagged(r), "%.200v", r)
				}
				if err == nil {
					kv := lineProtocol(t, strings.Split(strings.TrimSpace(string(want)), "\n")[0])
					require.Equal(t, kv["facility"], recs[0].Syslog["facility"])
					require.Equal(t, kv["severity"], recs[0].Syslog["severity"])
				}
				return
			}
			require.NoError(t, err)
			lines := strings.Split(strings.TrimSpace(string(want)), "\n")
			require.Len(t, recs, len(lines))
			for i, line := range lines {
				kv := lineProtocol(t, line)
				r := recs[i]
				require.False(t, r.Malformed, "%+v", r)
				for key, ours := range map[string]string{"facility": "facility", "severity": "severity", "hostname": "hostname", "appname": "app_name", "procid": "proc_id", "msgid": "msg_id"} {
					v, _ := r.Syslog[ours].(string)
					require.Equal(t, kv[key], v, "%s in %s", key, line)
				}
				require.Equal(t, kv["message"], r.Log)
				if ts, ok := kv["timestamp"]; ok {
					n, err := strconv.ParseInt(strings.TrimSuffix(ts, "i"), 10, 64)
					require.NoError(t, err)
					if format == "rfc3164" {
						// Telegraf's year is its own clock's: only check there is a time.
						require.NotZero(t, r.Time)
					} else {
						require.Equal(t, n, r.Time)
					}
				} else {
					require.Equal(t, recv, r.Time)
					require.Equal(t, true, r.Syslog["no_timestamp"])
				}
			}
		})
	}
}

// TestCorpus_Alloy checks the alloy streams: octet-counted frames with a
// LF inside the count, a 110 KB stream of 120 frames without separators,
// Cisco lines with sequence numbers and CEF lines without PRI.
func TestCorpus_Alloy(t *testing.T) {
	dir := corpus.Lookup(t, "syslog", "alloy")
	for _, name := range []string{"octetcount-singleline", "octetcount-multiline", "octetcount-large", "cisco-nontransparent", "unify-cef-nontransparent"} {
		t.Run(name, func(t *testing.T) {
			input, err := os.ReadFile(filepath.Join(dir, name+".txt"))
			require.NoError(t, err)
			recs := runFrames(t, input, true, "auto", 64<<10)
			wantRaw, err := os.ReadFile(filepath.Join(dir, name+".json"))
			require.NoError(t, err)
			var want []struct {
				Priority, Severity, Facility int
				Message                      string
			}
			require.NoError(t, jsonUnmarshal(wantRaw, &want))
			require.Len(t, recs, len(want))
			for i, w := range want {
				r := recs[i]
				if w.Priority == 0 && w.Facility == 0 && w.Severity == 0 {
					// Alloy's zero: no PRI. sluice ships it raw, flagged.
					require.True(t, r.Malformed, "%+v", r)
					require.NotContains(t, r.Syslog, "facility")
					require.Equal(t, strings.TrimSuffix(w.Message, "\n"), r.Log)
					continue
				}
				require.Equal(t, facilities[w.Facility], r.Syslog["facility"], "%d", i)
				require.Equal(t, severities[w.Severity], r.Syslog["severity"], "%d", i)
				// Alloy keeps the RFC 3164 header in Message; sluice parses it
				// out, so the log is the end of alloy's message.
				require.True(t, strings.HasSuffix(strings.TrimRight(w.Message, " \n"), r.Log), "%d: %q vs %q", i, w.Message, r.Log)
			}
		})
	}
}
