#!/usr/bin/env bash
# The whole test suite: installs what the tests need, then typecheck, lint, build, unit and integration.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $(id -u) -ne 0 ]]; then
  echo "the integration tests use network namespaces and the kernel firewall: run as root" >&2
  exit 2
fi
SIPWARDEN_NO_SERVICE_START=1 bash scripts/install-deps.sh scripts/runtime-packages.txt scripts/apt-packages.txt
npm test
