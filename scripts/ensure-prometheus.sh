#!/usr/bin/env bash
# Makes sure Prometheus and promtool are available to the telemetry tests (a real server scrapes
# the apps; promtool tests the alert rules) and prints the folder holding both binaries.
# Order: $TRIBUTARY_PROMETHEUS_DIR; the PATH and /usr/bin; Debian's prometheus package (bookworm:
# 2.42), installed by scripts/apt-install.sh, which starts no service. Tests start their own
# server on a free loopback port with a config in a temp dir.
set -euo pipefail
say() { echo "tributary: $*" >&2; }

usable() { [ -n "$1" ] && [ -x "$1/prometheus" ] && [ -x "$1/promtool" ]; }
find_installed() {
  local dir
  if [ -n "${TRIBUTARY_PROMETHEUS_DIR:-}" ]; then
    usable "$TRIBUTARY_PROMETHEUS_DIR" && { echo "$TRIBUTARY_PROMETHEUS_DIR"; exit 0; }
    say "TRIBUTARY_PROMETHEUS_DIR=$TRIBUTARY_PROMETHEUS_DIR holds no prometheus and promtool; looking elsewhere"
  fi
  if command -v prometheus >/dev/null 2>&1; then
    dir="$(dirname "$(command -v prometheus)")"
    usable "$dir" && { echo "$dir"; exit 0; }
  fi
  for dir in /usr/bin /usr/local/bin; do usable "$dir" && { echo "$dir"; exit 0; }; done
  return 0
}

find_installed
if ! bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" prometheus; then
  say "Install Prometheus 2.x with promtool (Debian: apt-get install prometheus), or set"
  say "TRIBUTARY_PROMETHEUS_DIR to the folder holding both binaries, and run again."
  exit 1
fi
find_installed
say "apt-get installed prometheus, but prometheus and promtool were not found afterwards"
exit 1
