# Shell functions shared by the harness scripts that run real peers on loopback
# (tests/ipfs/ipfs-node.sh, tests/peers/cluster.sh): finding the built peers, starting a
# process in its own session, waiting for an HTTP API, stopping a pid, and a Kubo node kept
# in a state directory:
#   STATE/repo        the IPFS_PATH
#   STATE/bin         the directory of the peer binaries it runs
#   STATE/api_port    its RPC API port (fixed, so a restart comes back on the same address)
#   STATE/swarm_port  its libp2p TCP port (fixed too: peers name each other by it)
#   STATE/daemon.pid, STATE/daemon.log
# Sourced with `who` set to the script's name for messages. Requires bash, curl, flock.

peers_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

say() { printf '%s: %s\n' "${who:-peers}" "$*" >&2; }
die() { say "$*"; exit 1; }

# The directory of the built peers: $BUNDLED_TEST_PEERS_BIN if set (scripts/test.sh builds
# once and exports it), else what tests/peers/build.sh builds or finds in its cache.
peers_bin() {
	if [ -n "${BUNDLED_TEST_PEERS_BIN:-}" ]; then
		printf '%s\n' "$BUNDLED_TEST_PEERS_BIN"
	else
		"$peers_dir/build.sh"
	fi
}

alive() { kill -0 "$1" 2>/dev/null; }

# free_ports BIN N: N distinct free loopback ports, space-separated.
free_ports() { "$1/freeports" "$2" | tr '\n' ' '; }

# spawn LOG PIDFILE CMD...: starts CMD in its own session (so neither a Ctrl-C nor a test
# framework killing its process group takes it down behind the harness' back), with no
# inherited descriptors beyond stdio, output appended to LOG; writes its pid to PIDFILE.
spawn() {
	local log=$1 pidfile=$2
	shift 2
	(
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec $fd>&-"; fi
		done
		exec setsid "$@"
	) >>"$log" 2>&1 </dev/null &
	printf '%s\n' "$!" >"$pidfile"
}

# wait_http METHOD URL PID SECONDS: until URL answers 200; fails if PID dies or time runs out.
wait_http() {
	local method=$1 url=$2 pid=$3 seconds=$4 deadline code
	deadline=$(($(date +%s) + seconds))
	for (( ; ; )); do
		code=$(curl -s -o /dev/null -w '%{http_code}' -X "$method" --max-time 2 "$url" || true)
		[ "$code" = 200 ] && return 0
		if ! alive "$pid"; then
			say "process $pid exited before $url answered"
			return 1
		fi
		if [ "$(date +%s)" -ge "$deadline" ]; then
			say "$url did not answer within $seconds s"
			return 1
		fi
		sleep 0.2
	done
}

stop_pid() {
	local pid=$1 i
	alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 1 150); do
		alive "$pid" || return 0
		sleep 0.1
	done
	say "process $pid ignored SIGTERM for 15 s; killing it"
	kill -KILL "$pid" 2>/dev/null || true
	for i in $(seq 1 50); do
		alive "$pid" || return 0
		sleep 0.1
	done
}

# stop_pidfile FILE: stops the process named in FILE (if any) and removes FILE.
stop_pidfile() {
	local pid
	pid=$(cat "$1" 2>/dev/null || true)
	[ -n "$pid" ] && stop_pid "$pid"
	rm -f "$1"
}

log_tail() {
	if [ -f "$1" ]; then
		say "last lines of $1:"
		tail -n 30 "$1" >&2
	fi
}

# kubo STATE ARGS...: the ipfs command on that node's repo (offline, or through the running
# daemon's API when it is up).
kubo() {
	local state=$1
	shift
	IPFS_PATH=$state/repo IPFS_TELEMETRY=off "$(cat "$state/bin")/ipfs" "$@"
}

# kubo_init STATE BIN: a fresh repository for an isolated test node: the test profile
# (loopback addresses, no bootstrap peers, no mDNS, no AutoConf or AutoTLS), no content
# routing, no telemetry.
kubo_init() {
	local state=$1 bin=$2
	mkdir -p "$state"
	printf '%s\n' "$bin" >"$state/bin"
	kubo "$state" init --profile test >>"$state/daemon.log" 2>&1 &&
		kubo "$state" config Routing.Type none &&
		kubo "$state" config --json Plugins.Plugins '{"telemetry":{"Config":{"Mode":"off"}}}'
}

# kubo_launch STATE: starts the daemon on the ports in its config and waits for its API.
kubo_launch() {
	local state=$1
	spawn "$state/daemon.log" "$state/daemon.pid" env IPFS_PATH="$state/repo" IPFS_TELEMETRY=off \
		"$(cat "$state/bin")/ipfs" daemon
	if ! wait_http POST "http://127.0.0.1:$(cat "$state/api_port")/api/v0/version" \
		"$(cat "$state/daemon.pid")" "${BUNDLED_TEST_IPFS_WAIT:-60}"; then
		stop_pidfile "$state/daemon.pid"
		return 1
	fi
}

# kubo_start STATE: picks free loopback ports for API, gateway and swarm, writes them into the
# config and starts the daemon; tries new ports if one was taken before the daemon bound it.
kubo_start() {
	local state=$1 attempt api gw swarm
	for attempt in 1 2 3; do
		read -r api gw swarm <<<"$(free_ports "$(cat "$state/bin")" 3)"
		kubo "$state" config Addresses.API "/ip4/127.0.0.1/tcp/$api" &&
			kubo "$state" config Addresses.Gateway "/ip4/127.0.0.1/tcp/$gw" &&
			kubo "$state" config --json Addresses.Swarm "[\"/ip4/127.0.0.1/tcp/$swarm\"]" || return 1
		printf '%s\n' "$api" >"$state/api_port"
		printf '%s\n' "$swarm" >"$state/swarm_port"
		kubo_launch "$state" && return 0
		grep -q 'address already in use' "$state/daemon.log" || break
		say "a port was taken before the daemon bound it; retrying ($attempt)"
	done
	log_tail "$state/daemon.log"
	return 1
}

# kubo_addr STATE: the node's full loopback multiaddress /ip4/127.0.0.1/tcp/PORT/p2p/ID.
kubo_addr() {
	printf '/ip4/127.0.0.1/tcp/%s/p2p/%s\n' "$(cat "$1/swarm_port")" "$(kubo "$1" config Identity.PeerID)"
}
