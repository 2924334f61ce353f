package deploy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/sluicelog/sluice/internal/kubetest"
)

// crdDir holds the monitoring.coreos.com CRDs the tests install, generated
// from the Prometheus Operator's Go API types (go.mod's version) by
// controller-gen: testdata/crds/generate.sh.
const crdDir = "testdata/crds"

// crdEstablishTimeout bounds the wait for the API server to serve a new
// CRD (it is quick; this is a hang bound for a loaded machine).
const crdEstablishTimeout = 2 * time.Minute

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// installMonitoringCRDs creates the ServiceMonitor, PodMonitor and
// PrometheusRule CRDs and waits until the server serves them.
func installMonitoringCRDs(t *testing.T, c *kubetest.Cluster) {
	t.Helper()
	dyn, err := dynamic.NewForConfig(c.AdminConfig())
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(crdDir, "monitoring.coreos.com_*.yaml"))
	if err != nil || len(files) != 3 {
		t.Fatalf("%s: %d CRD files (%v), want ServiceMonitor, PodMonitor and PrometheusRule", crdDir, len(files), err)
	}
	var names []string
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(raw, &u.Object); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), applyTimeout)
		_, err = dyn.Resource(crdResource).Create(ctx, u, metav1.CreateOptions{FieldValidation: "Strict"})
		cancel()
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("create the CRD of %s: %v", f, err)
		}
		names = append(names, u.GetName())
	}
	for _, name := range names {
		waitFor(t, crdEstablishTimeout, "CRD "+name+" established", func() error {
			ctx, cancel := context.WithTimeout(t.Context(), applyTimeout)
			defer cancel()
			u, err := dyn.Resource(crdResource).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
			for _, c := range conds {
				m, _ := c.(map[string]any)
				if m["type"] == "Established" && m["status"] == "True" {
					return nil
				}
			}
			return fmt.Errorf("conditions %v", conds)
		})
	}
}

// TestApplyMonitoringAndHelm applies, with server-side dry runs and strict
// field validation, what an operator on a Prometheus Operator cluster
// installs: the kustomize base with the monitoring component, the
// PodMonitor variant (with the docker-root component), and the Helm
// chart with every toggle on, against a real kube-apiserver that has the
// monitoring.coreos.com CRDs; each object must be stored as rendered.
func TestApplyMonitoringAndHelm(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and kube-apiserver")
	}
	c := kubetest.Start(t)
	installMonitoringCRDs(t, c)
	a := newApplier(t, c)
	a.mapper.Reset() // discovery again: the CRDs' kinds are new

	for _, eq := range equivalences[1:] {
		b := render(t, eq.dir, eq.overlay)
		b.external = map[string]bool{"sluice-es": true, "sluice-tap-token": true}
		if len(b.serviceMonitors)+len(b.podMonitors) != 1 {
			t.Fatalf("%s: %d ServiceMonitors, %d PodMonitors", eq.name, len(b.serviceMonitors), len(b.podMonitors))
		}
		applyBundle(t, c, a, b)
	}

	h := renderHelm(t, "logging", helmToggles)
	h.external = map[string]bool{"es-apikey": true, "es-ca": true, "tap-token": true}
	if len(h.serviceMonitors) != 1 || len(h.podMonitors) != 1 || len(h.rules) != 1 {
		t.Fatalf("helm toggles: %d ServiceMonitors, %d PodMonitors, %d PrometheusRules", len(h.serviceMonitors), len(h.podMonitors), len(h.rules))
	}
	applyBundle(t, c, a, h)
}
