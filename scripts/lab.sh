#!/usr/bin/env bash
# The end-to-end attack lab as a demo: Kamailio, sipvicious and SIPp in throw-away namespaces, sipwarden protecting the PBX.
#
# Usage: sudo bash scripts/lab.sh
# Needs root (network namespaces) and Debian's kamailio, sip-tester, sipvicious, nftables, iptables, ipset.
# Everything it creates (namespaces sw-lab-<id>-*, /tmp/sw-lab-<id>-*) is removed at the end, also on Ctrl-C.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD

if [ "$(id -u)" -ne 0 ]; then
  echo "lab.sh: needs root to create network namespaces: sudo bash scripts/lab.sh" >&2
  exit 2
fi

id=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
build_dir=$(mktemp -d "/tmp/sw-lab-$id-demo-XXXXXX")

# Fallback cleanup after the demo's own: only the names of this run ($id), so nothing else is touched.
cleanup() {
  local ns pid
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^sw-lab-$id-" || true); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -rf "$build_dir" /tmp/sw-lab-"$id"-* 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Build sipwarden when dist is missing or older than a source file.
if [ ! -f dist/cli/main.js ] || [ -n "$(find src -name '*.ts' -newer dist/cli/main.js -print -quit)" ]; then
  echo "Building sipwarden (npm run build)..."
  npm run --silent build
fi

# The lab code is shared with test/lab/attack-lab.integration.test.ts; compile it alone (Node built-ins only).
"$root/node_modules/.bin/tsc" --outDir "$build_dir" --rootDir test/lab --module nodenext --moduleResolution nodenext \
  --target es2022 --types node --strict --skipLibCheck --noUncheckedIndexedAccess test/lab/demo.ts
echo '{"type":"module"}' >"$build_dir/package.json"

SW_ROOT="$root" SW_LAB_ID="$id" node "$build_dir/demo.js"
