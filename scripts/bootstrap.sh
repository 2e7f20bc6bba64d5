#!/usr/bin/env bash
# One-time (and idempotent) set-up behind the README's two commands:
# nats-server >= 2.10, ClickHouse, Prometheus and Chromium (with --for-tests), pnpm via corepack, the locked packages (Node 24 comes with them as the `node`
# package), and the build. Every step says what is missing when it cannot do its job.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
say() { echo "tributary: $*" >&2; }

nats_bin="$(bash scripts/ensure-nats-server.sh)"
say "nats-server: $nats_bin ($("$nats_bin" --version 2>&1 | head -n1))"

# ClickHouse is the scale-out warehouse; the tests load into a real server (Debian's 18.16 here).
# The local system runs on DuckDB and does not need it.
if [ "${1:-}" = "--for-tests" ]; then
  ch_bin="$(bash scripts/ensure-clickhouse.sh)"
  say "clickhouse: $ch_bin"
  # The telemetry tests run a real Prometheus against the apps and promtool against the alert rules.
  prom_dir="$(bash scripts/ensure-prometheus.sh)"
  say "prometheus: $prom_dir ($("$prom_dir/prometheus" --version 2>&1 | head -n1))"
  # The console's browser tests drive a real Chromium (playwright-core, no downloaded browser).
  chromium_bin="$(bash scripts/ensure-chromium.sh)"
  say "chromium: $chromium_bin ($("$chromium_bin" --version 2>/dev/null | head -n1))"
fi

frozen="--frozen-lockfile"
[ -f pnpm-lock.yaml ] || frozen=""
say "installing packages (pnpm $frozen)"
bash scripts/pnpm.sh install $frozen --reporter=append-only >&2 || {
  say "pnpm install failed: the npm registry must be reachable. See the output above."; exit 1; }

node_bin="$root/node_modules/.bin/node"
if [ ! -x "$node_bin" ]; then
  say "node_modules/.bin/node is missing: the 'node' package (Node 24) did not install."; exit 1
fi
say "node: $("$node_bin" --version) (node_modules/.bin/node)"

say "building"
bash scripts/pnpm.sh run build >&2
