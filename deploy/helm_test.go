package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/internal/agenttest"
	"sigs.k8s.io/yaml"
)

// chartDir is the Helm chart, relative to deploy/.
const chartDir = "helm/sluice"

// helmRenderer is deploy/helmrender built once per test run: `helm
// template` and `helm lint --strict` done with the Helm v4 library
// (helm.sh/helm/v4 v4.3.2), in its own module so Helm's dependencies stay
// out of the agent's go.mod.
var helmRenderer = moduleTool{name: "helmrender"}

// toolDir holds the binaries of moduleTool builds; TestMain removes it.
var toolDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sluice-deploy-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	toolDir = dir
	code := agenttest.Main(m) // one agent build for the package
	os.RemoveAll(dir)
	os.Exit(code)
}

// toolBuildTimeout bounds a cold build of a tool module (minutes for the
// Helm library on a loaded 2-core machine; `make tools` warms the cache).
const toolBuildTimeout = 10 * time.Minute

// moduleTool is a program in a module of its own under deploy/ (name is
// its folder), built once per test run with GOWORK=off.
type moduleTool struct {
	name string
	once sync.Once
	bin  string
	err  error
}

// build returns the tool's binary; it fails the test when the build does.
func (m *moduleTool) build(t *testing.T) string {
	t.Helper()
	m.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), toolBuildTimeout)
		defer cancel()
		bin := filepath.Join(toolDir, m.name)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
		cmd.Dir = m.name
		cmd.Env = append(os.Environ(), "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			m.err = fmt.Errorf("build deploy/%s: %w\n%s", m.name, err, out)
			return
		}
		m.bin = bin
	})
	if m.err != nil {
		t.Fatal(m.err)
	}
	return m.bin
}

func helmBin(t *testing.T) string {
	t.Helper()
	return helmRenderer.build(t)
}

// helm runs helmrender with args.
func helm(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(helmBin(t), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("helmrender %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

// helmTemplate renders the chart as release "sluice" in namespace ns with
// values (YAML) over the defaults, as `helm template sluice CHART -n ns -f
// values.yaml` does.
func helmTemplate(t *testing.T, ns, values string) ([]byte, error) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(f, []byte(values), 0o600); err != nil {
		t.Fatal(err)
	}
	return helm(t, "-chart", chartDir, "-release", "sluice", "-namespace", ns, "-f", f)
}

// renderHelm renders the chart and decodes every object strictly, as
// render does for kustomize.
func renderHelm(t *testing.T, ns, values string) *bundle {
	t.Helper()
	out, err := helmTemplate(t, ns, values)
	if err != nil {
		t.Fatal(err)
	}
	b := &bundle{}
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(out), -1) {
		var meta struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatalf("helm output does not parse: %v\n%s", err, doc)
		}
		if meta.Kind == "" {
			continue
		}
		scoped := meta.Kind == "Namespace" || strings.HasPrefix(meta.Kind, "Cluster")
		if !scoped && meta.Metadata.Namespace != ns {
			t.Errorf("%s %s: namespace %q, want the release's %q", meta.Kind, meta.Metadata.Name, meta.Metadata.Namespace, ns)
		}
		b.add(t, "helm", meta.Kind, meta.APIVersion, meta.Metadata.Name, []byte(doc))
	}
	b.checkCounts(t, "helm")
	return b
}

// helmToggles turns on every switch of values.yaml at once, with values
// unlike the defaults, so each shows in the rendering.
const helmToggles = `
namespace: {create: true}
image:
  tag: "0.2.0"
  digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
  pullPolicy: Always
imagePullSecrets: [{name: registry-login}]
elasticsearch:
  urls: [https://es-0.logging.svc:9200, https://es-1.logging.svc:9200]
  auth: {type: apiKey, secretName: es-apikey}
  tls: {caSecretName: es-ca}
tap: {tokenSecretName: tap-token}
memoryLimitMiB: 512
resources:
  requests: {cpu: 200m}
  limits: {cpu: "1"}
tolerations: [{key: dedicated, operator: Equal, value: logs, effect: NoSchedule}]
nodeSelector: {kubernetes.io/os: linux}
affinity:
  nodeAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      nodeSelectorTerms:
        - matchExpressions: [{key: node.example.com/logs, operator: NotIn, values: ["off"]}]
priorityClassName: ""
terminationGracePeriodSeconds: 45
dockerRoot: true
dataDir: /var/lib/sluice-agent
extraEnv: [{name: TZ, value: UTC}]
extraVolumes: [{name: scratch, emptyDir: {}}]
extraVolumeMounts: [{name: scratch, mountPath: /scratch}]
podAnnotations: {example.com/owner: platform}
podLabels: {team: platform}
syslog: {enabled: false}
httpPort: 2021
config:
  kubernetes: {annotations: true}
  outputs:
    - name: es
      type: elasticsearch
      urls: [https://es-0.logging.svc:9200, https://es-1.logging.svc:9200]
      api_key_file: /etc/sluice-es/api-key
      tls: {ca_file: /etc/sluice-es-ca/ca.crt}
      index: "logs-{kubernetes.namespace_name}"
metricsService: {enabled: true}
serviceMonitor: {enabled: true, interval: 15s, labels: {release: prom}}
podMonitor: {enabled: true, interval: 15s, labels: {release: prom}}
prometheusRule: {enabled: true, labels: {release: prom}}
dashboards: {enabled: true, annotations: {grafana_folder: Logging}}
`

// TestHelmDefault renders the chart with its defaults and runs every check
// the kustomize base passes.
func TestHelmDefault(t *testing.T) {
	b := renderHelm(t, "sluice", "")
	b.external = map[string]bool{"sluice-es": true, "sluice-tap-token": true}
	runChecks(t, b)
	if len(b.namespaces)+len(b.serviceMonitors)+len(b.podMonitors)+len(b.rules) != 0 {
		t.Errorf("defaults render a Namespace or monitoring objects: %d %d %d %d",
			len(b.namespaces), len(b.serviceMonitors), len(b.podMonitors), len(b.rules))
	}
}

// TestHelmToggles renders every switch on and checks each took effect.
func TestHelmToggles(t *testing.T) {
	b := renderHelm(t, "logging", helmToggles)
	b.external = map[string]bool{"es-apikey": true, "es-ca": true, "tap-token": true}
	cfg, err := b.config()
	if err != nil {
		t.Fatal(err)
	}
	ds, c := b.ds(), b.agent()
	spec := ds.Spec.Template.Spec
	mount := func(name string) *corev1.VolumeMount {
		for i := range c.VolumeMounts {
			if c.VolumeMounts[i].Name == name {
				return &c.VolumeMounts[i]
			}
		}
		return nil
	}
	es := cfg.Outputs[0]
	for what, ok := range map[string]bool{
		"namespace created, privileged": len(b.namespaces) == 1 && b.namespaces[0].Name == "logging" &&
			b.namespaces[0].Labels["pod-security.kubernetes.io/enforce"] == "privileged",
		"image by digest":        c.Image == image+":0.2.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"pull policy":            c.ImagePullPolicy == corev1.PullAlways,
		"pull secret":            len(spec.ImagePullSecrets) == 1 && spec.ImagePullSecrets[0].Name == "registry-login",
		"two URLs":               slices.Equal(es.URLs, []string{"https://es-0.logging.svc:9200", "https://es-1.logging.svc:9200"}),
		"API key from a Secret":  es.APIKeyFile == "/etc/sluice-es/api-key" && b.secretFile(es.APIKeyFile) == nil && es.PasswordFile == "",
		"CA from a Secret":       es.TLS.CAFile == "/etc/sluice-es-ca/ca.crt" && b.secretFile(es.TLS.CAFile) == nil,
		"no ES_USERNAME":         !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "ES_USERNAME" }),
		"tap token Secret":       b.volume("tap-token").Secret.SecretName == "tap-token" && b.secretFile(cfg.HTTP.TokenFile) == nil,
		"memory_limit":           int64(cfg.MemoryLimit) == 512<<20,
		"memory request":         c.Resources.Requests.Memory().String() == "512Mi",
		"memory limit":           c.Resources.Limits.Memory().String() == "768Mi",
		"cpu":                    c.Resources.Requests.Cpu().String() == "200m" && c.Resources.Limits.Cpu().String() == "1",
		"tolerations":            len(spec.Tolerations) == 1 && spec.Tolerations[0].Key == "dedicated",
		"node selector":          spec.NodeSelector["kubernetes.io/os"] == "linux",
		"affinity":               spec.Affinity != nil && spec.Affinity.NodeAffinity != nil,
		"no priority class":      spec.PriorityClassName == "",
		"grace period":           *spec.TerminationGracePeriodSeconds == 45,
		"docker root read-only":  mount("docker-containers") != nil && mount("docker-containers").ReadOnly && b.volume("docker-containers").HostPath.Path == "/var/lib/docker/containers",
		"data_dir":               cfg.DataDir == "/var/lib/sluice-agent" && b.volume("data").HostPath.Path == "/var/lib/sluice-agent",
		"extra env":              slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "TZ" && e.Value == "UTC" }),
		"extra volume":           b.volume("scratch") != nil && mount("scratch") != nil,
		"pod annotation":         ds.Spec.Template.Annotations["example.com/owner"] == "platform",
		"pod label":              ds.Spec.Template.Labels["team"] == "platform",
		"no syslog input":        !slices.ContainsFunc(cfg.Inputs, func(in config.Input) bool { return in.Type == "syslog" }),
		"no syslog Service":      b.syslogService() == nil,
		"no syslog ports":        len(c.Ports) == 1 && c.Ports[0].ContainerPort == 2021,
		"HTTP port":              cfg.HTTP.Listen == "0.0.0.0:2021" && ds.Spec.Template.Annotations["prometheus.io/port"] == "2021",
		"config merged":          cfg.Kubernetes.Annotations && cfg.Kubernetes.Labels,
		"config list replaced":   es.Index == "logs-{kubernetes.namespace_name}",
		"metrics Service":        slices.ContainsFunc(b.services, func(s *corev1.Service) bool { return s.Name == "sluice-metrics" && s.Spec.Ports[0].Port == 2021 }),
		"ServiceMonitor":         len(b.serviceMonitors) == 1 && b.serviceMonitors[0].Labels["release"] == "prom" && string(b.serviceMonitors[0].Spec.Endpoints[0].Interval) == "15s",
		"PodMonitor":             len(b.podMonitors) == 1 && b.podMonitors[0].Labels["release"] == "prom",
		"PrometheusRule":         len(b.rules) == 1 && len(b.rules[0].Spec.Groups) > 0 && b.rules[0].Labels["release"] == "prom",
		"dashboards ConfigMap":   b.configMap("sluice-dashboards") != nil && b.configMap("sluice-dashboards").Labels["grafana_dashboard"] == "1" && b.configMap("sluice-dashboards").Annotations["grafana_folder"] == "Logging",
		"config checksum on pod": ds.Spec.Template.Annotations["checksum/config"] != "",
	} {
		if !ok {
			t.Errorf("toggle not in effect: %s", what)
		}
	}
	for _, name := range []string{"security context", "RBAC is exactly get/list/watch on pods and namespaces", "service account is used",
		"credential files come from a Secret", "no credential in a ConfigMap", "tap requires a bearer token", "probes on the config's HTTP port",
		"host logs mounted read-only", "data_dir on a hostPath", "grace period above shutdown_timeout", "resources cover memory_limit",
		"syslog Service targets the config's ports", "config's references to the pod resolve"} {
		i := slices.IndexFunc(checks, func(c check) bool { return c.name == name })
		if err := checks[i].fn(b); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestHelmRefuses: values that break the agent fail the install with a
// message that says what to change.
func TestHelmRefuses(t *testing.T) {
	for _, tc := range []struct{ values, want string }{
		{"resources: {requests: {memory: 128Mi}}", "resources.requests.memory 128Mi is below memoryLimitMiB 256"},
		{"resources: {limits: {memory: 300Mi}}", "resources.limits.memory 300Mi is below 1.25 x memoryLimitMiB 256"},
		{"resources: {limits: {memory: 400M}}", `memory quantity "400M": write it in Mi or Gi`},
		{"config: {memory_limit: 1GiB}", "config.memory_limit: set memoryLimitMiB instead"},
		{"elasticsearch: {auth: {type: password}}", `elasticsearch.auth.type "password": want basic, apiKey, bearer or none`},
	} {
		_, err := helmTemplate(t, "sluice", tc.values)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("values %s: want an error with %q, got %v", tc.values, tc.want, err)
		}
	}
	// 1Gi is 1024 MiB: a limit in Gi is understood.
	if _, err := helmTemplate(t, "sluice", "memoryLimitMiB: 800\nresources: {requests: {memory: 1Gi}, limits: {memory: 1Gi}}"); err != nil {
		t.Errorf("Gi quantities: %v", err)
	}
}

// TestHelmLint runs helm lint --strict with the defaults and every toggle.
func TestHelmLint(t *testing.T) {
	f := filepath.Join(t.TempDir(), "toggles.yaml")
	if err := os.WriteFile(f, []byte(helmToggles), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{}, {"-f", f}} {
		out, err := helm(t, append([]string{"-lint", "-chart", chartDir, "-namespace", "sluice"}, args...)...)
		if err != nil {
			t.Errorf("%v\n%s", err, out)
		}
	}
	// And it is no rubber stamp: a copy of the chart with a template that
	// does not parse fails it. (Helm's lint mode lets the templates' own
	// `fail` pass on purpose; TestHelmRefuses covers those.)
	broken := t.TempDir()
	if err := os.CopyFS(broken, os.DirFS(chartDir)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(broken, "templates", "broken.yaml"), []byte("{{ .Values.image "), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := helm(t, "-lint", "-chart", broken, "-namespace", "sluice"); err == nil || !strings.Contains(err.Error(), "broken.yaml") {
		t.Errorf("lint of a template that does not parse: %v", err)
	}
}

// equivalences pair Helm values with the kustomization that renders the
// same objects.
var equivalences = []struct {
	name, values, dir string
	overlay           map[string]string
}{
	{"base", "namespace: {create: true}", ".", nil},
	{"monitoring", "namespace: {create: true}\nserviceMonitor: {enabled: true}\nprometheusRule: {enabled: true}\ndashboards: {enabled: true}",
		"examples/monitoring", nil},
	{"podmonitor and docker", "namespace: {create: true}\npodMonitor: {enabled: true}\ndockerRoot: true", "test-overlay", map[string]string{
		"test-overlay/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: sluice\n" +
			"resources: [../base]\ncomponents: [../monitoring/podmonitor, ../components/docker]\n",
	}},
}

// TestHelmKustomizeEquivalence: for the same settings the chart and the
// kustomize base render the same objects, but for Helm's bookkeeping
// (release labels, the config checksum) and kustomize's (hashed names).
// The agent configs are compared as sluice loads them.
func TestHelmKustomizeEquivalence(t *testing.T) {
	for _, eq := range equivalences {
		t.Run(eq.name, func(t *testing.T) {
			h := renderHelm(t, "sluice", eq.values)
			k := render(t, eq.dir, eq.overlay)
			for _, b := range []*bundle{h, k} {
				b.external = map[string]bool{"sluice-es": true, "sluice-tap-token": true}
			}
			hc, err := h.config()
			if err != nil {
				t.Fatal(err)
			}
			kc, err := k.config()
			if err != nil {
				t.Fatal(err)
			}
			// Each load lays the Secrets' files out in a folder of its own.
			tmp := regexp.MustCompile(`/sluice-deploy-[0-9]+/`)
			hj, _ := json.MarshalIndent(hc, "", " ")
			kj, _ := json.MarshalIndent(kc, "", " ")
			hj, kj = tmp.ReplaceAll(hj, []byte("/TMP/")), tmp.ReplaceAll(kj, []byte("/TMP/"))
			if !bytes.Equal(hj, kj) {
				t.Errorf("the agent configs differ:\nhelm: %s\nkustomize: %s", hj, kj)
			}
			ho, ko := comparable(t, h), comparable(t, k)
			for key := range ko {
				if _, ok := ho[key]; !ok {
					t.Errorf("kustomize renders %s, helm does not", key)
				}
			}
			for key, hv := range ho {
				kv, ok := ko[key]
				if !ok {
					t.Errorf("helm renders %s, kustomize does not", key)
					continue
				}
				if err := subset(kv, hv, key); err != nil {
					t.Errorf("kustomize has, helm differs: %v", err)
				}
				if err := subset(hv, kv, key); err != nil {
					t.Errorf("helm has, kustomize differs: %v", err)
				}
			}
		})
	}
}

// helmOnly are what Helm adds for its own bookkeeping.
var helmOnly = []string{"helm.sh/chart", "app.kubernetes.io/managed-by", "app.kubernetes.io/instance", "app.kubernetes.io/version", "checksum/config"}

var hashed = regexp.MustCompile(`^(sluice-(?:config|env))-[a-z0-9]{10}$`)

// comparable is every object of b by kind and name, as plain maps without
// the bookkeeping of either tool; the config file is compared apart.
func comparable(t *testing.T, b *bundle) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, o := range b.objects() {
		u, err := unstructuredOf(o)
		if err != nil {
			t.Fatal(err)
		}
		var clean func(v any) any
		clean = func(v any) any {
			switch x := v.(type) {
			case map[string]any:
				for _, k := range helmOnly {
					delete(x, k)
				}
				for k, val := range x {
					x[k] = clean(val)
				}
			case []any:
				for i := range x {
					x[i] = clean(x[i])
				}
			case string:
				return hashed.ReplaceAllString(x, "$1")
			}
			return v
		}
		m := clean(u.Object).(map[string]any)
		name := hashed.ReplaceAllString(u.GetName(), "$1")
		if name == "sluice-config" {
			delete(m, "data")
		}
		out[u.GetKind()+" "+name] = m
	}
	return out
}

// TestMonitoringCopies: the chart's copies of the alert rules and the
// dashboard are the monitoring component's.
func TestMonitoringCopies(t *testing.T) {
	// The PrometheusRule is decoded strictly into its type by
	// TestMonitoringKustomize; here only its spec matters.
	var rule struct {
		Spec any `json:"spec"`
	}
	var copied any
	for file, into := range map[string]any{"monitoring/prometheusrule.yaml": &rule, chartDir + "/files/sluice.rules.yaml": &copied} {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(raw, into); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	}
	if err := subset(rule.Spec, copied, "rules"); err != nil {
		t.Errorf("%s/files/sluice.rules.yaml is not spec of monitoring/prometheusrule.yaml: %v", chartDir, err)
	}
	if err := subset(copied, rule.Spec, "rules"); err != nil {
		t.Errorf("%s/files/sluice.rules.yaml is not spec of monitoring/prometheusrule.yaml: %v", chartDir, err)
	}
	dash, err := os.ReadFile("monitoring/dashboards/sluice.json")
	if err != nil {
		t.Fatal(err)
	}
	dashCopy, err := os.ReadFile(chartDir + "/files/dashboards/sluice.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dash, dashCopy) {
		t.Errorf("%s/files/dashboards/sluice.json differs from monitoring/dashboards/sluice.json", chartDir)
	}
}

// TestHelmESURL is the README's install line: `--set
// elasticsearch.url=...` is all the agent needs to know where to ship.
func TestHelmESURL(t *testing.T) {
	const url = "https://es.example.com:9200"
	b := renderHelm(t, "sluice", "elasticsearch: {url: "+url+"}")
	b.external = map[string]bool{"sluice-es": true, "sluice-tap-token": true}
	runChecks(t, b)
	cfg, err := b.config()
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Outputs[0].URLs; !slices.Equal(got, []string{url}) {
		t.Errorf("the agent ships to %v, want [%s]", got, url)
	}
}

// TestREADMEHelmInstall renders the chart with the --set values of the
// README's `helm install` line: a DaemonSet shipping to that URL, with the
// ServiceMonitor, the alerts and the dashboards.
func TestREADMEHelmInstall(t *testing.T) {
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`(?s)\nhelm install sluice deploy/helm/sluice -n sluice((?:[^\n]*\\\n)*[^\n]*)\n`).FindSubmatch(raw)
	if line == nil {
		t.Fatal("README: no `helm install sluice deploy/helm/sluice -n sluice` line")
	}
	values := map[string]any{}
	sets := regexp.MustCompile(`--set (\S+)`).FindAllSubmatch(line[1], -1)
	for _, set := range sets {
		for _, kv := range strings.Split(string(set[1]), ",") {
			key, val, ok := strings.Cut(kv, "=")
			if !ok {
				t.Fatalf("README: --set %s", kv)
			}
			m := values
			parts := strings.Split(key, ".")
			for _, p := range parts[:len(parts)-1] {
				if _, ok := m[p].(map[string]any); !ok {
					m[p] = map[string]any{}
				}
				m = m[p].(map[string]any)
			}
			var v any = val
			if val == "true" || val == "false" {
				v = val == "true"
			}
			m[parts[len(parts)-1]] = v
		}
	}
	url, _ := values["elasticsearch"].(map[string]any)["url"].(string)
	if len(sets) == 0 || url == "" {
		t.Fatalf("README's helm install sets no elasticsearch.url: %q", line[1])
	}
	y, err := yaml.Marshal(values)
	if err != nil {
		t.Fatal(err)
	}
	b := renderHelm(t, "sluice", string(y))
	b.external = map[string]bool{"sluice-es": true, "sluice-tap-token": true}
	runChecks(t, b)
	cfg, err := b.config()
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Outputs[0].URLs; !slices.Equal(got, []string{url}) {
		t.Errorf("ships to %v, want [%s]", got, url)
	}
	if len(b.serviceMonitors) != 1 || len(b.rules) != 1 || b.configMap("sluice-dashboards") == nil {
		t.Errorf("%d ServiceMonitors, %d PrometheusRules, dashboards %v", len(b.serviceMonitors), len(b.rules), b.configMap("sluice-dashboards") != nil)
	}
}
