package jsonbytes_test

import (
	"bytes"
	stdjson "encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/corpus"
	"github.com/sluicelog/sluice/internal/jsonbytes"
	"github.com/sluicelog/sluice/parsers/docker"
)

func readLines(t *testing.T, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
}

func isReserved(key []byte) bool {
	switch string(key) {
	case "log", "stream", "@timestamp", "kubernetes":
		return true
	}
	return false
}

// TestCorpus_JSONTestSuite: y_ files must parse, n_ files must be rejected,
// i_ files may go either way but must not crash. Members also rejects any
// top level that is not an object, invalid UTF-8, and deep nesting.
func TestCorpus_JSONTestSuite(t *testing.T) {
	corpusDir := corpus.Lookup(t)
	files, err := filepath.Glob(corpusDir + "/json/JSONTestSuite/*.json")
	require.NoError(t, err)
	require.Len(t, files, 57)
	for _, file := range files {
		name := filepath.Base(file)
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		members, conflict, ok := jsonbytes.Members(data, nil)
		isObject := bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("{"))
		switch name[0] {
		case 'y':
			require.True(t, stdjson.Valid(data), name)
			require.Equal(t, isObject, ok, name)
		case 'n':
			require.False(t, ok, name)
		case 'i':
			if ok {
				require.True(t, utf8.Valid(data), name)
				require.True(t, stdjson.Valid(data), name)
			}
		}
		if ok {
			require.True(t, stdjson.Valid(append(append([]byte("{"), members...), '}')), name)
		}
		require.Equal(t, name == "y_object_duplicated_key.json", conflict, name)
	}

	// The objects among them, one by one.
	f := func(name string, wantOK, wantConflict bool) {
		t.Helper()
		data, err := os.ReadFile(corpusDir + "/json/JSONTestSuite/" + name)
		require.NoError(t, err)
		_, conflict, ok := jsonbytes.Members(data, nil)
		require.Equal(t, wantOK, ok, name)
		require.Equal(t, wantConflict, conflict, name)
	}
	f("y_object_duplicated_key.json", true, true)
	f("y_object_escaped_null_in_key.json", true, false)
	f("y_object_extreme_numbers.json", true, false)
	f("y_object_long_strings.json", true, false)
	f("y_object_string_unicode.json", true, false)
	f("i_object_key_lone_2nd_surrogate.json", true, false) // an escaped lone surrogate is valid JSON
	f("i_structure_UTF-8_BOM_empty_object.json", false, false)
	f("n_object_trailing_comma.json", false, false)
	f("n_object_lone_continuation_byte_in_key_and_trailing_comma.json", false, false)
	f("n_structure_object_with_trailing_garbage.json", false, false)

	// The deep ones, wrapped in an object so that depth is what fails.
	for _, name := range []string{"n_structure_100000_opening_arrays.json", "n_structure_open_array_object.json", "i_structure_500_nested_arrays.json"} {
		data, err := os.ReadFile(corpusDir + "/json/JSONTestSuite/" + name)
		require.NoError(t, err)
		wrapped := append(append([]byte(`{"x":`), bytes.TrimSpace(data)...), '}')
		_, _, ok := jsonbytes.Members(wrapped, nil)
		require.False(t, ok, name)
	}
}

// TestCorpus_LogFiles runs Members over each line of the JSON log samples.
func TestCorpus_LogFiles(t *testing.T) {
	corpusDir := corpus.Lookup(t)
	// 1-based numbers of the lines that are not valid JSON objects
	bad := map[string][]int{
		"lnav/logfile_bunyan.0":             nil,
		"lnav/logfile_ecs_log.json":         nil,
		"lnav/logfile_invalid_json.json":    {3}, // a string cut by raw newlines
		"lnav/logfile_invalid_json2.json":   {3}, // truncated after "msg":
		"lnav/logfile_invalid_utf8.0":       {1, 2, 3, 4, 5, 6},
		"lnav/logfile_json.json":            nil,
		"lnav/logfile_json2.json":           nil,
		"lnav/logfile_json3.json":           nil,
		"lnav/logfile_json_invalid.json":    {5}, // unterminated string
		"lnav/logfile_nested_json.json":     nil,
		"lnav/logfile_otel_collector.jsonl": nil,
		"lnav/logfile_pino.0":               nil,
		"sonic/twitterescaped.json":         nil,
		"fluent-bit/dup_keys_out.json":      nil,
	}
	for file, badLines := range bad {
		t.Run(file, func(t *testing.T) {
			lines := readLines(t, corpusDir+"/json/"+file)
			for i, line := range lines {
				wantOK := !slices.Contains(badLines, i+1)
				members, _, ok := jsonbytes.Members(line, isReserved)
				require.Equal(t, wantOK, ok, "line %d: %.100q", i+1, line)
				require.Equal(t, wantOK, utf8.Valid(line) && stdjson.Valid(line), "line %d", i+1)
				if ok {
					spliced := append([]byte(`{"stream":"stdout",`), members...)
					require.True(t, stdjson.Valid(append(spliced, '}')))
				}
			}
		})
	}

	// ECS lines carry both "log.level" and a "log" object: "log" clashes
	// with the field the agent writes.
	for _, line := range readLines(t, corpusDir+"/json/lnav/logfile_ecs_log.json") {
		_, conflict, ok := jsonbytes.Members(line, isReserved)
		require.True(t, ok)
		require.True(t, conflict)
		_, conflict, ok = jsonbytes.Members(line, nil)
		require.True(t, ok)
		require.False(t, conflict)
	}
	// bunyan has no reserved keys
	for _, line := range readLines(t, corpusDir+"/json/lnav/logfile_bunyan.0") {
		_, conflict, ok := jsonbytes.Members(line, isReserved)
		require.True(t, ok)
		require.False(t, conflict)
	}
}

// TestCorpus_DuplicateKeys: fluent-bit's dup_keys_in.json record has "date"
// and "key1" twice at the top level (and "sub1" three times, nested).
func TestCorpus_DuplicateKeys(t *testing.T) {
	corpusDir := corpus.Lookup(t)
	data, err := os.ReadFile(corpusDir + "/json/fluent-bit/dup_keys_in.json")
	require.NoError(t, err)
	// the record is [time, {...}]
	obj := data[bytes.IndexByte(data, '{') : bytes.LastIndexByte(data, '}')+1]
	members, conflict, ok := jsonbytes.Members(obj, nil)
	require.True(t, ok)
	require.True(t, conflict)
	require.True(t, bytes.HasPrefix(members, []byte(`"date": 872835240`)))

	out, err := os.ReadFile(corpusDir + "/json/fluent-bit/dup_keys_out.json")
	require.NoError(t, err)
	_, conflict, ok = jsonbytes.Members(out, nil)
	require.True(t, ok)
	require.False(t, conflict) // fluent-bit kept the last of each
	_, conflict, _ = jsonbytes.Members(out, func(key []byte) bool { return string(key) == "map" })
	require.True(t, conflict)
}

// TestCorpus_UTF8: fluent-bit's utf8_*.json and mixed_002.json are JSON
// strings, and the .txt files their decoded text.
func TestCorpus_UTF8(t *testing.T) {
	corpusDir := corpus.Lookup(t)
	files, err := filepath.Glob(corpusDir + "/json/fluent-bit/*.txt")
	require.NoError(t, err)
	require.Len(t, files, 5)
	for _, file := range files {
		text, err := os.ReadFile(file)
		require.NoError(t, err)
		quoted, err := os.ReadFile(strings.TrimSuffix(file, ".txt") + ".json")
		require.NoError(t, err)
		quoted = bytes.TrimSpace(quoted)
		require.Equal(t, byte('"'), quoted[0])

		got, err := jsonbytes.Unescape(nil, quoted[1:len(quoted)-1])
		require.NoError(t, err, file)
		require.Equal(t, string(text), string(got), file)

		// Our encoding writes UTF-8 where fluent-bit writes \u escapes; both
		// decode to the text.
		enc := jsonbytes.AppendString(nil, text)
		var back string
		require.NoError(t, stdjson.Unmarshal(enc, &back), file)
		require.Equal(t, string(text), back, file)
		got, err = jsonbytes.Unescape(nil, enc[1:len(enc)-1])
		require.NoError(t, err)
		require.Equal(t, string(text), string(got), file)
	}
}

// TestCorpus_DockerLogValues runs Members on the "log" values of the
// fluent-bit kubernetes docker lines, as the agent's json transform would.
// fluent-bit merged options_merge-log-trim-enabled_json's value although it
// has a raw newline inside a string: strict JSON rejects it.
func TestCorpus_DockerLogValues(t *testing.T) {
	corpusDir := corpus.Lookup(t)
	want := map[string]bool{ // file -> whether its log value is a JSON object
		"annotations-parser_json-with-time_invalid-json-1.log": false, // {...] instead of {...}
		"annotations-parser_multiple-1_container-1.log":        false,
		"core_base_fluent-bit.log":                             false,
		"core_unescaping_json.log":                             true,
		"core_unescaping_text.log":                             false,
		"options_merge-log-enabled_invalid-json.log":           false,
		"options_merge-log-enabled_json.log":                   true,
		"options_merge-log-trim-enabled_json.log":              false, // raw '\n' in a string
	}
	files, err := filepath.Glob(corpusDir + "/docker/fluent-bit/kubernetes/*.log")
	require.NoError(t, err)
	require.Len(t, files, len(want))
	var buf []byte
	for _, file := range files {
		wantOK, found := want[filepath.Base(file)]
		require.True(t, found, file)
		for _, line := range readLines(t, file) {
			l, dst, err := docker.Parse(buf[:0], line)
			require.NoError(t, err)
			buf = dst
			members, conflict, ok := jsonbytes.Members(l.Msg, isReserved)
			require.Equal(t, wantOK, ok, "%s: %q", file, l.Msg)
			require.False(t, conflict)
			if ok {
				require.True(t, stdjson.Valid(l.Msg))
				require.True(t, stdjson.Valid(append(append([]byte("{"), members...), '}')))
			}
		}
	}

	// the unescaping case: three levels of JSON in strings
	lines := readLines(t, corpusDir+"/docker/fluent-bit/kubernetes/core_unescaping_json.log")
	l, _, err := docker.Parse(nil, lines[0])
	require.NoError(t, err)
	members, _, ok := jsonbytes.Members(l.Msg, nil)
	require.True(t, ok)
	require.Equal(t, `"stringified-json":"{\"stringified-json\":\"{\\\"stringified-json\\\":\\\"\\\"}\"}","text":"quoted \"text with embedded quoted \\\"text\\\"\""`, string(members))
	var top map[string]string
	require.NoError(t, stdjson.Unmarshal(l.Msg, &top))
	_, _, ok = jsonbytes.Members([]byte(top["stringified-json"]), nil)
	require.True(t, ok)
}
