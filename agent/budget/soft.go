package budget

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"runtime/debug"
	"runtime/metrics"
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
// bytes of the binary are resident and untouched bytes of what the
// runtime counts against its limit are not (Untouched). The limit is
// there to bound resident memory, and the runtime counts memory it has
// mapped whether or not it was ever written: at memory_limit 40MiB with
// Kubernetes enrichment it counted 3.6 MB more than was resident (its
// 1.4 MB profiling table, GC metadata for the parts of the heap's arena
// not in use), which is what the collector needed above the live heap
// not to run back to back (bench/RESULTS.md). That much, up to base/8,
// comes back on the limit; a page written later is resident and counted
// in the next reading (each second).
func AdjustSoft(base, file, untouched int64) int64 {
	return max(base-max(file-binaryPages, 0), min(base, minSoft)) + min(max(untouched, 0), base/8)
}

// applySoft sets the runtime's limit from softBase and the pages
// resident now; it returns the limit in effect and the file bytes.
func applySoft() (int64, int64) {
	base := softBase.Load()
	if base == 0 {
		return debug.SetMemoryLimit(-1), 0
	}
	file, anon := Resident()
	soft := AdjustSoft(base, file, Untouched(anon))
	if debug.SetMemoryLimit(-1) != soft {
		debug.SetMemoryLimit(soft)
	}
	return soft, file
}

// runtimeMetrics are what the runtime counts against its memory limit:
// everything it has mapped less what it has given back.
var runtimeMetrics = [2]string{"/memory/classes/total:bytes", "/memory/classes/heap/released:bytes"}

// Untouched is what the Go runtime counts against its memory limit
// beyond anon, the process's resident anonymous memory: mapped and never
// written, or 0. A process that holds memory outside the Go runtime (C
// libraries) has more anonymous memory than the runtime counts and gets
// 0.
func Untouched(anon int64) int64 {
	if anon <= 0 {
		return 0
	}
	var samples [len(runtimeMetrics)]metrics.Sample
	for i, name := range runtimeMetrics {
		samples[i].Name = name
	}
	metrics.Read(samples[:])
	for _, s := range samples {
		if s.Value.Kind() != metrics.KindUint64 {
			return 0
		}
	}
	counted := int64(samples[0].Value.Uint64() - samples[1].Value.Uint64())
	return max(counted-anon, 0)
}

// FileResident is the process's resident file-backed (and shared)
// memory in bytes, the "shared" field of /proc/self/statm: the binary's
// pages, and libc's when linked dynamically. 0 when unknown.
func FileResident() int64 {
	file, _ := Resident()
	return file
}

// Resident is the process's resident memory in bytes from
// /proc/self/statm: file-backed (and shared), the "shared" field, and
// anonymous, "resident" less "shared". 0, 0 when unknown.
func Resident() (file, anon int64) {
	raw, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, 0
	}
	f := bytes.Fields(raw)
	if len(f) < 3 {
		return 0, 0
	}
	resident, err1 := strconv.ParseInt(string(f[1]), 10, 64)
	shared, err2 := strconv.ParseInt(string(f[2]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0
	}
	page := int64(os.Getpagesize())
	return shared * page, (resident - shared) * page
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
