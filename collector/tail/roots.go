package tail

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/sluicelog/sluice/agent/config"
)

// Refusal is why a matched file is not read; its String is the reason
// label of sluice_input_files_refused_total.
type Refusal int

// The reasons a file is refused.
const (
	RefusedOutsideRoots   Refusal = iota // resolves outside allowed_roots and the globs' folders
	RefusedSystem                        // under /proc, /sys or /dev
	RefusedAgentFile                     // the agent's own: data_dir, config, secrets
	RefusedSizeUnreliable                // its size says less than it holds (procfs-like)
	numRefusals
)

// Refusals lists every reason, for metrics.
var Refusals = []Refusal{RefusedOutsideRoots, RefusedSystem, RefusedAgentFile, RefusedSizeUnreliable}

func (r Refusal) String() string {
	switch r {
	case RefusedOutsideRoots:
		return "outside_roots"
	case RefusedSystem:
		return "system"
	case RefusedAgentFile:
		return "agent_file"
	case RefusedSizeUnreliable:
		return "size_unreliable"
	}
	return "unknown"
}

// systemDirs are never read, whatever allowed_roots says: their files are
// the kernel's and the devices', not logs.
var systemDirs = []string{"/proc", "/sys", "/dev"}

// secretDirs are where Kubernetes and Docker mount secrets (the service
// account token among them).
var secretDirs = []string{"/var/run/secrets", "/run/secrets"}

// guard decides whether a resolved path may be read. A link in a log
// folder is written by whoever runs a pod on the node; followed blindly it
// ships /etc/shadow or the agent's own credentials.
type guard struct {
	allow  []string // allowed_roots and the globs' folders
	system []string
	agent  []string // data_dir, config, secret files and volumes
}

func newGuard(cfg config.Input) *guard {
	agent := slices.Clone(secretDirs)
	for _, f := range cfg.AgentFiles {
		agent = append(agent, f)
		// A Kubernetes Secret or ConfigMap volume (its files are links
		// through ..data): its other keys are as secret as this one.
		if dir := filepath.Dir(f); isAtomicVolume(dir) {
			agent = append(agent, dir)
		}
	}
	return &guard{
		allow:  resolveAll(append(slices.Clone(cfg.AllowedRoots), globRoots(cfg.Paths)...)),
		system: resolveAll(systemDirs),
		agent:  resolveAll(agent),
	}
}

// check says why the resolved path may not be read; refused is false when it may.
func (g *guard) check(resolved string) (why Refusal, refused bool) {
	switch {
	case under(resolved, g.system):
		return RefusedSystem, true
	case under(resolved, g.agent):
		return RefusedAgentFile, true
	case !under(resolved, g.allow):
		return RefusedOutsideRoots, true
	}
	return 0, false
}

// under reports whether p is one of dirs or inside one.
func under(p string, dirs []string) bool {
	for _, d := range dirs {
		if p == d || d == "/" || strings.HasPrefix(p, d) && p[len(d)] == '/' {
			return true
		}
	}
	return false
}

// resolveAll makes paths absolute and adds the form with links resolved
// (/var/run is often a link to /run), so either spelling matches.
func resolveAll(paths []string) []string {
	out := make([]string, 0, 2*len(paths))
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			continue
		}
		out = append(out, abs)
		if resolved, err := filepath.EvalSymlinks(abs); err == nil && resolved != abs {
			out = append(out, resolved)
		}
	}
	return out
}

// globRoots are the globs' own folders: the part of each glob's folder
// before its first wildcard (/var/log/pods for /var/log/pods/*/*/*.log).
func globRoots(globs []string) []string {
	out := make([]string, 0, len(globs))
	for _, g := range globs {
		dir := filepath.Dir(filepath.Clean(g))
		for strings.ContainsAny(dir, "*?[\\") {
			dir = filepath.Dir(dir)
		}
		out = append(out, dir)
	}
	return out
}

// isAtomicVolume reports whether dir is laid out by the kubelet's atomic
// writer (Secret, ConfigMap and projected volumes): it holds ..data.
func isAtomicVolume(dir string) bool {
	_, err := os.Lstat(filepath.Join(dir, "..data"))
	return err == nil
}

// openedPath is where the open file really is, read back from the kernel
// (/proc/self/fd), so a link swapped between the check and the open is
// caught. ok is false where /proc is not mounted.
func openedPath(f *os.File) (string, bool) {
	sc, err := f.SyscallConn()
	if err != nil {
		return "", false
	}
	var p string
	var rerr error
	if err := sc.Control(func(fd uintptr) {
		p, rerr = os.Readlink("/proc/self/fd/" + strconv.FormatUint(uint64(fd), 10))
	}); err != nil || rerr != nil {
		return "", false
	}
	return strings.TrimSuffix(p, " (deleted)"), true
}
