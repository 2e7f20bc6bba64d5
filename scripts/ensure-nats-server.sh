#!/usr/bin/env bash
# Makes sure a nats-server >= 2.14 is available to the project and prints its path.
#
# Why 2.14: it is the first release where a duplicate arriving through a stream source no longer
# stalls that source, which the hub's duplicate window relies on; the project targets 2.15.
#
# Order of preference:
#   1. $TRIBUTARY_NATS_SERVER, when it points at a binary >= 2.14 (an older one is refused);
#   2. .tools/nats-server/usr/sbin/nats-server (what this script installed before);
#   3. a nats-server >= 2.14 on the PATH (an older one there is ignored, never used);
#   4. Debian forky's package (2.15.x), else sid's, downloaded with a private apt state so the
#      system's apt sources are never touched, and unpacked into .tools/ (its binary is linked
#      against libc only and runs on bookworm).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
local_bin="$tools/nats-server/usr/sbin/nats-server"
min_major=2
min_minor=14

version_of() { "$1" --version 2>/dev/null | sed -n 's/.*v\([0-9][0-9.]*\).*/\1/p' | head -n1; }
recent_enough() {
  local v major minor
  v="$(version_of "$1")"; [ -n "$v" ] || return 1
  major="${v%%.*}"; minor="${v#*.}"; minor="${minor%%.*}"
  [ "$major" -gt "$min_major" ] || { [ "$major" -eq "$min_major" ] && [ "$minor" -ge "$min_minor" ]; }
}
say() { echo "tributary: $*" >&2; }
how_to_get_one() {
  say "Get nats-server 2.14 or newer (2.15 recommended): Debian forky/sid's 'nats-server' package,"
  say "or a release from the NATS project; put it on the PATH or set TRIBUTARY_NATS_SERVER to it."
}

if [ -n "${TRIBUTARY_NATS_SERVER:-}" ]; then
  if [ -x "$TRIBUTARY_NATS_SERVER" ] && recent_enough "$TRIBUTARY_NATS_SERVER"; then
    echo "$TRIBUTARY_NATS_SERVER"; exit 0
  fi
  say "TRIBUTARY_NATS_SERVER=$TRIBUTARY_NATS_SERVER is not a nats-server >= $min_major.$min_minor" \
    "(found: $(version_of "$TRIBUTARY_NATS_SERVER" 2>/dev/null || echo none))."
  say "Older servers stall a stream source on every duplicate; Tributary refuses to run on them."
  how_to_get_one
  exit 1
fi
if [ -x "$local_bin" ] && recent_enough "$local_bin"; then echo "$local_bin"; exit 0; fi
if command -v nats-server >/dev/null 2>&1; then
  on_path="$(command -v nats-server)"
  if recent_enough "$on_path"; then echo "$on_path"; exit 0; fi
  say "ignoring $on_path (v$(version_of "$on_path")): older than $min_major.$min_minor"
fi

if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg >/dev/null 2>&1; then
  say "nats-server >= $min_major.$min_minor is missing and apt-get/dpkg are not available to fetch it."
  how_to_get_one
  exit 1
fi

apt_state="$tools/apt"
# Reuse the Debian mirror the system is already configured for.
mirror="$(sed -n 's/^URIs:[[:space:]]*\(\S*debian\)\/\?$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)"
[ -n "$mirror" ] || mirror="$(sed -n 's/^deb[[:space:]]\+\(http\S*debian\)\/\?[[:space:]].*/\1/p' /etc/apt/sources.list 2>/dev/null | head -n1)"
[ -n "$mirror" ] || mirror="http://deb.debian.org/debian"

for suite in forky sid; do
  say "nats-server >= $min_major.$min_minor not found; fetching Debian $suite's package into .tools/"
  rm -rf "$apt_state"
  mkdir -p "$apt_state/lists/partial" "$apt_state/cache/archives/partial" "$apt_state/debs"
  echo "deb $mirror $suite main" > "$apt_state/sources.list"
  apt_opts=(-o "Dir::Etc::sourcelist=$apt_state/sources.list" -o "Dir::Etc::sourceparts=-"
    -o "Dir::State::Lists=$apt_state/lists" -o "Dir::Cache=$apt_state/cache"
    -o "APT::Get::List-Cleanup=0" -o "APT::Sandbox::User=root")
  if apt-get "${apt_opts[@]}" update >"$apt_state/update.log" 2>&1 \
    && (cd "$apt_state/debs" && apt-get "${apt_opts[@]}" download "nats-server/$suite" >"$apt_state/download.log" 2>&1); then
    deb="$(ls "$apt_state/debs"/nats-server_*.deb | head -n1)"
    rm -rf "$tools/nats-server"
    dpkg -x "$deb" "$tools/nats-server"
    if [ -x "$local_bin" ] && recent_enough "$local_bin"; then
      say "installed nats-server $(version_of "$local_bin") at .tools/nats-server"
      rm -rf "$apt_state"
      echo "$local_bin"; exit 0
    fi
    say "$suite's nats-server is missing, too old or does not run here (v$(version_of "$local_bin" || true))"
  else
    say "could not fetch $suite's nats-server (see $apt_state/*.log)"
  fi
done

say "nats-server >= $min_major.$min_minor could not be installed."
how_to_get_one
exit 1
