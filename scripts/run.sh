#!/usr/bin/env bash
# The README's run command: installs what is missing, builds, and runs bundled in the
# foreground on its embedded defaults (127.0.0.1:8440, data in ./data, a log key created on
# first start). Extra arguments go to bundled (see `build/bin/bundled --help`). Ctrl-C stops it
# cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
make -j"$(nproc)" all
exec build/bin/bundled "$@"
