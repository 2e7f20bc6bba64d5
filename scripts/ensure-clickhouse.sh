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
#   4. Debian's clickhouse-server package (bookworm: 18.16), installed by scripts/apt-install.sh
#      (which starts no service).
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

if ! bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" clickhouse-server; then
  say "Install ClickHouse (any release from 18.16 on), put clickhouse-server or clickhouse on the PATH,"
  say "or set TRIBUTARY_CLICKHOUSE_SERVER to the binary, and run again."
  exit 1
fi
find_installed
say "apt-get installed clickhouse-server, but no server binary was found afterwards"
exit 1
