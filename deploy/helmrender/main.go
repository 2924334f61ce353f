// Command helmrender renders and lints a Helm chart with the Helm v4
// library, as `helm template` and `helm lint --strict` do, for the deploy
// tests. It is its own module so that Helm's dependencies (newer
// client_golang, otel, x/net) stay out of the agent's go.mod.
//
//	helmrender -chart DIR -release NAME -namespace NS [-f values.yaml]... [-lint]
//
// Rendered manifests go to stdout, each after a "# Source: FILE" line and a
// "---" separator; lint messages and errors go to stderr with exit status 1.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	"sigs.k8s.io/yaml"
)

type valueFiles []string

func (v *valueFiles) String() string     { return strings.Join(*v, ",") }
func (v *valueFiles) Set(s string) error { *v = append(*v, s); return nil }

func main() {
	var files valueFiles
	chartDir := flag.String("chart", "", "chart directory")
	release := flag.String("release", "sluice", "release name")
	namespace := flag.String("namespace", "default", "release namespace")
	doLint := flag.Bool("lint", false, "lint strictly (warnings fail) instead of rendering")
	flag.Var(&files, "f", "values file (repeatable, later files win)")
	flag.Parse()
	if err := run(os.Stdout, *chartDir, *release, *namespace, files, *doLint); err != nil {
		fmt.Fprintln(os.Stderr, "helmrender:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, chartDir, release, namespace string, files []string, doLint bool) error {
	if chartDir == "" {
		return errors.New("-chart is required")
	}
	vals, err := readValues(files)
	if err != nil {
		return err
	}
	if doLint {
		return lintChart(chartDir, namespace, vals)
	}
	return render(w, chartDir, release, namespace, vals)
}

// readValues merges the values files in order, as `helm -f a -f b` does.
func readValues(files []string) (map[string]any, error) {
	vals := map[string]any{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("values: %w", err)
		}
		var m map[string]any
		if err := yaml.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("values %s: %w", f, err)
		}
		vals = loader.MergeMaps(vals, m)
	}
	return vals, nil
}

// lintChart is `helm lint --strict`: any warning or error fails.
func lintChart(chartDir, namespace string, vals map[string]any) error {
	res := lint.RunAll(chartDir, vals, namespace)
	var msgs []string
	for _, m := range res.Messages {
		msgs = append(msgs, m.Error())
	}
	if res.HighestSeverity >= support.WarningSev {
		return fmt.Errorf("lint: %s", strings.Join(msgs, "; "))
	}
	return nil
}

// render is `helm template RELEASE CHART --namespace NS -f ...` for a new
// install, with the library's default capabilities.
func render(w io.Writer, chartDir, release, namespace string, vals map[string]any) error {
	ch, err := loader.Load(chartDir)
	if err != nil {
		return fmt.Errorf("load %s: %w", chartDir, err)
	}
	opts := common.ReleaseOptions{Name: release, Namespace: namespace, Revision: 1, IsInstall: true}
	top, err := util.ToRenderValues(ch, vals, opts, common.DefaultCapabilities)
	if err != nil {
		return fmt.Errorf("values: %w", err)
	}
	out, err := engine.Render(ch, top)
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	names := make([]string, 0, len(out))
	for name := range out {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		body := strings.TrimSpace(out[name])
		if body == "" || strings.HasSuffix(name, "NOTES.txt") {
			continue
		}
		if _, err := fmt.Fprintf(w, "---\n# Source: %s\n%s\n", name, body); err != nil {
			return err
		}
	}
	return nil
}
