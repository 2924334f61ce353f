#!/bin/bash
# usage: bench/hostile/tap_latency.sh BIN (bench/RESULTS.md, hostile: HTTP API)
# — seconds to ship 2000 1-KB lines with no tap, then with a tap grepping (\w+\s?){300}$
BIN=$1; D=$(mktemp -d); mkdir -p $D/logs
PORT=$((20000 + RANDOM % 20000))
cat > $D/c.yaml <<Y
node_name: n
data_dir: $D/data
memory_limit: 64MiB
http: { listen: 127.0.0.1:$PORT }
inputs:
  - { name: containers, type: container_logs, paths: [$D/logs/*.log], start_at: head, poll_interval: 50ms }
kubernetes: { enabled: false }
outputs:
  - { name: stdout, type: console }
Y
$BIN -config $D/c.yaml >/dev/null 2>$D/err & PID=$!
until curl -sf localhost:$PORT/readyz >/dev/null; do sleep 0.05; done
sent() { curl -s localhost:$PORT/metrics | awk '/^sluice_output_documents_total\{output="stdout",result="sent"\}/{print $2}'; }
gen() { python3 -c "
import sys
pad='lorem ipsum '*83
with open(sys.argv[1],'w') as f:
    for i in range(2000): f.write('2026-12-06T10:00:00.%09dZ stdout F %s line %d %s\n'%(i,sys.argv[2],i,pad))
" $D/logs/$1_ns_c-0123456789abcdef.log $1; }
run() { local want=$1 name=$2; local t0=$(date +%s.%N); gen $name; until [ "$(sent)" -ge "$want" ] 2>/dev/null; do sleep 0.01; done; echo "$name: $(echo "$(date +%s.%N) - $t0" | bc) s"; }
run 2000 baseline
curl -sN "localhost:$PORT/api/v1/tap?grep=$(python3 -c 'import urllib.parse;print(urllib.parse.quote(r"(\w+\s?){300}$"))')" >/dev/null & CURL=$!
until curl -s localhost:$PORT/metrics | grep -q '^sluice_tap_subscribers 1'; do sleep 0.05; done
run 4000 tapped
kill $CURL $PID; wait 2>/dev/null; rm -rf $D
