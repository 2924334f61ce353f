package entry

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
)

// Filter is what the user asked to see. The live path hands the agents
// what their tap can filter (namespace, pod, labels, grep, input) and
// checks the rest itself with MatchLive; the history path pushes what the
// store can do exactly and checks the rest with Match.
type Filter struct {
	Namespace string   // exact; "" = all
	Pod       string   // regexp, unanchored, on the pod name
	Container string   // regexp, unanchored, on the container name (stern's -c)
	Input     string   // the agent's input name (live); see Match for history
	Labels    string   // Kubernetes label selector (k=v, k!=v, k in (a,b), k notin (x), k, !k)
	Grep      string   // regexp on the line
	Node      string   // exact node name (kubernetes.host)
	Include   []string // regexps on the line: one at least must match
	Exclude   []string // regexps on the line: none may match
	// ExcludeContainer and ExcludePod are regexps on the names: a record
	// matching one is left out.
	ExcludeContainer, ExcludePod []string
	// OwnerKind and OwnerName, when set, keep only the pods of a workload
	// (kubernetes.owner, as the agent resolves it: Deployment, StatefulSet,
	// DaemonSet, Job).
	OwnerKind, OwnerName string

	pod, container, grep   *regexp.Regexp
	include, exclude       []*regexp.Regexp
	exclContainer, exclPod []*regexp.Regexp
	labels                 labels.Selector
}

// Compile checks the expressions, naming the flag at fault.
func (f *Filter) Compile() error {
	one := func(expr, flag string, dst **regexp.Regexp) error {
		if expr == "" {
			return nil
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return fmt.Errorf("%s: %w", flag, err)
		}
		*dst = re
		return nil
	}
	many := func(exprs []string, flag string) ([]*regexp.Regexp, error) {
		var out []*regexp.Regexp
		for _, e := range exprs {
			var re *regexp.Regexp
			if err := one(e, flag, &re); err != nil {
				return nil, err
			}
			if re != nil {
				out = append(out, re)
			}
		}
		return out, nil
	}
	var err error
	if err = one(f.Pod, "pod regexp", &f.pod); err != nil {
		return err
	}
	if err = one(f.Container, "-c", &f.container); err != nil {
		return err
	}
	if err = one(f.Grep, "--grep", &f.grep); err != nil {
		return err
	}
	if f.include, err = many(f.Include, "--include"); err != nil {
		return err
	}
	if f.exclude, err = many(f.Exclude, "--exclude"); err != nil {
		return err
	}
	if f.exclContainer, err = many(f.ExcludeContainer, "--exclude-container"); err != nil {
		return err
	}
	if f.exclPod, err = many(f.ExcludePod, "--exclude-pod"); err != nil {
		return err
	}
	if strings.TrimSpace(f.Labels) != "" {
		if f.labels, err = labels.Parse(f.Labels); err != nil {
			return fmt.Errorf("-l: %w", err)
		}
	}
	return nil
}

// TapQuery is the part of the filter the agent's /api/v1/tap applies
// itself, as its parameters.
func (f *Filter) TapQuery() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("namespace", f.Namespace)
	set("pod", f.Pod)
	set("input", f.Input)
	set("labels", f.Labels)
	set("grep", f.Grep)
	return q
}

// Match applies the whole filter to a stored record. Stores keep no input
// name, only the kind of source: an --input whose name contains "syslog"
// selects syslog records, any other selects container records. Line
// patterns match Line (for a JSON line merged by the agent, the members
// put back together, since the original text is not stored).
func (f *Filter) Match(e *Entry, idField string) bool {
	if f.Input != "" && strings.Contains(f.Input, "syslog") != e.IsSyslog() {
		return false
	}
	return f.MatchLive(e, idField)
}

// MatchLive applies what the agents' tap does not: everything but the
// input (which the tap matches by its exact name).
func (f *Filter) MatchLive(e *Entry, idField string) bool {
	if f.Namespace != "" && e.Namespace() != f.Namespace ||
		f.Node != "" && e.Kubernetes("host") != f.Node {
		return false
	}
	if f.pod != nil && !f.pod.MatchString(e.Pod()) ||
		f.container != nil && !f.container.MatchString(e.Container()) ||
		anyMatch(f.exclPod, e.Pod()) || anyMatch(f.exclContainer, e.Container()) {
		return false
	}
	if f.OwnerKind != "" {
		o := sub(sub(e.Doc, "kubernetes"), "owner")
		if str(o, "kind") != f.OwnerKind || str(o, "name") != f.OwnerName {
			return false
		}
	}
	if f.labels != nil && !f.labels.Matches(labels.Set(e.Labels())) {
		return false
	}
	return f.MatchLine(e.Line(idField))
}

// MatchLine applies the line patterns: --grep, --include, --exclude.
func (f *Filter) MatchLine(line string) bool {
	if f.grep != nil && !f.grep.MatchString(line) {
		return false
	}
	if len(f.include) > 0 && !anyMatch(f.include, line) {
		return false
	}
	return !anyMatch(f.exclude, line)
}

// MatchContainer reports whether a container of a pod is wanted by name
// (the pods/log path, which asks per container).
func (f *Filter) MatchContainer(name string) bool {
	return (f.container == nil || f.container.MatchString(name)) && !anyMatch(f.exclContainer, name)
}

// MatchPodName reports whether a pod is wanted by name.
func (f *Filter) MatchPodName(name string) bool {
	return (f.pod == nil || f.pod.MatchString(name)) && !anyMatch(f.exclPod, name)
}

func anyMatch(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}
