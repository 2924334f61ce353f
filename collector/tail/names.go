package tail

import (
	"path/filepath"
	"strings"

	"github.com/sluicelog/sluice/internal/jsonbytes"
)

// podNames are the Kubernetes names the kubelet encodes in a log file's path.
type podNames struct {
	Namespace, Pod, Container, ContainerID string
}

// parseLogPath reads the names from either layout the kubelet writes:
//
//	/var/log/containers/<pod>_<namespace>_<container>-<container id>.log
//	/var/log/pods/<namespace>_<pod>_<pod uid>/<container>/<restart>.log
//
// Pod and namespace names cannot contain '_', which makes both unambiguous.
// It returns ok=false for any other name.
func parseLogPath(path string) (podNames, bool) {
	base := filepath.Base(path)
	if name, ok := strings.CutSuffix(base, ".log"); ok {
		parts := strings.SplitN(name, "_", 3)
		if len(parts) == 3 {
			rest := parts[2]
			if i := strings.LastIndexByte(rest, '-'); i > 0 && isHex(rest[i+1:]) {
				return podNames{Pod: parts[0], Namespace: parts[1], Container: rest[:i], ContainerID: rest[i+1:]}, true
			}
		}
	}
	// /var/log/pods/<ns>_<pod>_<uid>/<container>/N.log
	dir := filepath.Dir(path)
	container := filepath.Base(dir)
	parts := strings.SplitN(filepath.Base(filepath.Dir(dir)), "_", 3)
	if len(parts) == 3 && container != "." && container != "/" {
		return podNames{Namespace: parts[0], Pod: parts[1], Container: container}, true
	}
	return podNames{}, false
}

func isHex(s string) bool {
	if len(s) < 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// appendMeta serialises the "kubernetes" object of a file's records once,
// so that workers splice the bytes into every document.
func appendMeta(dst []byte, n podNames, node string) []byte {
	dst = append(dst, '{')
	field := func(k, v string) {
		if v == "" {
			return
		}
		if len(dst) > 1 {
			dst = append(dst, ',')
		}
		dst = jsonbytes.AppendStringString(dst, k)
		dst = append(dst, ':')
		dst = jsonbytes.AppendStringString(dst, v)
	}
	field("namespace_name", n.Namespace)
	field("pod_name", n.Pod)
	field("container_name", n.Container)
	field("container_id", n.ContainerID)
	field("host", node)
	return append(dst, '}')
}
