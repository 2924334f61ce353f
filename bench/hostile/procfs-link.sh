#!/usr/bin/env bash
# procfs-link.sh: what one planted link to /proc/self/limits and one to
# /proc/self/environ cost an agent, before and after issue 19.
#
#   bench/hostile/procfs-link.sh [BEFORE_REV] [AFTER_REV] [SECONDS]
#
# Builds sluice at both revisions (default 141eb6e and HEAD), runs each for
# SECONDS (default 5) over a log folder holding the two links and one real
# log line, output to the console (discarded), and prints from /metrics the
# records and bytes read, the refusals and the CPU seconds used.
set -euo pipefail
before=${1:-141eb6e}
after=${2:-HEAD}
secs=${3:-5}
repo=$(git rev-parse --show-toplevel)
work=$(mktemp -d /tmp/sluice-procfs-link.XXXXXX)
trap 'rm -rf "$work"' EXIT

build() { # rev out
	git -C "$repo" worktree add -q --detach "$work/src-$1" "$1"
	(cd "$work/src-$1" && CGO_ENABLED=0 go build -o "$2" ./cmd/sluice)
	git -C "$repo" worktree remove --force "$work/src-$1"
}

run() { # label binary
	local dir="$work/$1" cid
	mkdir -p "$dir/logs"
	cid=$(printf '%064d' 1)
	ln -s /proc/self/limits "$dir/logs/limits_hostile_c-$cid.log"
	ln -s /proc/self/environ "$dir/logs/environ_hostile_c-$cid.log"
	echo "2026-12-06T10:00:00.000000000Z stdout F a real line" >"$dir/logs/app_ns_c-$cid.log"
	cat >"$dir/sluice.yaml" <<YAML
data_dir: $dir/data
memory_limit: 64MiB
http: { listen: 127.0.0.1:0 }
inputs:
  - { name: containers, type: container_logs, paths: ["$dir/logs/*.log"], start_at: head }
kubernetes: { enabled: false }
outputs:
  - { name: stdout, type: console }
YAML
	"$2" -config "$dir/sluice.yaml" >/dev/null 2>"$dir/stderr" &
	local pid=$! addr=""
	for _ in $(seq 100); do
		addr=$(grep -o '"msg":"http api listening","addr":"[^"]*"' "$dir/stderr" | sed 's/.*"addr":"//; s/"$//' || true)
		[ -n "$addr" ] && break
		sleep 0.1
	done
	sleep "$secs"
	local m
	m=$(curl -fsS "http://$addr/metrics")
	# The old agent's re-read loop never looks at its context: it does not
	# stop on SIGTERM. Give it 10 s, then SIGKILL, and say so.
	kill -TERM "$pid"
	local stopped=yes
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then stopped="no (SIGKILL)"; kill -KILL "$pid"; fi
	wait "$pid" 2>/dev/null || true
	val() { echo "$m" | grep -E "^$1" | awk '{s+=$2} END {printf "%.0f", s}'; }
	cpu=$(echo "$m" | awk '/^process_cpu_seconds_total/ {print $2}')
	printf '%-7s records=%s bytes=%s refused=%s cpu_s=%s in %ss; stopped on SIGTERM: %s\n' "$1" \
		"$(val 'sluice_input_records_total')" "$(val 'sluice_input_bytes_total')" \
		"$(val 'sluice_input_files_refused_total')" "$cpu" "$secs" "$stopped"
}

build "$before" "$work/sluice-before"
build "$after" "$work/sluice-after"
run before "$work/sluice-before"
run after "$work/sluice-after"
