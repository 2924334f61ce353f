#!/usr/bin/env bash
# Fills a folder with kubelet-style container log files for `make run`:
#   demo-logs.sh DIR          write a few lines to each demo file
#   demo-logs.sh DIR append   then keep appending a line a second
set -eu
dir=$1
mkdir -p "$dir"
id=4f3c2b1a0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b
cri="$dir/checkout-7d9f8c-x2x4z_shop_api-$id.log"
docker="$dir/nginx-5b6c7d-abcde_web_nginx-${id:1}0.log"
ts() { date -u +%Y-%m-%dT%H:%M:%S.%NZ; }
line() {
  local n=$1
  printf '%s stdout F {"level":"info","msg":"order placed","order_id":%d,"amount":%d.%02d}\n' "$(ts)" "$n" $((n % 90 + 10)) $((n % 100)) >>"$cri"
  printf '%s stderr F plain text warning number %d from the api\n' "$(ts)" "$n" >>"$cri"
  printf '{"log":"10.0.0.%d - - \\"GET /health HTTP/1.1\\" 200 2\\n","stream":"stdout","time":"%s"}\n' $((n % 250)) "$(ts)" >>"$docker"
}
if [ "${2:-}" = append ]; then
  n=1000
  while sleep 1; do n=$((n + 1)); line $n; done
fi
for n in 1 2 3 4 5; do line $n; done
# A long line split by the runtime into partial (P) lines, joined by sluice.
t=$(ts)
printf '%s stdout P {"level":"warn","msg":"a long line split in ' "$t" >>"$cri"
printf 'two by the container runtime",\n%s stdout F "part":2}\n' "$t" >>"$cri"
