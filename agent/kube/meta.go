package kube

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/sluicelog/sluice/internal/jsonbytes"
)

// Annotations that steer the pipeline per pod. A "-<container>" suffix
// limits one to a container (sluice.io/parser-nginx: nginx).
const (
	AnnotationExclude = "sluice.io/exclude"
	AnnotationParser  = "sluice.io/parser"
)

// podInfo is what the cache holds for one pod: its "kubernetes" object
// serialised once per container, so each record only splices bytes in.
// It is immutable once published; a change builds a new one.
type podInfo struct {
	pod        *corev1.Pod // slimmed (see slim), kept to rebuild on a namespace change
	uid        string
	containers []containerInfo
	deleted    int64 // unix nanoseconds of the deletion; 0 while the pod exists
}

// containerInfo is one container instance: the current one and, after a
// restart, the previous one, whose log file may still be being read.
type containerInfo struct {
	name    string
	id      string            // container id without the runtime prefix; "" before it starts
	meta    []byte            // the whole "kubernetes" object
	labels  map[string]string // the pod's, all of them, for the tap's selectors; read-only
	parser  string
	exclude bool
}

// pick returns the container instance of a record: the one with the file's
// container id if the file name gives one, else the current one by name.
func (p *podInfo) pick(name, id string) *containerInfo {
	var byName *containerInfo
	for i := range p.containers {
		c := &p.containers[i]
		if c.name != name {
			continue
		}
		if id == "" || c.id == id {
			return c
		}
		if byName == nil {
			byName = c
		}
	}
	if id != "" {
		// A file of an instance this pod never had: it belongs to another
		// pod of the same name (see cache.lookup), unless none matches.
		return nil
	}
	return byName
}

// pickAny is pick without the container id check, for the last resort.
func (p *podInfo) pickAny(name string) *containerInfo {
	for i := range p.containers {
		if p.containers[i].name == name {
			return &p.containers[i]
		}
	}
	return nil
}

// builder turns pods into podInfos according to the config.
type builder struct {
	labels, annotations bool
	inclL, exclL        []string
	inclA, exclA        []string
	knownParser         func(string) bool
	warn                func(msg string, args ...any)
}

// keep applies include (empty = all) and exclude globs to a key.
func keep(key string, incl, excl []string) bool {
	match := func(pats []string) bool {
		for _, p := range pats {
			if glob(p, key) {
				return true
			}
		}
		return false
	}
	if len(incl) > 0 && !match(incl) {
		return false
	}
	return !match(excl)
}

// glob matches s against a pattern where * is any run of characters,
// '/' included (label keys are app.kubernetes.io/name), and ? any one.
func glob(pattern, s string) bool {
	star, mark := -1, 0 // the last * seen in pattern, and where in s it started
	p, i := 0, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			// Let the last * take one more character.
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// build serialises a pod. nsLabels is nil unless namespace labels are on.
func (b *builder) build(p *corev1.Pod, nsLabels map[string]string) *podInfo {
	info := &podInfo{pod: p, uid: string(p.UID)}

	// The members after the container's own, the same for every container.
	var tail []byte
	if p.Spec.NodeName != "" {
		tail = appendMember(tail, "host", p.Spec.NodeName)
	}
	if b.labels {
		tail = appendMap(tail, "labels", p.Labels, b.inclL, b.exclL)
	}
	if b.annotations {
		tail = appendMap(tail, "annotations", p.Annotations, b.inclA, b.exclA)
	}
	if nsLabels != nil {
		tail = appendMap(tail, "namespace_labels", nsLabels, b.inclL, b.exclL)
	}
	if kind, name := owner(p); kind != "" {
		tail = append(tail, `,"owner":{"kind":`...)
		tail = jsonbytes.AppendStringString(tail, kind)
		tail = append(tail, `,"name":`...)
		tail = jsonbytes.AppendStringString(tail, name)
		tail = append(tail, '}')
	}

	podExclude := isTrue(p.Annotations[AnnotationExclude])
	podParser := b.parser(p, AnnotationParser)

	statuses := map[string]*corev1.ContainerStatus{}
	for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses, p.Status.EphemeralContainerStatuses} {
		for i := range list {
			statuses[list[i].Name] = &list[i]
		}
	}
	add := func(name, image, id, imageID string) {
		c := containerInfo{name: name, id: id, labels: p.Labels, parser: podParser, exclude: podExclude}
		if v, ok := p.Annotations[AnnotationExclude+"-"+name]; ok {
			c.exclude = isTrue(v)
		}
		if v := b.parser(p, AnnotationParser+"-"+name); v != "" {
			c.parser = v
		}
		m := append(make([]byte, 0, 128+len(tail)), '{')
		m = appendFirst(m, "namespace_name", p.Namespace)
		m = appendMember(m, "pod_name", p.Name)
		if p.UID != "" {
			m = appendMember(m, "pod_id", string(p.UID))
		}
		m = appendMember(m, "container_name", name)
		if image != "" {
			m = appendMember(m, "container_image", image)
		}
		if imageID != "" {
			m = appendMember(m, "container_image_id", imageID)
		}
		if id != "" {
			m = appendMember(m, "container_id", id)
		}
		m = append(m, tail...)
		c.meta = append(m, '}')
		info.containers = append(info.containers, c)
	}
	each := func(name, image string) {
		st := statuses[name]
		if st == nil {
			add(name, image, "", "")
			return
		}
		add(name, image, trimRuntime(st.ContainerID), st.ImageID)
		if t := st.LastTerminationState.Terminated; t != nil && t.ContainerID != "" && t.ContainerID != st.ContainerID {
			add(name, image, trimRuntime(t.ContainerID), st.ImageID)
		}
	}
	for _, c := range p.Spec.InitContainers {
		each(c.Name, c.Image)
	}
	for _, c := range p.Spec.Containers {
		each(c.Name, c.Image)
	}
	for _, c := range p.Spec.EphemeralContainers {
		each(c.Name, c.Image)
	}
	return info
}

// parser reads a parser annotation; a name the pipeline does not know is
// logged (once per pod change) and ignored, so the config's parsers apply.
func (b *builder) parser(p *corev1.Pod, key string) string {
	v := strings.TrimSpace(p.Annotations[key])
	if v == "" {
		return ""
	}
	if b.knownParser != nil && !b.knownParser(v) {
		if b.warn != nil {
			b.warn("unknown parser in pod annotation; the config's parsers apply", "namespace", p.Namespace, "pod", p.Name, "annotation", key, "parser", v)
		}
		return ""
	}
	return v
}

func isTrue(v string) bool {
	ok, _ := strconv.ParseBool(strings.TrimSpace(v))
	return ok
}

// trimRuntime drops the "containerd://" (or "docker://", "cri-o://")
// prefix, leaving the id the log file names carry.
func trimRuntime(id string) string {
	if i := strings.Index(id, "://"); i >= 0 {
		return id[i+3:]
	}
	return id
}

func appendFirst(dst []byte, k, v string) []byte {
	dst = jsonbytes.AppendStringString(dst, k)
	dst = append(dst, ':')
	return jsonbytes.AppendStringString(dst, v)
}

func appendMember(dst []byte, k, v string) []byte {
	dst = append(dst, ',')
	return appendFirst(dst, k, v)
}

// appendMap writes a string map as an object with sorted keys, so the same
// pod always serialises to the same bytes. Nothing is written when no key
// is kept.
func appendMap(dst []byte, name string, m map[string]string, incl, excl []string) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		if keep(k, incl, excl) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return dst
	}
	slices.Sort(keys)
	dst = append(dst, ',')
	dst = jsonbytes.AppendStringString(dst, name)
	dst = append(dst, ":{"...)
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendFirst(dst, k, m[k])
	}
	return append(dst, '}')
}

// cronJobSuffix is the suffix the CronJob controller gives its Jobs: the
// scheduled time in minutes since the epoch.
var cronJobSuffix = regexp.MustCompile(`^(.+)-([0-9]{8,10})$`)

// owner names the workload that controls a pod, from the pod alone (the
// agent may read pods and namespaces, nothing else):
//   - a ReplicaSet named <deployment>-<pod-template-hash> is its Deployment;
//   - a Job named <cronjob>-<minutes since the epoch> whose time is within a
//     day of the pod's creation is its CronJob;
//   - anything else is reported as it is (StatefulSet, DaemonSet, Job, ...).
func owner(p *corev1.Pod) (kind, name string) {
	for _, ref := range p.OwnerReferences {
		if ref.Controller == nil || !*ref.Controller {
			continue
		}
		switch ref.Kind {
		case "ReplicaSet":
			if h := p.Labels["pod-template-hash"]; h != "" {
				if d, ok := strings.CutSuffix(ref.Name, "-"+h); ok && d != "" {
					return "Deployment", d
				}
			}
		case "Job":
			if m := cronJobSuffix.FindStringSubmatch(ref.Name); m != nil && !p.CreationTimestamp.IsZero() {
				minutes, _ := strconv.ParseInt(m[2], 10, 64)
				scheduled := time.Unix(minutes*60, 0)
				if d := p.CreationTimestamp.Sub(scheduled); d > -24*time.Hour && d < 24*time.Hour {
					return "CronJob", m[1]
				}
			}
		}
		return ref.Kind, ref.Name
	}
	return "", ""
}

// slim keeps the fields build reads, so the informer's cache holds a few
// hundred bytes per pod rather than the whole object (managed fields,
// volumes, env, probes...).
func slim(p *corev1.Pod) *corev1.Pod {
	s := &corev1.Pod{}
	s.Name, s.Namespace, s.UID = p.Name, p.Namespace, p.UID
	s.ResourceVersion = p.ResourceVersion
	s.CreationTimestamp, s.DeletionTimestamp = p.CreationTimestamp, p.DeletionTimestamp
	s.Labels, s.Annotations, s.OwnerReferences = p.Labels, p.Annotations, p.OwnerReferences
	s.Spec.NodeName = p.Spec.NodeName
	s.Spec.InitContainers = slimContainers(p.Spec.InitContainers)
	s.Spec.Containers = slimContainers(p.Spec.Containers)
	for _, c := range p.Spec.EphemeralContainers {
		s.Spec.EphemeralContainers = append(s.Spec.EphemeralContainers, corev1.EphemeralContainer{
			EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: c.Name, Image: c.Image},
		})
	}
	s.Status.Phase = p.Status.Phase
	s.Status.InitContainerStatuses = slimStatuses(p.Status.InitContainerStatuses)
	s.Status.ContainerStatuses = slimStatuses(p.Status.ContainerStatuses)
	s.Status.EphemeralContainerStatuses = slimStatuses(p.Status.EphemeralContainerStatuses)
	return s
}

func slimContainers(cs []corev1.Container) []corev1.Container {
	if len(cs) == 0 {
		return nil
	}
	out := make([]corev1.Container, len(cs))
	for i, c := range cs {
		out[i] = corev1.Container{Name: c.Name, Image: c.Image}
	}
	return out
}

func slimStatuses(ss []corev1.ContainerStatus) []corev1.ContainerStatus {
	if len(ss) == 0 {
		return nil
	}
	out := make([]corev1.ContainerStatus, len(ss))
	for i, s := range ss {
		out[i] = corev1.ContainerStatus{Name: s.Name, ContainerID: s.ContainerID, ImageID: s.ImageID, Image: s.Image}
		if t := s.LastTerminationState.Terminated; t != nil {
			out[i].LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ContainerID: t.ContainerID}
		}
	}
	return out
}
