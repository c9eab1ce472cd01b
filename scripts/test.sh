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
# --- Go test tooling (issue 13 §4): the reference verifiers of tests/peers/cmd/ for the
# suite_peer_* suites, built outside the checkout, keyed by go.sum; Go's build cache makes
# a rebuild with nothing changed take a second. Without Go those suites are left out.
if command -v go >/dev/null 2>&1; then
  peers_bin="${BUNDLED_CACHE:-$HOME/.cache/bundled}/peers-$(sha256sum tests/peers/go.sum | cut -c1-16)/bin"
  echo "building tests/peers/cmd/* into $peers_bin (the first build downloads modules)"
  (cd tests/peers && go build -mod=readonly -o "$peers_bin/" ./cmd/...)
  export BUNDLED_TEST_PEERS_BIN="$peers_bin"
fi
# --- end of Go test tooling
make --no-print-directory -j"$(nproc)" WERROR=1 unit
