package deploy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path"
	"slices"
	"strings"
	"testing"
)

// templateFields is what an index template maps: the paths of its
// properties, and the path_match globs of its dynamic templates.
type templateFields struct {
	paths []string
	globs []string
	index []string
}

func readTemplate(t *testing.T, file string) templateFields {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	type props map[string]struct {
		Type       string          `json:"type"`
		Properties json.RawMessage `json:"properties"`
	}
	var tpl struct {
		IndexPatterns []string `json:"index_patterns"`
		Template      struct {
			Mappings struct {
				Dynamic []map[string]struct {
					PathMatch string `json:"path_match"`
				} `json:"dynamic_templates"`
				Properties json.RawMessage `json:"properties"`
			} `json:"mappings"`
		} `json:"template"`
	}
	if err := json.Unmarshal(raw, &tpl); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	f := templateFields{index: tpl.IndexPatterns}
	var walk func(prefix string, raw json.RawMessage)
	walk = func(prefix string, raw json.RawMessage) {
		var p props
		if err := json.Unmarshal(raw, &p); err != nil {
			t.Fatalf("%s: properties: %v", file, err)
		}
		for name, v := range p {
			if v.Properties != nil {
				walk(prefix+name+".", v.Properties)
				continue
			}
			f.paths = append(f.paths, prefix+name)
		}
	}
	walk("", tpl.Template.Mappings.Properties)
	for _, d := range tpl.Template.Mappings.Dynamic {
		for _, m := range d {
			f.globs = append(f.globs, m.PathMatch)
		}
	}
	return f
}

func (f templateFields) has(field string) bool {
	if slices.Contains(f.paths, field) {
		return true
	}
	for _, g := range f.globs {
		// path_match's * matches any characters, dots included.
		if ok, _ := path.Match(strings.ReplaceAll(g, ".*", ".?*"), field); ok || (strings.HasSuffix(g, ".*") && strings.HasPrefix(field, strings.TrimSuffix(g, "*"))) {
			return true
		}
	}
	return false
}

// TestKibanaSavedObjects: the NDJSON imports as the Saved Objects API
// wants it (one object a line, type, id, attributes), its references
// resolve inside the file, the data view covers the indices of both
// shipped templates with @timestamp as time field, and every field the
// saved search names is mapped by both templates.
func TestKibanaSavedObjects(t *testing.T) {
	raw, err := os.ReadFile("kibana/sluice.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	type object struct {
		Type       string         `json:"type"`
		ID         string         `json:"id"`
		Attributes map[string]any `json:"attributes"`
		References []struct {
			Name, Type, ID string
		} `json:"references"`
	}
	var objs []object
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		var o object
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			t.Fatalf("line %d: %v", len(objs)+1, err)
		}
		if o.Type == "" || o.ID == "" || o.Attributes == nil {
			t.Fatalf("line %d: type, id and attributes are required: %s", len(objs)+1, sc.Bytes())
		}
		objs = append(objs, o)
	}
	byID := map[string]object{}
	for _, o := range objs {
		byID[o.Type+"/"+o.ID] = o
	}
	templates := []templateFields{readTemplate(t, "elasticsearch/index-template.json")}
	var views, searches int
	for _, o := range objs {
		for _, r := range o.References {
			if _, ok := byID[r.Type+"/"+r.ID]; !ok {
				t.Errorf("%s %s: reference %s to %s/%s, not in the file", o.Type, o.ID, r.Name, r.Type, r.ID)
			}
		}
		switch o.Type {
		case "index-pattern":
			views++
			title, _ := o.Attributes["title"].(string)
			if o.Attributes["timeFieldName"] != "@timestamp" {
				t.Errorf("data view %s: time field %v", o.ID, o.Attributes["timeFieldName"])
			}
			for _, tpl := range templates {
				for _, p := range tpl.index {
					// The view's pattern must match every index the template makes.
					if ok, _ := path.Match(title, strings.ReplaceAll(p, "*", "x")); !ok {
						t.Errorf("data view %q misses the template's indices %s", title, p)
					}
				}
				if !tpl.has("@timestamp") {
					t.Errorf("template does not map @timestamp")
				}
			}
		case "search":
			searches++
			cols, _ := o.Attributes["columns"].([]any)
			if len(cols) == 0 {
				t.Errorf("saved search %s has no columns", o.ID)
			}
			var fields []string
			for _, c := range cols {
				fields = append(fields, c.(string))
			}
			for _, s := range o.Attributes["sort"].([]any) {
				fields = append(fields, s.([]any)[0].(string))
			}
			for _, f := range fields {
				for i, tpl := range templates {
					if !tpl.has(f) {
						t.Errorf("saved search %s names %s, which template %d does not map", o.ID, f, i)
					}
				}
			}
			meta := o.Attributes["kibanaSavedObjectMeta"].(map[string]any)
			var source struct {
				IndexRefName string `json:"indexRefName"`
			}
			if err := json.Unmarshal([]byte(meta["searchSourceJSON"].(string)), &source); err != nil {
				t.Errorf("saved search %s: searchSourceJSON: %v", o.ID, err)
			}
			if !slices.ContainsFunc(o.References, func(r struct{ Name, Type, ID string }) bool {
				return r.Name == source.IndexRefName && r.Type == "index-pattern"
			}) {
				t.Errorf("saved search %s: its index reference %q is not among its references", o.ID, source.IndexRefName)
			}
		default:
			t.Errorf("unexpected saved object type %s", o.Type)
		}
	}
	if views != 1 || searches < 1 {
		t.Errorf("%d data views and %d saved searches", views, searches)
	}
	// The check itself: a field no template maps is refused.
	if templates[0].has("level") || !templates[0].has("kubernetes.pod_name") {
		t.Errorf("the field check is wrong: level %v, kubernetes.pod_name %v", templates[0].has("level"), templates[0].has("kubernetes.pod_name"))
	}
}

// TestMonitoringKustomize renders the base with the monitoring component:
// every object decodes strictly into the Prometheus Operator's types, the
// base's checks still pass, and the metrics Service selects the agents.
func TestMonitoringKustomize(t *testing.T) {
	b := render(t, "examples/monitoring", nil)
	b.external = map[string]bool{"sluice-es": true, "sluice-tap-token": true}
	runChecks(t, b)
	if len(b.serviceMonitors) != 1 || len(b.rules) != 1 || len(b.rules[0].Spec.Groups) == 0 {
		t.Fatalf("%d ServiceMonitors, %d PrometheusRules", len(b.serviceMonitors), len(b.rules))
	}
	var metricsSvc bool
	for _, s := range b.services {
		if s.Labels["app.kubernetes.io/component"] != "metrics" {
			continue
		}
		metricsSvc = true
		for k, v := range b.serviceMonitors[0].Spec.Selector.MatchLabels {
			if s.Labels[k] != v {
				t.Errorf("the ServiceMonitor's selector %s=%s misses Service %s", k, v, s.Name)
			}
		}
		for k, v := range s.Spec.Selector {
			if b.ds().Spec.Template.Labels[k] != v {
				t.Errorf("Service %s selects %s=%s, not the agent pods", s.Name, k, v)
			}
		}
		if s.Spec.Ports[0].TargetPort.StrVal != b.serviceMonitors[0].Spec.Endpoints[0].Port && s.Spec.Ports[0].Name != b.serviceMonitors[0].Spec.Endpoints[0].Port {
			t.Errorf("the ServiceMonitor scrapes port %s, the Service has %s", b.serviceMonitors[0].Spec.Endpoints[0].Port, s.Spec.Ports[0].Name)
		}
	}
	if !metricsSvc {
		t.Error("no metrics Service")
	}
	for _, g := range b.rules[0].Spec.Groups {
		for _, r := range g.Rules {
			for _, k := range []string{"summary", "description", "runbook_url"} {
				if r.Annotations[k] == "" {
					t.Errorf("alert %s has no %s", r.Alert, k)
				}
			}
		}
	}
	if cm := b.configMap("sluice-dashboards"); cm == nil || cm.Labels["grafana_dashboard"] != "1" || cm.Data["sluice.json"] == "" {
		t.Errorf("dashboards ConfigMap: %+v", cm)
	}
}
