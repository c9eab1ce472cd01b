#!/usr/bin/env bash
# The README's test command: installs what is missing, builds with warnings as errors,
# starts a real IPFS node on loopback for the integration suites, and runs every suite.
# Its output ends with Check's summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
make --no-print-directory -j"$(nproc)" WERROR=1 all
if [ -x tests/ipfs/ipfs-node.sh ]; then
  eval "$(tests/ipfs/ipfs-node.sh start)"
  trap 'tests/ipfs/ipfs-node.sh stop' EXIT
fi
tests/schema/validate.sh --install
make --no-print-directory -j"$(nproc)" WERROR=1 unit
