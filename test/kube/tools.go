//go:build tools

// Package tools pins the servers that `make kube-tools` builds; the build
// tag keeps it out of every normal build.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)
