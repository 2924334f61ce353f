// Package deploy holds the Kubernetes manifests of sluice (kustomize). Its
// test renders them in-process, decodes every object strictly into its
// Kubernetes API type and checks what an operator relies on, including that
// sluice's own config loader accepts the ConfigMap's config.
package deploy

import (
	"fmt"
	"io/fs"
	"maps"
	"net"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/sluicelog/sluice/agent/config"
)

// configKey is the file of the agent config in the sluice-config ConfigMap.
const (
	configKey  = "sluice.yaml"
	configPath = "/etc/sluice/" + configKey
	image      = "ghcr.io/sluicelog/sluice"
)

// bundle is one rendered kustomization, every object decoded strictly.
type bundle struct {
	namespaces []*corev1.Namespace
	accounts   []*corev1.ServiceAccount
	roles      []*rbacv1.ClusterRole
	bindings   []*rbacv1.ClusterRoleBinding
	configMaps []*corev1.ConfigMap
	secrets    []*corev1.Secret
	daemonSets []*appsv1.DaemonSet
	services   []*corev1.Service
	// Prometheus Operator objects (monitoring.coreos.com/v1).
	serviceMonitors []*monitoringv1.ServiceMonitor
	podMonitors     []*monitoringv1.PodMonitor
	rules           []*monitoringv1.PrometheusRule
	// external names the Secrets that the operator creates.
	external map[string]bool
}

// render builds the kustomization at dir (relative to deploy/) from a copy
// of deploy/ in memory, with extra files (those an operator provides) added.
func render(t *testing.T, dir string, extra map[string]string) *bundle {
	t.Helper()
	mem := filesys.MakeFsInMemory()
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return mem.WriteFile(path.Join("/deploy", filepath.ToSlash(p)), raw)
	})
	if err != nil {
		t.Fatal(err)
	}
	for p, content := range extra {
		if err := mem.WriteFile(path.Join("/deploy", p), []byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(mem, path.Join("/deploy", dir))
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	b := &bundle{}
	for _, r := range res.Resources() {
		raw, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		b.add(t, dir, r.GetKind(), r.GetApiVersion(), r.GetName(), raw)
	}
	b.checkCounts(t, dir)
	return b
}

// add decodes one rendered object strictly into its API type.
func (b *bundle) add(t *testing.T, dir, kind, apiVersion, name string, raw []byte) {
	t.Helper()
	var obj any
	var want string
	switch kind {
	case "Namespace":
		o := &corev1.Namespace{}
		obj, want, b.namespaces = o, "v1", append(b.namespaces, o)
	case "ServiceAccount":
		o := &corev1.ServiceAccount{}
		obj, want, b.accounts = o, "v1", append(b.accounts, o)
	case "ClusterRole":
		o := &rbacv1.ClusterRole{}
		obj, want, b.roles = o, "rbac.authorization.k8s.io/v1", append(b.roles, o)
	case "ClusterRoleBinding":
		o := &rbacv1.ClusterRoleBinding{}
		obj, want, b.bindings = o, "rbac.authorization.k8s.io/v1", append(b.bindings, o)
	case "ConfigMap":
		o := &corev1.ConfigMap{}
		obj, want, b.configMaps = o, "v1", append(b.configMaps, o)
	case "Secret":
		o := &corev1.Secret{}
		obj, want, b.secrets = o, "v1", append(b.secrets, o)
	case "DaemonSet":
		o := &appsv1.DaemonSet{}
		obj, want, b.daemonSets = o, "apps/v1", append(b.daemonSets, o)
	case "Service":
		o := &corev1.Service{}
		obj, want, b.services = o, "v1", append(b.services, o)
	case "ServiceMonitor":
		o := &monitoringv1.ServiceMonitor{}
		obj, want, b.serviceMonitors = o, "monitoring.coreos.com/v1", append(b.serviceMonitors, o)
	case "PodMonitor":
		o := &monitoringv1.PodMonitor{}
		obj, want, b.podMonitors = o, "monitoring.coreos.com/v1", append(b.podMonitors, o)
	case "PrometheusRule":
		o := &monitoringv1.PrometheusRule{}
		obj, want, b.rules = o, "monitoring.coreos.com/v1", append(b.rules, o)
	default:
		t.Fatalf("%s: unexpected kind %s %s: add it to the test", dir, apiVersion, kind)
	}
	if apiVersion != want {
		t.Fatalf("%s %s: apiVersion %s, want %s", kind, name, apiVersion, want)
	}
	if err := yaml.UnmarshalStrict(raw, obj); err != nil {
		t.Fatalf("%s %s does not decode strictly: %v\n%s", kind, name, err, raw)
	}
}

// checkCounts wants one of each object the agent needs (a Namespace only
// where the render creates it).
func (b *bundle) checkCounts(t *testing.T, dir string) {
	t.Helper()
	for what, n := range map[string]int{
		"ServiceAccount": len(b.accounts), "ClusterRole": len(b.roles),
		"ClusterRoleBinding": len(b.bindings), "DaemonSet": len(b.daemonSets),
	} {
		if n != 1 {
			t.Fatalf("%s: %d objects of kind %s, want 1", dir, n, what)
		}
	}
	if len(b.namespaces) > 1 {
		t.Fatalf("%s: %d Namespaces", dir, len(b.namespaces))
	}
}

// syslogService is the Service of the syslog input, or nil.
func (b *bundle) syslogService() *corev1.Service {
	for _, s := range b.services {
		if strings.HasSuffix(s.Name, "-syslog") {
			return s
		}
	}
	return nil
}

func (b *bundle) ds() *appsv1.DaemonSet { return b.daemonSets[0] }

// agent is the sluice container of the DaemonSet, or nil.
func (b *bundle) agent() *corev1.Container {
	for i := range b.ds().Spec.Template.Spec.Containers {
		c := &b.ds().Spec.Template.Spec.Containers[i]
		if strings.HasPrefix(c.Image, image) {
			return c
		}
	}
	return nil
}

func (b *bundle) configMap(name string) *corev1.ConfigMap {
	for _, cm := range b.configMaps {
		if cm.Name == name {
			return cm
		}
	}
	return nil
}

func (b *bundle) secret(name string) *corev1.Secret {
	for _, s := range b.secrets {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// volume is the pod volume of that name, or nil.
func (b *bundle) volume(name string) *corev1.Volume {
	for i, v := range b.ds().Spec.Template.Spec.Volumes {
		if v.Name == name {
			return &b.ds().Spec.Template.Spec.Volumes[i]
		}
	}
	return nil
}

// env is the agent's environment as the kubelet would give it, with a
// marker for each value it can only know at run time: "secret:NAME/KEY"
// for a Secret's key, "field:PATH" for the downward API, "resource:NAME".
func (b *bundle) env() (map[string]string, error) {
	c := b.agent()
	if c == nil {
		return nil, fmt.Errorf("no container runs %s", image)
	}
	env := map[string]string{}
	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			cm := b.configMap(from.ConfigMapRef.Name)
			if cm == nil {
				return nil, fmt.Errorf("envFrom: no ConfigMap %s", from.ConfigMapRef.Name)
			}
			for k, v := range cm.Data {
				env[from.Prefix+k] = v
			}
		case from.SecretRef != nil:
			return nil, fmt.Errorf("envFrom a whole Secret (%s): name each key instead", from.SecretRef.Name)
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.SecretKeyRef != nil:
			env[e.Name] = "secret:" + e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
		case e.ValueFrom.FieldRef != nil:
			env[e.Name] = "field:" + e.ValueFrom.FieldRef.FieldPath
		case e.ValueFrom.ResourceFieldRef != nil:
			env[e.Name] = "resource:" + e.ValueFrom.ResourceFieldRef.Resource
		case e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			cm := b.configMap(ref.Name)
			if cm == nil {
				return nil, fmt.Errorf("env %s: no ConfigMap %s", e.Name, ref.Name)
			}
			env[e.Name] = cm.Data[ref.Key]
		}
	}
	return env, nil
}

// rawConfig is the config file the agent reads: the -config argument must
// be the ConfigMap's key as mounted.
func (b *bundle) rawConfig() (string, error) {
	c := b.agent()
	if c == nil {
		return "", fmt.Errorf("no container runs %s", image)
	}
	args := append(append([]string{}, c.Command...), c.Args...)
	i := slices.Index(args, "-config")
	if i < 0 || i+1 >= len(args) {
		return "", fmt.Errorf("args %q: no -config", args)
	}
	file := args[i+1]
	for _, m := range c.VolumeMounts {
		if path.Dir(file) != path.Clean(m.MountPath) {
			continue
		}
		v := b.volume(m.Name)
		if v == nil || v.ConfigMap == nil {
			return "", fmt.Errorf("mount %s: not a ConfigMap volume", m.Name)
		}
		cm := b.configMap(v.ConfigMap.Name)
		if cm == nil {
			return "", fmt.Errorf("volume %s: no ConfigMap %s", v.Name, v.ConfigMap.Name)
		}
		raw, ok := cm.Data[path.Base(file)]
		if !ok {
			return "", fmt.Errorf("ConfigMap %s has no key %s", cm.Name, path.Base(file))
		}
		return raw, nil
	}
	return "", fmt.Errorf("-config %s: no volume mounted at %s", file, path.Dir(file))
}

// operatorSecrets are the Secrets the base expects the operator to create
// (kustomization.yaml says how), with stand-in values.
var operatorSecrets = map[string]map[string]string{
	"sluice-es":        {"username": "elastic", "password": "es-password-of-the-operator"},
	"sluice-tap-token": {"token": "tap-token-of-the-operator"},
	// The Helm toggles' Secrets (helm_test.go).
	"es-apikey": {"api-key": "c2x1aWNlOnRlc3Q="},
	"es-ca":     {"ca.crt": overlayFiles["examples/es-apikey-tls/ca.crt"]},
	"tap-token": {"token": "tap-token-of-the-operator"},
}

// secretFiles are the files the pod sees from its Secret volumes, by path:
// the rendered Secrets' keys, or operatorSecrets for the external ones.
func (b *bundle) secretFiles() map[string][]byte {
	files := map[string][]byte{}
	for _, m := range b.agent().VolumeMounts {
		v := b.volume(m.Name)
		if v == nil || v.Secret == nil || m.SubPath != "" {
			continue
		}
		data := map[string][]byte{}
		if s := b.secret(v.Secret.SecretName); s != nil {
			maps.Copy(data, s.Data)
			for k, val := range s.StringData {
				data[k] = []byte(val)
			}
		} else if b.external[v.Secret.SecretName] {
			for k, val := range operatorSecrets[v.Secret.SecretName] {
				data[k] = []byte(val)
			}
		}
		for key, val := range data {
			file := key
			if len(v.Secret.Items) > 0 {
				file = ""
				for _, it := range v.Secret.Items {
					if it.Key == key {
						file = it.Path
					}
				}
			}
			if file != "" {
				files[path.Join(m.MountPath, file)] = val
			}
		}
	}
	return files
}

// config is the agent config as sluice loads it in the pod. The loader
// reads http.token_file while validating, so the files of the pod's Secret
// volumes that the config names are laid out in a temporary directory and
// the config pointed there; the paths are put back afterwards.
func (b *bundle) config() (*config.Config, error) {
	raw, err := b.rawConfig()
	if err != nil {
		return nil, err
	}
	env, err := b.env()
	if err != nil {
		return nil, err
	}
	root, err := os.MkdirTemp("", "sluice-deploy-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(root)
	for file, data := range b.secretFiles() {
		if !strings.Contains(raw, file) {
			continue
		}
		dst := filepath.Join(root, filepath.FromSlash(file))
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return nil, err
		}
		if err := os.WriteFile(dst, data, 0o600); err != nil {
			return nil, err
		}
		raw = strings.ReplaceAll(raw, file, filepath.ToSlash(dst))
	}
	cfg, err := config.Parse([]byte(raw), func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
	if err != nil {
		return nil, fmt.Errorf("sluice rejects the ConfigMap's config:\n%s", strings.ReplaceAll(err.Error(), filepath.ToSlash(root), ""))
	}
	unroot := func(p *string) { *p = strings.TrimPrefix(*p, filepath.ToSlash(root)) }
	unroot(&cfg.HTTP.TokenFile)
	unroot(&cfg.Kubernetes.Kubelet.TokenFile)
	unroot(&cfg.Kubernetes.Kubelet.CAFile)
	for i := range cfg.Outputs {
		o := &cfg.Outputs[i]
		for _, p := range []*string{&o.PasswordFile, &o.APIKeyFile, &o.BearerTokenFile, &o.TLS.CAFile, &o.TLS.CertFile, &o.TLS.KeyFile} {
			unroot(p)
		}
	}
	return cfg, nil
}

func portOf(addr string) (int32, error) {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(p, 10, 32)
	return int32(n), err
}

// containerPort resolves a probe's or a Service's target port against the
// agent container: a name or a number, which must be declared with proto.
func (b *bundle) containerPort(p intstr.IntOrString, proto corev1.Protocol) (int32, error) {
	for _, cp := range b.agent().Ports {
		pr := cp.Protocol
		if pr == "" {
			pr = corev1.ProtocolTCP
		}
		if pr != proto {
			continue
		}
		if (p.Type == intstr.String && cp.Name == p.StrVal) || (p.Type == intstr.Int && cp.ContainerPort == p.IntVal) {
			return cp.ContainerPort, nil
		}
	}
	return 0, fmt.Errorf("port %s/%s is not declared by the container", p.String(), proto)
}

// hostPathMount finds the mount of a hostPath volume that holds dir.
func (b *bundle) hostPathMount(dir string) (*corev1.VolumeMount, *corev1.Volume) {
	for i, m := range b.agent().VolumeMounts {
		v := b.volume(m.Name)
		if v == nil || v.HostPath == nil {
			continue
		}
		if dir == m.MountPath || strings.HasPrefix(dir, strings.TrimSuffix(m.MountPath, "/")+"/") {
			return &b.agent().VolumeMounts[i], v
		}
	}
	return nil, nil
}

// secretFile checks that file is a key of a Secret mounted whole and not
// optional: the agent refuses to start on a missing credential file.
func (b *bundle) secretFile(file string) error {
	for _, m := range b.agent().VolumeMounts {
		if path.Dir(file) != path.Clean(m.MountPath) || m.SubPath != "" {
			continue
		}
		v := b.volume(m.Name)
		if v == nil || v.Secret == nil {
			return fmt.Errorf("mounted from %s, not a Secret", m.Name)
		}
		if v.Secret.Optional != nil && *v.Secret.Optional {
			return fmt.Errorf("Secret %s is optional", v.Secret.SecretName)
		}
		key := path.Base(file)
		for _, it := range v.Secret.Items {
			if it.Path == key {
				key = it.Key
			}
		}
		if s := b.secret(v.Secret.SecretName); s != nil {
			if _, ok := s.Data[key]; !ok {
				return fmt.Errorf("Secret %s has no key %s", s.Name, key)
			}
		} else if !b.external[v.Secret.SecretName] {
			return fmt.Errorf("no Secret %s", v.Secret.SecretName)
		}
		return nil
	}
	return fmt.Errorf("no volume is mounted at %s", path.Dir(file))
}

type check struct {
	name string
	fn   func(b *bundle) error
}

var checks = []check{
	{"config passes sluice's loader", func(b *bundle) error {
		_, err := b.config()
		return err
	}},
	{"no credential in a ConfigMap", func(b *bundle) error {
		cfg, err := b.config()
		if err != nil {
			return err
		}
		for _, o := range cfg.Outputs {
			for key, v := range map[string]string{"password": o.Password, "api_key": o.APIKey, "bearer_token": o.BearerToken} {
				if v != "" && !strings.HasPrefix(v, "secret:") {
					return fmt.Errorf("output %s: %s is written in the ConfigMap, not taken from a Secret", o.Name, key)
				}
			}
			if o.Username != "" && !strings.HasPrefix(o.Username, "secret:") {
				return fmt.Errorf("output %s: username is written in the ConfigMap; take it from the Secret with the password", o.Name)
			}
			for _, u := range o.URLs {
				if strings.Contains(u, "@") {
					return fmt.Errorf("output %s: URL %q carries user info", o.Name, u)
				}
			}
			for k := range o.Headers {
				if strings.EqualFold(k, "Authorization") {
					return fmt.Errorf("output %s: Authorization header in the ConfigMap", o.Name)
				}
			}
		}
		secretish := regexp.MustCompile(`(?i)pass|secret|token|api_?key|credential`)
		for _, cm := range b.configMaps {
			for k := range cm.Data {
				if k != configKey && secretish.MatchString(k) {
					return fmt.Errorf("ConfigMap %s holds %s: put it in a Secret", cm.Name, k)
				}
			}
		}
		return nil
	}},
	{"credential files come from a Secret", func(b *bundle) error {
		cfg, err := b.config()
		if err != nil {
			return err
		}
		files := map[string]string{"http.token_file": cfg.HTTP.TokenFile}
		for _, o := range cfg.Outputs {
			for k, f := range map[string]string{
				"password_file": o.PasswordFile, "api_key_file": o.APIKeyFile, "bearer_token_file": o.BearerTokenFile,
				"tls.ca_file": o.TLS.CAFile, "tls.cert_file": o.TLS.CertFile, "tls.key_file": o.TLS.KeyFile,
			} {
				files["outputs."+o.Name+"."+k] = f
			}
		}
		for key, f := range files {
			if f == "" {
				continue
			}
			if err := b.secretFile(f); err != nil {
				return fmt.Errorf("%s %s: %w", key, f, err)
			}
		}
		return nil
	}},
	{"tap requires a bearer token", func(b *bundle) error {
		cfg, err := b.config()
		if err != nil {
			return err
		}
		if cfg.HTTP.Listen == "" {
			return nil
		}
		// Every pod of the cluster reaches the agents' port.
		if cfg.HTTP.TokenFile == "" {
			return fmt.Errorf("http.token_file unset: any pod can read every log line of the node from the tap")
		}
		if err := b.secretFile(cfg.HTTP.TokenFile); err != nil {
			return fmt.Errorf("http.token_file %s: %w", cfg.HTTP.TokenFile, err)
		}
		return nil
	}},
	{"config's references to the pod resolve", func(b *bundle) error {
		spec := b.ds().Spec.Template.Spec
		for _, v := range spec.Volumes {
			if v.ConfigMap != nil && b.configMap(v.ConfigMap.Name) == nil {
				return fmt.Errorf("volume %s: no ConfigMap %s", v.Name, v.ConfigMap.Name)
			}
			if v.Secret != nil && (v.Secret.Optional == nil || !*v.Secret.Optional) && b.secret(v.Secret.SecretName) == nil && !b.external[v.Secret.SecretName] {
				return fmt.Errorf("volume %s: no Secret %s and not optional", v.Name, v.Secret.SecretName)
			}
		}
		for _, e := range b.agent().Env {
			if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
				continue
			}
			ref := e.ValueFrom.SecretKeyRef
			if ref.Optional != nil && *ref.Optional {
				continue
			}
			s := b.secret(ref.Name)
			if s == nil && b.external[ref.Name] {
				continue
			}
			if s == nil {
				return fmt.Errorf("env %s: no Secret %s and not optional", e.Name, ref.Name)
			}
			if _, ok := s.Data[ref.Key]; !ok {
				return fmt.Errorf("env %s: Secret %s has no key %s", e.Name, ref.Name, ref.Key)
			}
		}
		for _, m := range b.agent().VolumeMounts {
			if b.volume(m.Name) == nil {
				return fmt.Errorf("mount %s: no such volume", m.Name)
			}
		}
		return nil
	}},
	{"image and tag", func(b *bundle) error {
		img := b.agent().Image
		tag, ok := strings.CutPrefix(img, image+":")
		if !ok || tag == "" || tag == "latest" || strings.ContainsAny(tag, ":/@") {
			return fmt.Errorf("image %q: want %s:<release tag>", img, image)
		}
		return nil
	}},
	{"service account is used", func(b *bundle) error {
		sa, role, bind, ds := b.accounts[0], b.roles[0], b.bindings[0], b.ds()
		if ds.Spec.Template.Spec.ServiceAccountName != sa.Name || ds.Namespace != sa.Namespace {
			return fmt.Errorf("DaemonSet %s/%s runs as %q, the ServiceAccount is %s/%s",
				ds.Namespace, ds.Name, ds.Spec.Template.Spec.ServiceAccountName, sa.Namespace, sa.Name)
		}
		if am := ds.Spec.Template.Spec.AutomountServiceAccountToken; am != nil && !*am {
			return fmt.Errorf("the pod does not mount its service account token")
		}
		if bind.RoleRef.Kind != "ClusterRole" || bind.RoleRef.Name != role.Name || bind.RoleRef.APIGroup != rbacv1.GroupName {
			return fmt.Errorf("binding refers to %+v, not ClusterRole %s", bind.RoleRef, role.Name)
		}
		if len(bind.Subjects) != 1 || bind.Subjects[0].Kind != "ServiceAccount" ||
			bind.Subjects[0].Name != sa.Name || bind.Subjects[0].Namespace != sa.Namespace {
			return fmt.Errorf("binding subjects %+v, want only ServiceAccount %s/%s", bind.Subjects, sa.Namespace, sa.Name)
		}
		if ns := ds.Namespace; sa.Namespace != ns {
			return fmt.Errorf("ServiceAccount in %q, the Namespace is %q", sa.Namespace, ns)
		}
		return nil
	}},
	{"RBAC is exactly get/list/watch on pods and namespaces", func(b *bundle) error {
		granted := map[string]bool{}
		for _, r := range b.roles[0].Rules {
			if len(r.NonResourceURLs) > 0 || len(r.ResourceNames) > 0 {
				return fmt.Errorf("rule %+v: only whole resources are wanted", r)
			}
			for _, g := range r.APIGroups {
				for _, res := range r.Resources {
					for _, v := range r.Verbs {
						granted[g+"/"+res+":"+v] = true
					}
				}
			}
		}
		if b.roles[0].AggregationRule != nil {
			return fmt.Errorf("the ClusterRole aggregates others")
		}
		want := map[string]bool{}
		for _, res := range []string{"pods", "namespaces"} {
			for _, v := range []string{"get", "list", "watch"} {
				want["/"+res+":"+v] = true
			}
		}
		for k := range granted {
			if !want[k] {
				return fmt.Errorf("grants %s, more than the agent needs", k)
			}
		}
		for k := range want {
			if !granted[k] {
				return fmt.Errorf("does not grant %s", k)
			}
		}
		return nil
	}},
	{"probes on the config's HTTP port", func(b *bundle) error {
		cfg, err := b.config()
		if err != nil {
			return err
		}
		if cfg.HTTP.Listen == "" {
			return fmt.Errorf("http.listen is off: no probes, no metrics")
		}
		port, err := portOf(cfg.HTTP.Listen)
		if err != nil {
			return err
		}
		c := b.agent()
		for _, p := range []struct {
			name, path string
			probe      *corev1.Probe
		}{{"liveness", "/healthz", c.LivenessProbe}, {"readiness", "/readyz", c.ReadinessProbe}} {
			if p.probe == nil || p.probe.HTTPGet == nil {
				return fmt.Errorf("no %s HTTP probe", p.name)
			}
			if p.probe.HTTPGet.Path != p.path {
				return fmt.Errorf("%s probe on %s, want %s", p.name, p.probe.HTTPGet.Path, p.path)
			}
			got, err := b.containerPort(p.probe.HTTPGet.Port, corev1.ProtocolTCP)
			if err != nil {
				return fmt.Errorf("%s probe: %w", p.name, err)
			}
			if got != port {
				return fmt.Errorf("%s probe on port %d, the agent listens on %d", p.name, got, port)
			}
		}
		ann := b.ds().Spec.Template.Annotations
		if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/path"] != "/metrics" ||
			ann["prometheus.io/port"] != strconv.Itoa(int(port)) {
			return fmt.Errorf("scrape annotations %v do not point at /metrics on %d", ann, port)
		}
		return nil
	}},
	{"host logs mounted read-only", func(b *bundle) error {
		cfg, err := b.config()
		if err != nil {
			return err
		}
		// The kubelet's links in /var/log/containers point into /var/log/pods:
		// both must be readable at the same paths as on the host.
		dirs := []string{"/var/log/pods"}
		for _, in := range cfg.Inputs {
			for _, p := range in.Paths {
				dirs = append(dirs, path.Dir(p))
			}
		}
		for _, dir := range dirs {
			m, v := b.hostPathMount(dir)
			if m == nil {
				return fmt.Errorf("%s: no hostPath mount holds it", dir)
			}
			if !m.ReadOnly {
				return fmt.Errorf("%s: mount %s is writable", dir, m.Name)
			}
			if path.Clean(v.HostPath.Path) != path.Clean(m.MountPath) || m.SubPath != "" {
				return fmt.Errorf("%s: host %s mounted at %s: paths must match for the kubelet's links", dir, v.HostPath.Path, m.MountPath)
			}
		}
		return nil
	}},
	{"data_dir on a hostPath", func(b *bundle) error {
		cfg, err := b.config()
		if err != nil {
			return err
		}
		m, v := b.hostPathMount(cfg.DataDir)
		if m == nil {
			return fmt.Errorf("data_dir %s: no hostPath mount, checkpoints would die with the pod", cfg.DataDir)
		}
		if m.ReadOnly {
			return fmt.Errorf("data_dir %s: mount is read-only", cfg.DataDir)
		}
		if path.Clean(m.MountPath) != path.Clean(cfg.DataDir) || path.Clean(v.HostPath.Path) != path.Clean(cfg.DataDir) {
			return fmt.Errorf("data_dir %s: host %s mounted at %s", cfg.DataDir, v.HostPath.Path, m.MountPath)
		}
		if t := v.HostPath.Type; t == nil || *t != corev1.HostPathDirectoryOrCreate {
			return fmt.Errorf("data_dir hostPath type %v, want DirectoryOrCreate (a new node has none)", t)
		}
		return nil
	}},
	{"grace period above shutdown_timeout", func(b *bundle) error {
		cfg, err := b.config()
		if err != nil {
			return err
		}
		g := b.ds().Spec.Template.Spec.TerminationGracePeriodSeconds
		if g == nil {
			return fmt.Errorf("terminationGracePeriodSeconds unset (30s default): set it above shutdown_timeout")
		}
		if float64(*g) <= cfg.ShutdownTimeout.Duration().Seconds() {
			return fmt.Errorf("terminationGracePeriodSeconds %d <= shutdown_timeout %s", *g, cfg.ShutdownTimeout.Duration())
		}
		return nil
	}},
	{"NODE_NAME from spec.nodeName", func(b *bundle) error {
		cfg, err := b.config()
		if err != nil {
			return err
		}
		env, _ := b.env()
		if env["NODE_NAME"] != "field:spec.nodeName" {
			return fmt.Errorf("NODE_NAME is %q, want the downward API's spec.nodeName", env["NODE_NAME"])
		}
		if cfg.NodeName != "field:spec.nodeName" {
			return fmt.Errorf("node_name is %q: it must come from ${NODE_NAME}", cfg.NodeName)
		}
		return nil
	}},
	{"syslog Service targets the config's ports", func(b *bundle) error {
		cfg, err := b.config()
		if err != nil {
			return err
		}
		svc := b.syslogService()
		if svc == nil {
			for _, in := range cfg.Inputs {
				if in.Type == "syslog" {
					return fmt.Errorf("input %s listens, but no Service sends to it", in.Name)
				}
			}
			return nil
		}
		if p := svc.Spec.InternalTrafficPolicy; p == nil || *p != corev1.ServiceInternalTrafficPolicyLocal {
			got := "unset (Cluster)"
			if p != nil {
				got = string(*p)
			}
			return fmt.Errorf("internalTrafficPolicy %s, want Local", got)
		}
		labels := b.ds().Spec.Template.Labels
		if len(svc.Spec.Selector) == 0 {
			return fmt.Errorf("Service has no selector")
		}
		for k, v := range svc.Spec.Selector {
			if labels[k] != v {
				return fmt.Errorf("selector %s=%s does not match the agent pods %v", k, v, labels)
			}
		}
		found := 0
		for _, in := range cfg.Inputs {
			if in.Type != "syslog" {
				continue
			}
			for _, l := range []struct {
				addr  string
				proto corev1.Protocol
			}{{in.TCP, corev1.ProtocolTCP}, {in.UDP, corev1.ProtocolUDP}} {
				if l.addr == "" {
					return fmt.Errorf("input %s listens without %s", in.Name, l.proto)
				}
				want, err := portOf(l.addr)
				if err != nil {
					return err
				}
				ok := false
				for _, sp := range svc.Spec.Ports {
					if sp.Protocol != l.proto || sp.Port != 514 {
						continue
					}
					got, err := b.containerPort(sp.TargetPort, l.proto)
					if err != nil {
						return fmt.Errorf("Service port %s: %w", sp.Name, err)
					}
					if got != want {
						return fmt.Errorf("Service port %s targets %d, input %s listens on %d", sp.Name, got, in.Name, want)
					}
					ok = true
				}
				if !ok {
					return fmt.Errorf("no %s 514 port in the Service for input %s", l.proto, in.Name)
				}
				found++
			}
		}
		if found == 0 {
			return fmt.Errorf("a syslog Service, but no syslog input in the config")
		}
		return nil
	}},
	{"security context", func(b *bundle) error {
		sc := b.agent().SecurityContext
		if sc == nil {
			return fmt.Errorf("no securityContext")
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			return fmt.Errorf("root filesystem is writable")
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			return fmt.Errorf("allowPrivilegeEscalation is not false")
		}
		if sc.Privileged != nil && *sc.Privileged {
			return fmt.Errorf("privileged")
		}
		if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
			return fmt.Errorf("capabilities: ALL is not dropped")
		}
		for _, c := range sc.Capabilities.Add {
			if c != "DAC_READ_SEARCH" {
				return fmt.Errorf("capability %s added: only DAC_READ_SEARCH (read host logs) is needed", c)
			}
		}
		spec := b.ds().Spec.Template.Spec
		if spec.HostNetwork || spec.HostPID || spec.HostIPC {
			return fmt.Errorf("host namespaces shared")
		}
		return nil
	}},
	{"every node, node-critical", func(b *bundle) error {
		spec := b.ds().Spec.Template.Spec
		if spec.PriorityClassName != "system-node-critical" {
			return fmt.Errorf("priorityClassName %q", spec.PriorityClassName)
		}
		for _, taint := range []corev1.Taint{
			{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule},
			{Key: "node.kubernetes.io/not-ready", Effect: corev1.TaintEffectNoExecute},
			{Key: "example.com/dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule},
		} {
			ok := false
			for _, tol := range spec.Tolerations {
				if tol.ToleratesTaint(logr.Discard(), &taint, false) {
					ok = true
				}
			}
			if !ok {
				return fmt.Errorf("taint %s is not tolerated", taint.ToString())
			}
		}
		if len(spec.NodeSelector) > 0 || spec.Affinity != nil {
			return fmt.Errorf("node selector or affinity keeps the agent off some nodes")
		}
		return nil
	}},
	{"rolling update without surge", func(b *bundle) error {
		st := b.ds().Spec.UpdateStrategy
		if st.Type != appsv1.RollingUpdateDaemonSetStrategyType || st.RollingUpdate == nil {
			return fmt.Errorf("update strategy %q, want RollingUpdate", st.Type)
		}
		mu := st.RollingUpdate.MaxUnavailable
		if mu == nil || mu.String() == "0" || mu.String() == "0%" {
			return fmt.Errorf("maxUnavailable %v: a rollout would never start", mu)
		}
		// data_dir is locked by one agent: the old pod must be gone first.
		if ms := st.RollingUpdate.MaxSurge; ms != nil && ms.String() != "0" && ms.String() != "0%" {
			return fmt.Errorf("maxSurge %s: two agents would share data_dir", ms.String())
		}
		return nil
	}},
	{"resources cover memory_limit", func(b *bundle) error {
		cfg, err := b.config()
		if err != nil {
			return err
		}
		r := b.agent().Resources
		for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, okr := r.Requests[name]
			lim, okl := r.Limits[name]
			if !okr || !okl {
				return fmt.Errorf("%s: request and limit must both be set", name)
			}
			if req.Cmp(lim) > 0 {
				return fmt.Errorf("%s: request %s above limit %s", name, req.String(), lim.String())
			}
		}
		// memory_limit is the agent's whole memory (batches, output
		// buffers, the Go soft limit): the scheduler reserves it, and the
		// container's limit leaves room over it, since a soft limit can be
		// overshot for a moment. A GOMEMLIMIT would override the soft
		// limit the agent derives from memory_limit.
		env, _ := b.env()
		if v, ok := env["GOMEMLIMIT"]; ok {
			return fmt.Errorf("GOMEMLIMIT %s set: it overrides the soft limit the agent derives from memory_limit", v)
		}
		req, limit := r.Requests[corev1.ResourceMemory], r.Limits[corev1.ResourceMemory]
		if req.Value() < int64(cfg.MemoryLimit) {
			return fmt.Errorf("memory request %s below memory_limit %d bytes", req.String(), int64(cfg.MemoryLimit))
		}
		if limit.Value() < int64(cfg.MemoryLimit)+int64(cfg.MemoryLimit)/4 {
			return fmt.Errorf("memory limit %s leaves less than a quarter over memory_limit %d bytes", limit.String(), int64(cfg.MemoryLimit))
		}
		return nil
	}},
}

func runChecks(t *testing.T, b *bundle) {
	t.Helper()
	for _, c := range checks {
		if err := c.fn(b); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

func TestBase(t *testing.T) {
	b := render(t, ".", nil)
	b.external = map[string]bool{"sluice-es": true, "sluice-tap-token": true}
	runChecks(t, b)
	if len(b.secrets) != 0 {
		t.Errorf("the base holds %d Secrets; the operator creates sluice-es", len(b.secrets))
	}
	if ns := b.namespaces[0].Name; ns != "sluice" {
		t.Errorf("namespace %q", ns)
	}
}

// overlayFiles stand for what the operator provides to the example.
var overlayFiles = map[string]string{
	"examples/es-apikey-tls/api-key": "c2x1aWNlOnRlc3Q=",
	// A real self-signed certificate: sluice parses the CA file it is given.
	"examples/es-apikey-tls/ca.crt": "-----BEGIN CERTIFICATE-----\nMIIBgTCCASegAwIBAgIUUG5apPJba4ULP3W3tD21JnscJYEwCgYIKoZIzj0EAwIw\nFTETMBEGA1UEAwwKZXhhbXBsZSBDQTAgFw0yNjEyMDYyMTIyMjhaGA8yMTI2MTEx\nMjIxMjIyOFowFTETMBEGA1UEAwwKZXhhbXBsZSBDQTBZMBMGByqGSM49AgEGCCqG\nSM49AwEHA0IABE9bFVE8U/8146gEjzv26vYQBS6t+hN6BDvbRdgUqYne69eYm5e3\n2JTMYHMq592PlpxyZturNnFPJcRWUAaN8U6jUzBRMB0GA1UdDgQWBBSz5zC2WzYP\neTjt46lQtP0cGpLwxTAfBgNVHSMEGDAWgBSz5zC2WzYPeTjt46lQtP0cGpLwxTAP\nBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQCgmDlemhdjCdfK0Vou\nuEx46NgJCr1Rc7b2H+Aia5ojZwIgagUclo5q8juSH3LcB2XQygE72PBd4hjP67Q3\nokSrIsU=\n-----END CERTIFICATE-----\n",
}

func TestExampleAPIKeyTLS(t *testing.T) {
	b := render(t, "examples/es-apikey-tls", overlayFiles)
	b.external = map[string]bool{"sluice-tap-token": true}
	runChecks(t, b)
	cfg, err := b.config()
	if err != nil {
		t.Fatal(err)
	}
	es := cfg.Outputs[0]
	if es.APIKeyFile == "" || es.TLS.CAFile == "" {
		t.Errorf("api_key_file %q, tls.ca_file %q: both are wanted", es.APIKeyFile, es.TLS.CAFile)
	}
	if es.Password != "" || es.PasswordFile != "" || es.APIKey != "" {
		t.Errorf("a password or an inline API key next to api_key_file")
	}
	for _, u := range es.URLs {
		if !strings.HasPrefix(u, "https://") {
			t.Errorf("URL %s: TLS example without https", u)
		}
	}
	// The operator's files end up in the Secret the config reads them from.
	for file, want := range map[string]string{es.APIKeyFile: overlayFiles["examples/es-apikey-tls/api-key"], es.TLS.CAFile: overlayFiles["examples/es-apikey-tls/ca.crt"]} {
		found := false
		for _, m := range b.agent().VolumeMounts {
			if v := b.volume(m.Name); v != nil && v.Secret != nil && path.Dir(file) == m.MountPath {
				if s := b.secret(v.Secret.SecretName); s != nil {
					found = string(s.Data[path.Base(file)]) == want
				}
			}
		}
		if !found {
			t.Errorf("%s does not hold the operator's file", file)
		}
	}
	for _, s := range b.secrets {
		if s.Namespace != "sluice" {
			t.Errorf("Secret %s in namespace %q", s.Name, s.Namespace)
		}
	}
}

// TestChecksCatchBreakage breaks the rendered base one way at a time and
// expects the check that guards it to fail, so no check passes vacuously.
func TestChecksCatchBreakage(t *testing.T) {
	editConfig := func(old, new string) func(*bundle) {
		return func(b *bundle) {
			for _, cm := range b.configMaps {
				if raw, ok := cm.Data[configKey]; ok {
					if !strings.Contains(raw, old) {
						t.Fatalf("config has no %q", old)
					}
					cm.Data[configKey] = strings.Replace(raw, old, new, 1)
				}
			}
		}
	}
	editEnv := func(name string, f func(*corev1.EnvVar)) func(*bundle) {
		return func(b *bundle) {
			for i := range b.agent().Env {
				if b.agent().Env[i].Name == name {
					f(&b.agent().Env[i])
					return
				}
			}
			t.Fatalf("no env %s", name)
		}
	}
	editMount := func(name string, f func(*corev1.VolumeMount)) func(*bundle) {
		return func(b *bundle) {
			for i := range b.agent().VolumeMounts {
				if b.agent().VolumeMounts[i].Name == name {
					f(&b.agent().VolumeMounts[i])
					return
				}
			}
			t.Fatalf("no mount %s", name)
		}
	}
	ptr := func(i int64) *int64 { return &i }
	cases := []struct {
		name   string
		break_ func(b *bundle)
		check  string
	}{
		{"unknown config key", editConfig("memory_limit:", "memory_limits:"), "config passes sluice's loader"},
		{"ES_URL not set by the pod", func(b *bundle) {
			b.configMaps[slices.IndexFunc(b.configMaps, func(c *corev1.ConfigMap) bool { return strings.HasPrefix(c.Name, "sluice-env") })].Data = nil
		}, "config passes sluice's loader"},
		{"inline password", editConfig("password_file: /etc/sluice-es/password", "password: hunter2"), "no credential in a ConfigMap"},
		{"password file in the ConfigMap", editConfig("password_file: /etc/sluice-es/password", "password_file: /etc/sluice/password"), "credential files come from a Secret"},
		{"password file not mounted", editMount("es-credentials", func(m *corev1.VolumeMount) { m.MountPath = "/etc/es" }), "credential files come from a Secret"},
		{"optional credentials", func(b *bundle) { o := true; b.volume("es-credentials").Secret.Optional = &o }, "credential files come from a Secret"},
		{"password in the env ConfigMap", func(b *bundle) {
			for _, cm := range b.configMaps {
				if strings.HasPrefix(cm.Name, "sluice-env") {
					cm.Data["ES_PASSWORD"] = "hunter2"
				}
			}
		}, "no credential in a ConfigMap"},
		{"user info in the URL", editConfig(`urls: ["${ES_URL}"]`, `urls: ["http://elastic:hunter2@es:9200"]`), "no credential in a ConfigMap"},
		{"config volume names no ConfigMap", func(b *bundle) { b.volume("config").ConfigMap.Name = "gone" }, "config's references to the pod resolve"},
		{"required Secret missing", func(b *bundle) { b.volume("es-credentials").Secret.SecretName = "es" }, "config's references to the pod resolve"},
		{"required Secret key missing", editEnv("ES_USERNAME", func(e *corev1.EnvVar) {
			e.ValueFrom.SecretKeyRef.Name = "es"
			e.ValueFrom.SecretKeyRef.Optional = nil
		}), "config's references to the pod resolve"},
		{"tap without a token", editConfig("  token_file: /etc/sluice-tap/token\n", ""), "tap requires a bearer token"},
		{"optional tap token", func(b *bundle) { o := true; b.volume("tap-token").Secret.Optional = &o }, "tap requires a bearer token"},
		{"tap token from a ConfigMap", func(b *bundle) {
			b.volume("tap-token").Secret = nil
			b.volume("tap-token").ConfigMap = &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: b.volume("config").ConfigMap.Name}}
		}, "tap requires a bearer token"},
		// The loader reads the token file: a mount elsewhere fails it.
		{"tap token mounted elsewhere", editMount("tap-token", func(m *corev1.VolumeMount) { m.MountPath = "/etc/tap" }), "config passes sluice's loader"},
		{"tap Secret without the key", func(b *bundle) {
			b.volume("tap-token").Secret.Items = []corev1.KeyToPath{{Key: "token", Path: "other"}}
		}, "config passes sluice's loader"},
		{"untagged image", func(b *bundle) { b.agent().Image = image }, "image and tag"},
		{"latest image", func(b *bundle) { b.agent().Image = image + ":latest" }, "image and tag"},
		{"default service account", func(b *bundle) { b.ds().Spec.Template.Spec.ServiceAccountName = "" }, "service account is used"},
		{"binding to another account", func(b *bundle) { b.bindings[0].Subjects[0].Name = "default" }, "service account is used"},
		{"binding to another role", func(b *bundle) { b.bindings[0].RoleRef.Name = "view" }, "service account is used"},
		{"extra verb", func(b *bundle) { b.roles[0].Rules[0].Verbs = append(b.roles[0].Rules[0].Verbs, "delete") }, "RBAC is exactly get/list/watch on pods and namespaces"},
		{"extra resource", func(b *bundle) {
			b.roles[0].Rules = append(b.roles[0].Rules, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}})
		}, "RBAC is exactly get/list/watch on pods and namespaces"},
		{"missing watch", func(b *bundle) { b.roles[0].Rules[0].Verbs = []string{"get", "list"} }, "RBAC is exactly get/list/watch on pods and namespaces"},
		{"agent listens elsewhere", editConfig("listen: 0.0.0.0:2020", "listen: 0.0.0.0:2021"), "probes on the config's HTTP port"},
		{"liveness on the wrong path", func(b *bundle) { b.agent().LivenessProbe.HTTPGet.Path = "/" }, "probes on the config's HTTP port"},
		{"readiness on an undeclared port", func(b *bundle) { b.agent().ReadinessProbe.HTTPGet.Port = intstr.FromString("metrics") }, "probes on the config's HTTP port"},
		{"scrape port stale", func(b *bundle) { b.ds().Spec.Template.Annotations["prometheus.io/port"] = "9090" }, "probes on the config's HTTP port"},
		{"writable /var/log", editMount("varlog", func(m *corev1.VolumeMount) { m.ReadOnly = false }), "host logs mounted read-only"},
		{"only /var/log/containers", func(b *bundle) {
			b.volume("varlog").HostPath.Path = "/var/log/containers"
			editMount("varlog", func(m *corev1.VolumeMount) { m.MountPath = "/var/log/containers" })(b)
		}, "host logs mounted read-only"},
		{"logs at another path", editMount("varlog", func(m *corev1.VolumeMount) { m.MountPath = "/host/var/log" }), "host logs mounted read-only"},
		{"data_dir elsewhere", editConfig("data_dir: /var/lib/sluice", "data_dir: /tmp/sluice"), "data_dir on a hostPath"},
		{"data_dir hostPath elsewhere", func(b *bundle) { b.volume("data").HostPath.Path = "/var/lib/other" }, "data_dir on a hostPath"},
		{"data_dir on emptyDir", func(b *bundle) {
			b.volume("data").HostPath = nil
			b.volume("data").EmptyDir = &corev1.EmptyDirVolumeSource{}
		}, "data_dir on a hostPath"},
		{"grace equals shutdown_timeout", func(b *bundle) { b.ds().Spec.Template.Spec.TerminationGracePeriodSeconds = ptr(20) }, "grace period above shutdown_timeout"},
		{"longer shutdown_timeout", editConfig("shutdown_timeout: 20s", "shutdown_timeout: 45s"), "grace period above shutdown_timeout"},
		{"NODE_NAME from the pod name", editEnv("NODE_NAME", func(e *corev1.EnvVar) { e.ValueFrom.FieldRef.FieldPath = "metadata.name" }), "NODE_NAME from spec.nodeName"},
		{"node_name not from NODE_NAME", editConfig("node_name: ${NODE_NAME}", "node_name: node-a"), "NODE_NAME from spec.nodeName"},
		{"cluster-wide syslog", func(b *bundle) {
			p := corev1.ServiceInternalTrafficPolicyCluster
			b.syslogService().Spec.InternalTrafficPolicy = &p
		}, "syslog Service targets the config's ports"},
		{"syslog listens elsewhere", editConfig("udp: 0.0.0.0:5140", "udp: 0.0.0.0:6514"), "syslog Service targets the config's ports"},
		{"no UDP in the Service", func(b *bundle) { b.syslogService().Spec.Ports[1].Protocol = corev1.ProtocolTCP }, "syslog Service targets the config's ports"},
		{"selector misses the pods", func(b *bundle) { b.syslogService().Spec.Selector["app.kubernetes.io/name"] = "fluentd" }, "syslog Service targets the config's ports"},
		{"writable root filesystem", func(b *bundle) { f := false; b.agent().SecurityContext.ReadOnlyRootFilesystem = &f }, "security context"},
		{"capabilities kept", func(b *bundle) { b.agent().SecurityContext.Capabilities.Drop = nil }, "security context"},
		{"SYS_ADMIN added", func(b *bundle) {
			sc := b.agent().SecurityContext
			sc.Capabilities.Add = append(sc.Capabilities.Add, "SYS_ADMIN")
		}, "security context"},
		{"not node-critical", func(b *bundle) { b.ds().Spec.Template.Spec.PriorityClassName = "" }, "every node, node-critical"},
		{"no tolerations", func(b *bundle) { b.ds().Spec.Template.Spec.Tolerations = nil }, "every node, node-critical"},
		{"OnDelete", func(b *bundle) {
			b.ds().Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}
		}, "rolling update without surge"},
		{"surge", func(b *bundle) { s := intstr.FromInt32(1); b.ds().Spec.UpdateStrategy.RollingUpdate.MaxSurge = &s }, "rolling update without surge"},
		{"memory limit at memory_limit", func(b *bundle) { b.agent().Resources.Limits[corev1.ResourceMemory] = resource.MustParse("256Mi") }, "resources cover memory_limit"},
		{"memory request below memory_limit", func(b *bundle) { b.agent().Resources.Requests[corev1.ResourceMemory] = resource.MustParse("128Mi") }, "resources cover memory_limit"},
		{"memory_limit raised", editConfig("memory_limit: 256MiB", "memory_limit: 384MiB"), "resources cover memory_limit"},
		{"GOMEMLIMIT set", func(b *bundle) {
			b.agent().Env = append(b.agent().Env, corev1.EnvVar{Name: "GOMEMLIMIT", Value: "400MiB"})
		}, "resources cover memory_limit"},
		{"no CPU request", func(b *bundle) { delete(b.agent().Resources.Requests, corev1.ResourceCPU) }, "resources cover memory_limit"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := render(t, ".", nil)
			b.external = map[string]bool{"sluice-es": true, "sluice-tap-token": true}
			idx := slices.IndexFunc(checks, func(c check) bool { return c.name == tc.check })
			if idx < 0 {
				t.Fatalf("no check %q", tc.check)
			}
			if err := checks[idx].fn(b); err != nil {
				t.Fatalf("fails before the break: %v", err)
			}
			tc.break_(b)
			err := checks[idx].fn(b)
			if err == nil {
				t.Fatalf("check %q passed on a broken bundle", tc.check)
			}
			t.Logf("caught: %v", err)
		})
	}
}
