// Package kubelogs reads log history from the Kubernetes API for the logs
// CLI when no log store is configured: the pods a query names (by
// namespace, label selector, node, name, or a workload's owner
// references), then each container's pods/log with sinceTime, tailLines
// and previous, as kubectl logs asks, with the user's RBAC.
package kubelogs

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"

	"github.com/sluicelog/sluice/logscli/entry"
)

// Query says which pods and which of their lines.
type Query struct {
	Namespace string // "" = all namespaces
	Selector  string // label selector, the workload's already joined in
	Node      string // spec.nodeName; "" = any
	Owner     *Owner // only the pods of this workload; nil = any
	Filter    *entry.Filter

	Since    *time.Time // sinceTime; nil = from the start of the file
	Tail     int64      // tailLines; < 0 = all
	Previous bool       // the previous instance of each container
	// LimitBytes bounds what one container's request returns (limitBytes):
	// history is sorted in memory across containers.
	LimitBytes int64
}

// DefaultLimitBytes is a container's share of history when Query says none.
const DefaultLimitBytes = 16 << 20

// History calls fn with the lines of every container the query selects,
// oldest first across them all.
func History(ctx context.Context, cs kubernetes.Interface, q Query, fn func(*entry.Entry) error) error {
	pods, err := Pods(ctx, cs, q)
	if err != nil {
		return err
	}
	var all []*entry.Entry
	for i := range pods {
		p := &pods[i]
		for _, c := range containers(p) {
			if q.Filter != nil && !q.Filter.MatchContainer(c) {
				continue
			}
			if q.Previous && !restarted(p, c) {
				continue
			}
			got, err := containerLog(ctx, cs, p, c, q)
			if err != nil {
				return err
			}
			all = append(all, got...)
		}
	}
	// Each container's lines are in order; sorting by time interleaves
	// them, and keeps a container's own order where times are equal.
	sort.SliceStable(all, func(i, j int) bool {
		ti, _ := all[i].Time()
		tj, _ := all[j].Time()
		return ti.Before(tj)
	})
	for _, e := range all {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// Pods lists the pods the query selects, by name.
func Pods(ctx context.Context, cs kubernetes.Interface, q Query) ([]corev1.Pod, error) {
	list, err := cs.CoreV1().Pods(q.Namespace).List(ctx, q.listOptions())
	if err != nil {
		return nil, explain("list pods"+inNamespace(q.Namespace), err)
	}
	var out []corev1.Pod
	for _, p := range list.Items {
		ok, err := q.wants(ctx, cs, &p)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// wants applies what the server cannot select by: the pod's name and
// its owner.
func (q Query) wants(ctx context.Context, cs kubernetes.Interface, p *corev1.Pod) (bool, error) {
	if q.Filter != nil && !q.Filter.MatchPodName(p.Name) {
		return false, nil
	}
	if q.Owner == nil {
		return true, nil
	}
	return q.Owner.owns(ctx, cs, p)
}

// listOptions select the query's pods on the server: labels and node.
func (q Query) listOptions() metav1.ListOptions {
	opts := metav1.ListOptions{LabelSelector: q.Selector}
	if q.Node != "" {
		opts.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", q.Node).String()
	}
	return opts
}

func inNamespace(ns string) string {
	if ns == "" {
		return " in all namespaces"
	}
	return " in namespace " + ns
}

// containers are the pod's init, regular and ephemeral containers.
func containers(p *corev1.Pod) []string {
	var out []string
	for _, c := range p.Spec.InitContainers {
		out = append(out, c.Name)
	}
	for _, c := range p.Spec.Containers {
		out = append(out, c.Name)
	}
	for _, c := range p.Spec.EphemeralContainers {
		out = append(out, c.Name)
	}
	return out
}

// restarted reports whether the container has a previous instance.
func restarted(p *corev1.Pod, name string) bool {
	for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses, p.Status.EphemeralContainerStatuses} {
		for _, st := range list {
			if st.Name == name {
				return st.RestartCount > 0 || st.LastTerminationState.Terminated != nil
			}
		}
	}
	return false
}

// containerLog reads one container's log with timestamps, and turns each
// line into a record like the agent's (kubernetes.* names, @timestamp,
// log), minus what pods/log does not say (stream, ids).
func containerLog(ctx context.Context, cs kubernetes.Interface, p *corev1.Pod, container string, q Query) ([]*entry.Entry, error) {
	opts := &corev1.PodLogOptions{Container: container, Timestamps: true, Previous: q.Previous}
	if q.Since != nil {
		t := metav1.NewTime(*q.Since)
		opts.SinceTime = &t
	}
	if q.Tail >= 0 {
		opts.TailLines = &q.Tail
	}
	limit := q.LimitBytes
	if limit <= 0 {
		limit = DefaultLimitBytes
	}
	opts.LimitBytes = &limit
	rc, err := cs.CoreV1().Pods(p.Namespace).GetLogs(p.Name, opts).Stream(ctx)
	if err != nil {
		if apierrors.IsBadRequest(err) || apierrors.IsNotFound(err) {
			// Not started yet, or no previous instance: nothing to show,
			// as kubectl logs of several containers goes on.
			return nil, nil
		}
		return nil, explain(fmt.Sprintf("logs of %s/%s container %s", p.Namespace, p.Name, container), err)
	}
	defer rc.Close()
	kube := podKube(p, container, q)
	var out []*entry.Entry
	br := bufio.NewReaderSize(rc, 64<<10)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			if e, ok := parseLine(strings.TrimSuffix(line, "\n"), kube); ok && (q.Filter == nil || q.Filter.MatchLine(e.Line(""))) {
				out = append(out, e)
			}
		}
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("logs of %s/%s container %s: read: %w", p.Namespace, p.Name, container, err)
		}
	}
}

// podKube is the "kubernetes" object of a container's records, as the
// agent's, minus what pods/log does not say (stream, ids).
func podKube(p *corev1.Pod, container string, q Query) map[string]any {
	kube := map[string]any{
		"namespace_name": p.Namespace, "pod_name": p.Name, "pod_id": string(p.UID),
		"container_name": container, "host": p.Spec.NodeName,
	}
	if q.Owner != nil {
		// Pods listed for a workload are its own (Owner.owns).
		kube["owner"] = map[string]any{"kind": q.Owner.Kind, "name": q.Owner.Name}
	}
	if len(p.Labels) > 0 {
		labels := make(map[string]any, len(p.Labels))
		for k, v := range p.Labels {
			labels[k] = v
		}
		kube["labels"] = labels
	}
	return kube
}

// parseLine reads `TIMESTAMP LINE`, what pods/log with timestamps=true
// writes (RFC 3339 with nanoseconds).
func parseLine(line string, kube map[string]any) (*entry.Entry, bool) {
	ts, msg, ok := strings.Cut(line, " ")
	if !ok {
		ts, msg = line, ""
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return nil, false
	}
	doc := map[string]any{
		"@timestamp": t.UTC().Format("2006-01-02T15:04:05.000000000Z"),
		"log":        msg,
		"kubernetes": kube,
	}
	e, err := entry.FromDoc(doc)
	return e, err == nil
}

// FatalError is an API refusal (RBAC, credentials).
type FatalError struct{ Err error }

func (e *FatalError) Error() string { return e.Err.Error() }
func (e *FatalError) Unwrap() error { return e.Err }

func explain(what string, err error) error {
	switch {
	case apierrors.IsForbidden(err):
		var s apierrors.APIStatus
		msg := err.Error()
		if errors.As(err, &s) {
			msg = s.Status().Message
		}
		return &FatalError{fmt.Errorf("forbidden by RBAC: %s: %s", what, msg)}
	case apierrors.IsUnauthorized(err):
		return &FatalError{fmt.Errorf("unauthorized: the API server refused the kubeconfig's credentials (%s)", what)}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// PreviousIDs are the container ids (without the runtime prefix) of the
// previous instances of the pods' containers, as their statuses name them.
func PreviousIDs(pods []corev1.Pod) map[string]bool {
	ids := map[string]bool{}
	for i := range pods {
		p := &pods[i]
		for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses, p.Status.EphemeralContainerStatuses} {
			for _, st := range list {
				if t := st.LastTerminationState.Terminated; t != nil && t.ContainerID != "" {
					_, id, ok := strings.Cut(t.ContainerID, "://")
					if !ok {
						id = t.ContainerID
					}
					ids[id] = true
				}
			}
		}
	}
	return ids
}
