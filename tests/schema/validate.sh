#!/usr/bin/env bash
# Validates JSON documents against one of the project's JSON Schemas with ajv.
#   tests/schema/validate.sh --install          installs ajv (npm ci) into the cache only
#   tests/schema/validate.sh SCHEMA DOC...      installs if needed, then validates
#   tests/schema/validate.sh --exchanges ARGS   the check of every recorded exchange
#                                               (check-exchanges.cjs; the test runner runs it)
# The npm install lives outside the checkout, in ${BUNDLED_CACHE:-~/.cache/bundled}, keyed by
# a hash of package.json and package-lock.json.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
hash=$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -c1-16)
cache=${BUNDLED_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/bundled}
dir=$cache/ajv-$hash

if [ ! -d "$dir/node_modules/ajv" ]; then
  mkdir -p "$cache"
  exec 9>"$cache/ajv.lock"
  flock -w 300 9
  if [ ! -d "$dir/node_modules/ajv" ]; then
    tmp=$(mktemp -d "$cache/ajv-$hash.tmp.XXXXXX")
    cp "$here/package.json" "$here/package-lock.json" "$tmp/"
    npm ci --prefix "$tmp" --no-audit --no-fund --ignore-scripts --loglevel=error >&2
    rm -rf "$dir"
    mv "$tmp" "$dir"
  fi
fi
[ "${1:-}" = "--install" ] && exit 0
script=validate.cjs
if [ "${1:-}" = "--exchanges" ]; then
  script=check-exchanges.cjs
  shift
fi
NODE_PATH=$dir/node_modules exec node "$here/$script" "$@"
