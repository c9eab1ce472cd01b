#!/usr/bin/env bash
# The real IPFS node of the integration suites: js-ipfs (npm package ipfs, which speaks the
# Kubo RPC API) on loopback ports, with a throw-away repository.
#
#   eval "$(tests/ipfs/ipfs-node.sh start)"   installs js-ipfs if missing (into a cache
#                                            outside the checkout), creates a fresh repo,
#                                            starts the daemon and prints, on stdout only,
#                                            the BUNDLED_TEST_IPFS_{API,PID,PATH} exports
#   tests/ipfs/ipfs-node.sh stop             stops that daemon and removes its repo
#   tests/ipfs/ipfs-node.sh stop-daemon      stops the daemon, keeps repo and ports
#   tests/ipfs/ipfs-node.sh start-daemon     starts it again on the same repo and ports and
#                                            waits until the API answers
#   tests/ipfs/ipfs-node.sh restart          stop-daemon, then start-daemon
#   tests/ipfs/ipfs-node.sh install          only installs the npm packages
#
# The last four act on the node named by BUNDLED_TEST_IPFS_PATH (as exported by start), so
# an integration suite can take the node down and bring it back mid-test. The daemon's pid
# lives in $BUNDLED_TEST_IPFS_PATH/daemon.pid, which stays right across restarts (the
# exported BUNDLED_TEST_IPFS_PID is only the first one). Diagnostics go to stderr; the
# daemon's output goes to $BUNDLED_TEST_IPFS_PATH/daemon.log.
#
# Environment: BUNDLED_CACHE (default ~/.cache/bundled) holds the npm install, keyed by a
# hash of package.json and package-lock.json; BUNDLED_TEST_IPFS_WAIT (default 60) bounds
# the wait for the API in seconds.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
wait_seconds=${BUNDLED_TEST_IPFS_WAIT:-60}

say() { printf 'ipfs-node: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

need_node() {
	command -v node >/dev/null 2>&1 || die "node is not installed (Node 18+ is needed for js-ipfs)"
	command -v npm >/dev/null 2>&1 || die "npm is not installed"
}

# Prints the directory holding node_modules/ for this package.json + lock, installing it
# first if needed. Installs run under a lock, into a temporary directory renamed into place
# only once complete, so concurrent or interrupted runs never see half an install.
install_modules() {
	local hash cache dir tmp start
	need_node
	hash=$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -c1-16)
	cache=${BUNDLED_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/bundled}
	dir=$cache/js-ipfs-$hash
	if [ -f "$dir/.complete" ]; then
		printf '%s\n' "$dir"
		return
	fi
	mkdir -p "$cache"
	exec 9>"$cache/js-ipfs.lock"
	flock -w 1200 9 || die "timed out waiting for another install holding $cache/js-ipfs.lock"
	if [ ! -f "$dir/.complete" ]; then
		say "installing js-ipfs (npm ci) into $dir; the first time takes a few minutes"
		start=$(date +%s)
		tmp=$(mktemp -d "$cache/js-ipfs-$hash.tmp.XXXXXX")
		cp "$here/package.json" "$here/package-lock.json" "$tmp/"
		# --ignore-scripts: the install scripts in this tree only build browser files or
		# check for prebuilt binaries (classic-level ships linux prebuilds), and the node is
		# known to work without them; not running them keeps the install deterministic.
		if ! npm ci --prefix "$tmp" --omit=optional --no-audit --no-fund --ignore-scripts --loglevel=error >&2; then
			rm -rf "$tmp"
			die "npm ci failed (is the npm registry reachable?)"
		fi
		touch "$tmp/.complete"
		rm -rf "$dir"
		mv "$tmp" "$dir"
		say "installed in $(($(date +%s) - start)) s"
	fi
	exec 9>&-
	printf '%s\n' "$dir"
}

jsipfs() {
	local modules=$1
	shift
	node --require "$here/polyfill.cjs" "$modules/node_modules/ipfs/src/cli.js" "$@"
}

state_dir() {
	local state=${BUNDLED_TEST_IPFS_PATH:-}
	[ -n "$state" ] || die "BUNDLED_TEST_IPFS_PATH is not set (eval the output of 'start' first)"
	[ -d "$state/repo" ] && [ -f "$state/modules" ] || die "$state is not a node made by ipfs-node.sh start"
	printf '%s\n' "$state"
}

alive() { kill -0 "$1" 2>/dev/null; }

# Starts the daemon of $1 (state dir) in its own session, so that neither a Ctrl-C nor a
# test framework killing its process group takes it down behind the harness' back; waits
# until the API answers. Returns non-zero (daemon stopped) if it does not come up.
launch() {
	local state=$1 modules api pid
	modules=$(cat "$state/modules")
	api=$(cat "$state/api_port")
	# A daemon killed hard leaves its lock behind; nobody else uses this repo.
	rm -rf "$state/repo/repo.lock"
	(
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec $fd>&-"; fi
		done
		cd "$state"
		IPFS_PATH=$state/repo exec setsid node --require "$here/polyfill.cjs" \
			"$modules/node_modules/ipfs/src/cli.js" daemon --enable-preload=false
	) >>"$state/daemon.log" 2>&1 </dev/null &
	pid=$!
	printf '%s\n' "$pid" >"$state/daemon.pid"
	if ! node "$here/tool.cjs" wait "http://127.0.0.1:$api/api/v0/version" "$wait_seconds" "$pid"; then
		stop_pid "$pid"
		return 1
	fi
}

stop_pid() {
	local pid=$1 i
	alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 1 100); do
		alive "$pid" || return 0
		sleep 0.1
	done
	say "daemon $pid ignored SIGTERM for 10 s; killing it"
	kill -KILL "$pid" 2>/dev/null || true
	for i in $(seq 1 50); do
		alive "$pid" || return 0
		sleep 0.1
	done
}

log_tail() {
	if [ -f "$1/daemon.log" ]; then
		say "last lines of $1/daemon.log:"
		tail -n 30 "$1/daemon.log" >&2
	fi
}

cmd_start() {
	local modules state attempt api gw rpc swarm ports
	modules=$(install_modules)
	state=$(mktemp -d "${TMPDIR:-/tmp}/bundled-ipfs-XXXXXX")
	printf '%s\n' "$modules" >"$state/modules"
	if ! IPFS_PATH=$state/repo jsipfs "$modules" init --profile test >"$state/daemon.log" 2>&1; then
		log_tail "$state"
		rm -rf "$state"
		die "jsipfs init failed"
	fi
	# Ports are picked free, but another process may take one before the daemon binds it:
	# then try again with new ones.
	for attempt in 1 2 3; do
		ports=$(node "$here/tool.cjs" ports 4)
		read -r api gw rpc swarm <<<"$(printf '%s' "$ports" | tr '\n' ' ')"
		node "$here/tool.cjs" configure "$state/repo/config" "$api" "$gw" "$rpc" "$swarm"
		printf '%s\n' "$api" >"$state/api_port"
		if launch "$state"; then
			printf 'export BUNDLED_TEST_IPFS_API=%q; export BUNDLED_TEST_IPFS_PID=%q; export BUNDLED_TEST_IPFS_PATH=%q\n' \
				"http://127.0.0.1:$api" "$(cat "$state/daemon.pid")" "$state"
			say "js-ipfs daemon up at http://127.0.0.1:$api (pid $(cat "$state/daemon.pid"), repo $state/repo)"
			return 0
		fi
		grep -q EADDRINUSE "$state/daemon.log" || break
		say "a port was taken before the daemon bound it; retrying ($attempt)"
	done
	log_tail "$state"
	rm -rf "$state"
	die "the IPFS daemon did not start"
}

cmd_stop_daemon() {
	local state pid
	state=$(state_dir)
	pid=$(cat "$state/daemon.pid" 2>/dev/null || printf '%s' "${BUNDLED_TEST_IPFS_PID:-}")
	[ -n "$pid" ] && stop_pid "$pid"
	rm -f "$state/daemon.pid"
}

cmd_start_daemon() {
	local state pid
	state=$(state_dir)
	pid=$(cat "$state/daemon.pid" 2>/dev/null || true)
	if [ -n "$pid" ] && alive "$pid"; then
		return 0
	fi
	if ! launch "$state"; then
		log_tail "$state"
		die "the IPFS daemon did not start again"
	fi
}

cmd_stop() {
	local state=${BUNDLED_TEST_IPFS_PATH:-}
	if [ -z "$state" ]; then
		[ -n "${BUNDLED_TEST_IPFS_PID:-}" ] && stop_pid "$BUNDLED_TEST_IPFS_PID"
		return 0
	fi
	[ -d "$state" ] || return 0
	cmd_stop_daemon
	rm -rf "$state"
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
stop-daemon) cmd_stop_daemon ;;
start-daemon) cmd_start_daemon ;;
restart) cmd_stop_daemon && cmd_start_daemon ;;
install) install_modules >/dev/null ;;
*)
	say "usage: $0 start|stop|stop-daemon|start-daemon|restart|install"
	exit 2
	;;
esac
