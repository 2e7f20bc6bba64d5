#!/usr/bin/env bash
# Installs Debian packages for the project's tests without starting their services:
#   bash scripts/apt-install.sh <package>...
# The packages' maintainer scripts would start system services where systemd runs; a temporary
# policy-rc.d (the standard Debian switch) keeps them from starting anything. apt-get update runs
# only when the first attempt fails. Exits non-zero, saying what to do, when it cannot install.
set -euo pipefail
say() { echo "tributary: $*" >&2; }
[ "$#" -gt 0 ] || { say "usage: apt-install.sh <package>..."; exit 2; }

if ! command -v apt-get >/dev/null 2>&1; then
  say "apt-get is not available to install $*; install them by other means and run again."
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  say "installing $* needs root: sudo apt-get install -y $*  (then run again)"
  exit 1
fi

log="$(mktemp -t tributary-apt.XXXXXX)"
policy=/usr/sbin/policy-rc.d
own_policy=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# temporary, from tributary scripts/apt-install.sh: start no service during the install\nexit 101\n' > "$policy"
  chmod 755 "$policy"
  own_policy=1
fi
cleanup() { if [ -n "$own_policy" ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

install() { DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >>"$log" 2>&1; }
say "installing Debian's $* (apt-get install -y $*)"
if ! install "$@"; then
  say "install failed; running apt-get update and trying once more"
  if ! { apt-get update >>"$log" 2>&1 && install "$@"; }; then
    say "could not install $* with apt-get; its output is in $log"
    exit 1
  fi
fi
rm -f "$log"
