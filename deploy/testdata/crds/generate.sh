#!/bin/sh
# Regenerates the monitoring.coreos.com CRDs the deploy tests install
# (TestApplyMonitoringAndHelm) from the Prometheus Operator's Go API types,
# at the version in the repository's go.mod, with controller-gen. Run from
# this folder: ./generate.sh
set -eu
version=$(cd ../../.. && go list -m -f '{{.Version}}' github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
GOBIN=$work GOFLAGS= go install sigs.k8s.io/controller-tools/cmd/controller-gen@v0.23.0
cd "$work"
printf 'module crdgen\n\ngo 1.26.0\n' >go.mod
printf 'package crdgen\n\nimport _ "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"\n' >x.go
GOFLAGS= go get "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring@$version"
GOFLAGS= go mod tidy
GOFLAGS= ./controller-gen crd:crdVersions=v1,maxDescLen=0 \
	paths=github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1 output:crd:dir=out
cd - >/dev/null
for kind in servicemonitors podmonitors prometheusrules; do
	cp "$work/out/monitoring.coreos.com_$kind.yaml" .
done
