#!/usr/bin/env bash
# Runs the tiers the way RESULTS.md records them: the three lower tiers without and with each
# fault; tier 100-1k again with region us as a 3-node R3 cluster and with fsync on every write
# (R1/R3 × lazy/always); then the top tier. Each run under the machine's benchmark lock (shared
# machine), each from a clean start of the local system. Usage: bash loadtest/run-tiers.sh [duration-seconds]
set -u
cd "$(dirname "$0")/.."
duration="${1:-30}"
node=node_modules/.bin/node
logs="${LOADTEST_LOGS:-/tmp/tributary-loadtest-logs}"
mkdir -p "$logs"
run() {
  local name="$1"; shift
  echo "=== $name: pnpm loadtest $* --duration $duration"
  flock /tmp/tributary-bench.lock "$node" loadtest/dist/main.js "$@" --duration "$duration" >"$logs/$name.out" 2>"$logs/$name.progress"
  echo "exit $?"
  grep -v '^report:\|^plot:' "$logs/$name.out"
}
for tier in under-10 10-100 100-1k; do
  run "$tier" --tier "$tier"
  for fault in aggregator-kill region-kill link-cut warehouse-stop node-kill; do
    run "$tier-$fault" --tier "$tier" --fault "$fault"
  done
done
run 100-1k-r3 --tier 100-1k --replicas 3
run 100-1k-fsync --tier 100-1k --fsync always
run 100-1k-r3-fsync --tier 100-1k --replicas 3 --fsync always
run over-1k --tier over-1k
