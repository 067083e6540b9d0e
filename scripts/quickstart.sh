#!/usr/bin/env bash
# Installs sipwarden from this checkout and runs its main job on the embedded defaults: it watches the
# PBX logs it finds and prints the decisions it makes (or, with no PBX on this host, replays a bundled
# sample attack and prints those).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh scripts/runtime-packages.txt
npm run build --silent
exec node dist/cli/main.js run "$@"
