package main

import "runtime/debug"

// version and revision are stamped at build time (`make build`, the
// Dockerfile): -ldflags "-X main.version=v1.2.3 -X main.revision=<commit>".
// A plain `go build` leaves them empty and the build info's VCS stamp is
// used instead, so no build of a checkout reports only "dev".
var (
	version  string
	revision string
)

// buildVersion is the version and revision this binary reports: the
// stamped ones, else what the Go toolchain recorded from the checkout
// (vcs.revision, "-dirty" when the tree had changes), else "dev" and
// "unknown".
func buildVersion() (v, rev string) {
	v, rev = version, revision
	if rev == "" {
		rev = vcsRevision()
	}
	if rev == "" {
		rev = "unknown"
	}
	if v == "" {
		v = "dev"
		if rev != "unknown" {
			v = "dev-" + short(rev)
		}
	}
	return v, rev
}

// vcsRevision is the commit the toolchain stamped into the binary, or "".
func vcsRevision() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch {
		case s.Key == "vcs.revision":
			rev = s.Value
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = "-dirty"
		}
	}
	if rev == "" {
		return ""
	}
	return rev + dirty
}

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}
