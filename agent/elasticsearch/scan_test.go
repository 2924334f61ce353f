package elasticsearch

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/corpus"
)

func TestScanItems(t *testing.T) {
	f := func(body string, want ...string) {
		t.Helper()
		var got []string
		n, err := scanItems([]byte(body), func(raw []byte) { got = append(got, string(raw)) })
		require.NoError(t, err)
		require.Equal(t, len(want), n)
		require.Equal(t, want, got)
	}
	f(`{}`)
	f(`{"items":[]}`)
	f(` {"took":1,"errors":false,"items":[{"create":{"status":201}}, {"create":{"status":409,"error":{"type":"x","reason":"a \"]}\" b"}}}]} `,
		`{"create":{"status":201}}`, `{"create":{"status":409,"error":{"type":"x","reason":"a \"]}\" b"}}}`)
	f(`{"items":[1,-2.5e3,"s",true,false,null,[],{}],"after":{"items":[9]}}`, `1`, `-2.5e3`, `"s"`, `true`, `false`, `null`, `[]`, `{}`)
	f(`{"x":"\\","items":[{}]}`, `{}`)
	f(`{"items":"not an array"}`)
	f(`{"\u0069tems":[7]}`, `7`)
	// The common item, matched whole, and its near misses, walked.
	f(`{"items":[{"create":{"status":201}},{"create":{"status":2010}},{"create":{"status":201} }]}`,
		`{"create":{"status":201}}`, `{"create":{"status":2010}}`, `{"create":{"status":201} }`)
}

func TestScanItemsFailure(t *testing.T) {
	f := func(body, want string) {
		t.Helper()
		_, err := scanItems([]byte(body), func([]byte) {})
		require.EqualError(t, err, want)
	}
	f(``, "malformed JSON: want an object, found the end at byte 0")
	f(`[]`, `malformed JSON: want an object, found '[' at byte 0`)
	f(`cannot decode log message #1`, `malformed JSON: want an object, found 'c' at byte 0`)
	f(`{"items":[{"create":{"status":201}},`, "malformed JSON: want a value, found the end at byte 36")
	f(`{"items":[{"a":"b}]}`, "malformed JSON: unterminated string, found the end at byte 20")
	f(`{"items":[]} x`, `malformed JSON: want the end, found 'x' at byte 13`)
	f(`{"items":[{"create":{"status":201}}}]}`, `malformed JSON: want ',' or ']', found '}' at byte 35`)
	f(`{"items":[tru]}`, `malformed JSON: want true, found 't' at byte 10`)
	f(`{"items":[],"items":[]}`, `duplicate "items" key`)
	f(`{"items":[`+strings.Repeat("[", 300)+strings.Repeat("]", 300)+`]}`, `malformed JSON: nested too deep, found '[' at byte 266`)
}

// FuzzScanItems checks scanItems against encoding/json: on any valid JSON
// object it finds the same items, byte for byte; on anything else it does
// not panic and each item it reports lies inside the body.
func FuzzScanItems(f *testing.F) {
	dir, _ := corpus.Optional(f, "esbulk") // absent, it globs to nothing
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*.json"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte(`{"took":0,"errors":false,"items":[]}`))
	f.Add([]byte(`{"items":[{"a":"\u0022]"}],"x":[1,{"y":null}]}`))
	f.Add([]byte(`{"\u0069tems":[{"b":1}]}`))
	f.Add([]byte(`{"errors":false,"items":[{"create":{"status":201}},{"create":{"status":201}}x]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var got [][]byte
		n, err := scanItems(body, func(raw []byte) {
			require.True(t, len(raw) > 0 && len(raw) <= len(body))
			got = append(got, raw)
		})
		if !json.Valid(body) || !bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("{")) {
			return
		}
		if errors.Is(err, errDuplicateItems) {
			return
		}
		require.NoError(t, err)
		var top map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(body, &top))
		var want []json.RawMessage
		_ = json.Unmarshal(top["items"], &want) // not an array: no items
		require.Equal(t, len(want), n)
		for i := range want {
			require.Equal(t, string(want[i]), string(got[i]))
		}
	})
}
