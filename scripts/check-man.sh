#!/usr/bin/env bash
# Checks the man pages in docs/man/ (hand-written roff, nothing generated): groff must format
# each with every warning enabled and say nothing (groff exits 0 even after a warning, so
# any message counts as a failure). Without groff the check says so and passes.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v groff >/dev/null 2>&1; then
  echo "check-man: groff not installed, man pages not checked"
  exit 0
fi
status=0
pages=(docs/man/*.[1-8])
for page in "${pages[@]}"; do
  out="$(groff -man -ww -z -Tutf8 "$page" 2>&1)" || true
  if [ -n "$out" ]; then
    printf '%s\n' "$out" >&2
    status=1
  fi
done
[ "$status" -eq 0 ] && echo "check-man: ${#pages[@]} man pages format without a warning" || echo "check-man: warnings above" >&2
exit "$status"
