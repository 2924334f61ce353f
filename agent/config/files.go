package config

import (
	"path/filepath"
	"reflect"
	"slices"
	"strings"
)

// DefaultAllowedRoots are where kubelets and container runtimes write log
// files: a container_logs input follows links only to regular files under
// these (and under its globs' own folders) unless allowed_roots says
// otherwise.
var DefaultAllowedRoots = []string{
	"/var/log/pods",
	"/var/log/containers",
	"/var/lib/docker/containers",
	"/var/lib/containers",
}

func defaultAllowedRoots(in *Input) {
	if in.Type == "container_logs" && in.AllowedRoots == nil {
		in.AllowedRoots = slices.Clone(DefaultAllowedRoots)
	}
}

func validateAllowedRoots(p *problems, in Input, at func(string) []any) {
	if in.Type != "container_logs" {
		if in.AllowedRoots != nil {
			p.add("only for container_logs inputs", at("allowed_roots"))
		}
		return
	}
	for _, r := range in.AllowedRoots {
		if !filepath.IsAbs(r) {
			p.add("must hold absolute folders, got %q", at("allowed_roots"), r)
		}
	}
}

// agentFiles lists what the agent reads for itself and no log file may
// lead to: data_dir, the kubeconfig and every *_file key (passwords,
// tokens, keys and certificates, including keys added later).
func (c *Config) agentFiles() []string {
	files := []string{c.DataDir, c.Kubernetes.Kubeconfig}
	collectFiles(reflect.ValueOf(c).Elem(), &files)
	return slices.DeleteFunc(files, func(s string) bool { return s == "" })
}

func collectFiles(v reflect.Value, out *[]string) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			collectFiles(v.Elem(), out)
		}
	case reflect.Slice:
		for i := range v.Len() {
			collectFiles(v.Index(i), out)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if f.Type.Kind() == reflect.String && strings.HasSuffix(name, "_file") {
				*out = append(*out, v.Field(i).String())
				continue
			}
			collectFiles(v.Field(i), out)
		}
	}
}

// protectAgentFiles hands every container_logs input the agent's own files
// (plus extra, e.g. the config file), so the tailer refuses links to them.
func (c *Config) protectAgentFiles(extra ...string) {
	files := append(c.agentFiles(), extra...)
	for i := range c.Inputs {
		if c.Inputs[i].Type == "container_logs" {
			c.Inputs[i].AgentFiles = files
		}
	}
}
