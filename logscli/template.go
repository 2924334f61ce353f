package logscli

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/sluicelog/sluice/logscli/entry"
)

// namedTemplates are the templates --template knows by name. Their
// fields are stern's (.Message, .PodName, .ContainerName, ...), so a
// stern user's templates carry over.
var namedTemplates = map[string]string{
	// What -o text prints.
	"default": `{{color .PodColor (printf "%s/%s %s" .Namespace .PodName .ContainerName)}} │ {{.Message}}`,
	// stern's own default.
	"stern": `{{color .PodColor .PodName}} {{color .ContainerColor .ContainerName}} {{.Message}}`,
	// kubectl logs: the line alone.
	"kubectl": `{{.Message}}`,
	// Where each line ran: node, then pod.
	"node": `{{.NodeName}} {{color .PodColor (printf "%s/%s %s" .Namespace .PodName .ContainerName)}} │ {{.Message}}`,
	// The time in --timezone, the stream and the line.
	"time": `{{.Timestamp | toTimestamp "2006-01-02 15:04:05.000"}} {{.Stream}} {{.PodName}} {{.Message}}`,
}

func templateNames() []string { return slices.Sorted(maps.Keys(namedTemplates)) }

// templateData is what a template sees of a record.
type templateData struct {
	Message, Namespace, PodName, ContainerName, NodeName, Stream string
	Labels                                                       map[string]string
	Timestamp                                                    time.Time // in --timezone; zero when unknown
	PodColor, ContainerColor                                     string    // ANSI colour codes, for color
	Doc                                                          map[string]any
}

// compileTemplate parses --template: a name from namedTemplates, or the
// text of a template. A line ends each record; the template needs none.
func compileTemplate(text string, color bool, loc *time.Location) (*template.Template, error) {
	if named, ok := namedTemplates[text]; ok {
		text = named
	}
	funcs := template.FuncMap{
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		"color": func(code, s string) string {
			if !color || code == "" {
				return s
			}
			return "\x1b[" + code + "m" + s + "\x1b[0m"
		},
		"toTimestamp": func(layout string, t time.Time) string {
			if t.IsZero() {
				return "-"
			}
			return t.In(loc).Format(layout)
		},
		// get reads a dotted path of the document: get "http.status".
		"get": func(path string, doc map[string]any) any {
			var v any = doc
			for part := range strings.SplitSeq(path, ".") {
				m, ok := v.(map[string]any)
				if !ok {
					return nil
				}
				v = m[part]
			}
			return v
		},
	}
	t, err := template.New("record").Funcs(funcs).Option("missingkey=zero").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("--template: %w", err)
	}
	return t, nil
}

func newTemplateData(e *entry.Entry, idField string, loc *time.Location) *templateData {
	d := &templateData{
		Message: e.Line(idField), Namespace: e.Namespace(), PodName: e.Pod(), ContainerName: e.Container(),
		NodeName: e.Kubernetes("host"), Labels: e.Labels(), Doc: e.Doc,
	}
	d.Stream, _ = e.Doc["stream"].(string)
	if t, ok := e.Time(); ok {
		d.Timestamp = t.In(loc)
	}
	d.PodColor = colorOf(e.Namespace() + "/" + e.Pod())
	d.ContainerColor = colorOf(e.Container())
	return d
}
