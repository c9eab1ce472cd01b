#!/usr/bin/env bash
# Checks docker/ without a container engine (none runs on the build machines):
#  1. the compose file is valid: `docker compose config` (Compose v2) when the plugin is
#     installed, else `docker-compose config` (Debian 12's Compose v1, package docker-compose);
#  2. the runtime image installs every shared library the binaries need: each package that
#     owns a library `ldd` lists for build/bin/* must be among the runtime stage's packages or
#     their dependencies (apt-cache depends --recurse), or be in debian:12-slim already
#     (skipped for a SANITIZE build: the image is built without sanitizers).
# A tool that is missing is reported and its check skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BUILD:-build}"
status=0

export GRAFANA_ADMIN_PASSWORD="${GRAFANA_ADMIN_PASSWORD:-check-only}"
if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
else
  compose=()
  echo "check-docker: neither docker compose nor docker-compose installed, compose file not validated"
fi
if [ "${#compose[@]}" -gt 0 ]; then
  if "${compose[@]}" -f docker/compose.yaml config -q; then
    echo "check-docker: docker/compose.yaml is valid (${compose[*]} config)"
  else
    echo "check-docker: docker/compose.yaml is invalid" >&2
    status=1
  fi
fi

if [ -n "${SANITIZE:-}" ]; then
  # The image is built without sanitizers; these binaries also link the sanitizer runtimes.
  echo "check-docker: sanitizer build, runtime libraries not checked (the image has none)"
elif command -v apt-cache >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1; then
  # The runtime stage's packages: the apt-get install after the last FROM.
  runtime="$(awk '/^FROM /{s=""} {s=s $0 "\n"} END{printf "%s", s}' docker/Dockerfile |
    sed -n '/apt-get install/,/&&\|\\$/p' | tr ' \\' '\n\n' |
    grep -E '^[a-z0-9][a-z0-9.+-]+$' | grep -vE '^(apt-get|install|rm|useradd|ca-certificates)$' || true)"
  closure="$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances $runtime 2>/dev/null | grep -E '^[a-z0-9]' | sort -u)"
  # Essential and required packages are in every Debian image, the slim one included.
  base="$(dpkg-query -W -f='${Package} ${Essential} ${Priority}\n' | awk '$2=="yes" || $3=="required"{print $1}')"
  missing=()
  for lib in $(ldd "$build"/bin/* | awk '/=>/{print $3}' | sort -u); do
    pkg="$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null | cut -d: -f1 | head -1)" || true
    [ -n "$pkg" ] || continue
    grep -qx "$pkg" <<<"$closure" || grep -qx "$pkg" <<<"$base" || missing+=("$pkg ($lib)")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    printf 'check-docker: the runtime image lacks %s\n' "${missing[@]}" >&2
    status=1
  else
    echo "check-docker: the runtime stage's packages ($(echo $runtime)) provide every library the binaries link"
  fi
else
  echo "check-docker: no apt-cache/dpkg, runtime libraries not checked"
fi
exit "$status"
