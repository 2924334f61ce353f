package kubelogs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/sluicelog/sluice/logscli/entry"
)

// Retry bounds of a broken stream or watch.
const (
	retryMin = 250 * time.Millisecond
	retryMax = 5 * time.Second
)

// Follow streams the logs of the containers the query selects through
// pods/log with follow=true, one stream per container instance, as
// kubectl logs -f and stern do, and picks up pods and containers that
// start later through a watch of the pods. Each stream's lines reach out
// in order; lines stamped before from are left out (history is read on
// its own). It returns nil when ctx ends, or the first refusal (RBAC,
// credentials), which retrying cannot fix.
func Follow(ctx context.Context, cs kubernetes.Interface, q Query, from time.Time, out chan<- *entry.Entry, log *slog.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	f := &follower{
		cs: cs, q: q, from: from, out: out, log: log,
		pods: map[types.UID]*corev1.Pod{}, started: map[instance]bool{},
		fatal: make(chan error, 1),
	}
	defer f.wg.Wait()
	defer cancel()
	return f.run(ctx)
}

// instance is one run of a container: a restart is a new one.
type instance struct {
	pod       types.UID
	container string
	id        string // the runtime's container id
}

// follower owns the watch (run's goroutine) and one goroutine per stream.
type follower struct {
	cs   kubernetes.Interface
	q    Query
	from time.Time
	out  chan<- *entry.Entry
	log  *slog.Logger
	wg   sync.WaitGroup

	mu      sync.Mutex
	pods    map[types.UID]*corev1.Pod // the latest of each pod, for the streams to see it end
	started map[instance]bool

	fatal chan error // a stream's refusal ends Follow
}

// run lists the pods, starts their streams, then watches for changes,
// listing again when the watch breaks.
func (f *follower) run(ctx context.Context) error {
	rv, err := f.list(ctx)
	if err != nil {
		return err
	}
	delay := retryMin
	for {
		err := f.watch(ctx, rv)
		if ctx.Err() != nil {
			return nil
		}
		if isFatal(err) {
			return err
		}
		if err != nil && !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err) {
			f.log.Warn("watching the pods failed; listing them again", "err", err)
		}
		if !sleep(ctx, delay) {
			return nil
		}
		if rv, err = f.list(ctx); err != nil {
			if isFatal(err) || ctx.Err() != nil {
				return errOrNil(ctx, err)
			}
			delay = min(delay*2, retryMax)
			continue
		}
		delay = retryMin
	}
}

func errOrNil(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func isFatal(err error) bool {
	var fe *FatalError
	return errors.As(err, &fe)
}

// list takes in every pod the query selects and returns the list's
// resource version, for the watch to go on from.
func (f *follower) list(ctx context.Context) (string, error) {
	list, err := f.cs.CoreV1().Pods(f.q.Namespace).List(ctx, f.q.listOptions())
	if err != nil {
		return "", explain("list pods"+inNamespace(f.q.Namespace), err)
	}
	// Pods deleted while the watch was down are not listed: forget them,
	// so their streams end.
	f.mu.Lock()
	f.pods = map[types.UID]*corev1.Pod{}
	f.mu.Unlock()
	for i := range list.Items {
		if err := f.pod(ctx, &list.Items[i]); err != nil {
			return "", err
		}
	}
	return list.ResourceVersion, nil
}

// watch handles pod events from rv until the watch ends, ctx ends or a
// stream is refused.
func (f *follower) watch(ctx context.Context, rv string) error {
	opts := f.q.listOptions()
	opts.ResourceVersion, opts.AllowWatchBookmarks = rv, true
	w, err := f.cs.CoreV1().Pods(f.q.Namespace).Watch(ctx, opts)
	if err != nil {
		return explain("watch pods"+inNamespace(f.q.Namespace), err)
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-f.fatal:
			return err
		case ev, ok := <-w.ResultChan():
			if !ok {
				return nil
			}
			switch ev.Type {
			case watch.Added, watch.Modified:
				if p, ok := ev.Object.(*corev1.Pod); ok {
					if err := f.pod(ctx, p); err != nil {
						return err
					}
				}
			case watch.Deleted:
				if p, ok := ev.Object.(*corev1.Pod); ok {
					f.mu.Lock()
					delete(f.pods, p.UID)
					f.mu.Unlock()
				}
			case watch.Error:
				// 410 Gone and the like: list again.
				return apierrors.FromObject(ev.Object)
			}
		}
	}
}

// pod notes a pod's latest state and starts a stream for each of its
// wanted containers that runs, or ended since from, and has none yet.
func (f *follower) pod(ctx context.Context, p *corev1.Pod) error {
	ok, err := f.q.wants(ctx, f.cs, p)
	if err != nil {
		if isFatal(err) {
			return err
		}
		f.log.Warn("cannot tell whether a pod is the workload's; leaving it out", "pod", p.Namespace+"/"+p.Name, "err", err)
		return nil
	}
	if !ok {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pods[p.UID] = p
	for _, c := range containers(p) {
		if f.q.Filter != nil && !f.q.Filter.MatchContainer(c) {
			continue
		}
		st := status(p, c)
		if st == nil || st.ContainerID == "" {
			continue
		}
		if t := st.State.Terminated; st.State.Running == nil && (t == nil || t.FinishedAt.Time.Before(f.from.Add(-time.Second))) {
			continue
		}
		in := instance{p.UID, c, st.ContainerID}
		if f.started[in] {
			continue
		}
		f.started[in] = true
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			f.stream(ctx, p, in)
		}()
	}
	return nil
}

// status is the container's status in the pod, or nil.
func status(p *corev1.Pod, name string) *corev1.ContainerStatus {
	for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses, p.Status.EphemeralContainerStatuses} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
}

// running reports whether the instance is still running by the pod's
// latest state: its stream ended for a reason other than its end.
func (f *follower) running(in instance) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.pods[in.pod]
	if p == nil {
		return false
	}
	st := status(p, in.container)
	return st != nil && st.ContainerID == in.id && st.State.Running != nil
}

// stream follows one container instance until it ends or ctx ends; a
// broken stream of a running container is opened again from its last
// line's time, the lines already sent left out.
func (f *follower) stream(ctx context.Context, p *corev1.Pod, in instance) {
	kube := podKube(p, in.container, f.q)
	what := fmt.Sprintf("logs of %s/%s container %s", p.Namespace, p.Name, in.container)
	last := f.from
	sent := false // whether last is a sent line's time
	delay := retryMin
	var lastErr string
	for ctx.Err() == nil {
		since := metav1.NewTime(last.Truncate(time.Second)) // sinceTime has seconds
		opts := &corev1.PodLogOptions{Container: in.container, Follow: true, Timestamps: true, SinceTime: &since}
		rc, err := f.cs.CoreV1().Pods(p.Namespace).GetLogs(p.Name, opts).Stream(ctx)
		if err == nil {
			err = f.read(ctx, rc, kube, &last, &sent)
			rc.Close()
			if err == nil {
				delay = retryMin
			}
		}
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if e := explain(what, err); isFatal(e) {
				select {
				case f.fatal <- e:
				default:
				}
				return
			}
			if err.Error() != lastErr {
				f.log.Warn("container log stream broke; retrying", "container", p.Namespace+"/"+p.Name+"/"+in.container, "err", err)
				lastErr = err.Error()
			}
		}
		if !f.running(in) {
			return // the container ended: its stream is done
		}
		if !sleep(ctx, delay) {
			return
		}
		delay = min(delay*2, retryMax)
	}
}

// maxLine bounds one line held in memory; the rest of a longer one is
// left out (the kubelet splits what containers write at 16 KiB anyway).
const maxLine = 1 << 20

// read sends the stream's lines stamped at or after *last (after it, if
// *sent) until the stream ends; it moves *last on.
func (f *follower) read(ctx context.Context, rc io.Reader, kube map[string]any, last *time.Time, sent *bool) error {
	lr := newLineReader(rc, maxLine)
	for {
		line, err := lr.next()
		if line != "" {
			if e, ok := parseLine(line, kube); ok {
				t, _ := e.Time()
				if t.After(*last) || !*sent && t.Equal(*last) {
					*last, *sent = t, true
					select {
					case f.out <- e:
					case <-ctx.Done():
						return nil
					}
				}
			}
		}
		if err != nil {
			if errors.Is(err, errEOF) {
				return nil
			}
			return err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
