package logscli

import (
	"bufio"
	"fmt"
	"hash/fnv"
	"io"
	"strings"
	"text/template"
	"time"

	"github.com/sluicelog/sluice/logscli/entry"
)

// separator sits between a record's source and its line in text output.
const separator = " │ "

// palette holds the ANSI colours of sources: readable on dark and light
// backgrounds, red left out (it reads as an error).
var palette = []string{"32", "33", "34", "35", "36", "92", "93", "94", "95", "96"}

// printer writes records to stdout; only the goroutine that owns it calls
// it, so lines of different agents never interleave.
type printer struct {
	w          *bufio.Writer
	format     string // text | json | raw
	color      bool
	timestamps string // "" | default | short
	loc        *time.Location
	idField    string
	tmpl       *template.Template // --template; nil = format
}

// Layouts of --timestamps.
var timestampLayouts = map[string]string{
	"default": "2006-01-02T15:04:05.000000000Z07:00",
	"short":   "01-02 15:04:05",
}

func newPrinter(w io.Writer, format string, color bool, timestamps string, loc *time.Location, idField string) *printer {
	if loc == nil {
		loc = time.Local
	}
	return &printer{w: bufio.NewWriterSize(w, 64<<10), format: format, color: color, timestamps: timestamps, loc: loc, idField: idField}
}

// print writes one record; Flush sends what is buffered.
func (p *printer) print(e *entry.Entry) error {
	if p.timestamps != "" && p.format != "json" {
		if t, ok := e.Time(); ok {
			p.w.WriteString(t.In(p.loc).Format(timestampLayouts[p.timestamps]))
		} else {
			p.w.WriteString(orDash(e.Timestamp()))
		}
		p.w.WriteByte(' ')
	}
	if p.tmpl != nil {
		if err := p.tmpl.Execute(p.w, newTemplateData(e, p.idField, p.loc)); err != nil {
			return fmt.Errorf("--template: %w", err)
		}
		return p.w.WriteByte('\n')
	}
	switch p.format {
	case "json":
		p.w.Write(e.Raw)
	case "raw":
		p.w.WriteString(e.Line(p.idField))
	default:
		src := source(e)
		if p.color {
			p.w.WriteString("\x1b[" + colorOf(src) + "m" + src + "\x1b[0m")
		} else {
			p.w.WriteString(src)
		}
		p.w.WriteString(separator)
		p.w.WriteString(e.Line(p.idField))
	}
	return p.w.WriteByte('\n')
}

func (p *printer) flush() error { return p.w.Flush() }

// source is `namespace/pod container`, or `syslog/host app` for a syslog
// record.
func source(e *entry.Entry) string {
	if e.IsSyslog() && e.Pod() == "" {
		host := e.Syslog("hostname")
		if host == "" {
			host, _ = e.Doc["source_ip"].(string)
		}
		return "syslog/" + orDash(host) + " " + orDash(e.Syslog("app_name"))
	}
	return orDash(e.Namespace()) + "/" + orDash(e.Pod()) + " " + orDash(e.Container())
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

// colorOf gives a source the same colour on every run: a hash of its pod
// (namespace/pod, without the container, so a pod's containers match).
func colorOf(src string) string {
	pod, _, _ := strings.Cut(src, " ")
	h := fnv.New32a()
	h.Write([]byte(pod))
	return palette[h.Sum32()%uint32(len(palette))]
}
