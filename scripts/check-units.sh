#!/usr/bin/env bash
# Checks the systemd units in packaging/systemd/ with `systemd-analyze verify`: they must
# verify with no message at all (an unknown or misspelled directive is only a warning to
# systemd, so any output counts as a failure here). The units name /usr/local/bin/...; the
# copies checked here point at the freshly built binaries instead, so that the "is the
# command executable" check means something. Man pages are checked separately (`man -l`).
# Without systemd-analyze (a machine without systemd) the check says so and passes.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BUILD:-build}"
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "check-units: systemd-analyze not installed, units not verified"
  exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
bin="$(cd "$build/bin" && pwd)"
units=()
for u in packaging/systemd/*.service; do
  sed "s|/usr/local/bin/|$bin/|g" "$u" > "$tmp/$(basename "$u")"
  name="$(basename "$u")"
  # A template is verified through one instance of it.
  units+=("$tmp/${name/@.service/@example.org.service}")
  [ "$name" = "${name/@.service/}" ] || cp "$tmp/$name" "$tmp/${name/@.service/@example.org.service}"
done
if ! out="$(systemd-analyze verify --man=no "${units[@]}" 2>&1)" || [ -n "$out" ]; then
  printf '%s\n' "$out" >&2
  echo "check-units: systemd-analyze verify failed" >&2
  exit 1
fi
echo "check-units: ${#units[@]} units verify"
