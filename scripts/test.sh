#!/usr/bin/env bash
# The README's test command: installs what is missing, builds with warnings as errors, builds
# the real peers (Kubo, IPFS Cluster, the Go checkers; cached outside the checkout, so only
# the first run takes minutes), starts a Kubo node and a two-peer IPFS Cluster on loopback for
# the integration suites, and runs every suite. Its output ends with Check's summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
make --no-print-directory -j"$(nproc)" WERROR=1 all
# The harness scripts and the suites that run Go checkers find the peers here.
BUNDLED_TEST_PEERS_BIN=$(tests/peers/build.sh)
export BUNDLED_TEST_PEERS_BIN
cleanup() {
  tests/peers/cluster.sh stop || true
  tests/ipfs/ipfs-node.sh stop || true
}
trap cleanup EXIT
eval "$(tests/ipfs/ipfs-node.sh start)"
eval "$(tests/peers/cluster.sh start)"
tests/schema/validate.sh --install
make --no-print-directory -j"$(nproc)" WERROR=1 unit
