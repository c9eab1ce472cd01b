#!/usr/bin/env bash
# The daemon's read path against nginx serving the same bytes (issue 7, §3).
#
#   benchmarks/bench_http.sh [--quick] [--entries N] [--seconds S] [--keep DIR] [--baseline BIN]
#                            [--only NAME,NAME...] [--rounds plain,contended,paced,paced-contended,idle]
#                            [--pace MS]
#
# Fills a log of N entries (default 1,000,000; --quick 100,000) through the daemon's own API
# (benchmarks/http/fill.c): the daemon starts on an empty data directory, 1,026 trust domains
# are registered (POST /v1/domains) and signed versions published (POST
# /v1/domains/<td>/bundles) by 64 publishers at once, each on its own keep-alive connection
# from its own loopback address, until the log holds N entries (registrations and versions);
# two of the versions are single raw blocks of ~6 KB and ~33 KB (found through the API, at
# /ipfs/<cid>), the others two-CA bundles. Everything the benchmark reads came in through the
# API; the one departure from the daemon's defaults is --write-rate 0 while filling (else 100
# writes/s per address). The fill's time and rate are printed. --keep DIR fills DIR once (the
# daemon stopped cleanly, DIR/fill.manifest written last) and reuses it while the manifest's
# entry count matches; each run serves a copy. Then it starts the daemon on the filled data,
# saves the daemon's own answers as static files and starts nginx on them (an unprivileged
# process on loopback: 2 workers, sendfile, keep-alive, open_file_cache), then runs wrk
# (-t2 -c64, --latency) A/B/A/B on each endpoint: daemon, nginx, daemon, nginx. Endpoints:
# checkpoint, hash-tile, entry-bundle, entry-bundle-gzip, entry, proof (random inclusion
# proofs), version (/v1/domains/<td>/bundles/<seq> of a mid-log version), federation
# (/v1/domains/<td>/bundle), block-6k, block-33k. Five rounds:
#   plain      nothing else running (but the machine's other users)
#   contended  a CPU hog pinned (taskset) to CPU 0, beside both servers
#   paced      each connection waits 3 ms (--pace) after every answer (wrk's delay() hook): the same
#              offered load on both servers (~19k requests/s), below what either can answer,
#              so p50/p99 compare the servers rather than who saturates wrk first
#   paced-contended  the paced load beside the contended round's CPU hog
#   idle       10,000 idle keep-alive connections held to the server under test
#              (benchmarks/http/hold_idle.py), with the server's RSS before and during
# Prints one table per round: requests/s, p50 and p99 for both, and daemon/nginx ratios, and
# each server's CPU per request (user + system CPU of its processes over the run, divided by
# the requests answered: far less sensitive to the machine's other load than requests/s).
# --baseline BIN adds a second daemon, another build (e.g. main's build/bin/bundled copied
# aside), on a copy of the same data, run in turn with the others (daemon, baseline, nginx,
# twice), so a change is measured against its baseline in the same minutes. --only keeps the
# named endpoints, --rounds the named rounds.
#
# Not run by `make bench` (it needs nginx and wrk and takes ~20 minutes with the fill): it installs them
# itself (Debian packages nginx, wrk) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

entries=1000000
seconds=5
baseline=
keep=
only=
rounds=plain,contended,paced,paced-contended,idle
pace_ms=3
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) entries=100000; seconds=2 ;;
	--entries) entries=$2; shift ;;
	--seconds) seconds=$2; shift ;;
	--baseline) baseline=$(realpath "$2"); shift ;;
	--keep) keep=$(realpath -m "$2"); shift ;;
	--only) only=$2; shift ;;
	--rounds) rounds=$2; shift ;;
	--pace) pace_ms=$2; shift ;;
	*) echo "usage: $0 [--quick] [--entries N] [--seconds S] [--keep DIR] [--baseline BIN] [--only NAMES] [--rounds NAMES] [--pace MS]" >&2; exit 2 ;;
	esac
	shift
done

need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
if [ "${#need[@]}" -gt 0 ]; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	echo "bench_http: installing ${need[*]}"
	$sudo apt-get update -q
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${need[@]}"
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

make --no-print-directory -j2 all >/dev/null
work=$(mktemp -d /tmp/bench_http.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# The filler runs build/bin/bundled: it finds it from its own place, build/bench/.
mkdir -p build/bench
# shellcheck disable=SC2046
cc -std=c11 -O2 -D_DEFAULT_SOURCE -Itranslog/include -Ibundled/include -Ibenchmarks -o build/bench/http_fill \
	benchmarks/http/fill.c benchmarks/util/*.c \
	build/lib/libbundled.a build/lib/libtranslog-storage.a build/lib/libtranslog.a \
	$(pkg-config --libs openssl libsodium rocksdb jansson libcurl libzstd zlib) -lpthread -lm -ldl

# Fills DIR/data through the API; DIR/fill.manifest (name=value lines) is written last.
fill() { # dir
	local t0
	echo "filling a log of $entries entries through the API (64 publishers) ..."
	t0=$(date +%s)
	build/bench/http_fill "$1" "$entries" >"$1/fill.out"
	{ echo "entries=$entries"; echo "fill_seconds=$(($(date +%s) - t0))"; echo "filled_at=$(date -u +%FT%TZ)"
	  echo "commit=$(git rev-parse --short HEAD)"; cat "$1/fill.out"; } >"$1/fill.manifest.tmp"
	mv "$1/fill.manifest.tmp" "$1/fill.manifest"
}
if [ -z "$keep" ]; then
	mkdir "$work/fill"
	fill "$work/fill"
	mv "$work/fill/data" "$work/data"
	manifest=$work/fill/fill.manifest
else
	manifest=$keep/fill.manifest
	if [ -f "$manifest" ] && grep -qx "entries=$entries" "$manifest"; then
		echo "reusing $keep: filled with $entries entries at $(sed -n 's/^filled_at=//p' "$manifest")"
	else
		# Only a directory of ours is emptied: nothing in it but what fill() leaves.
		if [ -d "$keep" ] && [ -n "$(ls -A "$keep" | grep -vxE 'data|daemon.log|fill.out|fill.manifest(.tmp)?')" ]; then
			echo "bench_http: --keep $keep holds other files: give an empty or new directory" >&2
			exit 2
		fi
		rm -rf "$keep/data" "$manifest"
		mkdir -p "$keep"
		fill "$keep"
	fi
	cp -a "$keep/data" "$work/data"
fi
m() { sed -n "s/^$1=//p" "$manifest"; }
echo "filled $entries entries through the API in $(m fill_seconds) s: versions published at" \
	"$(m publishes_per_second)/s ($(du -sh "$work/data" | cut -f1) on disk)"
cid6=$(m block6k)
cid33=$(m block33k)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
dport=$(free_port)
nport=$(free_port)
bport=
if [ -n "$baseline" ]; then
	cp -a "$work/data" "$work/data-baseline"
	bport=$(free_port)
	"$baseline" --data "$work/data-baseline" --listen "127.0.0.1:$bport" --log-level warn --idle-timeout 3600 \
		--max-per-address 1024 >"$work/baseline.log" 2>&1 &
	bpid=$!
	pids+=("$bpid")
	for _ in $(seq 100); do curl -fs "http://127.0.0.1:$bport/healthz" >/dev/null && break; sleep 0.2; done
fi

build/bin/bundled --data "$work/data" --listen "127.0.0.1:$dport" --log-level warn --idle-timeout 3600 \
	--max-per-address 1024 >"$work/daemon.log" 2>&1 &
dpid=$!
pids+=("$dpid")
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$dport/healthz" >/dev/null && break; sleep 0.2; done

# The endpoints: name, path (the same on both servers; nginx ignores the query).
size=$entries
n=$((entries / 256))
tile=$(python3 -c "
import sys
def p(n):
    s = '%03d' % (n % 1000); n //= 1000
    while n: s = 'x%03d/' % (n % 1000) + s; n //= 1000
    return s
print(p($n // 2))")
names=(checkpoint hash-tile entry-bundle entry-bundle-gzip entry proof version federation block-6k block-33k)
if [ -n "$only" ]; then IFS=, read -r -a names <<<"$only"; fi
declare -A path=(
	[checkpoint]=/checkpoint
	[hash-tile]=/tile/0/$tile
	[entry-bundle]=/tile/entries/$tile
	[entry-bundle-gzip]=/tile/entries/$tile
	[entry]=/v1/log/entries/$((entries / 2 + 17))
	[proof]=/v1/log/proof/inclusion
	[version]=$(m version)
	[federation]=$(m federation)
	[block-6k]="/ipfs/$cid6?format=raw"
	[block-33k]="/ipfs/$cid33?format=raw"
)

# The daemon's answers, saved as nginx's files.
www=$work/www
for name in checkpoint hash-tile entry-bundle entry version federation block-6k block-33k; do
	p=${path[$name]%%\?*}
	mkdir -p "$www$(dirname "$p")"
	curl -fs -o "$www$p" "http://127.0.0.1:$dport${path[$name]}"
done
curl -fs -H 'Accept-Encoding: gzip' -o "$www${path[entry-bundle]}.gz" "http://127.0.0.1:$dport${path[entry-bundle]}"
# 1,000 proofs of random indices, under random names, and the script that asks for them.
mkdir -p "$www/proofs"
python3 - "$dport" "$size" "$www/proofs" <<'EOF'
import random, sys, urllib.request
port, size, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = random.Random(7)
for k in range(1000):
    i = rng.randrange(size)
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/log/proof/inclusion?index={i}&size={size}").read()
    open(f"{out}/{k:04d}-{rng.getrandbits(32):08x}.json", "wb").write(body)
EOF
{
	echo 'local names = {'
	for f in "$www"/proofs/*.json; do printf '"/proofs/%s",\n' "$(basename "$f")"; done
	echo '}'
	echo 'math.randomseed(os.time())'
	echo 'request = function() return wrk.format("GET", names[math.random(#names)]) end'
} >"$work/proof_nginx.lua"
cat >"$work/proof_daemon.lua" <<EOF
math.randomseed(os.time())
request = function()
	return wrk.format("GET", "/v1/log/proof/inclusion?index=" .. math.random(0, $size - 1) .. "&size=$size")
end
EOF

mkdir -p "$work/nginx/tmp"
cat >"$work/nginx/nginx.conf" <<EOF
worker_processes 2;
worker_rlimit_nofile 30000;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 20000; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	tcp_nodelay on;
	keepalive_timeout 3600s;
	keepalive_requests 1000000;
	open_file_cache max=10000 inactive=60s;
	open_file_cache_valid 300s;
	client_body_temp_path $work/nginx/tmp/body;
	proxy_temp_path $work/nginx/tmp/proxy;
	fastcgi_temp_path $work/nginx/tmp/fastcgi;
	uwsgi_temp_path $work/nginx/tmp/uwsgi;
	scgi_temp_path $work/nginx/tmp/scgi;
	default_type application/octet-stream;
	server {
		listen 127.0.0.1:$nport;
		root $www;
		location = /checkpoint { default_type "text/plain; charset=utf-8"; }
		location /tile/entries/ { gzip_static on; gzip_vary on; }
		location /proofs/ { default_type application/json; }
		location /v1/domains/ { default_type application/json; }
		location /ipfs/ { default_type application/vnd.ipld.raw; }
	}
}
EOF
chown -R nobody:nogroup "$work/nginx"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$NGINX" -e "$work/nginx/error.log" -p "$work/nginx" \
	-c "$work/nginx/nginx.conf" &
npid=$!
pids+=("$npid")
for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$nport/checkpoint" && break; sleep 0.2; done

# Both serve the same bytes.
for name in checkpoint hash-tile entry-bundle entry version federation block-6k block-33k; do
	cmp -s <(curl -fs "http://127.0.0.1:$dport${path[$name]}") <(curl -fs "http://127.0.0.1:$nport${path[$name]}") ||
		{ echo "bench_http: $name differs between the servers" >&2; exit 1; }
	[ -z "$bport" ] || cmp -s <(curl -fs "http://127.0.0.1:$dport${path[$name]}") \
		<(curl -fs "http://127.0.0.1:$bport${path[$name]}") ||
		{ echo "bench_http: $name differs between the daemon and the baseline" >&2; exit 1; }
done

# CPU ticks (user + system) of a process and its children's threads: /proc/PID/stat of the
# process, and of nginx's workers.
cpu_ticks() { # pid...
	local total=0 p
	for p in "$@"; do total=$((total + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done
	echo "$total"
}
server_pids() { # port
	case $1 in
	"$dport") echo "$dpid" ;;
	"$bport") echo "$bpid" ;;
	*) echo "$npid $(pgrep -P "$npid" | tr '\n' ' ')" ;;
	esac
}
hz=$(getconf CLK_TCK)

# One wrk run: prints "rps p50_ms p99_ms cpu_us_per_request". With $pace set (ms), every
# connection waits that long after each answer before its next request (wrk's delay() hook),
# so both servers get the same offered load, below what either can take: the "paced" round.
pace=
run_wrk() { # port name
	local port=$1 name=$2 args=(-t2 -c64 -d"${seconds}s" --latency) out t0 t1 script=
	case $name in
	proof) [ "$port" = "$nport" ] && script=$work/proof_nginx.lua || script=$work/proof_daemon.lua ;;
	entry-bundle-gzip) args+=(-H 'Accept-Encoding: gzip') ;;
	esac
	if [ -n "$pace" ]; then
		{ [ -z "$script" ] || cat "$script"; echo "function delay() return $pace end"; } >"$work/paced-$port.lua"
		script=$work/paced-$port.lua
	fi
	[ -z "$script" ] || args+=(-s "$script")
	# shellcheck disable=SC2046
	t0=$(cpu_ticks $(server_pids "$port"))
	out=$(wrk "${args[@]}" "http://127.0.0.1:$port${path[$name]}")
	# shellcheck disable=SC2046
	t1=$(cpu_ticks $(server_pids "$port"))
	if echo "$out" | grep -q 'Non-2xx'; then echo "bench_http: $name on $port: non-2xx answers" >&2; echo "$out" >&2; exit 1; fi
	echo "$out" | awk -v ticks=$((t1 - t0)) -v hz="$hz" '
		function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
		/^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /^Requests\/sec:/ { rps = $2 }
		/ requests in / { n = $1 }
		END { printf "%.0f %.3f %.3f %.1f\n", rps, p50, p99, (n > 0 ? ticks * 1e6 / hz / n : 0) }'
}

# A/B/A/B per endpoint (with a baseline: daemon, baseline, nginx, twice); the figures are the
# means of the two runs of each server.
round() { # title
	echo
	echo "== $1 (load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
	printf '%-18s %10s %10s %6s | %8s %8s | %8s %8s | %6s | %6s %6s\n' endpoint daemon-rps nginx-rps ratio \
		d-p50ms n-p50ms d-p99ms n-p99ms p99-r d-cpuus n-cpuus
	for name in "${names[@]}"; do
		local a1 b1 a2 b2 c1="" c2=""
		a1=$(run_wrk "$dport" "$name"); [ -z "$bport" ] || c1=$(run_wrk "$bport" "$name"); b1=$(run_wrk "$nport" "$name")
		a2=$(run_wrk "$dport" "$name"); [ -z "$bport" ] || c2=$(run_wrk "$bport" "$name"); b2=$(run_wrk "$nport" "$name")
		echo "$name $a1 $b1 $a2 $b2" | awk '{
			dr = ($2 + $10) / 2; nr = ($6 + $14) / 2; d50 = ($3 + $11) / 2; n50 = ($7 + $15) / 2
			d99 = ($4 + $12) / 2; n99 = ($8 + $16) / 2; dc = ($5 + $13) / 2; nc = ($9 + $17) / 2
			printf "%-18s %10.0f %10.0f %5.2fx | %8.3f %8.3f | %8.3f %8.3f | %5.2fx | %6.1f %6.1f   (runs: %s/%s %s/%s)\n",
				$1, dr, nr, dr / nr, d50, n50, d99, n99, d99 / n99, dc, nc, $2, $6, $10, $14 }'
		[ -z "$bport" ] || echo "$name $a1 $c1 $a2 $c2" | awk '{
			dr = ($2 + $10) / 2; br = ($6 + $14) / 2; dc = ($5 + $13) / 2; bc = ($9 + $17) / 2
			printf "  %-16s baseline %10.0f rps, daemon/baseline %5.2fx; CPU us/request daemon %.1f, baseline %.1f   (runs: %s/%s %s/%s; CPU %s/%s %s/%s)\n",
				"", br, dr / br, dc, bc, $2, $6, $10, $14, $5, $9, $13, $17 }'
	done
	echo "(load average after: $(cut -d' ' -f1-3 /proc/loadavg))"
}

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
nginx_rss_kb() { # the master and its workers
	local total=0 p
	for p in $(pgrep -P "$npid") "$npid"; do total=$((total + $(rss_kb "$p"))); done
	echo "$total"
}

echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GiB"
[ -z "$baseline" ] || echo "baseline daemon: $baseline on a copy of the data"
echo "daemon: $(git rev-parse --short HEAD), default loops/workers; nginx $("$NGINX" -v 2>&1 | cut -d/ -f2), 2 workers; wrk -t2 -c64 -d${seconds}s"
echo "log: $entries entries filled through the API; tile $tile; proofs against size $size;" \
	"version ${path[version]}, federation ${path[federation]}; blocks of $(m block6k_bytes) and $(m block33k_bytes) bytes"

has_round() { [[ ",$rounds," == *",$1,"* ]]; }

if has_round plain; then round "plain"; fi

if has_round contended; then
	taskset -c 0 sh -c 'while :; do :; done' &
	hog=$!
	pids+=("$hog")
	round "contended: a CPU hog pinned to CPU 0"
	kill "$hog"
fi

if has_round paced; then
	pace=$pace_ms
	round "paced: each connection waits ${pace} ms after each answer (the same offered load on both, below either's capacity)"
	pace=
fi

if has_round paced-contended; then
	taskset -c 0 sh -c 'while :; do :; done' &
	hog=$!
	pids+=("$hog")
	pace=$pace_ms
	round "paced and contended: the paced load with the CPU hog pinned to CPU 0"
	pace=
	kill "$hog"
fi

has_round idle || exit 0
# 10,000 idle connections to each server in turn, then the same wrk load on the daemon and
# nginx while they are held (each holder talks only to its own server).
echo
echo "== idle: 10,000 idle keep-alive connections (40 loopback addresses x 250) to the server under test"
d_rss0=$(rss_kb "$dpid"); n_rss0=$(nginx_rss_kb)
benchmarks/http/hold_idle.py "$dport" 10000 250 /checkpoint >"$work/hold_d.log" &
hd=$!
pids+=("$hd")
benchmarks/http/hold_idle.py "$nport" 10000 250 /checkpoint >"$work/hold_n.log" &
hn=$!
pids+=("$hn")
for _ in $(seq 240); do
	grep -q held "$work/hold_d.log" && grep -q held "$work/hold_n.log" && break
	sleep 0.5
done
echo "daemon holder: $(grep held "$work/hold_d.log")"
echo "nginx holder:  $(grep held "$work/hold_n.log")"
echo "RSS before: daemon $((d_rss0 / 1024)) MB, nginx $((n_rss0 / 1024)) MB;" \
	"holding: daemon $(($(rss_kb "$dpid") / 1024)) MB, nginx $(($(nginx_rss_kb) / 1024)) MB"
round "idle: 10,000 idle connections held on each server"
echo "RSS at the end: daemon $(($(rss_kb "$dpid") / 1024)) MB, nginx $(($(nginx_rss_kb) / 1024)) MB"
echo "still open: daemon $(tail -1 "$work/hold_d.log"), nginx $(tail -1 "$work/hold_n.log")"
kill "$hd" "$hn" 2>/dev/null || true
