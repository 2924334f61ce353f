package budget

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"
)

// The split assumes the binary keeps binaryPages resident (its text and
// data: RssFile, which the Go runtime's limit does not see). A binary
// that grew past it, or links libc, keeps more: 17.7 MiB static and 19.2
// MiB dynamic in TestSpoolReplayPeakRSSUnderMemoryLimit, and the chaos
// run's syslog outage peaked at 66 MiB against 64MiB, its heap at the
// soft limit. So the soft limit is kept honest while the agent runs:
// each second the resident file-backed pages are read from
// /proc/self/statm and what they hold beyond binaryPages comes off the
// soft limit (never under minSoft).

// softBase is the split's soft limit that SetSoftLimit was given; 0
// when GOMEMLIMIT rules.
var softBase atomic.Int64

// SetSoftLimit sets the Go runtime's soft memory limit to soft, less
// what the binary's resident pages exceed binaryPages, so the collector
// runs more often as the heap nears it instead of letting it reach twice
// the live bytes. A GOMEMLIMIT in the environment is the operator's
// choice and wins; the limit in effect is returned either way.
func SetSoftLimit(soft int64) int64 {
	if os.Getenv("GOMEMLIMIT") != "" {
		softBase.Store(0)
		return debug.SetMemoryLimit(-1)
	}
	softBase.Store(soft)
	eff, _ := applySoft()
	return eff
}

// AdjustSoft is the soft limit for a split's soft limit base when file
// bytes of the binary are resident.
func AdjustSoft(base, file int64) int64 {
	return max(base-max(file-binaryPages, 0), min(base, minSoft))
}

// applySoft sets the runtime's limit from softBase and the file pages
// resident now; it returns the limit in effect and the file bytes.
func applySoft() (int64, int64) {
	base := softBase.Load()
	if base == 0 {
		return debug.SetMemoryLimit(-1), 0
	}
	file := FileResident()
	soft := AdjustSoft(base, file)
	if debug.SetMemoryLimit(-1) != soft {
		debug.SetMemoryLimit(soft)
	}
	return soft, file
}

// FileResident is the process's resident file-backed (and shared)
// memory in bytes, the "shared" field of /proc/self/statm: the binary's
// pages, and libc's when linked dynamically. 0 when unknown.
func FileResident() int64 {
	raw, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := bytes.Fields(raw)
	if len(f) < 3 {
		return 0
	}
	pages, err := strconv.ParseInt(string(f[2]), 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}

// GuardSoftLimit applies the soft limit each second until ctx ends, as
// the binary's resident pages change, and logs when they first take it
// a further MiB under the split's.
func GuardSoftLimit(ctx context.Context, logger *slog.Logger) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var told int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		soft, file := applySoft()
		base := softBase.Load()
		if base > 0 && base-soft >= told+1<<20 {
			told = base - soft
			logger.Info("soft memory limit lowered: the binary keeps more pages resident than the split assumed",
				"soft_limit", soft, "resident_file_bytes", file, "assumed", int64(binaryPages))
		}
	}
}
