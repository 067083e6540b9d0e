#!/usr/bin/env bash
# Installs what sipwarden needs on Debian 12 (as root): Node.js ≥ 20, the apt packages in the given
# list files, and the npm dependencies from the lockfile. Idempotent and quiet when all is present.
set -euo pipefail
cd "$(dirname "$0")/.."

want=()
for list in "$@"; do
  while read -r pkg; do
    [[ -z "$pkg" || "$pkg" == \#* ]] && continue
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || want+=("$pkg")
  done <"$list"
done
if ! command -v node >/dev/null; then want+=(nodejs npm); fi
if ((${#want[@]} > 0)); then
  echo "installing: ${want[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if ((major < 20)); then
  echo "sipwarden needs Node.js 20 or later; this machine has $(node --version)" >&2
  exit 2
fi
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi
