#!/usr/bin/env bash
# Replays each fuzz target's checked-in corpus (tests/fuzz/corpus/<target>/) through the
# target built with the project's compiler (and sanitizers, under SANITIZE=...).
set -euo pipefail
build=${BUILD:-build}
total=0
for bin in "$build"/fuzz-replay/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  dir=tests/fuzz/corpus/$name
  if [ ! -d "$dir" ] || [ -z "$(ls -A "$dir")" ]; then
    echo "replay: $name has no corpus in $dir" >&2
    exit 1
  fi
  n=$(find "$dir" -type f | wc -l)
  find "$dir" -type f -print0 | xargs -0 "$bin"
  total=$((total + n))
  echo "replay: $name ok over $n inputs"
done
echo "replay: $total corpus inputs replayed"
