package syslog

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Interop with syslog clients no one here wrote: util-linux logger and
// rsyslogd. `make test` installs both (Debian bsdutils and rsyslog); the
// tests fail, not skip, without them.

func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		// Not every user's PATH has /usr/sbin, where Debian puts rsyslogd.
		if _, serr := os.Stat("/usr/sbin/" + name); serr == nil {
			return "/usr/sbin/" + name
		}
		t.Fatalf("%s not found: run `make test`, which installs it (apt-get install bsdutils rsyslog): %v", name, err)
	}
	return p
}

func runLogger(t *testing.T, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, requireTool(t, "logger"), args...).CombinedOutput()
	require.NoError(t, err, "logger %v: %s", args, out)
}

func port(t *testing.T, addr fmt.Stringer) string {
	t.Helper()
	i := strings.LastIndexByte(addr.String(), ':')
	require.Positive(t, i)
	return addr.String()[i+1:]
}

func TestInterop_Logger(t *testing.T) {
	sink := &recordingSink{t: t}
	in := startInput(t, testConfig(), sink)
	tcpPort, udpPort := port(t, in.TCPAddr()), port(t, in.UDPAddr())
	type tc struct {
		args   []string
		rfc    string
		msg    string
		octets bool
	}
	cases := []tc{
		{[]string{"--rfc5424", "--tcp", "--octet-count", "-P", tcpPort}, "5424", "rfc5424 tcp octet-count", true},
		{[]string{"--rfc5424", "--tcp", "-P", tcpPort}, "5424", "rfc5424 tcp newline", false},
		{[]string{"--rfc5424", "--udp", "-P", udpPort}, "5424", "rfc5424 udp", false},
		{[]string{"--rfc3164", "--tcp", "--octet-count", "-P", tcpPort}, "3164", "rfc3164 tcp octet-count", true},
		{[]string{"--rfc3164", "--tcp", "-P", tcpPort}, "3164", "rfc3164 tcp newline", false},
		{[]string{"--rfc3164", "--udp", "-P", udpPort}, "3164", "rfc3164 udp", false},
	}
	start := time.Now()
	for _, c := range cases {
		args := append([]string{"-n", "127.0.0.1", "-t", "interop-app", "-p", "local3.warning", "--id=4242"}, c.args...)
		if c.rfc == "5424" {
			args = append(args, "--msgid", "ID7", "--sd-id", "test@32473", "--sd-param", `k="v"`)
		}
		runLogger(t, append(args, c.msg)...)
	}
	// A long message (logger's --size) over octet counting keeps every byte.
	long := strings.Repeat("L", 20000)
	runLogger(t, "-n", "127.0.0.1", "--rfc5424", "--tcp", "--octet-count", "-P", tcpPort, "--size", "30000", "-t", "interop-app", long)

	recs := sink.waitRecords(t, len(cases)+1)
	require.Len(t, recs, len(cases)+1)
	byLog := map[string]got{}
	for _, r := range recs {
		byLog[r.Log] = r
	}
	for _, c := range cases {
		r, ok := byLog[c.msg]
		require.True(t, ok, "%q missing from %v", c.msg, logs(recs))
		require.False(t, r.Malformed, "%+v", r)
		require.Equal(t, "127.0.0.1", r.SourceIP)
		require.Equal(t, "local3", r.Syslog["facility"], c.msg)
		require.Equal(t, "warning", r.Syslog["severity"], c.msg)
		require.Equal(t, "interop-app", r.Syslog["app_name"], c.msg)
		require.Equal(t, "4242", r.Syslog["proc_id"], c.msg)
		require.NotEmpty(t, r.Syslog["hostname"], c.msg)
		require.NotContains(t, r.Syslog, "no_timestamp", c.msg)
		// logger stamps local time; RFC 3164 has no zone and is read as UTC.
		if c.rfc == "5424" {
			require.InDelta(t, start.UnixNano(), r.Time, float64(30*time.Second), c.msg)
			require.Equal(t, "ID7", r.Syslog["msg_id"], c.msg)
			require.Contains(t, r.Syslog["structured_data"], `[test@32473 k="v"]`, c.msg)
		} else {
			require.InDelta(t, start.UnixNano(), r.Time, float64(15*time.Hour), c.msg)
		}
	}
	require.False(t, byLog[long].Truncated)
	require.Zero(t, in.Stats().Malformed.Load())
}

// TestInterop_Rsyslog runs a real rsyslogd that takes messages on its own
// unix socket (from logger) and forwards them over TCP with octet
// counting in RFC 5424 to the input.
func TestInterop_Rsyslog(t *testing.T) {
	rsyslogd := requireTool(t, "rsyslogd")
	sink := &recordingSink{t: t}
	cfg := testConfig()
	cfg.UDP = ""
	in := startInput(t, cfg, sink)

	dir := t.TempDir()
	sock := filepath.Join(dir, "log.sock")
	conf := filepath.Join(dir, "rsyslog.conf")
	require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf(`global(workDirectory=%q)
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket=%q CreatePath="on")
action(type="omfwd" target="127.0.0.1" port=%q protocol="tcp"
       TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format"
       action.resumeRetryCount="-1" queue.type="LinkedList")
`, dir, sock, port(t, in.TCPAddr()))), 0o600))
	ctx, cancel := context.WithCancel(context.Background())
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, rsyslogd, "-n", "-f", conf, "-i", filepath.Join(dir, "rsyslogd.pid"))
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("rsyslogd output:\n%s", stderr.String())
		}
	})
	require.Eventually(t, func() bool { _, err := os.Stat(sock); return err == nil }, 10*time.Second, 10*time.Millisecond, "rsyslogd did not create its socket")

	const n = 200
	for i := range n {
		runLogger(t, "-u", sock, "--socket-errors=on", "-t", "rs-app", "-p", "user.err", "--id=77", "rsyslog message "+strconv.Itoa(i)+" with ünïcode")
	}
	recs := sink.waitRecords(t, n)
	require.Len(t, recs, n)
	seen := map[string]bool{}
	for _, r := range recs {
		require.False(t, r.Malformed, "%+v", r)
		require.Equal(t, "user", r.Syslog["facility"])
		require.Equal(t, "err", r.Syslog["severity"])
		require.Equal(t, "rs-app", r.Syslog["app_name"])
		require.Equal(t, "77", r.Syslog["proc_id"])
		require.NotEmpty(t, r.Syslog["hostname"])
		require.NotContains(t, r.Syslog, "no_timestamp")
		require.InDelta(t, time.Now().UnixNano(), r.Time, float64(time.Minute))
		// rsyslog's %msg% keeps the space after "tag:"; RFC 5424 MSG is
		// taken as sent.
		require.True(t, strings.HasPrefix(r.Log, " "), "%q", r.Log)
		seen[r.Log[1:]] = true
	}
	for i := range n {
		require.True(t, seen["rsyslog message "+strconv.Itoa(i)+" with ünïcode"], "message %d", i)
	}
}
