#!/usr/bin/env bash
# Installs every Debian package that building, testing, fuzzing and benchmarking bundled
# needs. Idempotent: packages already present are left alone, so a second run is quick.
# A fresh Debian 12 machine needs nothing but this script (run as root, or with sudo).
set -euo pipefail

packages=(
  build-essential pkg-config clang llvm libclang-rt-14-dev
  librocksdb-dev libgit2-dev libcurl4-openssl-dev libssl-dev libsodium-dev
  check libsubunit-dev libjansson-dev libzstd-dev zlib1g-dev
  libfuse3-dev fuse3 libp11-kit-dev softhsm2
  openssl curl ca-certificates python3 jq
  # The git mirror's suite clones and reads it with the git CLI.
  git
  # The packaging checks of `make unit`: systemd-analyze verify on packaging/systemd/, and
  # Compose v1's `config` on docker/compose.yaml (no container engine needed for either).
  systemd docker-compose
  # The monitoring checks: a real Prometheus scrapes the daemon in suite_it_prometheus, and
  # promtool checks the exposition and docker/grafana/bundled.rules.yml.
  prometheus
  # benchmarks/bench_diff.c sets bundled's diffs beside these three diff tools (issue 10).
  xdelta3 bsdiff zstd
)
# The JSON Schema check of the tests (tests/schema/, ajv) runs on Node.js; the base image ships
# Node 20 with its own npm, which conflicts with Debian's npm package, so Debian's is only a
# fallback.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

# The real peers of the tests (Kubo, IPFS Cluster, the Go checkers in tests/peers) are built
# from pinned Go modules by tests/peers/build.sh, which needs Go 1.26: the base image has it in
# /usr/local/go. Debian 12's golang package (1.19) is too old to build them, so it is no
# fallback; say so instead of installing it.
go=$(command -v go || true)
[ -n "$go" ] || go=/usr/local/go/bin/go
if ! [ -x "$go" ]; then
  echo "install-deps: Go 1.26 is needed (expected in /usr/local/go/bin or on PATH) to build the" >&2
  echo "install-deps: test peers; Debian's golang package is too old for them" >&2
  exit 1
fi
case "$("$go" env GOVERSION)" in
go1.2[6-9]* | go1.[3-9][0-9]*) ;;
*)
  echo "install-deps: $("$go" env GOVERSION) at $go is too old: the test peers need Go 1.26" >&2
  exit 1
  ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
