package jsonbytes

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func reservedKeys(keys ...string) func([]byte) bool {
	return func(key []byte) bool {
		for _, k := range keys {
			if string(key) == k {
				return true
			}
		}
		return false
	}
}

func TestMembers_Success(t *testing.T) {
	f := func(in, wantMembers string, wantConflict bool) {
		t.Helper()
		members, conflict, ok := Members([]byte(in), reservedKeys("log", "@timestamp", "kubernetes"))
		require.True(t, ok, "input %q", in)
		require.Equal(t, wantMembers, string(members), "input %q", in)
		require.NotNil(t, members, "input %q", in)
		require.Equal(t, wantConflict, conflict, "input %q", in)
	}
	f(`{}`, ``, false)
	f(` { } `, ``, false)
	f("\t\r\n{\n}\r\n", ``, false)
	f(`{"a":1}`, `"a":1`, false)
	f(` { "a" : 1 , "b" : [ 1 , 2 ] } `, `"a" : 1 , "b" : [ 1 , 2 ]`, false)
	f(`{"level":"info","msg":"hi"}`+"\n", `"level":"info","msg":"hi"`, false)
	f(`{"level":"info","msg":"hi"}`+"\r\n", `"level":"info","msg":"hi"`, false)
	// every kind of value
	f(`{"s":"x","n":-1.5e+10,"t":true,"f":false,"z":null,"o":{"p":[{}]},"a":[]}`,
		`"s":"x","n":-1.5e+10,"t":true,"f":false,"z":null,"o":{"p":[{}]},"a":[]`, false)
	// numbers
	for _, n := range []string{"0", "-0", "1", "-1", "10", "0.5", "-0.0", "1e5", "1E5", "1e+5", "1e-5", "1.25E-10",
		"123456789012345678901234567890", "1e400", "-1e-400"} {
		f(`{"n":`+n+`}`, `"n":`+n, false)
		f(`{"n":[`+n+`]}`, `"n":[`+n+`]`, false)
		f(`{"n":`+n+` }`, `"n":`+n, false)
	}
	// strings
	f(`{"s":"\"\\\/\b\f\n\r\t\u0041\uD83D\uDD14"}`, `"s":"\"\\\/\b\f\n\r\t\u0041\uD83D\uDD14"`, false)
	f(`{"s":"\ud800 lone surrogate escapes are valid JSON"}`, `"s":"\ud800 lone surrogate escapes are valid JSON"`, false)
	f(`{"s":"µs ☺ 🔔 `+"\u2028\u2029\x7f"+`"}`, `"s":"µs ☺ 🔔 `+"\u2028\u2029\x7f"+`"`, false)
	f(`{"":""}`, `"":""`, false)
	// reserved and duplicate keys
	f(`{"log":"x"}`, `"log":"x"`, true)
	f(`{"a":1,"@timestamp":"x"}`, `"a":1,"@timestamp":"x"`, true)
	f(`{"\u006cog":"x"}`, `"\u006cog":"x"`, true) // "log", escaped
	f(`{"lo\u0067":"x"}`, `"lo\u0067":"x"`, true)
	f(`{"logs":"x","Log":"y","log.level":"z"}`, `"logs":"x","Log":"y","log.level":"z"`, false)
	f(`{"a":1,"a":2}`, `"a":1,"a":2`, true)
	f(`{"a":1,"b":2,"\u0061":3}`, `"a":1,"b":2,"\u0061":3`, true)
	f(`{"axb":1,"ayb":2,"a b":3}`, `"axb":1,"ayb":2,"a b":3`, false) // same length and ends
	f(`{"":1,"a":2,"":3}`, `"":1,"a":2,"":3`, true)
	f(`{"a\/b":1,"a/b":2}`, `"a\/b":1,"a/b":2`, true)
	f(`{"é":1,"\u00e9":2}`, `"é":1,"\u00e9":2`, true)
	f(`{"\ud800":1,"\udfff":2}`, `"\ud800":1,"\udfff":2`, true) // both U+FFFD
	f(`{"\ud800":1,"`+"\ufffd"+`":2}`, `"\ud800":1,"`+"\ufffd"+`":2`, true)
	// nested keys are not looked at
	f(`{"a":{"log":1,"b":1,"b":2}}`, `"a":{"log":1,"b":1,"b":2}`, false)
	f(`{"a":[{"a":1}],"b":"a"}`, `"a":[{"a":1}],"b":"a"`, false)
}

func TestMembers_ManyKeys(t *testing.T) {
	f := func(n int, dupAt int, wantConflict bool) {
		t.Helper()
		var sb strings.Builder
		sb.WriteString("{")
		for i := 0; i < n; i++ {
			if i > 0 {
				sb.WriteString(",")
			}
			k := i
			if i == dupAt {
				k = 0
			}
			if i%3 == 0 {
				fmt.Fprintf(&sb, `"\u006b%d":%d`, k, i) // escaped "k"
			} else {
				fmt.Fprintf(&sb, `"k%d":%d`, k, i)
			}
		}
		sb.WriteString("}")
		_, conflict, ok := Members([]byte(sb.String()), nil)
		require.True(t, ok)
		require.Equal(t, wantConflict, conflict, "%d keys, duplicate at %d", n, dupAt)
	}
	for _, n := range []int{1, 2, 7, 8, 9, 15, 16, 17, 100, 5000} {
		f(n, -1, false)
		if n > 1 {
			f(n, n-1, true)
			f(n, (n+1)/2, true)
		}
	}
}

func TestMembers_ReservedSeesUnescapedKeys(t *testing.T) {
	var got []string
	_, conflict, ok := Members([]byte(`{"a":1,"b\n\u00e9\"":{"c":2},"\ud83d\udd14":[]}`), func(key []byte) bool {
		got = append(got, string(key))
		return false
	})
	require.True(t, ok)
	require.False(t, conflict)
	require.Equal(t, []string{"a", "b\né\"", "🔔"}, got)
}

func TestMembers_Failure(t *testing.T) {
	f := func(in string) {
		t.Helper()
		members, conflict, ok := Members([]byte(in), reservedKeys("log"))
		require.False(t, ok, "input %q", in)
		require.False(t, conflict, "input %q", in)
		require.Nil(t, members, "input %q", in)
	}
	// not an object
	f(``)
	f(` `)
	f(`[]`)
	f(`"log"`)
	f(`1`)
	f(`null`)
	f(`plain text line`)
	f(`{`)
	f(`}`)
	f(`{}}`)
	f(`{}{}`)
	f(`{} {}`)
	f(`{}x`)
	f(`x{}`)
	f("\ufeff{}") // BOM
	f("{}\x00")
	f("\v{}") // not JSON whitespace
	f("{}\f")
	// broken objects
	f(`{"a"}`)
	f(`{"a":}`)
	f(`{"a" 1}`)
	f(`{"a":1,}`)
	f(`{,"a":1}`)
	f(`{"a":1 "b":2}`)
	f(`{"a":1,,"b":2}`)
	f(`{a:1}`)
	f(`{'a':1}`)
	f(`{"a":'x'}`)
	f(`{1:1}`)
	f(`{"a":1]`)
	f(`{"text":"Simple text"]`)
	f(`{"a":{}`)
	f(`{"a":[}`)
	f(`{"a":[1,]}`)
	f(`{"a":[,1]}`)
	f(`{"a":{"b":1,}}`)
	f(`{"a":{"b"}}`)
	f(`{"a":/*c*/1}`)
	f(`{"a":1}//`)
	// bad literals and numbers
	for _, v := range []string{"tru", "True", "nul", "NULL", "falsey", "NaN", "Infinity", "-Infinity", "undefined",
		"01", "-01", "+1", ".5", "1.", "1.e5", "1e", "1e+", "-", "--1", "0x10", "1_000", "1.5.5", "١"} {
		f(`{"v":` + v + `}`)
		f(`{"v":[` + v + `]}`)
	}
	// bad strings
	f(`{"a":"x}`)
	f(`{"a":"\x"}`)
	f(`{"a":"\u12"}`)
	f(`{"a":"\u12g4"}`)
	f(`{"a":"\'"}`)
	f(`{"a":"\`)
	f(`{"a":"\"}`)
	f("{\"a\":\"line\nbreak\"}")
	f("{\"a\":\"tab\there\"}")
	f("{\"a\":\"nul\x00\"}")
	f("{\"a\x01\":1}")
	f("{\"a\":\"\x7f\x1f\"}")
	// invalid UTF-8, inside or outside strings
	f("{\"a\":\"\xff\"}")
	f("{\"\xc3\":1}")
	f("{\"a\":\"\xed\xa0\x80\"}") // encoded surrogate
	f("{\"a\":\"\xc0\xaf\"}")     // overlong
	f("{\"a\":1}\xff")
	// a reserved key does not make a broken line ok
	f(`{"log":1,}`)
}

func nested(open, close string, n int) string {
	return `{"x":` + strings.Repeat(open, n-1) + "1" + strings.Repeat(close, n-1) + `}`
}

func TestMembers_Depth(t *testing.T) {
	for _, c := range [][2]string{{"[", "]"}, {`{"a":`, "}"}, {`[{"":`, "}]"}} {
		// the outer object counts as one level
		in := nested(c[0], c[1], MaxDepth)
		if c[0] == `[{"":` {
			in = nested(c[0], c[1], MaxDepth/2)
		}
		_, _, ok := Members([]byte(in), nil)
		require.True(t, ok, "%.80s", in)
	}
	_, _, ok := Members([]byte(nested("[", "]", MaxDepth+1)), nil)
	require.False(t, ok)
	_, _, ok = Members([]byte(nested(`{"a":`, "}", MaxDepth+1)), nil)
	require.False(t, ok)
	_, _, ok = Members([]byte(`{"x":`+strings.Repeat(`[{"":`, 50000)+"1"+strings.Repeat("}]", 50000)+"}"), nil)
	require.False(t, ok)
	_, _, ok = Members([]byte(`{"x":`+strings.Repeat("[", 100000)+"}"), nil)
	require.False(t, ok)
}

func TestMembersAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	lines := []string{
		`{"@timestamp":"2025-01-13T09:58:13.631Z","log.level":"debug","message":"this is a debug message num=39","ecs.version":"1.6.0","log":{"logger":"app","origin":{"file":{"line":42,"name":"es_logger.py"},"function":"main"},"original":"this is a debug message num=39"},"process":{"name":"MainProcess","pid":91,"thread":{"id":1,"name":"MainThread"}}}`,
		`{"level":"info","msg":"hi","\u0061":1,"b":[1,2,{"c":null}]}`,
		nested("[", "]", MaxDepth),
	}
	var sb strings.Builder
	sb.WriteString(`{"k0":0`)
	for i := 1; i < 100; i++ {
		fmt.Fprintf(&sb, `,"k%d":%d`, i, i)
	}
	sb.WriteString("}")
	lines = append(lines, sb.String())
	// A line of the tail workload, and one past the quote bitmap's limit.
	lines = append(lines, `{"level":"warn","logger":"http.access","file":0,"seq":0,"method":"POST","path":"/api/v2/carts/59033","status":300,"latency_ms":131.49,"trace_id":"7fc3c883e54390b3132fa386175e5502","msg":"request served the quick brown fox jumps over the laz","end":0}`)
	lines = append(lines, `{"long":"`+strings.Repeat("x", 3000)+`","a":1}`)
	reserved := reservedKeys("@timestamp", "kubernetes", "stream")
	set := NewKeySet("@timestamp", "kubernetes", "stream")
	for _, s := range lines {
		line := []byte(s)
		Members(line, reserved) // fill the pool
		n := testing.AllocsPerRun(100, func() {
			if _, _, ok := Members(line, reserved); !ok {
				t.Fatalf("not ok: %.80s", line)
			}
			if _, _, ok := MembersReserved(line, set); !ok {
				t.Fatalf("MembersReserved not ok: %.80s", line)
			}
		})
		require.Zero(t, n, "%.80s", line)
	}
}
