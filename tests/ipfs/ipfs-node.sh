#!/usr/bin/env bash
# The real IPFS node of the integration suites: Kubo (built from the pinned module in
# tests/peers by tests/peers/build.sh), with a throw-away repository made with
# `ipfs init --profile test`, on free loopback ports, with no bootstrap peers.
#
#   eval "$(tests/ipfs/ipfs-node.sh start)"   builds the peers if missing (into a cache
#                                            outside the checkout), creates a fresh repo,
#                                            starts the daemon and prints, on stdout only,
#                                            the BUNDLED_TEST_IPFS_{API,PID,PATH} exports
#   tests/ipfs/ipfs-node.sh stop             stops that daemon and removes its repo
#   tests/ipfs/ipfs-node.sh stop-daemon      stops the daemon, keeps repo and ports
#   tests/ipfs/ipfs-node.sh start-daemon     starts it again on the same repo and ports and
#                                            waits until the API answers
#   tests/ipfs/ipfs-node.sh restart          stop-daemon, then start-daemon
#   tests/ipfs/ipfs-node.sh install          only builds the peers
#
# The last four act on the node named by BUNDLED_TEST_IPFS_PATH (as exported by start), so
# an integration suite can take the node down and bring it back mid-test. The daemon's pid
# lives in $BUNDLED_TEST_IPFS_PATH/daemon.pid, which stays right across restarts (the
# exported BUNDLED_TEST_IPFS_PID is only the first one). Diagnostics go to stderr; the
# daemon's output goes to $BUNDLED_TEST_IPFS_PATH/daemon.log.
#
# Environment: BUNDLED_TEST_PEERS_BIN (the directory of built peers; default: what
# tests/peers/build.sh prints), BUNDLED_TEST_IPFS_WAIT (default 60) bounds the wait for the
# API in seconds.
set -euo pipefail

who=ipfs-node
# shellcheck source=../peers/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../peers/lib.sh"

state_dir() {
	local state=${BUNDLED_TEST_IPFS_PATH:-}
	[ -n "$state" ] || die "BUNDLED_TEST_IPFS_PATH is not set (eval the output of 'start' first)"
	[ -d "$state/repo" ] && [ -f "$state/bin" ] || die "$state is not a node made by ipfs-node.sh start"
	printf '%s\n' "$state"
}

cmd_start() {
	local bin state
	bin=$(peers_bin)
	state=$(mktemp -d "${TMPDIR:-/tmp}/bundled-ipfs-XXXXXX")
	if ! kubo_init "$state" "$bin"; then
		log_tail "$state/daemon.log"
		rm -rf "$state"
		die "ipfs init failed"
	fi
	if ! kubo_start "$state"; then
		rm -rf "$state"
		die "the IPFS daemon did not start"
	fi
	printf 'export BUNDLED_TEST_IPFS_API=%q; export BUNDLED_TEST_IPFS_PID=%q; export BUNDLED_TEST_IPFS_PATH=%q\n' \
		"http://127.0.0.1:$(cat "$state/api_port")" "$(cat "$state/daemon.pid")" "$state"
	say "Kubo $(kubo "$state" version -n) up at http://127.0.0.1:$(cat "$state/api_port") (pid $(cat "$state/daemon.pid"), repo $state/repo)"
}

cmd_stop_daemon() {
	local state
	state=$(state_dir)
	# Only the pid file names the running daemon: the exported pid may be an old one's, reused.
	stop_pidfile "$state/daemon.pid"
}

cmd_start_daemon() {
	local state pid
	state=$(state_dir)
	pid=$(cat "$state/daemon.pid" 2>/dev/null || true)
	if [ -n "$pid" ] && alive "$pid"; then
		return 0
	fi
	if ! kubo_launch "$state"; then
		log_tail "$state/daemon.log"
		die "the IPFS daemon did not start again"
	fi
}

cmd_stop() {
	local state=${BUNDLED_TEST_IPFS_PATH:-}
	[ -n "$state" ] && [ -d "$state" ] || return 0
	cmd_stop_daemon
	rm -rf "$state"
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
stop-daemon) cmd_stop_daemon ;;
start-daemon) cmd_start_daemon ;;
restart) cmd_stop_daemon && cmd_start_daemon ;;
install) peers_bin >/dev/null ;;
*)
	say "usage: $0 start|stop|stop-daemon|start-daemon|restart|install"
	exit 2
	;;
esac
