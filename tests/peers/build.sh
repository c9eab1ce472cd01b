#!/usr/bin/env bash
# Builds the real peers of the test suite (Kubo, IPFS Cluster, and the Go checkers under
# tests/peers/cmd/) from the pinned Go modules in tests/peers, into a cache outside the
# checkout, and prints the directory holding the binaries on stdout (nothing else goes to
# stdout, so scripts can say bin=$(tests/peers/build.sh)).
#
# What is built: every `tool` of every Go module under tests/peers (tests/peers/go.mod and
# the modules in its direct subfolders, e.g. tests/peers/cluster/go.mod, which exists
# because Cluster and Kubo need incompatible versions of the same libraries), and every main
# package under tests/peers/cmd/. No peer source is in the checkout: the go.mod/go.sum pairs
# pin every module, and the Go module proxy serves them.
#
# The cache directory is keyed by a hash of the Go version, every go.mod, go.sum and .go file
# under tests/peers and this script; a build goes into a temporary directory renamed into place
# once complete, under a lock, so concurrent or interrupted runs never see half a build. The
# first build takes minutes (progress on stderr); later runs print the cached directory at once.
#
# Environment: BUNDLED_CACHE (default ~/.cache/bundled) holds the builds; Go's own module
# and build caches stay where the go command keeps them.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

say() { printf 'peers: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

go=$(command -v go || true)
[ -n "$go" ] || go=/usr/local/go/bin/go
[ -x "$go" ] || die "Go is not installed (scripts/install-deps.sh checks for Go 1.26 in /usr/local/go)"
# The pinned modules and the installed Go only: never fetch another toolchain; -mod=mod lets the
# go command complete its module graph from the proxy (go.sum still pins every byte).
export GOTOOLCHAIN=local
export GOFLAGS="-mod=mod -trimpath -buildvcs=false"

# The module directories: tests/peers and each direct subfolder with its own go.mod.
modules=("$here")
for m in "$here"/*/go.mod; do
	[ -f "$m" ] && modules+=("$(dirname "$m")")
done

key() {
	"$go" version
	(cd "$here" && find . -path ./.git -prune -o -type f \( -name go.mod -o -name go.sum -o -name '*.go' -o -name build.sh \) -print |
		LC_ALL=C sort | while IFS= read -r f; do
			printf '%s ' "$f"
			sha256sum <"$f"
		done)
}
hash=$(key | sha256sum | cut -c1-16)
cache=${BUNDLED_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/bundled}
dir=$cache/peers-$hash

# Runs `go build -v -o BIN/ PACKAGES...` in module directory $1, printing a progress line every
# 100 packages compiled instead of every package name; errors pass through.
go_build() {
	local mod=$1 bin=$2
	shift 2
	(cd "$mod" && "$go" build -v -o "$bin/" "$@" 2>&1) | awk -v mod="tests/peers${mod#"$here"}" '
		/^[^ \t#:]+$/ { n++; if (n % 100 == 0) printf "peers: %s: %d packages compiled\n", mod, n > "/dev/stderr"; next }
		{ print > "/dev/stderr" }'
}

build() {
	local tmp=$1 mod tools start t0
	start=$(date +%s)
	mkdir -p "$tmp/bin"
	for mod in "${modules[@]}"; do
		tools=$(cd "$mod" && "$go" list tool 2>/dev/null | tr '\n' ' ')
		if [ -n "$tools" ]; then
			say "building ${tools}(module tests/peers${mod#"$here"})"
			t0=$(date +%s)
			go_build "$mod" "$tmp/bin" tool || return 1
			say "built in $(($(date +%s) - t0)) s"
		fi
	done
	if [ -n "$(cd "$here" && find cmd -name '*.go' 2>/dev/null | head -n 1)" ]; then
		say "building the checkers in tests/peers/cmd/"
		go_build "$here" "$tmp/bin" ./cmd/... || return 1
	fi
	say "all peers built in $(($(date +%s) - start)) s: $(ls "$tmp/bin" | tr '\n' ' ')"
}

if [ ! -f "$dir/.complete" ]; then
	mkdir -p "$cache"
	exec 9>"$cache/peers.lock"
	if ! flock -n 9; then
		say "waiting for another build holding $cache/peers.lock"
		flock -w 3600 9 || die "timed out waiting for $cache/peers.lock"
	fi
	if [ ! -f "$dir/.complete" ]; then
		say "building the test peers into $dir (Go module proxy; the first build takes several minutes)"
		tmp=$(mktemp -d "$cache/peers-$hash.tmp.XXXXXX")
		if ! build "$tmp"; then
			rm -rf "$tmp"
			die "the build failed (is the Go module proxy reachable?)"
		fi
		touch "$tmp/.complete"
		rm -rf "$dir"
		mv "$tmp" "$dir"
		# Builds for other sources (older commits, other worktrees) unused for two weeks go.
		find "$cache" -maxdepth 1 -name 'peers-*' -type d ! -name "peers-$hash" -mtime +14 \
			-exec rm -rf {} + 2>/dev/null || true
	fi
	exec 9>&-
fi
touch "$dir"
printf '%s\n' "$dir/bin"
