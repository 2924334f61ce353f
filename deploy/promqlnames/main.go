// Command promqlnames reads PromQL expressions, a JSON array of strings on
// stdin, parses each one with the Prometheus parser and writes, as a JSON
// array in the same order, the metric names it selects or the parse error.
//
// deploy/ TestDashboardMetrics runs it on every query of the Grafana
// dashboard. It is a module of its own so that the Prometheus server's
// dependencies stay out of the agent's go.mod (as deploy/helmrender does
// for Helm's).
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// Result is what one expression names.
type Result struct {
	Metrics []string `json:"metrics,omitempty"`
	Error   string   `json:"error,omitempty"`
}

func main() {
	var exprs []string
	if err := json.NewDecoder(os.Stdin).Decode(&exprs); err != nil {
		fmt.Fprintln(os.Stderr, "promqlnames: read the expressions:", err)
		os.Exit(2)
	}
	p := parser.NewParser(parser.Options{})
	out := make([]Result, len(exprs))
	for i, e := range exprs {
		out[i] = names(p, e)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "promqlnames:", err)
		os.Exit(1)
	}
}

// names parses expr and lists the metric names of its selectors, sorted,
// each once; a selector without a fixed name (only {__name__=~"..."}) is
// an error, as nothing could be checked for it.
func names(p parser.Parser, expr string) Result {
	ast, err := p.ParseExpr(expr)
	if err != nil {
		return Result{Error: err.Error()}
	}
	var r Result
	parser.Inspect(ast, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		for _, m := range vs.LabelMatchers {
			if m.Name == model.MetricNameLabel && m.Type == labels.MatchEqual {
				name = m.Value
			}
		}
		if name == "" {
			r.Error = fmt.Sprintf("selector %s names no metric", vs)
			return nil
		}
		r.Metrics = append(r.Metrics, name)
		return nil
	})
	slices.Sort(r.Metrics)
	r.Metrics = slices.Compact(r.Metrics)
	return r
}
