#!/usr/bin/env bash
# Makes sure a nats-server >= 2.10 is available to the project and prints its path.
#
# Order of preference:
#   1. $TRIBUTARY_NATS_SERVER, when it points at a binary;
#   2. .tools/nats-server/usr/sbin/nats-server (what this script installed before);
#   3. a nats-server >= 2.10 on the PATH;
#   4. Debian trixie's package (2.10.x), downloaded with a private apt state so the system's apt
#      sources are never touched, and unpacked into .tools/ (its binary runs on bookworm);
#   5. bookworm's own package (2.9.10) as a last resort, with a warning: it lacks sync_interval
#      and subject transforms on sources.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
local_bin="$tools/nats-server/usr/sbin/nats-server"

version_of() { "$1" --version 2>/dev/null | sed -n 's/.*v\([0-9][0-9.]*\).*/\1/p' | head -n1; }
at_least_2_10() {
  local v major minor
  v="$(version_of "$1")"; [ -n "$v" ] || return 1
  major="${v%%.*}"; minor="${v#*.}"; minor="${minor%%.*}"
  [ "$major" -gt 2 ] || { [ "$major" -eq 2 ] && [ "$minor" -ge 10 ]; }
}
say() { echo "tributary: $*" >&2; }

if [ -n "${TRIBUTARY_NATS_SERVER:-}" ] && [ -x "$TRIBUTARY_NATS_SERVER" ]; then
  echo "$TRIBUTARY_NATS_SERVER"; exit 0
fi
if [ -x "$local_bin" ] && at_least_2_10 "$local_bin"; then echo "$local_bin"; exit 0; fi
if command -v nats-server >/dev/null 2>&1 && at_least_2_10 "$(command -v nats-server)"; then
  command -v nats-server; exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  say "nats-server >= 2.10 is missing and apt-get is not available to fetch it."
  say "Install nats-server 2.10 or newer and put it on the PATH (or set TRIBUTARY_NATS_SERVER)."
  exit 1
fi

say "nats-server >= 2.10 not found; fetching Debian trixie's package into .tools/"
apt_state="$tools/apt"
rm -rf "$apt_state"
mkdir -p "$apt_state/lists/partial" "$apt_state/cache/archives/partial" "$apt_state/debs"
# Reuse the Debian mirror the system is already configured for.
mirror="$(sed -n 's/^URIs:[[:space:]]*\(\S*debian\)\/\?$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)"
[ -n "$mirror" ] || mirror="$(sed -n 's/^deb[[:space:]]\+\(http\S*debian\)\/\?[[:space:]].*/\1/p' /etc/apt/sources.list 2>/dev/null | head -n1)"
[ -n "$mirror" ] || mirror="http://deb.debian.org/debian"
echo "deb $mirror trixie main" > "$apt_state/sources.list"
apt_opts=(-o "Dir::Etc::sourcelist=$apt_state/sources.list" -o "Dir::Etc::sourceparts=-"
  -o "Dir::State::Lists=$apt_state/lists" -o "Dir::Cache=$apt_state/cache"
  -o "APT::Get::List-Cleanup=0" -o "APT::Sandbox::User=root")
if apt-get "${apt_opts[@]}" update >"$apt_state/update.log" 2>&1 \
  && (cd "$apt_state/debs" && apt-get "${apt_opts[@]}" download nats-server/trixie >"$apt_state/download.log" 2>&1); then
  deb="$(ls "$apt_state/debs"/nats-server_*.deb | head -n1)"
  rm -rf "$tools/nats-server"
  dpkg -x "$deb" "$tools/nats-server"
  if [ -x "$local_bin" ] && at_least_2_10 "$local_bin"; then
    say "installed nats-server $(version_of "$local_bin") at .tools/nats-server"
    rm -rf "$apt_state"
    echo "$local_bin"; exit 0
  fi
  say "trixie's nats-server did not run here; see $apt_state"
else
  say "could not fetch trixie's nats-server (see $apt_state/*.log)"
fi

say "falling back to Debian bookworm's nats-server package (2.9.x)"
if [ "$(id -u)" -eq 0 ] && { apt-get install -y nats-server >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y nats-server >/dev/null 2>&1; }; }; then
  bin="$(command -v nats-server || echo /usr/sbin/nats-server)"
  say "WARNING: using nats-server $(version_of "$bin"): older than 2.10, without sync_interval and"
  say "WARNING: subject transforms on sources; some production settings are unavailable."
  echo "$bin"; exit 0
fi
say "nats-server is missing and could not be installed (need root and Debian's package archive)."
say "Install nats-server 2.10 or newer, put it on the PATH or set TRIBUTARY_NATS_SERVER, and run again."
exit 1
