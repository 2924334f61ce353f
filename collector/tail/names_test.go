package tail

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseLogPath(t *testing.T) {
	f := func(path string, want podNames, wantOK bool) {
		t.Helper()
		got, ok := parseLogPath(path)
		require.Equal(t, wantOK, ok, path)
		require.Equal(t, want, got, path)
	}
	id := "7a6e5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a"
	f("/var/log/containers/api-7d9f8-x2x_payments_api-"+id+".log",
		podNames{Namespace: "payments", Pod: "api-7d9f8-x2x", Container: "api", ContainerID: id}, true)
	f("/var/log/containers/web_default_istio-proxy-"+id+".log",
		podNames{Namespace: "default", Pod: "web", Container: "istio-proxy", ContainerID: id}, true)
	f("/var/log/pods/kube-system_coredns-5d78c9869d-abcde_0f7a1c9e-1111-2222-3333-444455556666/coredns/0.log",
		podNames{Namespace: "kube-system", Pod: "coredns-5d78c9869d-abcde", Container: "coredns"}, true)
	f("/var/log/syslog", podNames{}, false)
	f("/tmp/app.log", podNames{}, false)
	f("/tmp/a_b_c-nothex.log", podNames{}, false)
}

func TestAppendMeta(t *testing.T) {
	got := appendMeta(nil, podNames{Namespace: "ns", Pod: "p", Container: "c", ContainerID: "abc"}, "node-1")
	require.JSONEq(t, `{"namespace_name":"ns","pod_name":"p","container_name":"c","container_id":"abc","host":"node-1"}`, string(got))
	require.Equal(t, `{"host":"n"}`, string(appendMeta(nil, podNames{}, "n")))
}
