package pipelinetest

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestLookupKeysWithDots(t *testing.T) {
	doc, err := decode([]byte(`{"kubernetes":{"labels":{"app.kubernetes.io/name":"api"}},"a.b":{"c":1},"a":{"b":2}}`))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"kubernetes.labels.app.kubernetes.io/name": `"api"`,
		"a.b.c": "1",
		"a.b":   `{"c":1}`,
	} {
		v, ok := lookup(doc, path)
		if !ok || canon(v) != want {
			t.Errorf("%s: got %v %v, want %s", path, canon(v), ok, want)
		}
	}
	if _, ok := lookup(doc, "kubernetes.labels.app"); ok {
		t.Error("found a key that is only a prefix")
	}
}

func TestAssertions(t *testing.T) {
	var c Case
	src := `
expect:
  - output: es
    index: logs-x
    fields:
      msg: { equals: hi }
      n: { equals: 1.0, type: number }
      gone: { absent: true }
      level: { matches: "^warn" }
      nothing: { equals: null }
`
	if err := yaml.Unmarshal([]byte(src), &c); err != nil {
		t.Fatal(err)
	}
	r := &Result{Docs: []Doc{{Output: "es", Index: "logs-y", Body: []byte(`{"msg":"ho","n":1,"gone":false,"level":"info"}`)}}}
	got := strings.Join(Check(&c, r), "\n")
	for _, want := range []string{
		`index: got "logs-y", want "logs-x"`,
		`msg: got "ho", want "hi"`,
		`gone: got false, want it absent`,
		`level: got "info", want a match of /^warn/`,
		`nothing: absent, want null`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "n: ") {
		t.Errorf("1 and 1.0 differ:\n%s", got)
	}
}

func TestWholeDocumentDiff(t *testing.T) {
	want := map[string]any{"a": 1, "k": map[string]any{"x": "y", "z": true}}
	got, _ := decode([]byte(`{"a":2,"k":{"x":"y"},"extra":[1]}`))
	w, _ := normalize(want)
	d := strings.Join(diffValues("", w, got), "\n")
	for _, s := range []string{"a: got 2, want 1", "k.z: absent, want true", "extra: got [1], not expected"} {
		if !strings.Contains(d, s) {
			t.Errorf("lacks %q in:\n%s", s, d)
		}
	}
}
