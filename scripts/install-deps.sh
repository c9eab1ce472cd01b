#!/usr/bin/env bash
# Installs every Debian package that building, testing, fuzzing and benchmarking bundled
# needs. Idempotent: packages already present are left alone, so a second run is quick.
# A fresh Debian 12 machine needs nothing but this script (run as root, or with sudo).
set -euo pipefail

packages=(
  build-essential pkg-config clang llvm libclang-rt-14-dev
  librocksdb-dev libgit2-dev libcurl4-openssl-dev libssl-dev libsodium-dev
  check libsubunit-dev libjansson-dev libzstd-dev
  libfuse3-dev fuse3 libp11-kit-dev softhsm2
  openssl curl ca-certificates python3
  # The packaging checks of `make unit`: systemd-analyze verify on packaging/systemd/, and
  # Compose v1's `config` on docker/compose.yaml (no container engine needed for either).
  systemd docker-compose
  # The monitoring checks: a real Prometheus scrapes the daemon in suite_it_prometheus, and
  # promtool checks the exposition and docker/grafana/bundled.rules.yml.
  prometheus
)
# The IPFS node of the tests (js-ipfs) runs on Node.js; the base image ships Node 20 with its
# own npm, which conflicts with Debian's npm package, so Debian's is only a fallback.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

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
