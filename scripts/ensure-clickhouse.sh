#!/usr/bin/env bash
# Makes sure a ClickHouse server binary is available to the project's tests and prints how to run
# it, on one line: the path of a `clickhouse-server` binary, or `<path> server` for the
# `clickhouse` multi-binary of newer releases. It never starts a server: tests start their own, on
# free loopback ports with a config file in a temp dir (packages/warehouse/test/clickhouse-server.ts).
#
# Order of preference:
#   1. $TRIBUTARY_CLICKHOUSE_SERVER, when it points at an executable (either kind of binary);
#   2. clickhouse-server on the PATH or in /usr/sbin, /usr/bin, /usr/local/bin;
#   3. the clickhouse multi-binary on the PATH or in those folders;
#   4. Debian's clickhouse-server package (bookworm: 18.16), installed with apt-get
#      (apt-get update only when the first install attempt fails). The package's maintainer
#      scripts would start its system service where systemd runs; a temporary policy-rc.d
#      (the standard Debian switch) keeps them from starting anything.
set -euo pipefail
say() { echo "tributary: $*" >&2; }

print_if_usable() {
  local bin="$1"
  [ -n "$bin" ] && [ -x "$bin" ] || return 1
  case "$(basename "$bin")" in
    clickhouse) echo "$bin server" ;;
    *) echo "$bin" ;;
  esac
  exit 0
}

find_installed() {
  local name dir
  for name in clickhouse-server clickhouse; do
    if command -v "$name" >/dev/null 2>&1; then print_if_usable "$(command -v "$name")" || true; fi
    for dir in /usr/sbin /usr/bin /usr/local/bin; do
      print_if_usable "$dir/$name" || true
    done
  done
}

if [ -n "${TRIBUTARY_CLICKHOUSE_SERVER:-}" ]; then
  print_if_usable "$TRIBUTARY_CLICKHOUSE_SERVER" || say "TRIBUTARY_CLICKHOUSE_SERVER=$TRIBUTARY_CLICKHOUSE_SERVER is not an executable; looking elsewhere"
fi
find_installed

if ! command -v apt-get >/dev/null 2>&1; then
  say "clickhouse-server is missing and apt-get is not available to install it."
  say "Install ClickHouse (any release from 18.16 on), put clickhouse-server or clickhouse on the PATH,"
  say "or set TRIBUTARY_CLICKHOUSE_SERVER to the binary, and run again."
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  say "clickhouse-server is missing and installing Debian's package needs root:"
  say "  sudo apt-get install -y clickhouse-server"
  say "(or set TRIBUTARY_CLICKHOUSE_SERVER to a ClickHouse server binary) and run again."
  exit 1
fi

log="$(mktemp -t tributary-clickhouse-apt.XXXXXX)"
policy=/usr/sbin/policy-rc.d
own_policy=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# temporary, from tributary scripts/ensure-clickhouse.sh: start no service during the install\nexit 101\n' > "$policy"
  chmod 755 "$policy"
  own_policy=1
fi
cleanup() { if [ -n "$own_policy" ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

install() { DEBIAN_FRONTEND=noninteractive apt-get install -y clickhouse-server >>"$log" 2>&1; }
say "clickhouse-server not found; installing Debian's package (apt-get install -y clickhouse-server)"
if ! install; then
  say "install failed; running apt-get update and trying once more"
  if ! { apt-get update >>"$log" 2>&1 && install; }; then
    say "could not install clickhouse-server with apt-get; its output is in $log"
    say "Install ClickHouse (any release from 18.16 on) or set TRIBUTARY_CLICKHOUSE_SERVER, and run again."
    exit 1
  fi
fi
rm -f "$log"
cleanup
own_policy=""
find_installed
say "apt-get installed clickhouse-server, but no server binary was found afterwards"
exit 1
