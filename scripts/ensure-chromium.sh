#!/usr/bin/env bash
# Makes sure Chromium is available to the console's browser tests (apps/console, driven by
# playwright-core) and prints its path. Order: $TRIBUTARY_CHROMIUM; /usr/bin/chromium; Debian's
# chromium package, installed by scripts/apt-install.sh. Idempotent: a second run installs nothing.
set -euo pipefail
say() { echo "tributary: $*" >&2; }

usable() { [ -n "$1" ] && [ -x "$1" ]; }
find_installed() {
  if [ -n "${TRIBUTARY_CHROMIUM:-}" ]; then
    usable "$TRIBUTARY_CHROMIUM" && { echo "$TRIBUTARY_CHROMIUM"; exit 0; }
    say "TRIBUTARY_CHROMIUM=$TRIBUTARY_CHROMIUM is not an executable; looking elsewhere"
  fi
  usable /usr/bin/chromium && { echo /usr/bin/chromium; exit 0; }
  return 0
}

find_installed
if ! bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" chromium; then
  say "Install Chromium (Debian: apt-get update && apt-get install -y chromium), or set"
  say "TRIBUTARY_CHROMIUM to a Chromium executable, and run again."
  exit 1
fi
find_installed
say "apt-get installed chromium, but /usr/bin/chromium was not found afterwards"
exit 1
