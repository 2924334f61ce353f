package kubelogs

import (
	"context"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Owner is a workload whose pods are wanted: deploy/NAME and the like.
type Owner struct {
	Kind, Name, Namespace string
	UID                   string // the workload's; set by Resolve

	mu      sync.Mutex        // history and the follow streams ask at once
	rsOwner map[string]string // ReplicaSet UID -> its controller's UID, looked up once
}

// Resolve finds the workload and returns its pod label selector, the
// candidates that owns then narrows down by owner reference.
func Resolve(ctx context.Context, cs kubernetes.Interface, o *Owner) (string, error) {
	var sel *metav1.LabelSelector
	var uid string
	var err error
	apps := cs.AppsV1()
	what := fmt.Sprintf("%s %s in namespace %s", o.Kind, o.Name, o.Namespace)
	switch o.Kind {
	case "Deployment":
		x, e := apps.Deployments(o.Namespace).Get(ctx, o.Name, metav1.GetOptions{})
		if e == nil {
			sel, uid = x.Spec.Selector, string(x.UID)
		}
		err = e
	case "StatefulSet":
		x, e := apps.StatefulSets(o.Namespace).Get(ctx, o.Name, metav1.GetOptions{})
		if e == nil {
			sel, uid = x.Spec.Selector, string(x.UID)
		}
		err = e
	case "DaemonSet":
		x, e := apps.DaemonSets(o.Namespace).Get(ctx, o.Name, metav1.GetOptions{})
		if e == nil {
			sel, uid = x.Spec.Selector, string(x.UID)
		}
		err = e
	case "ReplicaSet":
		x, e := apps.ReplicaSets(o.Namespace).Get(ctx, o.Name, metav1.GetOptions{})
		if e == nil {
			sel, uid = x.Spec.Selector, string(x.UID)
		}
		err = e
	case "Job":
		x, e := cs.BatchV1().Jobs(o.Namespace).Get(ctx, o.Name, metav1.GetOptions{})
		if e == nil {
			sel, uid = x.Spec.Selector, string(x.UID)
		}
		err = e
	default:
		return "", fmt.Errorf("%s: not a workload kind this knows", what)
	}
	if apierrors.IsNotFound(err) {
		return "", &FatalError{fmt.Errorf("%s not found", what)}
	}
	if err != nil {
		return "", explain("get "+what, err)
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return "", fmt.Errorf("%s: selector: %w", what, err)
	}
	o.UID = uid
	return s.String(), nil
}

// owns reports whether the workload controls p: directly, or through a
// ReplicaSet it controls (a Deployment's pods).
func (o *Owner) owns(ctx context.Context, cs kubernetes.Interface, p *corev1.Pod) (bool, error) {
	ref := metav1.GetControllerOf(p)
	if ref == nil {
		return false, nil
	}
	if string(ref.UID) == o.UID {
		return true, nil
	}
	if o.Kind != "Deployment" || ref.Kind != "ReplicaSet" {
		return false, nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.rsOwner == nil {
		o.rsOwner = map[string]string{}
	}
	owner, ok := o.rsOwner[string(ref.UID)]
	if !ok {
		rs, err := cs.AppsV1().ReplicaSets(p.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			return false, explain("get ReplicaSet "+ref.Name, err)
		default:
			if c := metav1.GetControllerOf(rs); c != nil {
				owner = string(c.UID)
			}
		}
		o.rsOwner[string(ref.UID)] = owner
	}
	return owner == o.UID, nil
}
