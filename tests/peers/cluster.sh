#!/usr/bin/env bash
# An IPFS Cluster for the integration suites: two ipfs-cluster-service peers (CRDT consensus,
# replication factor 2), each over its own Kubo node, everything on free loopback ports, with a
# cluster secret made for this run and no bootstrap to anything outside: each peer knows only
# the other (cluster.peer_addresses), and the two Kubo nodes peer with each other only.
#
#   eval "$(tests/peers/cluster.sh start)"   builds the peers if missing, starts the two Kubo
#                                           nodes and the two cluster peers, waits until both
#                                           peers see each other, and prints on stdout only:
#       BUNDLED_TEST_CLUSTER_PROXY   peer 0's IPFS proxy API (Kubo RPC; pins become cluster pins)
#       BUNDLED_TEST_CLUSTER_API     peer 0's REST API
#       BUNDLED_TEST_CLUSTER_PEERS   the number of peers (= the replication factor)
#       BUNDLED_TEST_CLUSTER_PATH    the state directory the commands below act on
#   tests/peers/cluster.sh stop              stops everything and removes the state
#   tests/peers/cluster.sh stop-peer N       stops cluster peer N (its Kubo node stays up)
#   tests/peers/cluster.sh start-peer N      starts it again on the same ports and state, and
#                                           waits until its REST API answers
#
# State: $BUNDLED_TEST_CLUSTER_PATH/{kubo0,kubo1} (Kubo nodes, as in tests/peers/lib.sh) and
# {peer0,peer1} (cluster peer config and datastore, rest_port, daemon.pid, daemon.log).
# Environment: BUNDLED_TEST_PEERS_BIN as for ipfs-node.sh; BUNDLED_TEST_IPFS_WAIT bounds waits.
set -euo pipefail

who=cluster
# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

npeers=2
wait_seconds=${BUNDLED_TEST_IPFS_WAIT:-60}

state_dir() {
	local state=${BUNDLED_TEST_CLUSTER_PATH:-}
	[ -n "$state" ] || die "BUNDLED_TEST_CLUSTER_PATH is not set (eval the output of 'start' first)"
	[ -f "$state/peer0/service.json" ] || die "$state is not a cluster made by cluster.sh start"
	printf '%s\n' "$state"
}

# peer_launch STATE N: starts cluster peer N and waits for its REST API.
peer_launch() {
	local peer=$1/peer$2 bin
	bin=$(cat "$1/kubo$2/bin")
	spawn "$peer/daemon.log" "$peer/daemon.pid" "$bin/ipfs-cluster-service" --config "$peer" daemon
	if ! wait_http GET "http://127.0.0.1:$(cat "$peer/rest_port")/id" "$(cat "$peer/daemon.pid")" "$wait_seconds"; then
		stop_pidfile "$peer/daemon.pid"
		log_tail "$peer/daemon.log"
		return 1
	fi
}

# peer_init STATE N SECRET: a peer's config: loopback ports only, no mDNS, no relay, short
# monitoring intervals (so a stopped peer is noticed and a restarted one resyncs in seconds),
# replication factor 2, its own Kubo node behind both the connector and the proxy.
peer_init() {
	local state=$1 n=$2 secret=$3 peer=$1/peer$2 bin cluster rest proxy pinsvc kubo_api
	bin=$(cat "$state/kubo$n/bin")
	mkdir -p "$peer"
	CLUSTER_SECRET=$secret "$bin/ipfs-cluster-service" --config "$peer" init --consensus crdt \
		>>"$peer/daemon.log" 2>&1 || return 1
	read -r cluster rest proxy pinsvc <<<"$(free_ports "$bin" 4)"
	kubo_api=/ip4/127.0.0.1/tcp/$(cat "$state/kubo$n/api_port")
	printf '%s\n' "$cluster" >"$peer/cluster_port"
	printf '%s\n' "$rest" >"$peer/rest_port"
	printf '%s\n' "$proxy" >"$peer/proxy_port"
	jq --arg name "peer$n" --argjson rf "$npeers" --arg kubo "$kubo_api" \
		--arg listen "/ip4/127.0.0.1/tcp/$cluster" --arg rest "/ip4/127.0.0.1/tcp/$rest" \
		--arg proxy "/ip4/127.0.0.1/tcp/$proxy" --arg pinsvc "/ip4/127.0.0.1/tcp/$pinsvc" '
		.cluster.peername = $name | .cluster.listen_multiaddress = [$listen] |
		.cluster.mdns_interval = "0s" | .cluster.enable_relay_hop = false |
		.cluster.replication_factor_min = $rf | .cluster.replication_factor_max = $rf |
		.cluster.monitor_ping_interval = "2s" | .cluster.peer_watch_interval = "1s" |
		.cluster.state_sync_interval = "5s" | .cluster.pin_recover_interval = "5s" |
		.cluster.dial_peer_timeout = "1s" |
		.monitor.pubsubmon.check_interval = "2s" |
		.informer.disk.metric_ttl = "5s" | .informer.pinqueue.metric_ttl = "5s" |
		.informer.tags.metric_ttl = "5s" |
		.api.restapi.http_listen_multiaddress = $rest |
		.api.pinsvcapi.http_listen_multiaddress = $pinsvc |
		.api.ipfsproxy.listen_multiaddress = $proxy | .api.ipfsproxy.node_multiaddress = $kubo |
		.ipfs_connector.ipfshttp.node_multiaddress = $kubo |
		.ipfs_connector.ipfshttp.connect_swarms_delay = "1s"
		' "$peer/service.json" >"$peer/service.json.tmp" && mv "$peer/service.json.tmp" "$peer/service.json"
}

# peer_addr STATE N: the cluster peer's loopback multiaddress with its id.
peer_addr() {
	printf '/ip4/127.0.0.1/tcp/%s/p2p/%s\n' "$(cat "$1/peer$2/cluster_port")" "$(jq -r .id "$1/peer$2/identity.json")"
}

# peers_seen STATE N: how many cluster peers peer N lists (itself included).
peers_seen() {
	curl -s --max-time 5 "http://127.0.0.1:$(cat "$1/peer$2/rest_port")/peers" | jq -s 'map(select(.error == "")) | length' 2>/dev/null || printf '0\n'
}

wait_peers() {
	local state=$1 n deadline
	deadline=$(($(date +%s) + wait_seconds))
	for n in $(seq 0 $((npeers - 1))); do
		until [ "$(peers_seen "$state" "$n")" -ge "$npeers" ]; do
			if [ "$(date +%s)" -ge "$deadline" ]; then
				log_tail "$state/peer$n/daemon.log"
				say "cluster peer $n does not see $npeers peers within $wait_seconds s"
				return 1
			fi
			sleep 0.5
		done
	done
}

stop_all() {
	local state=$1 n
	for n in $(seq 0 $((npeers - 1))); do
		stop_pidfile "$state/peer$n/daemon.pid"
	done
	for n in $(seq 0 $((npeers - 1))); do
		stop_pidfile "$state/kubo$n/daemon.pid"
	done
}

cmd_start() {
	local bin state secret n m peering addrs
	command -v jq >/dev/null || die "jq is not installed (scripts/install-deps.sh installs it)"
	bin=$(peers_bin)
	state=$(mktemp -d "${TMPDIR:-/tmp}/bundled-cluster-XXXXXX")
	secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
	for n in $(seq 0 $((npeers - 1))); do
		if ! kubo_init "$state/kubo$n" "$bin" || ! kubo_start "$state/kubo$n"; then
			log_tail "$state/kubo$n/daemon.log"
			stop_all "$state"
			rm -rf "$state"
			die "Kubo node $n did not start"
		fi
	done
	# The Kubo nodes peer with each other only (kept connected, and again after a restart):
	# the second cluster peer's node fetches the blocks put through the first one's proxy.
	for n in $(seq 0 $((npeers - 1))); do
		peering="[]"
		for m in $(seq 0 $((npeers - 1))); do
			[ "$m" = "$n" ] && continue
			kubo "$state/kubo$n" swarm peering add "$(kubo_addr "$state/kubo$m")" >/dev/null
			peering=$(jq -c --arg id "$(kubo "$state/kubo$m" config Identity.PeerID)" \
				--arg a "/ip4/127.0.0.1/tcp/$(cat "$state/kubo$m/swarm_port")" \
				'. + [{ID: $id, Addrs: [$a]}]' <<<"$peering")
		done
		kubo "$state/kubo$n" config --json Peering.Peers "$peering"
	done
	for n in $(seq 0 $((npeers - 1))); do
		peer_init "$state" "$n" "$secret" || { stop_all "$state"; rm -rf "$state"; die "ipfs-cluster-service init failed"; }
	done
	# Each peer knows the others' addresses; nothing else.
	for n in $(seq 0 $((npeers - 1))); do
		addrs="[]"
		for m in $(seq 0 $((npeers - 1))); do
			[ "$m" = "$n" ] || addrs=$(jq -c --arg a "$(peer_addr "$state" "$m")" '. + [$a]' <<<"$addrs")
		done
		jq --argjson a "$addrs" '.cluster.peer_addresses = $a' "$state/peer$n/service.json" >"$state/peer$n/service.json.tmp"
		mv "$state/peer$n/service.json.tmp" "$state/peer$n/service.json"
	done
	for n in $(seq 0 $((npeers - 1))); do
		peer_launch "$state" "$n" || { stop_all "$state"; rm -rf "$state"; die "cluster peer $n did not start"; }
	done
	if ! wait_peers "$state"; then
		stop_all "$state"
		rm -rf "$state"
		die "the cluster did not form"
	fi
	printf 'export BUNDLED_TEST_CLUSTER_PROXY=%q; export BUNDLED_TEST_CLUSTER_API=%q; export BUNDLED_TEST_CLUSTER_PEERS=%q; export BUNDLED_TEST_CLUSTER_PATH=%q\n' \
		"http://127.0.0.1:$(cat "$state/peer0/proxy_port")" "http://127.0.0.1:$(cat "$state/peer0/rest_port")" \
		"$npeers" "$state"
	say "IPFS Cluster of $npeers peers up: REST API http://127.0.0.1:$(cat "$state/peer0/rest_port"), IPFS proxy http://127.0.0.1:$(cat "$state/peer0/proxy_port") (state $state)"
}

peer_number() {
	case "${1:-}" in
	'' | *[!0-9]*) die "usage: $0 stop-peer|start-peer N (0..$((npeers - 1)))" ;;
	esac
	[ "$1" -lt "$npeers" ] || die "no cluster peer $1 (0..$((npeers - 1)))"
	printf '%s\n' "$1"
}

cmd_stop_peer() {
	local state n
	state=$(state_dir)
	n=$(peer_number "${1:-}")
	stop_pidfile "$state/peer$n/daemon.pid"
}

cmd_start_peer() {
	local state n pid
	state=$(state_dir)
	n=$(peer_number "${1:-}")
	pid=$(cat "$state/peer$n/daemon.pid" 2>/dev/null || true)
	if [ -n "$pid" ] && alive "$pid"; then
		return 0
	fi
	peer_launch "$state" "$n" || die "cluster peer $n did not start again"
}

cmd_stop() {
	local state=${BUNDLED_TEST_CLUSTER_PATH:-}
	[ -n "$state" ] && [ -d "$state" ] || return 0
	stop_all "$state"
	rm -rf "$state"
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
stop-peer) cmd_stop_peer "${2:-}" ;;
start-peer) cmd_start_peer "${2:-}" ;;
*)
	say "usage: $0 start|stop|stop-peer N|start-peer N"
	exit 2
	;;
esac
