package indexname

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	segs, err := Parse("Logs-{kubernetes.namespace_name}-{stream}-%Y.%m.%d.%H-100%%")
	require.NoError(t, err)
	require.Equal(t, []Segment{
		{Kind: Literal, Lit: "Logs-"}, {Kind: Namespace}, {Kind: Literal, Lit: "-"}, {Kind: Stream},
		{Kind: Literal, Lit: "-"}, {Kind: Year}, {Kind: Literal, Lit: "."}, {Kind: Month}, {Kind: Literal, Lit: "."},
		{Kind: Day}, {Kind: Literal, Lit: "."}, {Kind: Hour}, {Kind: Literal, Lit: "-100%"},
	}, segs)
	for tmpl, want := range map[string]string{
		"":         "must not be empty",
		"x-{pod}":  "unknown field {pod} (known: kubernetes.namespace_name, kubernetes.pod_name, kubernetes.container_name, kubernetes.container_id, stream, input)",
		"x-{input": "unterminated { at byte 2",
		"x-%y":     "unknown date verb %y (known: %Y %m %d %H)",
		"x-%":      "lone % at the end (write %% for a literal %)",
	} {
		_, err := Parse(tmpl)
		require.EqualError(t, err, want, tmpl)
	}
}

// render writes segments back as a template.
func render(segs []Segment) string {
	var b strings.Builder
	for _, s := range segs {
		switch s.Kind {
		case Literal:
			b.WriteString(strings.ReplaceAll(s.Lit, "%", "%%"))
		case Year, Month, Day, Hour:
			b.WriteString("%" + string("YmdH"[s.Kind-Year]))
		default:
			for _, f := range Fields {
				if f.Kind == s.Kind {
					b.WriteString("{" + f.Name + "}")
				}
			}
		}
	}
	return b.String()
}

// FuzzParse: any input is refused with a message or read into segments
// that write back to the same template.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"logs-{kubernetes.namespace_name}-%Y.%m.%d", "{input}-{stream}-%H", "100%%", "a}b", "{", "%", "%q", "{x}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tmpl string) {
		segs, err := Parse(tmpl)
		if err != nil {
			require.NotEmpty(t, err.Error())
			return
		}
		require.Equal(t, tmpl, render(segs))
	})
}
