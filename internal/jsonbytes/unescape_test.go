package jsonbytes

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestUnescape_Success(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		got, err := Unescape([]byte("x"), []byte(in))
		require.NoError(t, err, "input %q", in)
		require.Equal(t, "x"+want, string(got), "input %q", in)
	}
	f("", "")
	f("plain", "plain")
	f(`\"\\\/\b\f\n\r\t`, "\"\\/\b\f\n\r\t")
	f(`a\nb`, "a\nb")
	f(`\u0041\u00e9\u263a`, "Aé☺")
	f(`\u00E9\u00e9`, "éé")
	f(`\u0000`, "\x00")
	f(`\ud83d\udd14`, "\U0001F514") // surrogate pair
	f(`\uD867\uDE3D`, "\U00029E3D")
	// lone surrogates become U+FFFD; what follows is kept
	f(`\ud800`, "\ufffd")
	f(`\ud800x`, "\ufffdx")
	f(`\udc00\ud800`, "\ufffd\ufffd")
	f(`\ud800\u0041`, "\ufffdA")
	f(`\ud800\ud800\udc00`, "\ufffd\U00010000")
	f(`\ud800\n`, "\ufffd\n")
	// raw bytes are copied, whatever they are
	f("\xff\x01é", "\xff\x01é")
	f(`{\"text\":\"Simple text\"}\n`, "{\"text\":\"Simple text\"}\n")
}

func TestUnescape_Failure(t *testing.T) {
	f := func(in, wantErr string) {
		t.Helper()
		got, err := Unescape([]byte("keep"), []byte(in))
		require.EqualError(t, err, wantErr, "input %q", in)
		require.Equal(t, "keep", string(got))
	}
	f(`\`, `json: bad escape "\\" in string`)
	f(`abc\`, `json: bad escape "\\" in string`)
	f(`\x41`, `json: bad escape "\\x41" in string`)
	f(`\'`, `json: bad escape "\\'" in string`)
	f(`\u12`, `json: bad escape "\\u12" in string`)
	f(`\u12g4`, `json: bad escape "\\u12g4" in string`)
	f(`ok\n\u`, `json: bad escape "\\u" in string`)
	f(`\ud800\u12`, `json: bad escape "\\u12" in string`)
	f(`\U0041`, `json: bad escape "\\U0041" in string`)
}

func TestUnescapeAllocatesNothing(t *testing.T) {
	in := []byte(`Starting up \u001B[0;32mservice\u001B[0m \ud83d\udd14 \"quoted\"\n`)
	buf := make([]byte, 0, 256)
	n := testing.AllocsPerRun(100, func() {
		var err error
		if buf, err = Unescape(buf[:0], in); err != nil {
			t.Fatal(err)
		}
	})
	require.Zero(t, n)
}
