package entry

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/sluicelog/sluice/agent/tap"
)

// Filter is what the user asked to see. The live path hands it to the
// agents as tap query parameters (they filter at the source); the history
// path pushes what the store can do exactly and checks the rest with
// Match.
type Filter struct {
	Namespace string // exact; "" = all
	Pod       string // regexp, unanchored, on the pod name
	Container string // exact
	Input     string // the agent's input name (live); see Match for history
	Labels    string // Kubernetes label selector (k=v, k!=v, k in (a,b), k notin (x), k, !k)
	Grep      string // regexp on the line

	pod, grep *regexp.Regexp
	labels    labels.Selector
}

// Compile checks the expressions, naming the flag at fault.
func (f *Filter) Compile() error {
	var err error
	if f.Pod != "" {
		if f.pod, err = regexp.Compile(f.Pod); err != nil {
			return fmt.Errorf("pod regexp: %w", err)
		}
	}
	if f.Grep != "" {
		if f.grep, err = regexp.Compile(f.Grep); err != nil {
			return fmt.Errorf("--grep: %w", err)
		}
	}
	if f.labels, err = tap.ParseSelector(f.Labels); err != nil {
		return fmt.Errorf("-l: %w", err)
	}
	return nil
}

// TapQuery is the filter as the agent's /api/v1/tap parameters.
func (f *Filter) TapQuery() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("namespace", f.Namespace)
	set("pod", f.Pod)
	set("container", f.Container)
	set("input", f.Input)
	set("labels", f.Labels)
	set("grep", f.Grep)
	return q
}

// Match applies the whole filter to a stored record. Stores keep no input
// name, only the kind of source: an --input whose name contains "syslog"
// selects syslog records, any other selects container records. --grep
// matches Line (for a JSON line merged by the agent, the members put back
// together, since the original text is not stored).
func (f *Filter) Match(e *Entry, idField string) bool {
	if f.Namespace != "" && e.Namespace() != f.Namespace ||
		f.Container != "" && e.Container() != f.Container {
		return false
	}
	if f.pod != nil && !f.pod.MatchString(e.Pod()) {
		return false
	}
	if f.Input != "" && strings.Contains(f.Input, "syslog") != e.IsSyslog() {
		return false
	}
	if f.labels != nil && !f.labels.Matches(labels.Set(e.Labels())) {
		return false
	}
	return f.grep == nil || f.grep.MatchString(e.Line(idField))
}
