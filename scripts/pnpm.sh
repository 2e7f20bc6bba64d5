#!/usr/bin/env bash
# Runs the pnpm pinned in package.json ("packageManager") through corepack, with a `pnpm` shim in
# .tools/bin on the PATH so that tools which look pnpm up themselves (turbo) find it too.
# COREPACK_INTEGRITY_KEYS=0: the registry reachable from these machines serves pnpm without the
# signatures corepack checks by default, so corepack would refuse it ("No compatible signature").
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export COREPACK_ENABLE_DOWNLOAD_PROMPT=0
export COREPACK_INTEGRITY_KEYS=0
if ! command -v corepack >/dev/null 2>&1; then
  echo "tributary: corepack is not on the PATH (Node >= 25 no longer ships it); installing it with npm" >&2
  npm install -g corepack >&2 || { echo "tributary: could not install corepack: run 'npm install -g corepack' and try again" >&2; exit 1; }
fi
shims="$root/.tools/bin"
if [ ! -e "$shims/pnpm" ]; then
  mkdir -p "$shims"
  corepack enable --install-directory "$shims" pnpm
fi
export PATH="$shims:$PATH"
exec pnpm "$@"
