#!/usr/bin/env bash
# Requests/s of GET /checkpoint from the real daemon on loopback, plain HTTP against HTTPS (a
# throw-away CA and server certificate made here with the openssl CLI), with wrk: keep-alive
# connections (TLS record cost only), then a new connection per request (a full handshake
# each). The two daemons run one after the other with the same flags, each measured
# ROUNDS times in turn so that a busy machine weighs on both alike. Needs wrk (Debian
# package `wrk`) and a built daemon (make all).
#   benchmarks/bench_https.sh [SECONDS] [ROUNDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}; rounds=${2:-3}; conns=${3:-32}
command -v wrk >/dev/null || { echo "bench_https: wrk is not installed (apt-get install wrk)"; exit 2; }
work=$(mktemp -d); pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
(cd "$work" &&
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench-ca \
    -keyout ca.key -out ca.pem 2>/dev/null &&
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
    -keyout server.key -out server.csr 2>/dev/null &&
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > server.ext &&
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
    -extfile server.ext -out server.pem 2>/dev/null)
start() { # name port scheme [extra args...]
  local name=$1 port=$2 scheme=$3; shift 3
  build/bin/bundled --data "$work/$name" --listen "127.0.0.1:$port" --log-level warn "$@" 2>"$work/$name.log" &
  pids+=($!)
  for _ in $(seq 100); do
    curl -s --cacert "$work/ca.pem" -o /dev/null "$scheme://127.0.0.1:$port/healthz" && return
    sleep 0.1
  done
  echo "bench_https: the $name daemon did not start:" >&2; cat "$work/$name.log" >&2; exit 1
}
start plain 18481 http
start tls 18482 https --tls-cert "$work/server.pem" --tls-key "$work/server.key"
rps() { wrk -t2 -c"$conns" -d"${secs}s" "$@" | awk '/Requests\/sec/ {print $2}'; }
echo "date $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(openssl version | cut -d' ' -f1-2)"
for r in $(seq "$rounds"); do
  p=$(rps http://127.0.0.1:18481/checkpoint); t=$(rps https://127.0.0.1:18482/checkpoint)
  pc=$(rps -H 'Connection: close' http://127.0.0.1:18481/checkpoint)
  tc=$(rps -H 'Connection: close' https://127.0.0.1:18482/checkpoint)
  echo "round $r: keep-alive plain $p tls $t | new connection per request plain $pc tls $tc"
done
echo "load after $(cut -d' ' -f1-3 /proc/loadavg)"
