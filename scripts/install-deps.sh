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
  # For the tests (scripts/test.sh asks): tools, not services, so no package's daemon (kamailio,
  # prometheus, …) is started by its installation (policy-rc.d answering 101 = "not allowed", for the
  # length of the install, unless the host has one). An admin's install leaves their policy alone.
  guard=""
  if [[ "${SIPWARDEN_NO_SERVICE_START:-}" == 1 && ! -e /usr/sbin/policy-rc.d ]]; then
    guard=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' >"$guard"
    chmod 755 "$guard"
    trap 'rm -f "$guard"' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
  if [[ -n "$guard" ]]; then rm -f "$guard"; fi
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if ((major < 20)); then
  echo "sipwarden needs Node.js 20 or later; this machine has $(node --version)" >&2
  exit 2
fi
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi
